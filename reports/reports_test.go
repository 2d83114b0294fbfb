package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/scoring"
	"github.com/propcredit/propcredit/scoring/scoringtest"
)

const (
	hostile = `</script><script>alert(1)</script>`
	red     = "91370600MA3C000001"
	vetoed  = "91370600MA3C000002"
	poor    = "91370600MA3C000003"
)

// testInput is a small city: one company for the red list, one black-listed by a veto and
// one by a low score with a bad record. Names are hostile.
func testInput(period string) scoring.Input {
	day := func(s string) scoring.Date { return scoring.MustParseDate(s) }
	filed := time.Date(2026, 10, 10, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tally := func(estate string, n int64, score int64) scoring.Tally {
		var sums [6]int64
		for i := range sums {
			sums[i] = n * score
		}
		sums[5] = n * max(score-1, 1) // transparency a little lower
		return scoring.Tally{Estate: estate, Ratings: n, Sums: sums}
	}
	in := scoring.Input{
		Period: scoring.Period{ID: period, Start: day("2026-10-01"), End: day("2026-12-31"), DisclosureDeadline: day("2026-10-15")},
		Companies: []scoring.Company{
			{ID: red, Name: "阳光物业" + hostile},
			{ID: vetoed, Name: "弃管物业"},
			{ID: poor, Name: "=HYPERLINK(\"http://evil.example\")"},
		},
		Estates: []scoring.Estate{
			{ID: "E1", Name: "阳光花园" + hostile, District: "d1", Company: red, Households: 200},
			{ID: "E2", Name: "弃管小区", District: "d2", Company: vetoed, Households: 300},
			{ID: "E3", Name: "差评小区", District: "d2", Company: poor, Households: 400},
		},
		Tallies: []scoring.Tally{tally("E1", 200, 5), tally("E2", 150, 3), tally("E3", 100, 2)},
		Governance: []scoring.Governance{
			{Company: red, PartyOrg: true, PartyInstructor: true, JointMechanism: true},
		},
		Events: []scoring.Event{
			{ID: "EV-veto", Company: vetoed, Kind: scoring.KindBad, Points: big.NewRat(10, 1), Veto: true, Date: day("2026-06-01"), Description: "挪用专项维修资金" + hostile},
			{ID: "EV-bad", Company: poor, Kind: scoring.KindBad, Points: big.NewRat(5, 1), Date: day("2026-06-01"), Description: "违规收费"},
		},
	}
	for _, c := range scoring.Categories {
		in.Disclosures = append(in.Disclosures, scoring.Disclosure{Estate: "E1", Category: c.ID, FiledAt: filed, Status: scoring.StatusVerified})
	}
	in.Disclosures = append(in.Disclosures, scoring.Disclosure{Estate: "E2", Category: "fees", FiledAt: filed.AddDate(0, 0, 10), Status: scoring.StatusVerified})
	in.Disclosures = append(in.Disclosures, scoring.Disclosure{Estate: "E3", Category: "fees", FiledAt: filed, Status: scoring.StatusRejected})
	return in
}

func testPeriod(t *testing.T, period string, seq int) *PublishedPeriod {
	t.Helper()
	in := testInput(period)
	res, detail := scoringtest.Scored(t, in)
	inputs, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	pub := Publication{ID: "pub|" + period, Period: period, Seq: seq, Ruleset: res.Ruleset, RulesetHash: res.RulesetHash,
		InputsHash: "abc", PublishedAt: time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC)}
	p, err := NewPublishedPeriod(pub, []Publication{pub}, detail, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPeriodLists(t *testing.T) {
	p := testPeriod(t, "2026Q4", 1)
	var got []string
	for _, g := range p.Result.Grades {
		got = append(got, g.Company+" "+g.Grade+" "+g.List)
	}
	want := []string{red + " AAA red", vetoed + " C black", poor + " C black"}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
		t.Errorf("grades (-want +got):\n%s", diff)
	}
	veto := BlackReasonOf(p.Grade(vetoed))
	if veto.Basis != scoring.BasisVeto || len(veto.Events) != 1 || veto.Events[0].ID != "EV-veto" {
		t.Errorf("veto reason = %+v", veto)
	}
	low := BlackReasonOf(p.Grade(poor))
	if low.Basis != scoring.BasisBelowBandsBad || len(low.Events) != 1 || low.Events[0].ID != "EV-bad" {
		t.Errorf("low-score reason = %+v", low)
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestPeriodAggregates(t *testing.T) {
	p := testPeriod(t, "2026Q4", 1)

	// Dimension means come straight from the tallies: E1's owners gave 5 everywhere but 4 for
	// transparency.
	if got, want := p.CompanyDimensions(red).Mean, [6]float64{5, 5, 5, 5, 5, 4}; got != want {
		t.Errorf("company dimensions = %v, want %v", got, want)
	}
	city := p.CityDimensions()
	if city.Ratings != 450 || math.Abs(city.Mean[0]-(200*5+150*3+100*2)/450.0) > 1e-12 {
		t.Errorf("city dimensions = %+v", city)
	}
	if m := p.CompanyDimensions("nobody"); m.Ratings != 0 || !math.IsNaN(m.Mean[0]) {
		t.Errorf("unknown company's dimensions = %+v, want NaN", m)
	}

	e, ok := p.Estate("E3")
	if !ok || e.Company != poor || e.Participation != 0.25 || e.Dimensions.Mean[0] != 2 {
		t.Errorf("estate E3 = %+v, %v", e, ok)
	}
	if _, ok := p.Estate("nope"); ok {
		t.Error("unknown estate found")
	}

	districts := p.Districts()
	if len(districts) != 2 || districts[1].District != "d2" || districts[1].Estates != 2 || districts[1].Households != 700 || districts[1].Ratings != 250 {
		t.Fatalf("districts = %+v", districts)
	}
	if got := districts[1].Participation; math.Abs(got-250.0/700) > 1e-12 {
		t.Errorf("d2 participation = %v", got)
	}

	compliance := p.Compliance()
	fees := compliance[1]
	// E1 on time, E2 within the grace days, E3 rejected.
	if fees.Category != "fees" || fees.Estates != 3 || fees.ByReason != [5]int{1, 1, 0, 0, 1} {
		t.Errorf("fees compliance = %+v", fees)
	}
	if util := compliance[0]; util.ByReason != [5]int{1, 0, 0, 2, 0} {
		t.Errorf("utilities compliance = %+v", util)
	}

	counts := p.GradeCounts()
	want := []Count{{"AAA", 1}, {"AA", 0}, {"A", 0}, {"B", 0}, {"C", 2}}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("grade counts (-want +got):\n%s", diff)
	}
	s := p.Summary()
	if s.Companies != 3 || s.Red != 1 || s.Black != 2 || s.Ratings != 450 {
		t.Errorf("summary = %+v", s)
	}
}

func TestCity(t *testing.T) {
	q3, q4 := testPeriod(t, "2026Q3", 1), testPeriod(t, "2026Q4", 2)
	c := NewCity([]*PublishedPeriod{q4, q3}, map[string]string{"d1": "东湖区"})
	if c.Latest() != q4 || c.Period("2026Q3") != q3 || c.Period("2025Q1") != nil {
		t.Error("periods are not found by id, or not in order")
	}
	if h := c.CompanyHistory(red); len(h) != 2 || h[0].Period != q3 || h[1].Grade.Grade != "AAA" {
		t.Errorf("history = %+v", h)
	}
	if c.DistrictName("d1") != "东湖区" || c.DistrictName("d2") != "d2" {
		t.Error("district names")
	}
	for q, want := range map[string][]string{
		"阳光":                 {red},
		"91370600ma3c00000":  {red, vetoed, poor},
		"91370600MA3C000002": {vetoed},
		"HYPERLINK":          {poor},
		"  ":                 nil,
		"无此企业":               nil,
	} {
		var got []string
		for _, m := range c.Search(q, 10) {
			got = append(got, m.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", q, diff)
		}
	}
	if got := c.Search("9137", 2); len(got) != 2 || got[0].Latest == nil || got[0].Latest.Period != q4 {
		t.Errorf("Search limited to 2 = %+v", got)
	}
	// Both periods list every estate: each is found once, sorted by name, and limited.
	for _, tc := range []struct {
		q     string
		limit int
		want  []string
	}{
		{"小区", 10, []string{"E3", "E2"}},
		{"小区", 1, []string{"E3"}},
		{"阳光", 10, []string{"E1"}},
		{"无此小区", 10, nil},
	} {
		var got []string
		for _, m := range c.SearchEstates(tc.q, tc.limit) {
			got = append(got, m.ID)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("SearchEstates(%q, %d) (-want +got):\n%s", tc.q, tc.limit, diff)
		}
	}
	if tr := c.Trends(); len(tr) != 2 || tr[0].Period != "2026Q3" {
		t.Errorf("trends = %+v", tr)
	}
}

// decodeOptions reads a chart's options back as a browser would from the data-echarts
// attribute: HTML-unescaped (the template escapes it), then JSON.parse.
func decodeOptions(t *testing.T, c Chart) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(html.UnescapeString(html.EscapeString(c.Options))), &m); err != nil {
		t.Fatalf("chart %s: options are not JSON: %v\n%s", c.ID, err, c.Options)
	}
	return m
}

func TestChartsEscapeDataAndDropNaN(t *testing.T) {
	spec := Spec{ID: "c1", Title: "标题" + hostile, AssetsHost: AssetsPath, Corner: "区"}
	bar, err := Bar(spec, []string{hostile, "\u2028区", "b&c"}, Series{Name: hostile, Values: []float64{1, math.NaN(), math.Inf(1)}})
	if err != nil {
		t.Fatal(err)
	}
	line, err := Line(spec, []string{"2026Q3", "2026Q4"}, Series{Name: "s", Values: []float64{math.Inf(-1), 2}})
	if err != nil {
		t.Fatal(err)
	}
	radar, err := Radar(Spec{ID: "r", Min: 1, Max: 5, AssetsHost: AssetsPath}, []string{"a", hostile}, Series{Name: hostile, Values: []float64{math.NaN(), 3}})
	if err != nil {
		t.Fatal(err)
	}
	heat, err := HeatMap(Spec{ID: "h", Min: 1, Max: 5, AssetsHost: AssetsPath}, []string{hostile}, []string{"x", "y"}, [][]float64{{math.NaN(), 4.5}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Chart{bar, line, radar, heat} {
		for _, bad := range []string{"<", ">", "&", "\u2028", "\u2029", "NaN", "Inf"} {
			if strings.Contains(c.Options, bad) {
				t.Errorf("chart %s: options contain %q:\n%s", c.ID, bad, c.Options)
			}
		}
		decodeOptions(t, c)
		if diff := cmp.Diff([]string{"/assets/echarts.min.js"}, c.Scripts); diff != "" {
			t.Errorf("chart %s scripts (-want +got):\n%s", c.ID, diff)
		}
	}
	// The data survives: the browser gets the exact names back, as text.
	opts := decodeOptions(t, bar)
	xAxis := opts["xAxis"].([]any)[0].(map[string]any)["data"].([]any)
	if xAxis[0] != hostile || xAxis[1] != "\u2028区" || xAxis[2] != "b&c" {
		t.Errorf("x axis = %q", xAxis)
	}
	data := opts["series"].([]any)[0].(map[string]any)["data"].([]any)
	if got := []any{data[0].(map[string]any)["value"], data[1].(map[string]any)["value"], data[2].(map[string]any)["value"]}; !cmp.Equal(got, []any{1.0, "-", "-"}) {
		t.Errorf("bar values = %v, want 1, -, -", got)
	}
	// The table has the same numbers.
	want := Table{Corner: "区", Head: []string{hostile}, Rows: []Row{{hostile, []string{"1.00"}}, {"\u2028区", []string{"—"}}, {"b&c", []string{"—"}}}}
	if diff := cmp.Diff(want, bar.Table); diff != "" {
		t.Errorf("bar table (-want +got):\n%s", diff)
	}
	if got := PageScripts("/assets/", bar, line); !cmp.Equal(got, []string{"/assets/echarts.min.js", "/assets/charts.js"}) {
		t.Errorf("PageScripts = %v", got)
	}
	if got := PageScripts("/assets/"); got != nil {
		t.Errorf("PageScripts without charts = %v", got)
	}
	static, _ := Bar(Spec{ID: "s", AssetsHost: StaticAssetsDir}, []string{"a"})
	if !cmp.Equal(static.Scripts, []string{"assets/echarts.min.js"}) {
		t.Errorf("static scripts = %v", static.Scripts)
	}
}

func TestSheetCSVAndXLSX(t *testing.T) {
	s := Sheet{Name: "排名", Head: []string{"名称", "得分"}, Rows: [][]any{
		{`=HYPERLINK("http://evil.example")`, 87.456},
		{"阳光,物业\n\"二\"", math.NaN()},
		{"-2", int64(3)},
	}}
	var buf bytes.Buffer
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(buf.String(), "\uFEFF")
	if !ok {
		t.Error("CSV lacks the byte-order mark")
	}
	records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"名称", "得分"}, {`'=HYPERLINK("http://evil.example")`, "87.46"}, {"阳光,物业\n\"二\"", ""}, {"'-2", "3"}}
	if diff := cmp.Diff(want, records); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := s.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("排名")
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != `=HYPERLINK("http://evil.example")` || rows[3][0] != "-2" {
		t.Errorf("XLSX text cells = %q", rows)
	}
	if formula, _ := f.GetCellFormula("排名", "A2"); formula != "" {
		t.Errorf("XLSX cell A2 is a formula: %q", formula)
	}
	if typ, _ := f.GetCellType("排名", "B2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("XLSX score cell type = %v, want a number", typ)
	}
	if v, _ := f.GetCellValue("排名", "B2"); v != "87.456" {
		t.Errorf("XLSX score = %q", v)
	}
}

func TestAssets(t *testing.T) {
	for _, name := range []string{"echarts.min.js", "charts.js", "reports.css"} {
		a, ok := AssetNamed(name)
		if !ok || len(a.Body) == 0 || a.ETag == "" {
			t.Errorf("asset %s missing", name)
		}
	}
	e, _ := AssetNamed("echarts.min.js")
	if !bytes.Contains(e.Body, []byte("5.6.0")) {
		t.Error("echarts.min.js is not ECharts 5.6.0")
	}
	if _, ok := AssetNamed("../period.go"); ok {
		t.Error("found an asset outside the list")
	}
}
