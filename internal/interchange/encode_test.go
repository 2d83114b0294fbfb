package interchange

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
)

func TestRoundTrip(t *testing.T) {
	ds := generateDataset(5_000)
	first := encode(t, ds)
	set := decode(t, first)
	if errs := set.CheckRefs(nil); len(errs) > 0 {
		t.Fatalf("CheckRefs: %d errors, first: %v", len(errs), errs[0])
	}
	got := set.Dataset()
	if diff := cmp.Diff(ds, got, equateEmpty); diff != "" {
		t.Fatalf("Decode(Encode(ds)) != ds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(string(first), string(encode(t, got))); diff != "" {
		t.Errorf("Encode(Decode(Encode(ds))) is not byte-identical (-first +second):\n%s", diff)
	}
}

func TestEncodeSortsAndLeavesTheDatasetAlone(t *testing.T) {
	ds := generateDataset(2_000)
	shuffled := *ds
	shuffled.Ratings = slices.Clone(ds.Ratings)
	slices.Reverse(shuffled.Ratings)
	shuffled.Districts = slices.Clone(ds.Districts)
	slices.Reverse(shuffled.Districts)
	reversed := slices.Clone(shuffled.Ratings)
	if diff := cmp.Diff(string(encode(t, ds)), string(encode(t, &shuffled))); diff != "" {
		t.Errorf("output depends on the order of the dataset (-sorted +shuffled):\n%s", diff)
	}
	if diff := cmp.Diff(reversed, shuffled.Ratings); diff != "" {
		t.Errorf("Encode reordered the caller's slice (-before +after):\n%s", diff)
	}
}

func TestEncodeTypeOrder(t *testing.T) {
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(string(encode(t, generateDataset(2_000)))), "\n") {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			t.Fatal(err)
		}
		if len(types) == 0 || types[len(types)-1] != head.Type {
			types = append(types, head.Type)
		}
	}
	want := []string{TypeDistrict, TypeCompany, TypePeriod, TypeEstate, TypeGovernance, TypeEvent, TypeDisclosure, TypeRating}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("type order mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  Record
		want string
	}{
		{"time converted to +08:00, no fraction", Record{Rating: &domain.Rating{Period: "p", Estate: "e", Household: "h",
			SubmittedAt: time.Date(2026, 10, 5, 1, 30, 0, 0, time.UTC), Scores: marks(1, 2, 3, 4, 5, 1)}},
			`{"type":"rating","period":"p","estate":"e","household":"h","submitted_at":"2026-10-05T09:30:00+08:00","scores":{"service":1,"security":2,"cleaning":3,"greening":4,"maintenance":5,"transparency":1}}`},
		{"fraction without trailing zeros", Record{Disclosure: &domain.Disclosure{Period: "p", Estate: "e", Category: "fees",
			FiledAt: time.Date(2026, 10, 5, 9, 30, 0, 120_000_000, domain.Zone), Status: "pending", Data: json.RawMessage("{\n  \"a\": [1, 2]\n}")}},
			`{"type":"disclosure","period":"p","estate":"e","category":"fees","filed_at":"2026-10-05T09:30:00.12+08:00","status":"pending","data":{"a":[1,2]}}`},
		{"escapes, optional fields", Record{Event: &domain.Event{ID: "x", Company: companyA, Kind: "good", Points: "0.05", Date: "2026-01-01",
			Description: "tab\there \"quoted\" back\\slash \x01 line\nend \xff 好"}},
			`{"type":"event","id":"x","company":"91440300MA5DAAAA1X","kind":"good","points":0.05,"veto":false,"date":"2026-01-01","description":"tab\there \"quoted\" back\\slash \u0001 line\nend \ufffd 好"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			enc := NewEncoder(&out)
			if err := enc.WriteRecord(tc.rec); err != nil {
				t.Fatal(err)
			}
			if err := enc.Flush(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want+"\n", out.String()); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteRecordRefusesWhatCannotBeRead(t *testing.T) {
	event := domain.Event{ID: "x", Company: companyA, Kind: "good", Points: "1", Date: "2026-01-01"}
	disclosure := domain.Disclosure{Period: "p", Estate: "e", Category: "fees", FiledAt: time.Now(), Status: "pending"}
	withPoints := func(p string) Record { e := event; e.Points = p; return Record{Event: &e} }
	withData := func(d string) Record { x := disclosure; x.Data = json.RawMessage(d); return Record{Disclosure: &x} }
	withTime := func(at time.Time) Record { x := disclosure; x.FiledAt = at; return Record{Disclosure: &x} }
	for _, tc := range []struct {
		name string
		rec  Record
		want string
	}{
		{"points not a number", withPoints("2,5"), `interchange: cannot write event|x: points "2,5" is not a number`},
		{"points empty", withPoints(""), `interchange: cannot write event|x: points "" is not a number`},
		{"data not JSON", withData(`{"a":`), "interchange: cannot write disclosure|p|e|fees: data: unexpected end of JSON input"},
		{"data not an object", withData(`[1]`), "interchange: cannot write disclosure|p|e|fees: data is not a JSON object"},
		{"time past 9999", withTime(time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)),
			"interchange: cannot write disclosure|p|e|fees: filed_at 10000-01-01 07:00:00 +0800 CST is outside the years 0001-9999"},
		{"empty record", Record{}, "interchange: cannot write : empty record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			enc := NewEncoder(&out)
			err := enc.WriteRecord(tc.rec)
			if err == nil || err.Error() != tc.want {
				t.Errorf("WriteRecord error = %v, want %q", err, tc.want)
			}
			if enc.Flush(); out.Len() != 0 {
				t.Errorf("wrote %q for a record it refused", out.String())
			}
		})
	}
}

// appendString must read back, through encoding/json, as what encoding/json itself writes.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "福田区", "\"\\/\b\f\n\r\t\x00\x1f\x7f", "\u2028\u2029", "bad \xff\xfe utf8 \xe4\xb8", "<&>"} {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Errorf("appendString(%q) is not JSON: %v", s, err)
			continue
		}
		marshalled, _ := json.Marshal(s)
		if err := json.Unmarshal(marshalled, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("appendString(%q) reads back as %q, want %q", s, got, want)
		}
	}
}
