package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
)

func TestCheckFields(t *testing.T) {
	val := NewValidator()
	good := Rating{Period: "2026Q4", Estate: "e1", Household: "3-2-1201", SubmittedAt: time.Now(),
		Scores: Scores{5, 4, 3, 2, 1, 5}}
	if err := val.Check(good, LangZH); err != nil {
		t.Fatalf("valid rating rejected: %v", err)
	}
	bad := good
	bad.Household = "3/2"
	bad.Scores.Service = 6
	bad.Scores.Greening = 0
	for _, tc := range []struct {
		lang string
		want map[string]string
	}{
		{LangZH, map[string]string{
			"household":       "household只能包含字母、数字、点、下划线和连字符，长度1-64",
			"scores.service":  "service必须小于或等于5",
			"scores.greening": "greening最小只能为1",
		}},
		{LangEN, map[string]string{
			"household":       "household must be 1-64 characters of letters, digits, '.', '_' or '-'",
			"scores.service":  "service must be 5 or less",
			"scores.greening": "greening must be 1 or greater",
		}},
	} {
		err := val.Check(bad, tc.lang)
		if derrors.Code(err) != derrors.Invalid {
			t.Fatalf("%s: code = %q, want invalid", tc.lang, derrors.Code(err))
		}
		if diff := cmp.Diff(tc.want, err.(*derrors.Error).Fields); diff != "" {
			t.Errorf("%s: fields mismatch (-want +got):\n%s", tc.lang, diff)
		}
	}
}

func TestPredicates(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(string) bool
		in   string
		want bool
	}{
		{"points int", IsPoints, "2", true},
		{"points 2dp", IsPoints, "2.55", true},
		{"points 3dp", IsPoints, "2.555", false},
		{"points zero", IsPoints, "0.00", false},
		{"points small", IsPoints, "0.01", true},
		{"points negative", IsPoints, "-1", false},
		{"points exponent", IsPoints, "1e2", false},
		{"points leading zero", IsPoints, "01", false},
		{"date ok", IsDate, "2026-02-28", true},
		{"date feb 30", IsDate, "2026-02-30", false},
		{"date short", IsDate, "2026-2-3", false},
		{"uscc ok", IsUSCC, "91440300MA5DXXXX0A", true},
		{"uscc lower", IsUSCC, "91440300ma5dxxxx0a", false},
		{"uscc 17", IsUSCC, "91440300MA5DXXXX0", false},
		{"ident 64", IsIdent, string(make([]byte, 0)) + "a" + string(repeat('b', 63)), true},
		{"ident 65", IsIdent, "a" + string(repeat('b', 64)), false},
		{"ident space", IsIdent, "a b", false},
	} {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("%s: f(%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestPeriodEndNotBeforeStart(t *testing.T) {
	val := NewValidator()
	p := Period{ID: "2026Q4", Start: "2026-10-01", End: "2026-09-30", DisclosureDeadline: "2026-10-15"}
	err := val.Check(p, LangEN)
	want := map[string]string{"end": "end must not be before start"}
	if diff := cmp.Diff(want, derrorsFields(err)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	p.End = "2026-12-31"
	if err := val.Check(p, LangEN); err != nil {
		t.Errorf("valid period: %v", err)
	}
}

func derrorsFields(err error) map[string]string {
	if e, ok := err.(*derrors.Error); ok {
		return e.Fields
	}
	return nil
}

func TestTallyAddRating(t *testing.T) {
	var tl Tally
	tl.AddRating(Scores{1, 2, 3, 4, 5, 1}, 1)
	tl.AddRating(Scores{5, 5, 5, 5, 5, 5}, 1)
	tl.AddRating(Scores{1, 2, 3, 4, 5, 1}, -1)
	other := Tally{Ratings: 2, Sums: TallySums{Service: 1, Security: 2, Cleaning: 3, Greening: 4, Maintenance: 5, Transparency: 6}}
	tl.Add(&other)
	if tl.Ratings != 3 || tl.Sums.Array() != [6]int64{6, 7, 8, 9, 10, 11} {
		t.Errorf("tally = %d %v, want 3 [6 7 8 9 10 11]", tl.Ratings, tl.Sums.Array())
	}
}

func TestPeriodsOn(t *testing.T) {
	periods := []Period{
		{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31"},
		{ID: "2026Q2", Start: "2026-04-01", End: "2026-06-30"},
		{ID: "2027Q2", Start: "2027-04-01", End: "2027-06-30"},
		{ID: "2026Q1", Start: "2026-01-01", End: "2026-03-31"},
	}
	id := func(p *Period) string {
		if p == nil {
			return "-"
		}
		return p.ID
	}
	for _, tc := range []struct{ day, open, last, next string }{
		{"2026-10-01", "2026Q4", "-", "-"}, // first day
		{"2026-12-31", "2026Q4", "-", "-"}, // last day
		{"2026-07-15", "-", "2026Q2", "2026Q4"},
		{"2027-01-02", "-", "2026Q4", "2027Q2"},
		{"2025-12-31", "-", "-", "2026Q1"},
		{"2027-07-01", "-", "2027Q2", "-"},
	} {
		open, last, next := PeriodsOn(periods, tc.day)
		if got := [3]string{id(open), id(last), id(next)}; got != [3]string{tc.open, tc.last, tc.next} {
			t.Errorf("%s: open, last, next = %v, want %v", tc.day, got, [3]string{tc.open, tc.last, tc.next})
		}
	}
}
