package interchange

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/domain"
)

// Encode writes ds as JSON Lines in an order an import can read front to back without forward
// references (districts, companies, periods, estates, governance, events, disclosures,
// ratings), each type sorted by key. ds is not modified.
func Encode(w io.Writer, ds *domain.Dataset) error {
	enc := NewEncoder(w)
	for _, writeType := range []func() error{
		func() error { return writeSorted(enc, ds.Districts, compareDistricts) },
		func() error { return writeSorted(enc, ds.Companies, compareCompanies) },
		func() error { return writeSorted(enc, ds.Periods, comparePeriods) },
		func() error { return writeSorted(enc, ds.Estates, compareEstates) },
		func() error { return writeSorted(enc, ds.Governance, compareGovernance) },
		func() error { return writeSorted(enc, ds.Events, compareEvents) },
		func() error { return writeSorted(enc, ds.Disclosures, compareDisclosures) },
		func() error { return writeSorted(enc, ds.Ratings, compareRatings) },
	} {
		if err := writeType(); err != nil {
			return err
		}
	}
	return enc.Flush()
}

// writeSorted sorts pointers rather than the records, which may be a million ratings.
func writeSorted[T any](enc *Encoder, items []T, compare func(a, b *T) int) error {
	sorted := make([]*T, len(items))
	for i := range items {
		sorted[i] = &items[i]
	}
	slices.SortStableFunc(sorted, compare)
	for _, item := range sorted {
		if err := enc.WriteRecord(recordOf(item)); err != nil {
			return err
		}
	}
	return nil
}

func recordOf(v any) Record {
	switch v := v.(type) {
	case *domain.District:
		return Record{Type: TypeDistrict, District: v}
	case *domain.Company:
		return Record{Type: TypeCompany, Company: v}
	case *domain.Estate:
		return Record{Type: TypeEstate, Estate: v}
	case *domain.Period:
		return Record{Type: TypePeriod, Period: v}
	case *domain.Rating:
		return Record{Type: TypeRating, Rating: v}
	case *domain.Disclosure:
		return Record{Type: TypeDisclosure, Disclosure: v}
	case *domain.Governance:
		return Record{Type: TypeGovernance, Governance: v}
	case *domain.Event:
		return Record{Type: TypeEvent, Event: v}
	}
	panic(fmt.Sprintf("interchange: no record type for %T", v))
}

// Encoder writes records one line at a time, so an export can stream any number of them.
// It buffers its output: call Flush at the end.
type Encoder struct {
	w    *bufio.Writer
	line jsonLine
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteRecord writes rec as one line: "type" first, then the fields in the order of
// INTERCHANGE.md, optional fields left out when empty, times in +08:00. The caller chooses
// the order of the lines; Encode shows one that an import reads without forward references.
// A record that cannot be written as valid JSON of the format (points that are not a number,
// data that is not a JSON object, a time outside the years 0001-9999) is an error and
// nothing is written for it.
func (e *Encoder) WriteRecord(rec Record) error {
	if err := e.line.encode(rec); err != nil {
		return fmt.Errorf("interchange: cannot write %s: %w", rec.Key(), err)
	}
	_, err := e.w.Write(e.line.buf)
	return err
}

// Flush writes out whatever is buffered.
func (e *Encoder) Flush() error { return e.w.Flush() }

// jsonLine builds one line of output; its buffer is reused from line to line.
type jsonLine struct{ buf []byte }

func (l *jsonLine) encode(rec Record) error {
	switch {
	case rec.District != nil:
		d := rec.District
		l.start(TypeDistrict)
		l.str("id", d.ID)
		l.str("name", d.Name)
	case rec.Company != nil:
		c := rec.Company
		l.start(TypeCompany)
		l.str("id", c.ID)
		l.str("name", c.Name)
	case rec.Estate != nil:
		e := rec.Estate
		l.start(TypeEstate)
		l.str("id", e.ID)
		l.str("name", e.Name)
		l.str("district", e.District)
		l.str("company", e.Company)
		l.int("households", e.Households)
		l.str("category", e.Category)
	case rec.Period != nil:
		p := rec.Period
		l.start(TypePeriod)
		l.str("id", p.ID)
		l.str("start", p.Start)
		l.str("end", p.End)
		l.str("disclosure_deadline", p.DisclosureDeadline)
	case rec.Rating != nil:
		r := rec.Rating
		l.start(TypeRating)
		l.str("period", r.Period)
		l.str("estate", r.Estate)
		l.str("household", r.Household)
		if err := l.time("submitted_at", r.SubmittedAt); err != nil {
			return err
		}
		l.scores(r.Scores)
		if r.Comment != "" {
			l.str("comment", r.Comment)
		}
	case rec.Disclosure != nil:
		d := rec.Disclosure
		l.start(TypeDisclosure)
		l.str("period", d.Period)
		l.str("estate", d.Estate)
		l.str("category", d.Category)
		if err := l.time("filed_at", d.FiledAt); err != nil {
			return err
		}
		l.str("status", d.Status)
		if len(d.Data) > 0 {
			if err := l.object("data", d.Data); err != nil {
				return err
			}
		}
	case rec.Governance != nil:
		g := rec.Governance
		l.start(TypeGovernance)
		l.str("period", g.Period)
		l.str("company", g.Company)
		l.bool("party_org", g.PartyOrg)
		l.bool("party_instructor", g.PartyInstructor)
		l.bool("joint_mechanism", g.JointMechanism)
	case rec.Event != nil:
		e := rec.Event
		l.start(TypeEvent)
		l.str("id", e.ID)
		l.str("company", e.Company)
		l.str("kind", e.Kind)
		if err := l.number("points", e.Points); err != nil {
			return err
		}
		l.bool("veto", e.Veto)
		l.str("date", e.Date)
		if e.ValidDays != 0 {
			l.int("valid_days", e.ValidDays)
		}
		if e.RepairedOn != "" {
			l.str("repaired_on", e.RepairedOn)
		}
		if e.Status != "" {
			l.str("status", e.Status)
		}
		l.str("description", e.Description)
	default:
		return errors.New("empty record")
	}
	l.buf = append(l.buf, '}', '\n')
	return nil
}

func (l *jsonLine) start(typ string) {
	l.buf = append(l.buf[:0], `{"type":"`...)
	l.buf = append(l.buf, typ...)
	l.buf = append(l.buf, '"')
}

// name starts the next field; every field follows "type", so it always takes a comma.
func (l *jsonLine) name(name string) {
	l.buf = append(l.buf, ',', '"')
	l.buf = append(l.buf, name...)
	l.buf = append(l.buf, '"', ':')
}

func (l *jsonLine) str(name, v string) {
	l.name(name)
	l.buf = appendString(l.buf, v)
}

func (l *jsonLine) int(name string, v int) {
	l.name(name)
	l.buf = strconv.AppendInt(l.buf, int64(v), 10)
}

func (l *jsonLine) bool(name string, v bool) {
	l.name(name)
	l.buf = strconv.AppendBool(l.buf, v)
}

func (l *jsonLine) scores(s domain.Scores) {
	l.name("scores")
	for i, v := range s.Array() {
		separator := byte(',')
		if i == 0 {
			separator = '{'
		}
		l.buf = append(l.buf, separator, '"')
		l.buf = append(l.buf, domain.Dimensions[i].ID...)
		l.buf = append(l.buf, '"', ':')
		l.buf = strconv.AppendInt(l.buf, int64(v), 10)
	}
	l.buf = append(l.buf, '}')
}

// jsonNumber is the grammar of a JSON number (RFC 8259 §6).
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// number writes a decimal kept as a string exactly as it is, without quotes.
func (l *jsonLine) number(name, v string) error {
	if !jsonNumber.MatchString(v) {
		return fmt.Errorf("%s %q is not a number", name, v)
	}
	l.name(name)
	l.buf = append(l.buf, v...)
	return nil
}

// time writes t in the bureau's zone, with a fraction only when it has one.
func (l *jsonLine) time(name string, t time.Time) error {
	t = t.In(domain.Zone)
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%s %v is outside the years 0001-9999", name, t)
	}
	l.name(name)
	l.buf = append(l.buf, '"')
	l.buf = t.AppendFormat(l.buf, time.RFC3339Nano)
	l.buf = append(l.buf, '"')
	return nil
}

// object writes a JSON object as stored, compacted so that it stays on one line.
func (l *jsonLine) object(name string, v json.RawMessage) error {
	l.name(name)
	out := bytes.NewBuffer(l.buf)
	start := out.Len()
	if err := json.Compact(out, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.buf = out.Bytes()
	if l.buf[start] != '{' {
		return fmt.Errorf("%s is not a JSON object", name)
	}
	return nil
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json
// does, so the line stays valid.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	done := 0 // s[:done] is in dst
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[done:i]...)
				dst = append(dst, `\ufffd`...)
				done = i + size
			}
			i += size
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[done:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
		done = i
	}
	dst = append(dst, s[done:]...)
	return append(dst, '"')
}
