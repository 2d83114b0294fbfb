package domain

import (
	"errors"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/zh"
	ut "github.com/go-playground/universal-translator"
	"github.com/go-playground/validator/v10"
	en_translations "github.com/go-playground/validator/v10/translations/en"
	zh_translations "github.com/go-playground/validator/v10/translations/zh"

	"github.com/propcredit/propcredit/internal/derrors"
)

// Languages the messages come in. zh-CN is the default everywhere.
const (
	LangZH = "zh"
	LangEN = "en"
)

var (
	identPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	usccPattern   = regexp.MustCompile(`^[0-9A-Z]{18}$`)
	pointsPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$`)
)

// IsIdent reports whether s is an identifier: 1-64 characters of [A-Za-z0-9._-].
func IsIdent(s string) bool { return identPattern.MatchString(s) }

// IsUSCC reports whether s has the shape of a unified social credit code (统一社会信用代码).
func IsUSCC(s string) bool { return usccPattern.MatchString(s) }

// IsPoints reports whether s is a decimal > 0 with at most 2 decimal places.
func IsPoints(s string) bool {
	return pointsPattern.MatchString(s) && strings.Trim(s, "0.") != ""
}

// IsDate reports whether s is a valid civil date YYYY-MM-DD.
func IsDate(s string) bool {
	t, err := time.Parse(DateLayout, s)
	return err == nil && t.Format(DateLayout) == s
}

// Validator checks domain values and explains what is wrong in zh-CN or English.
type Validator struct {
	v     *validator.Validate
	trans map[string]ut.Translator
}

type customTag struct {
	name   string
	check  func(string) bool
	zh, en string
}

var customTags = []customTag{
	{"ident", IsIdent, "{0}只能包含字母、数字、点、下划线和连字符，长度1-64", "{0} must be 1-64 characters of letters, digits, '.', '_' or '-'"},
	{"uscc", IsUSCC, "{0}必须是18位统一社会信用代码（数字和大写字母）", "{0} must be an 18-character unified social credit code (digits and upper-case letters)"},
	{"date", IsDate, "{0}必须是有效日期，格式为YYYY-MM-DD", "{0} must be a valid date in the form YYYY-MM-DD"},
	{"line", IsLine, "{0}不能包含控制字符、换行或文字方向控制符", "{0} must not contain control characters, line breaks or text-direction controls"},
	{"text", IsText, "{0}不能包含控制字符或文字方向控制符", "{0} must not contain control characters or text-direction controls"},
	{"points", IsPoints, "{0}必须是大于0、最多两位小数的数", "{0} must be a number greater than 0 with at most 2 decimal places"},
}

// NewValidator builds a validator with the domain's custom rules and both translations.
func NewValidator() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	zhLocale, enLocale := zh.New(), en.New()
	uni := ut.New(zhLocale, zhLocale, enLocale)
	zhT, _ := uni.GetTranslator("zh")
	enT, _ := uni.GetTranslator("en")
	if err := zh_translations.RegisterDefaultTranslations(v, zhT); err != nil {
		panic(err)
	}
	if err := en_translations.RegisterDefaultTranslations(v, enT); err != nil {
		panic(err)
	}
	// datefrom: a YYYY-MM-DD date on or after the named field's (gtefield would compare lengths).
	if err := v.RegisterValidation("datefrom", func(fl validator.FieldLevel) bool {
		other, _, _, ok := fl.GetStructFieldOK2()
		return ok && fl.Field().String() >= other.String()
	}); err != nil {
		panic(err)
	}
	for _, tr := range []struct {
		t    ut.Translator
		text string
	}{{zhT, "{0}不能早于{1}"}, {enT, "{0} must not be before {1}"}} {
		t := tr.t
		text := tr.text
		_ = v.RegisterTranslation("datefrom", t,
			func(t ut.Translator) error { return t.Add("datefrom", text, true) },
			func(t ut.Translator, fe validator.FieldError) string {
				s, _ := t.T("datefrom", fe.Field(), strings.ToLower(fe.Param()))
				return s
			})
	}
	for _, tag := range customTags {
		check := tag.check
		if err := v.RegisterValidation(tag.name, func(fl validator.FieldLevel) bool {
			return check(fl.Field().String())
		}); err != nil {
			panic(err)
		}
		register := func(t ut.Translator, text string) {
			name := tag.name
			_ = v.RegisterTranslation(name, t,
				func(t ut.Translator) error { return t.Add(name, text, true) },
				func(t ut.Translator, fe validator.FieldError) string {
					s, _ := t.T(name, fe.Field())
					return s
				})
		}
		register(zhT, tag.zh)
		register(enT, tag.en)
	}
	return &Validator{v: v, trans: map[string]ut.Translator{LangZH: zhT, LangEN: enT}}
}

// Check validates v and returns nil or a derrors.Invalid error whose Fields map each bad
// field (by its JSON path, such as "scores.service") to a message in lang.
func (val *Validator) Check(v any, lang string) error {
	err := val.v.Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return derrors.Errorf(derrors.Invalid, "%v", err)
	}
	return val.explain(verrs, lang)
}

func (val *Validator) explain(verrs validator.ValidationErrors, lang string) error {
	t, ok := val.trans[lang]
	if !ok {
		t = val.trans[LangZH]
	}
	fields := make(map[string]string, len(verrs))
	for _, fe := range verrs {
		path := fe.Namespace()
		if _, rest, ok := strings.Cut(path, "."); ok {
			path = rest // drop the struct's own name
		}
		fields[path] = fe.Translate(t)
	}
	return derrors.FieldErrors(JoinFieldMessages(fields), fields)
}

// JoinFieldMessages makes one line out of field messages, in a stable order.
func JoinFieldMessages(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = fields[k]
	}
	return strings.Join(msgs, "; ")
}
