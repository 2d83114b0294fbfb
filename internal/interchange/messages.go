package interchange

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// text is a message in both languages, as a fmt format.
type text struct{ zh, en string }

func (t text) format(lang string, args ...any) string {
	f := t.zh
	if lang == domain.LangEN {
		f = t.en
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// Messages about a whole line.
var (
	msgInvalidUTF8 = text{"不是有效的UTF-8编码（第%d字节）", "not valid UTF-8 (at byte %d)"}
	// Go's own description of a syntax error is English only, so zh gives just the position.
	msgBadJSON     = text{"不是有效的JSON（第%[2]d字节附近）", "not valid JSON: %[1]s (near byte %[2]d)"}
	msgNotObject   = text{"记录必须是JSON对象", "a record must be a JSON object"}
	msgLineTooLong = text{"行太长（超过1 MiB）", "line is longer than 1 MiB"}
	msgReadFailed  = text{"读取失败：%v", "read failed: %v"}
)

// Messages about one field; they follow "path: ".
var (
	msgMissing        = text{"缺少必填字段", "required field is missing"}
	msgDuplicate      = text{"字段重复出现", "field appears more than once"}
	msgUnknownType    = text{"未知的记录类型%q，应为%s之一", "unknown record type %q; the types are %s"}
	msgWantString     = text{"必须是字符串", "must be a string"}
	msgWantInteger    = text{"必须是整数", "must be an integer"}
	msgWantNumber     = text{"必须是数值（不加引号的JSON数字）", "must be a number (a JSON number, not a string)"}
	msgWantBool       = text{"必须是true或false", "must be true or false"}
	msgWantObject     = text{"必须是JSON对象", "must be a JSON object"}
	msgOutOfRange     = text{"超出范围", "is out of range"}
	msgWantTime       = text{"必须是带时区偏移的RFC 3339时间，例如2026-10-05T09:30:00+08:00", "must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"}
	msgTimeRange      = text{"按+08:00计年份必须在0001到9999之间", "must fall within the years 0001-9999 in +08:00"}
	msgAtLeastOne     = text{"最小只能为1", "must be 1 or greater"} // the Validator's wording for min=1
	msgEndBeforeStart = text{"不能早于start", "must not be before start"}
	msgVetoNotBad     = text{"只有kind为bad的记录才能为true", "can be true only when kind is bad"}
	msgUnknownField   = text{"未知字段（是否拼写有误？）", "unknown field (misspelt?)"}
	msgUnknownScore   = text{"未知的评分维度，应为%s之一", "unknown dimension; the dimensions are %s"}
)

// Messages about the data object of a disclosure, which the database must accept.
var (
	msgNestedArray = text{"不能在数组中直接嵌套数组", "must not hold an array directly inside an array"}
	msgBadDataKey  = text{"键%q不能包含\".\"或空字符，也不能以\"$\"开头", "key %q must not contain \".\" or a NUL character, nor start with \"$\""}
	msgDupDataKey  = text{"键%q重复出现", "key %q appears more than once"}
	msgTooDeep     = text{"嵌套不能超过%d层", "must not be nested more than %d levels deep"}
	msgBigNumber   = text{"数值%s超出范围", "number %s is out of range"}
)

// Messages about references between records.
var (
	msgNoSuchRecord    = text{"%s%q不存在", "%s %q does not exist"}
	msgRejectedRecord  = text{"%s%q不存在（%s:%d的记录有误，未导入）", "%s %q does not exist (its record at %s:%d was rejected)"}
	referencedTypeName = map[string]text{
		TypeDistrict: {"行政区", "district"},
		TypeCompany:  {"物业企业", "company"},
		TypeEstate:   {"小区", "estate"},
		TypePeriod:   {"评价周期", "period"},
	}
)

// problems collects what is wrong with one line, at most one reason per field path, so that
// a single message names every bad field.
type problems struct {
	lang   string
	byPath map[string]string // field path → reason, such as "scores.service" → "must be 5 or less"
}

func (p *problems) add(path string, t text, args ...any) { p.put(path, t.format(p.lang, args...)) }

func (p *problems) put(path, reason string) {
	if _, seen := p.byPath[path]; seen {
		return
	}
	if p.byPath == nil {
		p.byPath = make(map[string]string)
	}
	p.byPath[path] = reason
}

// addValidation merges the domain Validator's verdict. A field this package already found
// wrong (missing, wrong JSON type) was left at its zero value, and the Validator would only
// repeat the complaint less precisely, so its messages for that field, or for fields inside or
// around it, are dropped.
func (p *problems) addValidation(err error) {
	if err == nil {
		return
	}
	verr, ok := err.(*derrors.Error)
	if !ok || len(verr.Fields) == 0 {
		p.put("", err.Error())
		return
	}
	flagged := slices.Collect(maps.Keys(p.byPath))
	for path, message := range verr.Fields {
		if !overlapsAny(path, flagged) {
			p.put(path, reason(path, message))
		}
	}
}

func overlapsAny(path string, paths []string) bool {
	for _, q := range paths {
		if path == q || strings.HasPrefix(path, q+".") || strings.HasPrefix(q, path+".") {
			return true
		}
	}
	return false
}

// reason strips the field name the Validator puts at the front of its messages
// ("service must be 5 or less"), since the path in front of it names the field already.
func reason(path, message string) string {
	field := path[strings.LastIndexByte(path, '.')+1:]
	if rest, ok := strings.CutPrefix(message, field); ok && rest != "" {
		return strings.TrimPrefix(rest, " ")
	}
	return message
}

// err returns nil when nothing is wrong, or an Invalid error whose message lists every
// problem as "path: reason", in path order, and whose Fields map each path to its reason.
func (p *problems) err() error {
	if len(p.byPath) == 0 {
		return nil
	}
	paths := slices.Sorted(maps.Keys(p.byPath))
	parts := make([]string, len(paths))
	for i, path := range paths {
		parts[i] = p.byPath[path]
		if path != "" { // "" holds a Validator error that names no field
			parts[i] = path + ": " + parts[i]
		}
	}
	return derrors.FieldErrors(strings.Join(parts, "; "), p.byPath)
}

// lineError is a problem with the line as a whole rather than with one of its fields.
func lineError(lang string, t text, args ...any) error {
	return derrors.Errorf(derrors.Invalid, "%s", t.format(lang, args...))
}

// shorten keeps a bad value shown in a message from flooding the terminal.
func shorten(s string) string {
	const maxRunes = 40
	n := 0
	for i := range s {
		if n == maxRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
