package interchange

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
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
	for _, typ := range []string{TypeDistrict, TypeCompany, TypePeriod, TypeEstate, TypeGovernance, TypeEvent, TypeDisclosure, TypeRating} {
		if err := kindNamed(typ).writeAll(enc, ds); err != nil {
			return err
		}
	}
	return enc.Flush()
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
func (e *Encoder) WriteRecord(rec Record) error { return e.writeLine(e.line.encode(rec), rec) }

// writeLine writes the line just encoded for rec, or returns the error encoding it.
func (e *Encoder) writeLine(encodeErr error, rec Record) error {
	if encodeErr != nil {
		return fmt.Errorf("interchange: cannot write %s: %w", rec.Key(), encodeErr)
	}
	_, err := e.w.Write(e.line.buf)
	return err
}

// Flush writes out whatever is buffered.
func (e *Encoder) Flush() error { return e.w.Flush() }

// jsonLine builds one line of output; its buffer is reused from line to line.
type jsonLine struct{ buf []byte }

func (l *jsonLine) encode(rec Record) error {
	for _, k := range recordKinds {
		if held, err := k.write(l, rec); held {
			return err
		}
	}
	return errors.New("empty record")
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

func (l *jsonLine) scores(name string, s domain.Scores) {
	l.name(name)
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
