package interchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/domain"
)

var (
	recordTypes   = []string{TypeDistrict, TypeCompany, TypeEstate, TypePeriod, TypeRating, TypeDisclosure, TypeGovernance, TypeEvent}
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
	var space [12]member // enough for every type's fields, so most lines need no allocation
	members, isObject := splitObject(line, space[:0])
	if !isObject {
		return Record{}, lineError(lang, msgNotObject)
	}
	probs := &problems{lang: lang}
	obj := newObject(members, "", probs)
	typ := obj.recordType()
	rec := Record{Type: typ}
	var subject any // what the Validator checks
	switch typ {
	case TypeDistrict:
		rec.District = &domain.District{ID: obj.str("id"), Name: obj.str("name")}
		subject = rec.District
	case TypeCompany:
		rec.Company = &domain.Company{ID: obj.str("id"), Name: obj.str("name")}
		subject = rec.Company
	case TypeEstate:
		rec.Estate = parseEstate(&obj)
		subject = rec.Estate
	case TypePeriod:
		rec.Period = parsePeriod(&obj)
		subject = rec.Period
	case TypeRating:
		rec.Rating = parseRating(&obj)
		if !certainlyValid(rec.Rating) {
			subject = rec.Rating
		}
	case TypeDisclosure:
		rec.Disclosure = parseDisclosure(&obj)
		subject = rec.Disclosure
	case TypeGovernance:
		rec.Governance = parseGovernance(&obj)
		subject = rec.Governance
	case TypeEvent:
		rec.Event = parseEvent(&obj)
		subject = rec.Event
	}
	if typ != "" {
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

func parseEstate(o *object) *domain.Estate {
	return &domain.Estate{
		ID:         o.str("id"),
		Name:       o.str("name"),
		District:   o.str("district"),
		Company:    o.str("company"),
		Households: o.integer("households"),
		Category:   o.str("category"),
	}
}

func parsePeriod(o *object) *domain.Period {
	p := &domain.Period{
		ID:                 o.str("id"),
		Start:              o.str("start"),
		End:                o.str("end"),
		DisclosureDeadline: o.str("disclosure_deadline"),
	}
	// The Validator's gtefield compares strings by length, not by value, so it cannot catch an
	// end before the start; valid YYYY-MM-DD dates compare correctly as strings.
	if domain.IsDate(p.Start) && domain.IsDate(p.End) && p.End < p.Start {
		o.problem("end", msgEndBeforeStart)
	}
	return p
}

func parseRating(o *object) *domain.Rating {
	r := &domain.Rating{
		Period:      o.str("period"),
		Estate:      o.str("estate"),
		Household:   o.str("household"),
		SubmittedAt: o.time("submitted_at"),
		Comment:     o.optStr("comment"),
	}
	if scores, ok := o.objectField("scores"); ok {
		r.Scores = parseScores(&scores)
	}
	return r
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

func parseDisclosure(o *object) *domain.Disclosure {
	return &domain.Disclosure{
		Period:   o.str("period"),
		Estate:   o.str("estate"),
		Category: o.str("category"),
		FiledAt:  o.time("filed_at"),
		Status:   o.str("status"),
		Data:     o.data("data"),
	}
}

func parseGovernance(o *object) *domain.Governance {
	return &domain.Governance{
		Period:          o.str("period"),
		Company:         o.str("company"),
		PartyOrg:        o.boolean("party_org"),
		PartyInstructor: o.boolean("party_instructor"),
		JointMechanism:  o.boolean("joint_mechanism"),
	}
}

func parseEvent(o *object) *domain.Event {
	e := &domain.Event{
		ID:          o.str("id"),
		Company:     o.str("company"),
		Kind:        o.str("kind"),
		Points:      o.number("points"),
		Veto:        o.boolean("veto"),
		Date:        o.str("date"),
		RepairedOn:  o.optStr("repaired_on"),
		Status:      o.optStr("status"),
		Description: o.str("description"),
	}
	// The Validator cannot tell an explicit 0 from an absent valid_days (omitempty), and
	// absent means the ruleset's default, so a written 0 is refused here.
	if days, present := o.optInteger("valid_days"); present {
		e.ValidDays = days
		if days < 1 {
			o.problem("valid_days", msgAtLeastOne)
		}
	}
	if e.Veto && e.Kind == "good" {
		o.problem("veto", msgVetoNotBad)
	}
	return e
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

// recordType returns the type field as one of the Type constants, or "" after reporting why
// it is none of them.
func (o *object) recordType() string {
	raw := o.value("type", true)
	if raw == nil {
		return ""
	}
	if raw[0] != '"' {
		o.problem("type", msgWantString)
		return ""
	}
	name := unquote(raw)
	for _, typ := range recordTypes {
		if string(name) == typ {
			return typ
		}
	}
	o.problem("type", msgUnknownType, shorten(string(name)), typeList)
	return ""
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
