package interchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/domain"
)

var (
	recordTypes = func() []string {
		types := make([]string, len(recordKinds))
		for i, k := range recordKinds {
			types[i] = k.name()
		}
		return types
	}()
	typeList      = strings.Join(recordTypes, ", ")
	dimensionList = func() string {
		ids := make([]string, len(domain.Dimensions))
		for i, d := range domain.Dimensions {
			ids[i] = d.ID
		}
		return strings.Join(ids, ", ")
	}()
)

// ParseLine reads one line of the format, without its line terminator, into a typed Record.
// The error is a *derrors.Error (code Invalid) whose message, in lang (domain.LangZH, the
// default, or domain.LangEN), names every bad field as "path: reason". A nil val uses a
// shared domain.Validator. The Record does not keep references to line.
func ParseLine(line []byte, val *domain.Validator, lang string) (Record, error) {
	if val == nil {
		val = defaultValidator()
	}
	if !utf8.Valid(line) {
		return Record{}, lineError(lang, msgInvalidUTF8, firstInvalidByte(line)+1)
	}
	if !validJSON(line) {
		return Record{}, syntaxError(line, lang)
	}
	st := lineStates.Get().(*lineState)
	defer st.release()
	members, isObject := splitObject(line, st.space[:0])
	if !isObject {
		return Record{}, lineError(lang, msgNotObject)
	}
	st.probs = problems{lang: lang}
	probs := &st.probs
	st.obj = newObject(members, "", probs)
	obj := &st.obj
	var rec Record
	var subject any // what the Validator checks
	if k := obj.recordKind(); k != nil {
		rec, subject = k.read(obj)
		obj.unknownFields()
	}
	if subject != nil {
		probs.addValidation(val.Check(subject, lang))
	}
	if err := probs.err(); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// lineState is what ParseLine reads a line with: the members of its object (12 are enough for
// every type's fields), the object and its problems. The record kinds read the object through
// functions the compiler cannot see into, which would put all three on the heap for every
// line; they are reused instead. Nothing of them outlives ParseLine: the record's values are
// copied out of the line, and a problems map goes with the error.
type lineState struct {
	space [12]member
	obj   object
	probs problems
}

var lineStates = sync.Pool{New: func() any { return new(lineState) }}

func (st *lineState) release() {
	clear(st.space[:min(len(st.obj.members), len(st.space))])
	st.obj, st.probs = object{}, problems{}
	lineStates.Put(st)
}

// certainlyValid is a shortcut past the Validator for ratings, which are nearly every line of
// an import and which the Validator's reflection would read at half the speed. It may refuse
// a rating the Validator accepts (the Validator then decides and explains) but never accepts
// one the Validator refuses: it checks the validate tags of domain.Rating and domain.Scores,
// and TestCertainlyValidKnowsTheRatingRules fails when those tags change.
func certainlyValid(r *domain.Rating) bool {
	for _, mark := range r.Scores.Array() {
		if mark < 1 || mark > 5 {
			return false
		}
	}
	return domain.IsIdent(r.Period) && domain.IsIdent(r.Estate) && domain.IsIdent(r.Household) &&
		!r.SubmittedAt.IsZero() && utf8.RuneCountInString(r.Comment) <= 500 && domain.IsText(r.Comment)
}

func parseScores(o *object) domain.Scores {
	s := domain.Scores{
		Service:      o.integer("service"),
		Security:     o.integer("security"),
		Cleaning:     o.integer("cleaning"),
		Greening:     o.integer("greening"),
		Maintenance:  o.integer("maintenance"),
		Transparency: o.integer("transparency"),
	}
	// An unknown key here is most likely a misspelt dimension: name the dimensions.
	for _, m := range o.members {
		if !isDimension(m.name) {
			o.problem(string(m.name), msgUnknownScore, dimensionList)
		}
	}
	return s
}

func isDimension(name []byte) bool {
	for _, d := range domain.Dimensions {
		if string(name) == d.ID {
			return true
		}
	}
	return false
}

// object reads typed fields from the members of one JSON object and records what is wrong
// with them. A field that is missing or of the wrong JSON type reads as its zero value.
type object struct {
	members []member
	path    string // prefix of the field paths in messages: "" or "scores."
	probs   *problems
	read    uint64 // bit i: members[i] was read by a field accessor
}

func newObject(members []member, path string, probs *problems) object {
	o := object{members: members, path: path, probs: probs}
	if name, dup := duplicateName(members); dup {
		// Parsers disagree on which of two equal names wins, so neither is trusted.
		o.problem(name, msgDuplicate)
	}
	return o
}

// unknownFields reports every member that no accessor read: a misspelt optional field
// (repaired_om) would otherwise lose its value without a word.
func (o *object) unknownFields() {
	for i, m := range o.members {
		if i >= 64 || o.read&(1<<i) == 0 {
			o.problem(string(m.name), msgUnknownField)
		}
	}
}

func (o *object) problem(name string, t text, args ...any) {
	o.probs.add(o.path+name, t, args...)
}

// value returns the raw JSON value of field name, or nil when it is absent. A required field
// that is absent is a problem; an optional one given as null counts as absent.
func (o *object) value(name string, required bool) []byte {
	for i, m := range o.members {
		if string(m.name) == name {
			if i < 64 {
				o.read |= 1 << i
			}
			if !required && isNull(m.value) {
				return nil
			}
			return m.value
		}
	}
	if required {
		o.problem(name, msgMissing)
	}
	return nil
}

// recordKind returns the record type the type field names, or nil after reporting why it
// names none.
func (o *object) recordKind() recordKind {
	raw := o.value("type", true)
	if raw == nil {
		return nil
	}
	if raw[0] != '"' {
		o.problem("type", msgWantString)
		return nil
	}
	name := unquote(raw)
	for i, typ := range recordTypes {
		if string(name) == typ {
			return recordKinds[i]
		}
	}
	o.problem("type", msgUnknownType, shorten(string(name)), typeList)
	return nil
}

func (o *object) str(name string) string {
	s, _ := o.stringField(name, true)
	return s
}

func (o *object) optStr(name string) string {
	s, _ := o.stringField(name, false)
	return s
}

func (o *object) stringField(name string, required bool) (string, bool) {
	raw := o.value(name, required)
	if raw == nil {
		return "", false
	}
	if raw[0] != '"' {
		o.problem(name, msgWantString)
		return "", false
	}
	return string(unquote(raw)), true
}

func (o *object) integer(name string) int {
	n, _ := o.intField(name, true)
	return n
}

func (o *object) optInteger(name string) (int, bool) { return o.intField(name, false) }

// intField accepts only an integer literal: 3.0 and 3e0 are refused like 3.5, since a
// spreadsheet that writes them has likely computed the value rather than copied it.
func (o *object) intField(name string, required bool) (int, bool) {
	raw := o.value(name, required)
	if raw == nil {
		return 0, false
	}
	if !isNumber(raw) || bytes.ContainsAny(raw, ".eE") {
		o.problem(name, msgWantInteger)
		return 0, false
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		o.problem(name, msgOutOfRange)
		return 0, false
	}
	return n, true
}

// number returns a number field exactly as written, for values that must never pass
// through float64.
func (o *object) number(name string) string {
	raw := o.value(name, true)
	if raw == nil {
		return ""
	}
	if !isNumber(raw) {
		o.problem(name, msgWantNumber)
		return ""
	}
	return string(raw)
}

func (o *object) boolean(name string) bool {
	raw := o.value(name, true)
	switch string(raw) {
	case "true":
		return true
	case "false":
		return false
	}
	if raw != nil {
		o.problem(name, msgWantBool)
	}
	return false
}

func (o *object) time(name string) time.Time {
	s, ok := o.stringField(name, true)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !hasRFC3339Shape(s) {
		o.problem(name, msgWantTime)
		return time.Time{}
	}
	// In the bureau's zone every record reads the same, and the Encoder writes it back in the
	// same form; a year it cannot write in four digits there is refused now, not on export.
	t = t.In(domain.Zone)
	if y := t.Year(); y < 1 || y > 9999 {
		o.problem(name, msgTimeRange)
		return time.Time{}
	}
	return t
}

// hasRFC3339Shape checks what time.Parse is lenient about: it takes a one-digit hour, a comma
// before the fraction, and offsets such as +24:00 or +08:60, none of which RFC 3339 allows.
func hasRFC3339Shape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd" // d stands for a digit
	if len(s) <= len(shape) {
		return false
	}
	for i := range len(shape) {
		if (shape[i] == 'd' && !isDigit(s[i])) || (shape[i] != 'd' && s[i] != shape[i]) {
			return false
		}
	}
	rest := s[len(shape):]
	if rest[0] == '.' {
		end := 1
		for end < len(rest) && isDigit(rest[end]) {
			end++
		}
		if end == 1 {
			return false
		}
		rest = rest[end:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == len("+08:00") && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		isDigit(rest[1]) && isDigit(rest[2]) && isDigit(rest[4]) && isDigit(rest[5]) &&
		rest[1:3] <= "23" && rest[4:6] <= "59"
}

func (o *object) objectField(name string) (object, bool) {
	raw := o.value(name, true)
	if raw == nil {
		return object{}, false
	}
	if raw[0] != '{' {
		o.problem(name, msgWantObject)
		return object{}, false
	}
	var space [8]member
	members, _ := splitObject(raw, space[:0])
	return newObject(members, o.path+name+".", o.probs), true
}

// data returns an optional object field compacted, after checking that the database will
// store it as it is.
func (o *object) data(name string) json.RawMessage {
	raw := o.value(name, false)
	if raw == nil {
		return nil
	}
	if raw[0] != '{' {
		o.problem(name, msgWantObject)
		return nil
	}
	if _, p := checkData(raw, 0, 1); p != nil {
		o.problem(name, p.msg, p.args...)
		return nil
	}
	var compact bytes.Buffer
	compact.Grow(len(raw))
	if err := json.Compact(&compact, raw); err != nil {
		panic("interchange: compact of a value validJSON accepted: " + err.Error())
	}
	return compact.Bytes()
}

func firstInvalidByte(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// syntaxError explains why validJSON refused line, in encoding/json's words; it runs only for
// bad lines, so the second parse costs nothing on the common path.
func syntaxError(line []byte, lang string) error {
	var v any
	err := json.Unmarshal(line, &v)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return lineError(lang, msgBadJSON, syntax.Error(), syntax.Offset)
	}
	if err == nil { // FuzzJSONScan holds validJSON to json.Valid, so this cannot happen
		err = errors.New("rejected")
	}
	return lineError(lang, msgBadJSON, err.Error(), int64(len(line)))
}
