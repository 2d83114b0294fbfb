package disclosure

import (
	"fmt"
	"strings"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Text is a message in zh-CN and English.
type Text struct{ ZH, EN string }

// In returns the text in lang (domain.LangZH or domain.LangEN).
func (t Text) In(lang string) string {
	if lang == domain.LangEN {
		return t.EN
	}
	return t.ZH
}

func (t Text) Error() string { return t.EN }

// textf formats a message in both languages. A Text argument gives its ZH to the zh-CN
// format and its EN to the English one; any other argument goes to both.
func textf(zh, en string, args ...any) Text {
	zhArgs, enArgs := make([]any, len(args)), make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(Text); ok {
			zhArgs[i], enArgs[i] = t.ZH, t.EN
		} else {
			zhArgs[i], enArgs[i] = a, a
		}
	}
	return Text{fmt.Sprintf(zh, zhArgs...), fmt.Sprintf(en, enArgs...)}
}

// lower is t with its English in lower case, for use inside a sentence.
func lower(t Text) Text { return Text{t.ZH, strings.ToLower(t.EN)} }

// Problem is one thing wrong with a filing: where (Field) and what, in both languages. The
// message names the field for people; Field is for forms and API clients (see Where).
type Problem struct {
	// Field is an item code ("closing"), a line ("spending[2]", or "spending.2" from the web
	// form), a JSON path from the API ("data.spending[0].amount_fen"), or a place in an
	// uploaded file ("row 5", "C5").
	Field string
	Text
}

// Problems is everything wrong with a filing. The checks collect them all, so that a company
// fixes its file once rather than once per mistake.
type Problems []Problem

func (ps *Problems) add(field string, t Text) { *ps = append(*ps, Problem{Field: field, Text: t}) }

// Err returns nil, or a derrors.Invalid error whose Message lists every problem in lang and
// whose Fields map each field to its messages.
func (ps Problems) Err(lang string) error {
	if len(ps) == 0 {
		return nil
	}
	fields := make(map[string]string, len(ps))
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		m := p.In(lang)
		msgs = append(msgs, m)
		if prev, ok := fields[p.Field]; ok {
			fields[p.Field] = prev + "; " + m
		} else {
			fields[p.Field] = m
		}
	}
	sep := "；"
	if lang == domain.LangEN {
		sep = "; "
	}
	return derrors.FieldErrors(strings.Join(msgs, sep), fields)
}

// Fields returns each field's messages in lang, for showing beside a form's inputs.
func (ps Problems) Fields(lang string) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		if prev, ok := out[p.Field]; ok {
			out[p.Field] = prev + "; " + p.In(lang)
		} else {
			out[p.Field] = p.In(lang)
		}
	}
	return out
}

// Messages returns every message in lang, in order.
func (ps Problems) Messages(lang string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.In(lang)
	}
	return out
}
