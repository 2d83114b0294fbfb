package demo

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/interchange"
)

// demoDay is the day the counts in the package's documentation were taken on.
var demoDay = time.Date(2026, 11, 23, 10, 30, 0, 0, domain.Zone)

// cities are the (seed, day) combinations the invariants are checked on: the default, the
// first day of a quarter (nothing rated in the open period yet) and the last day of a year.
var cities = []struct {
	name  string
	seed  int64
	today time.Time
}{
	{"default", DefaultSeed, demoDay},
	{"quarter's first day", 7, time.Date(2027, 1, 1, 8, 0, 0, 0, domain.Zone)},
	{"year's last day", 2026, time.Date(2026, 12, 31, 23, 59, 0, 0, domain.Zone)},
}

func TestGenerateIsDeterministic(t *testing.T) {
	want := Generate(DefaultSeed, demoDay)
	// The same civil day in +08:00, written at another time and in another zone.
	sameDay := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC) // 2026-11-23 00:00 +08:00
	if diff := cmp.Diff(want, Generate(DefaultSeed, sameDay)); diff != "" {
		t.Errorf("same seed and day, different datasets (-first +second):\n%s", diff)
	}
	if cmp.Equal(want.Companies, Generate(DefaultSeed+1, demoDay).Companies) {
		t.Error("a different seed made the same companies")
	}
}

// The city is the same every day, and the closed period the same every day of the quarter.
func TestGenerateIsStableOverDays(t *testing.T) {
	a := Generate(DefaultSeed, time.Date(2026, 10, 20, 12, 0, 0, 0, domain.Zone))
	b := Generate(DefaultSeed, demoDay)
	nextYear := Generate(DefaultSeed, time.Date(2027, 5, 1, 12, 0, 0, 0, domain.Zone))
	closed := func(ds *domain.Dataset) (ratings []domain.Rating, disclosures []domain.Disclosure) {
		for _, r := range ds.Ratings {
			if r.Period == "2026Q3" {
				ratings = append(ratings, r)
			}
		}
		for _, d := range ds.Disclosures {
			if d.Period == "2026Q3" {
				disclosures = append(disclosures, d)
			}
		}
		return ratings, disclosures
	}
	aRatings, aDisclosures := closed(a)
	bRatings, bDisclosures := closed(b)
	for _, tc := range []struct {
		name string
		x, y any
	}{
		{"districts", a.Districts, nextYear.Districts},
		{"companies", a.Companies, nextYear.Companies},
		{"estates", a.Estates, nextYear.Estates},
		{"periods", a.Periods, b.Periods},
		{"closed ratings", aRatings, bRatings},
		{"closed disclosures", aDisclosures, bDisclosures},
	} {
		if diff := cmp.Diff(tc.x, tc.y); diff != "" {
			t.Errorf("%s differ between days (-earlier +later):\n%s", tc.name, diff)
		}
	}
}

func TestPeriods(t *testing.T) {
	for _, tc := range []struct {
		today time.Time
		want  []domain.Period
	}{
		{demoDay, []domain.Period{
			{ID: "2026Q3", Start: "2026-07-01", End: "2026-09-30", DisclosureDeadline: "2026-07-15"},
			{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"},
		}},
		// 16:30 UTC on 30 September is already 1 October in +08:00.
		{time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC), []domain.Period{
			{ID: "2026Q3", Start: "2026-07-01", End: "2026-09-30", DisclosureDeadline: "2026-07-15"},
			{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"},
		}},
		{time.Date(2027, 2, 28, 12, 0, 0, 0, domain.Zone), []domain.Period{
			{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"},
			{ID: "2027Q1", Start: "2027-01-01", End: "2027-03-31", DisclosureDeadline: "2027-01-15"},
		}},
	} {
		got := Generate(DefaultSeed, tc.today).Periods
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("today %v: periods mismatch (-want +got):\n%s", tc.today, diff)
		}
	}
}

func TestCounts(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	perCompany := map[string]int{}
	for _, e := range ds.Estates {
		perCompany[e.Company]++
	}
	fewest, most := len(ds.Estates), 0
	for _, c := range ds.Companies {
		fewest, most = min(fewest, perCompany[c.ID]), max(most, perCompany[c.ID])
	}
	vetoes := 0
	for _, e := range ds.Events {
		if e.Veto {
			vetoes++
		}
	}
	for _, tc := range []struct {
		what     string
		got      int
		min, max int
	}{
		{"districts", len(ds.Districts), 5, 5},
		{"companies", len(ds.Companies), 35, 45},
		{"estates", len(ds.Estates), 140, 160},
		{"estates of the smallest company", fewest, 1, 1},
		{"estates of the largest company", most, 8, 10},
		{"periods", len(ds.Periods), 2, 2},
		{"ratings", len(ds.Ratings), 15000, 25000},
		{"disclosures", len(ds.Disclosures), 900, 1200},
		{"governance", len(ds.Governance), 2 * len(ds.Companies), 2 * len(ds.Companies)},
		{"events", len(ds.Events), 55, 65},
		{"veto events", vetoes, 1, 2},
	} {
		if tc.got < tc.min || tc.got > tc.max {
			t.Errorf("%s: %d, want %d..%d", tc.what, tc.got, tc.min, tc.max)
		}
	}
}

func TestRecordsValidate(t *testing.T) {
	val := domain.NewValidator()
	for _, city := range cities {
		ds := Generate(city.seed, city.today)
		var records []any
		for _, recs := range [][]any{
			anys(ds.Districts), anys(ds.Companies), anys(ds.Estates), anys(ds.Periods),
			anys(ds.Ratings), anys(ds.Disclosures), anys(ds.Governance), anys(ds.Events),
		} {
			records = append(records, recs...)
		}
		bad := 0
		for _, rec := range records {
			if err := val.Check(rec, domain.LangZH); err != nil {
				if bad++; bad <= 5 {
					t.Errorf("%s: %+v: %v", city.name, rec, err)
				}
			}
		}
		if bad > 5 {
			t.Errorf("%s: %d invalid records in all", city.name, bad)
		}
	}
}

// TestReferencesHold: every record names only records of the city, by the rule import checks
// (interchange.Set.CheckRefs), and keys are unique.
func TestReferencesHold(t *testing.T) {
	for _, city := range cities {
		ds := Generate(city.seed, city.today)
		var file bytes.Buffer
		if err := interchange.Encode(&file, ds); err != nil {
			t.Fatal(err)
		}
		set := interchange.NewSet(domain.LangEN)
		if errs := interchange.Decode(&file, city.name, set, nil, domain.LangEN, nil); len(errs) > 0 {
			t.Fatalf("%s: %d lines do not read back, the first: %v", city.name, len(errs), errs[0])
		}
		if missing := set.CheckRefs(nil); len(missing) > 0 {
			t.Errorf("%s: references to missing records: %v", city.name, missing[:min(len(missing), 10)])
		}
		// Keys are unique too, as import would otherwise silently merge records.
		for _, keys := range []struct {
			kind string
			keys []string
		}{
			{"district", keysOf(ds.Districts, func(d domain.District) string { return d.ID })},
			{"district name", keysOf(ds.Districts, func(d domain.District) string { return d.Name })},
			{"company", keysOf(ds.Companies, func(c domain.Company) string { return c.ID })},
			{"company name", keysOf(ds.Companies, func(c domain.Company) string { return c.Name })},
			{"estate", keysOf(ds.Estates, func(e domain.Estate) string { return e.ID })},
			{"estate name", keysOf(ds.Estates, func(e domain.Estate) string { return e.Name })},
			{"rating", keysOf(ds.Ratings, domain.Rating.Key)},
			{"disclosure", keysOf(ds.Disclosures, domain.Disclosure.Key)},
			{"governance", keysOf(ds.Governance, domain.Governance.Key)},
			{"event", keysOf(ds.Events, func(e domain.Event) string { return e.ID })},
		} {
			if dup := firstDuplicate(keys.keys); dup != "" {
				t.Errorf("%s: %s key %q is not unique", city.name, keys.kind, dup)
			}
		}
	}
}

func TestRatingsFallInTheirPeriodBeforeToday(t *testing.T) {
	for _, city := range cities {
		ds := Generate(city.seed, city.today)
		periods := map[string]domain.Period{}
		for _, p := range ds.Periods {
			periods[p.ID] = p
		}
		for _, r := range ds.Ratings {
			day := r.SubmittedAt.In(domain.Zone).Format(domain.DateLayout)
			if !periods[r.Period].Contains(day) || !r.SubmittedAt.Before(city.today) ||
				day >= domain.Today(city.today) {
				t.Fatalf("%s: rating %s submitted at %v, outside %s or not before %v",
					city.name, r.Key(), r.SubmittedAt, r.Period, city.today)
			}
		}
		for _, d := range ds.Disclosures {
			if !d.FiledAt.Before(city.today) {
				t.Fatalf("%s: disclosure %s filed at %v, after today", city.name, d.Key(), d.FiledAt)
			}
		}
	}
}

// In the closed period between 5% and 40% of each estate's households rate it.
func TestParticipation(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	closed := ds.Periods[0].ID
	rated := map[string]int{}
	for _, r := range ds.Ratings {
		if r.Period == closed {
			rated[r.Estate]++
		}
	}
	for _, e := range ds.Estates {
		share := float64(rated[e.ID]) / float64(e.Households)
		// Counts are rounded, so allow half a household either way.
		if slack := 0.5 / float64(e.Households); share < 0.05-slack || share > 0.40+slack {
			t.Errorf("estate %s: %d of %d households rated (%.1f%%)", e.ID, rated[e.ID], e.Households, 100*share)
		}
	}
}

// Every demo disclosure is in the form companies file (package disclosure): it reads back,
// most pass the reviewers' checks, and the sloppy companies' failures are the kind the checks
// are there to catch.
func TestDisclosureData(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	var clean, flagged int
	for _, d := range ds.Disclosures {
		data, ok := disclosure.Stored(d.Category, d.Data)
		if !ok {
			t.Fatalf("%s: data not in the filing form: %s", d.Key(), d.Data)
		}
		if !bytes.Equal(disclosure.Marshal(data), d.Data) {
			t.Errorf("%s: data not in canonical form: %s", d.Key(), d.Data)
		}
		if ps := disclosure.Check(data); len(ps) == 0 {
			clean++
		} else {
			flagged++
			for _, m := range ps.Messages("en") {
				if !strings.Contains(m, "add up to") {
					t.Errorf("%s: unexpected problem %q", d.Key(), m)
				}
			}
		}
	}
	if flagged == 0 || flagged*5 > clean {
		t.Errorf("%d disclosures pass the checks and %d do not; want a few that do not", clean, flagged)
	}
	// The fund's balance carries over from the closed period to the open one.
	closing := map[string]disclosure.Fen{}
	for _, d := range ds.Disclosures {
		if d.Category != disclosure.MaintenanceFund {
			continue
		}
		data, _ := disclosure.Stored(d.Category, d.Data)
		f := data.(*disclosure.FundData)
		switch {
		case d.Period == ds.Periods[0].ID:
			closing[d.Estate] = f.ClosingFen
		case closing[d.Estate] != 0 && f.OpeningFen != closing[d.Estate]:
			t.Errorf("%s: opening %d, want the closed period's closing %d", d.Key(), f.OpeningFen, closing[d.Estate])
		}
	}
}

// The credit code checksum on published codes, on near misses and on every generated code.
func TestUSCC(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"91350100M000100Y43", true}, // the example in most validators' documentation
		{"91440300708461136T", true},
		{"91110108551385082Q", true},
		{"91110000802100433B", true},
		{"91350100M000100Y44", false}, // wrong check character
		{"91350100M000100Y4", false},  // 17 characters
		{"91350100M000100Y430", false},
		{"91350100m000100y43", false}, // lower case
		{"91350100M0001O0Y43", false}, // O is not in the alphabet
		{"91440300MA5DXXXX0A", false}, // the right shape, the wrong check
		{"", false},
	} {
		if got := ValidUSCC(tc.code); got != tc.want {
			t.Errorf("ValidUSCC(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
	if got := orgCodeCheck("M000100Y"); got != '4' {
		t.Errorf("orgCodeCheck(M000100Y) = %c, want 4", got)
	}
	for _, c := range Generate(DefaultSeed, demoDay).Companies {
		if !ValidUSCC(c.ID) || orgCodeCheck(c.ID[8:16]) != c.ID[16] {
			t.Errorf("company %s (%s): invalid credit code", c.ID, c.Name)
		}
	}
}

// A veto record is in force at the open period's end (SCORING.md §4), so the black list has
// a veto entry whatever the scores.
func TestVetoInForce(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	end := ds.Periods[1].End
	for _, e := range ds.Events {
		if e.Veto && inForce(e, end) {
			return
		}
	}
	t.Errorf("no veto record in force on %s", end)
}

// Both periods have companies on the red list and on the black list, by a float64 sketch of
// SCORING.md (good enough for companies that are clearly in or out).
func TestRedAndBlackLists(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	for _, p := range ds.Periods {
		red, black := roughLists(ds, p)
		t.Logf("%s: red %v, black %v", p.ID, red, black)
		if len(red) == 0 || len(black) == 0 {
			t.Errorf("%s: red list %v, black list %v; want both non-empty", p.ID, red, black)
		}
	}
}

// Names and comments exercise escaping: quotes, ampersands and angle brackets.
func TestEscapingExercised(t *testing.T) {
	ds := Generate(DefaultSeed, demoDay)
	var text strings.Builder
	for _, c := range ds.Companies {
		text.WriteString(c.Name)
	}
	if !strings.ContainsAny(text.String(), `&"`) {
		t.Error("no company name with & or \"")
	}
	for _, r := range ds.Ratings {
		text.WriteString(r.Comment)
	}
	for _, s := range []string{"<", ">", "&", `"`, "'"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("no name or comment contains %s", s)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(DefaultSeed, demoDay)
	}
}

// roughLists returns the companies on the red and black lists of period p.
func roughLists(ds *domain.Dataset, p domain.Period) (red, black []string) {
	type sums struct{ n, total float64 }
	ratings, all := map[string]*sums{}, sums{}
	for _, r := range ds.Ratings {
		if r.Period != p.ID {
			continue
		}
		mean := 0.0
		for _, v := range r.Scores.Array() {
			mean += float64(v) / 6
		}
		if ratings[r.Estate] == nil {
			ratings[r.Estate] = &sums{}
		}
		ratings[r.Estate].n++
		ratings[r.Estate].total += mean
		all.n++
		all.total += mean
	}
	mu := 3.0
	if all.n > 0 {
		mu = all.total / all.n
	}
	deadline, _ := time.ParseInLocation(domain.DateLayout, p.DisclosureDeadline, domain.Zone)
	deadline = deadline.AddDate(0, 0, 1) // the end of the deadline day
	worth := map[string]float64{}
	for _, d := range ds.Disclosures {
		switch {
		case d.Period != p.ID || d.Status == domain.StatusRejected:
		case d.FiledAt.Before(deadline):
			worth[d.Estate+"|"+d.Category] = 1
		case d.FiledAt.Before(deadline.AddDate(0, 0, 30)):
			worth[d.Estate+"|"+d.Category] = 0.5
		default:
			worth[d.Estate+"|"+d.Category] = 0.25
		}
	}
	type company struct{ s, d, households, g, bonus, deduction float64 }
	companies := map[string]*company{}
	perfect := map[string]bool{}
	for _, c := range ds.Companies {
		companies[c.ID] = &company{}
		perfect[c.ID] = true
	}
	for _, e := range ds.Estates {
		c := companies[e.Company]
		n, mean := 0.0, mu
		if s := ratings[e.ID]; s != nil {
			n, mean = s.n, s.total/s.n
		}
		se := ((n*mean+20*mu)/(n+20) - 1) / 4 * 100
		de := 0.0
		for _, cat := range domain.DisclosureCategories {
			w := worth[e.ID+"|"+cat]
			de += w * 25
			perfect[e.Company] = perfect[e.Company] && w == 1
		}
		h := float64(e.Households)
		c.s += se * h
		c.d += de * h
		c.households += h
	}
	for _, g := range ds.Governance {
		if g.Period == p.ID {
			companies[g.Company].g = 40*b2f(g.PartyOrg) + 30*b2f(g.PartyInstructor) + 30*b2f(g.JointMechanism)
		}
	}
	hasBad, veto := map[string]bool{}, map[string]bool{}
	for _, e := range ds.Events {
		if !inForce(e, p.End) {
			continue
		}
		points, _ := strconv.ParseFloat(e.Points, 64)
		if e.Kind == "good" {
			companies[e.Company].bonus += points
		} else {
			companies[e.Company].deduction += points
			hasBad[e.Company] = true
			veto[e.Company] = veto[e.Company] || e.Veto
		}
	}
	for _, c := range ds.Companies {
		x := companies[c.ID]
		base := 0.6*x.s/x.households + 0.3*x.d/x.households + 0.1*x.g
		score := min(100, max(0, base+min(10, x.bonus)-x.deduction))
		switch {
		case veto[c.ID] || score < 60 && hasBad[c.ID]:
			black = append(black, fmt.Sprintf("%s %.2f", c.Name, score))
		case score >= 85 && !hasBad[c.ID] && perfect[c.ID]:
			red = append(red, fmt.Sprintf("%s %.2f", c.Name, score))
		}
	}
	return red, black
}

// inForce reports whether a credit record counts on day end (SCORING.md §4).
func inForce(e domain.Event, end string) bool {
	days := e.ValidDays
	if days == 0 {
		days = 365
	}
	date, _ := time.Parse(domain.DateLayout, e.Date)
	expires := date.AddDate(0, 0, days).Format(domain.DateLayout)
	return e.Date <= end && end < expires && (e.RepairedOn == "" || end < e.RepairedOn)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func keysOf[T any](xs []T, key func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = key(x)
	}
	return out
}

func firstDuplicate(keys []string) string {
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}
