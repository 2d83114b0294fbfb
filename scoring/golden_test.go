package scoring

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/golden"
)

// cityFile is the format of testdata/city_*.json: an Input whose ratings are given one by one
// (tallied with TallyRatings) instead of as tallies.
type cityFile struct {
	Input
	Ratings []Rating `json:"ratings"`
}

func loadCity(t testing.TB, path string) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var city cityFile
	if err := dec.Decode(&city); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	city.Input.Tallies = TallyRatings(city.Ratings)
	return city.Input
}

const (
	sunshine = "91370600MA3C000001" // 阳光物业
	anju     = "91370600MA3C000002" // 安居物业
)

func TestGoldenCitySmall(t *testing.T) {
	in := loadCity(t, "testdata/city_small.json")
	res := mustScore(t, in)

	export, err := MarshalExport(res)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/city_small.golden.json", export)

	detail, err := MarshalDetail(res)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/city_small.detail.golden.json", detail)

	for _, company := range []string{sunshine, anju} {
		text, err := Explain(res, Default(), company)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "city_small.explain."+company+".golden.txt"), []byte(text))
	}
}

// TestGoldenCitySmallByHand checks the numbers worked out by hand in testdata/README.md, so that
// the golden file can never drift away from them.
func TestGoldenCitySmallByHand(t *testing.T) {
	res := mustScore(t, loadCity(t, "testdata/city_small.json"))
	type estate struct {
		ID                string
		Ratings           int64
		Mean, Shrunk, S_e string
		D_e               string
		DisclosureReasons []string
	}
	type company struct {
		S, D, G, Base, Bonus, Deduction, Unclamped string
		Score                                      Fixed
		Grade, Basis, List                         string
		Rank                                       int
		Estates                                    []estate
	}
	got := func(id string) company {
		g := res.Grade(id)
		c := company{
			S: g.Exact.Satisfaction.RatString(), D: g.Exact.Disclosure.RatString(), G: g.Exact.Governance.RatString(),
			Base: g.Exact.Base.RatString(), Bonus: g.Exact.Bonus.RatString(), Deduction: g.Exact.Deduction.RatString(),
			Unclamped: g.Exact.Unclamped.RatString(), Score: g.Score, Grade: g.Grade, Basis: g.GradeBasis, List: g.List, Rank: g.Rank,
		}
		for _, d := range g.EstateDetails {
			e := estate{ID: d.Estate, Ratings: d.Ratings, Mean: d.Exact.Mean.RatString(), Shrunk: d.Exact.Shrunk.RatString(),
				S_e: d.Exact.Satisfaction.RatString(), D_e: d.Exact.Disclosure.RatString()}
			for _, dw := range d.Disclosures {
				e.DisclosureReasons = append(e.DisclosureReasons, dw.Reason)
			}
			c.Estates = append(c.Estates, e)
		}
		return c
	}
	if got := res.Exact.CityMean.RatString(); got != "4" {
		t.Errorf("μ = %s, want 4", got)
	}
	want := map[string]company{
		sunshine: {
			S: "625/8", D: "1375/16", G: "70", Base: "2549/32", Bonus: "3", Deduction: "0", Unclamped: "2645/32",
			Score: 8266, Grade: "AA", Basis: BasisBand, List: ListNone, Rank: 2,
			Estates: []estate{
				{"E01", 10, "9/2", "25/6", "475/6", "100", []string{"on_time", "on_time", "on_time", "on_time"}},
				{"E02", 0, "4", "4", "75", "175/4", []string{"on_time", "within_grace", "late", "missing"}},
			},
		},
		anju: {
			S: "275/4", D: "75", G: "0", Base: "255/4", Bonus: "0", Deduction: "5", Unclamped: "235/4",
			Score: 5875, Grade: "C", Basis: BasisBelowBandsBad, List: ListBlack, Rank: 4,
			Estates: []estate{
				{"E03", 20, "7/2", "15/4", "275/4", "75", []string{"on_time", "on_time", "rejected", "on_time"}},
			},
		},
	}
	for id, w := range want {
		if diff := cmp.Diff(w, got(id)); diff != "" {
			t.Errorf("%s differs from the hand-worked numbers (-want +got):\n%s", id, diff)
		}
	}
	var order []string
	for _, g := range res.Grades {
		order = append(order, g.Company+" "+g.Score.String()+" "+g.Grade+" "+g.List)
	}
	wantOrder := []string{
		"91370600MA3C000003 89.50 AAA red",
		"91370600MA3C000001 82.66 AA none",
		"91370600MA3C000004 78.00 C black",
		"91370600MA3C000002 58.75 C black",
		"91370600MA3C000006 55.00 B none",
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	ids := func(grades []Grade) (out []string) {
		for _, g := range grades {
			out = append(out, g.Company)
		}
		return out
	}
	if diff := cmp.Diff([]string{"91370600MA3C000003"}, ids(res.RedList())); diff != "" {
		t.Errorf("red list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"91370600MA3C000002", "91370600MA3C000004"}, ids(res.BlackList())); diff != "" {
		t.Errorf("black list, worst first (-want +got):\n%s", diff)
	}
}

// TestExportShape: the export holds INTERCHANGE.md's keys and nothing more.
func TestExportShape(t *testing.T) {
	res := mustScore(t, loadCity(t, "testdata/city_small.json"))
	export, err := MarshalExport(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(export, &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff([]string{"grades", "period", "ruleset"}, keys(doc)); diff != "" {
		t.Errorf("top-level keys (-want +got):\n%s", diff)
	}
	for _, g := range doc["grades"].([]any) {
		if diff := cmp.Diff([]string{"company", "components", "estates", "grade", "list", "name", "rank", "ratings", "score"}, keys(g)); diff != "" {
			t.Fatalf("grade keys (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"bonus", "deduction", "disclosure", "governance", "satisfaction"}, keys(g.(map[string]any)["components"])); diff != "" {
			t.Fatalf("component keys (-want +got):\n%s", diff)
		}
	}
	if doc["period"] != "2026Q4" || doc["ruleset"] != "default@1" {
		t.Errorf("period %v, ruleset %v", doc["period"], doc["ruleset"])
	}
}
