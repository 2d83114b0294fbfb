package interchange

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/golden"
)

func TestDecodeLines(t *testing.T) {
	district := validLines[TypeDistrict]
	company := validLines[TypeCompany]
	// A line of exactly MaxLineBytes is read; JSON allows the padding after the object.
	longest := district + strings.Repeat(" ", MaxLineBytes-len(district))
	tooLong := company + strings.Repeat(" ", MaxLineBytes+1-len(company))
	for _, tc := range []struct {
		name     string
		input    string
		wantErrs []LineError
		wantKeys []string
	}{
		{"empty file", "", nil, nil},
		{"blank lines", "\n  \n\t\r\n" + district + "\n\n", nil, []string{"district|futian"}},
		{"no final newline", district + "\n" + company, nil, []string{"company|" + companyA, "district|futian"}},
		{"CRLF", district + "\r\n" + company + "\r\n", nil, []string{"company|" + companyA, "district|futian"}},
		{"BOM", "\xEF\xBB\xBF" + district + "\n", nil, []string{"district|futian"}},
		{"BOM before a blank line", "\xEF\xBB\xBF\r\n" + district + "\n", nil, []string{"district|futian"}},
		{"BOM on a later line", district + "\n\xEF\xBB\xBF" + company + "\n", []LineError{
			{"f.jsonl", 2, "not valid JSON: invalid character 'ï' looking for beginning of value (near byte 1)"},
		}, []string{"district|futian"}},
		{"line numbers count blank and bad lines", "\n" + district + "\n{\n\n" + `{"type":"x"}` + "\r\n" + company, []LineError{
			{"f.jsonl", 3, "not valid JSON: unexpected end of JSON input (near byte 1)"},
			{"f.jsonl", 5, `type: unknown record type "x"; the types are district, company, estate, period, rating, disclosure, governance, event`},
		}, []string{"company|" + companyA, "district|futian"}},
		{"invalid UTF-8", "{\"type\":\"district\",\"id\":\"d\",\"name\":\"\xe4\xb8\"}\n" + company, []LineError{
			{"f.jsonl", 1, "not valid UTF-8 (at byte 37)"},
		}, []string{"company|" + companyA}},
		{"longest line", longest + "\n" + company + "\n", nil, []string{"company|" + companyA, "district|futian"}},
		{"longest line with CRLF", longest + "\r\n" + company + "\r\n", nil, []string{"company|" + companyA, "district|futian"}},
		{"too long a line is skipped", district + "\n" + tooLong + "\n" + company + "\n", []LineError{
			{"f.jsonl", 2, "line is longer than 1 MiB"},
		}, []string{"company|" + companyA, "district|futian"}},
		{"much too long a last line", district + "\n" + strings.Repeat("x", 3*MaxLineBytes), []LineError{
			{"f.jsonl", 2, "line is longer than 1 MiB"},
		}, []string{"district|futian"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := NewSet(domain.LangEN)
			errs := Decode(strings.NewReader(tc.input), "f.jsonl", set, testValidator, domain.LangEN, nil)
			if diff := cmp.Diff(tc.wantErrs, errs); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKeys, keysOf(set), equateEmpty); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// keysOf lists the keys of the records kept in set, sorted.
func keysOf(set *Set) []string { return slices.Sorted(maps.Keys(set.entries)) }

func mustEncode(ds *domain.Dataset) []byte {
	var out bytes.Buffer
	if err := Encode(&out, ds); err != nil {
		panic(err)
	}
	return out.Bytes()
}

func TestDecodeChinese(t *testing.T) {
	input := "{\n" + strings.Repeat("x", MaxLineBytes+1) + "\n" + withField(t, validLines[TypeRating], "household", "")
	errs := Decode(strings.NewReader(input), "评价.jsonl", NewSet(domain.LangZH), testValidator, domain.LangZH, nil)
	want := []string{
		"评价.jsonl:1: 不是有效的JSON（第1字节附近）",
		"评价.jsonl:2: 行太长（超过1 MiB）",
		"评价.jsonl:3: household: 缺少必填字段",
	}
	if diff := cmp.Diff(want, errorStrings(errs)); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

func errorStrings(errs []LineError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestDecodeProgress(t *testing.T) {
	input := mustEncode(generateDataset(10_000))
	lines := int64(bytes.Count(input, []byte("\n")))
	type report struct{ lines, bytes int64 }
	var reports []report
	errs := Decode(bytes.NewReader(input), "city.jsonl", NewSet(domain.LangEN), testValidator, domain.LangEN,
		func(lines, bytes int64) { reports = append(reports, report{lines, bytes}) })
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(reports) < 2 {
		t.Fatalf("progress reported %d times for %d lines, want a report every %d lines and one at the end", len(reports), lines, progressEvery)
	}
	if got, want := reports[len(reports)-1], (report{lines, int64(len(input))}); got != want {
		t.Errorf("last progress report = %+v, want %+v", got, want)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].lines < reports[i-1].lines || reports[i].bytes < reports[i-1].bytes {
			t.Errorf("progress went backwards: %+v then %+v", reports[i-1], reports[i])
		}
	}
}

func TestDecodeReadError(t *testing.T) {
	input := validLines[TypeDistrict] + "\n" + validLines[TypeCompany] + "\n"
	broken := io.MultiReader(strings.NewReader(input), iotest.ErrReader(errors.New("disk on fire")))
	set := NewSet(domain.LangEN)
	errs := Decode(broken, "f.jsonl", set, testValidator, domain.LangEN, nil)
	want := []LineError{{"f.jsonl", 3, "read failed: disk on fire"}}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if set.Len() != 2 {
		t.Errorf("kept %d records, want the 2 read before the error", set.Len())
	}
}

// TestDecodeCity reads a hand-written file of every type, in an order with forward
// references and odd spacing, and checks the export against a golden file.
func TestDecodeCity(t *testing.T) {
	input, err := os.ReadFile("testdata/city.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	set := decode(t, input)
	if errs := set.CheckRefs(nil); len(errs) > 0 {
		t.Fatalf("CheckRefs: %v", errs)
	}
	got := mustEncode(set.Dataset())
	golden.Check(t, "testdata/city.export.jsonl", got)
}
