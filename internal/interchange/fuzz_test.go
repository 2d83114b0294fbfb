package interchange

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// addSeeds gives a fuzzer every valid line, the hand-written city, and a few lines that are
// nearly right, so that mutations start close to both sides of every rule.
func addSeeds(f *testing.F, add func(line []byte)) {
	for _, line := range validLines {
		add([]byte(line))
	}
	city, err := os.ReadFile("testdata/city.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(city, []byte("\n")) {
		add(line)
	}
	for _, line := range []string{
		`{"type":"event","id":"e","company":"91440300MA5DAAAA1X","kind":"bad","points":999999.99,"veto":true,"date":"2026-01-01","description":"\u0000"}`,
		`{"type":"disclosure","period":"p","estate":"e","category":"fees","filed_at":"0001-01-01T00:00:00+23:59","status":"pending","data":{"a":[{"b":[1]}],"":null}}`,
		`{"type":"rating","period":"p","estate":"e","household":"h","submitted_at":"9999-12-31T15:59:59.999999999Z","scores":{"service":1,"security":1,"cleaning":1,"greening":1,"maintenance":1,"transparency":1},"comment":"\ud800"}`,
		`{"type":"district","id":"d","name":"x","id":"d"}`,
		"\xEF\xBB\xBF{}\r\n\n  \n[1]\n{\"type\":null}",
	} {
		add([]byte(line))
	}
}

// FuzzParseLine checks that ParseLine never panics, that a bad line gives an Invalid error with
// a message, and that a good line re-encodes to a line that parses to the same record and
// encodes to the same bytes.
func FuzzParseLine(f *testing.F) {
	addSeeds(f, func(line []byte) { f.Add(line) })
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line, testValidator, domain.LangEN)
		if err != nil {
			if derrors.Code(err) != derrors.Invalid || derrors.Message(err) == "" {
				t.Fatalf("ParseLine(%q): error %#v is not Invalid with a message", line, err)
			}
			return
		}
		if err := testValidator.Check(recordValue(rec), domain.LangEN); err != nil {
			t.Fatalf("ParseLine(%q) accepted a record the Validator refuses: %v", line, err)
		}
		var first jsonLine
		if err := first.encode(rec); err != nil {
			t.Fatalf("ParseLine(%q) accepted a record the Encoder refuses: %v", line, err)
		}
		again, err := ParseLine(bytes.TrimSuffix(first.buf, []byte("\n")), testValidator, domain.LangEN)
		if err != nil {
			t.Fatalf("re-encoded line %q does not parse: %v\n(from %q)", first.buf, err, line)
		}
		if diff := cmp.Diff(rec, again); diff != "" {
			t.Fatalf("record changed through Encode (-parsed +reparsed):\n%s\n(from %q)", diff, line)
		}
		var second jsonLine
		if err := second.encode(again); err != nil || !bytes.Equal(first.buf, second.buf) {
			t.Fatalf("encoding is not stable: %q then %q (%v)", first.buf, second.buf, err)
		}
	})
}

// recordValue is the domain value a Record holds.
func recordValue(r Record) any {
	for _, v := range []any{r.District, r.Company, r.Estate, r.Period, r.Rating, r.Disclosure, r.Governance, r.Event} {
		if !reflect.ValueOf(v).IsNil() {
			return v
		}
	}
	return nil
}

// FuzzDecode checks a whole stream: no panic, every error on a line that exists, and what the
// set keeps survives Encode and Decode unchanged.
func FuzzDecode(f *testing.F) {
	var all [][]byte
	addSeeds(f, func(line []byte) { f.Add(line); all = append(all, line) })
	f.Add(bytes.Join(all, []byte("\n")))
	f.Add(bytes.Join(all, []byte("\r\n")))
	f.Fuzz(func(t *testing.T, input []byte) {
		set := NewSet(domain.LangEN)
		errs := Decode(bytes.NewReader(input), "fuzz.jsonl", set, testValidator, domain.LangEN, nil)
		lines := bytes.Count(input, []byte("\n")) + 1
		for _, e := range errs {
			if e.File != "fuzz.jsonl" || e.Line < 1 || e.Line > lines || e.Message == "" {
				t.Fatalf("bad LineError %+v for an input of %d lines", e, lines)
			}
		}
		for _, e := range set.CheckRefs(nil) {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("bad reference error %+v for an input of %d lines", e, lines)
			}
		}
		kept := set.Dataset()
		var out bytes.Buffer
		if err := Encode(&out, kept); err != nil {
			t.Fatalf("Encode of decoded records: %v", err)
		}
		again := NewSet(domain.LangEN)
		if errs := Decode(&out, "again.jsonl", again, testValidator, domain.LangEN, nil); len(errs) > 0 {
			t.Fatalf("re-encoded output does not decode: %v", errs)
		}
		if errs := again.CheckRefs(nil); len(errs) > 0 {
			t.Fatalf("re-encoded output has broken references: %v", errs)
		}
		if diff := cmp.Diff(kept, again.Dataset(), equateEmpty); diff != "" {
			t.Fatalf("records changed through Encode (-kept +reread):\n%s", diff)
		}
	})
}

// FuzzJSONScan holds the hand-written scanner to encoding/json: validJSON must agree with
// json.Valid, and unquote with json.Unmarshal into a string.
func FuzzJSONScan(f *testing.F) {
	addSeeds(f, func(line []byte) { f.Add(line) })
	for _, s := range []string{`1`, `-0.5e+10`, `01`, `1.`, `.5`, `1e`, `"\ud83d\ude00"`, `"\ud800x"`, `"\udc00\ud800"`,
		`"\u00e9\/\b\f"`, `"\x"`, "\"\x1f\"", `[1,]`, `{"a" 1}`, `{,}`, `tru`, `nulll`, ` [ ] `, `{"a":{"b":[]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
		quoted := append(append([]byte{'"'}, b...), '"')
		if !utf8.Valid(b) || !json.Valid(quoted) {
			return // json.Unmarshal replaces invalid UTF-8, which ParseLine refuses before unquoting
		}
		var want string
		if err := json.Unmarshal(quoted, &want); err != nil {
			t.Fatal(err)
		}
		if got := string(unquote(quoted)); got != want {
			t.Fatalf("unquote(%q) = %q, json.Unmarshal gives %q", quoted, got, want)
		}
	})
}
