package web

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// zipWorkbook is a minimal XLSX whose first sheet has the given <sheetData> rows.
func zipWorkbook(t *testing.T, sheetData string) []byte {
	t.Helper()
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="填报" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`},
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, _ := z.Create(f.name)
		_, _ = w.Write([]byte(f.body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// declaredBomb is a workbook whose sheet says it inflates to 1 GB: refused from its header,
// before anything is inflated. (internal/disclosure tests bombs that really inflate, and
// bombs that lie about their size.)
func declaredBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: 2, UncompressedSize64: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte{3, 0}) // an empty deflate stream
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A reviewer opens a pending filing beside the same estate's previous period, rejects it
// with a reason the company then sees, and verifies the next version; every decision is kept
// with who and when.
func TestReviewFlow(t *testing.T) {
	e := newDiscEnv(t)
	company := e.loggedIn("wanrun")
	reviewer := e.loggedIn("reviewer1")

	// Last period's fund closed at 1,000,100.00: this period's opening of 1,000,000.00 leaves
	// a gap the reviewer should see.
	last := withRow(withRow(discRows["maintenance_fund"], "closing||1000100"), "deposits||0")
	last = withRow(withRow(last, "withdrawals||0"), "interest||100")
	var filtered []string
	for _, r := range last {
		if !strings.HasPrefix(r, "withdrawal|") {
			filtered = append(filtered, r)
		}
	}
	form := discForm(filtered)
	form.Set("_csrf", company.csrf(formPath+"maintenance_fund"))
	wantStatus(t, company.post("/company/disclosures/2031Q3/e1/maintenance_fund", form), http.StatusSeeOther)
	wantStatus(t, company.file("maintenance_fund", discRows["maintenance_fund"]), http.StatusSeeOther)

	queue := reviewer.get("/review/disclosures")
	wantStatus(t, queue, http.StatusOK)
	wantBody(t, queue, "翠竹花园", "专项维修资金", "万润物业", "东湖区")
	page := reviewer.get("/review/disclosures/2031Q4/e1/maintenance_fund")
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "本期（2031Q4）", "上期（2031Q3）", "1,023,500.00", "1,000,100.00",
		"本期期初余额 1,000,000.00 元与上期期末余额 1,000,100.00 元不一致")

	path := "/review/disclosures/2031Q4/e1/maintenance_fund"
	r := reviewer.post(path, url.Values{"_csrf": {reviewer.csrf(path)}, "version": {"1"}, "draft": {"1"}, "status": {"rejected"}, "reason": {" "}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "退回时必须填写理由")
	e.clock.Advance(time.Hour)
	r = reviewer.decide("maintenance_fund", 1, 1, "rejected", "期初余额与上期期末余额不一致，请核对<b>利息</b>")
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, reviewer.get(r.location()), "审核结果已记录")

	// The company sees the reason (escaped), and files again.
	form2 := company.get(formPath + "maintenance_fund")
	wantBody(t, form2, "审核未通过，理由：", "期初余额与上期期末余额不一致，请核对&lt;b&gt;利息&lt;/b&gt;", "重新提交将成为新版本")
	wantStatus(t, company.file("maintenance_fund", withRow(discRows["maintenance_fund"], "opening||1000100")), http.StatusUnprocessableEntity) // the closing balance no longer follows
	fixed := withRow(withRow(discRows["maintenance_fund"], "opening||1000100"), "closing||1023600")
	wantStatus(t, company.file("maintenance_fund", fixed), http.StatusSeeOther)

	// Deciding on what the reviewer saw before the new version is refused.
	wantStatus(t, reviewer.decide("maintenance_fund", 1, 1, "verified", ""), http.StatusConflict)
	page = reviewer.get(path)
	if strings.Contains(page.body, "本期期初余额") {
		t.Error("the fixed filing still shows the balance gap")
	}
	wantStatus(t, reviewer.decide("maintenance_fund", 2, 1, "verified", "ok"), http.StatusSeeOther)
	wantStatus(t, reviewer.decide("maintenance_fund", 2, 1, "verified", "again"), http.StatusConflict)

	hist, err := e.db.FilingHistory(context.Background(), "2031Q4", "e1", "maintenance_fund")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.Status+" by "+h.Review.By+" at "+discTime(h.Review.At))
	}
	if diff := cmp.Diff([]string{"rejected by reviewer1 at 2031-10-10 11:00", "verified by reviewer1 at 2031-10-10 11:00"}, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	// What scoring reads: the verified version.
	ds, _ := e.db.Disclosures(context.Background(), "2031Q4")
	if len(ds) != 1 || ds[0].Status != domain.StatusVerified {
		t.Errorf("Disclosures = %+v", ds)
	}
	wantBody(t, reviewer.get("/review/disclosures"), "本期没有待审核的公开信息")
}

// Late means filed after the end of the deadline day in +08:00, whatever zone the server's
// clock is in: 23:59:59 on the 15th in Beijing is on time, one second later is not.
func TestLateFilingAcrossTimeZones(t *testing.T) {
	e := newDiscEnv(t)
	e.setClock(time.Date(2031, 10, 15, 15, 59, 59, 0, time.UTC)) // 23:59:59 +08:00
	c := e.loggedIn("wanrun")
	wantStatus(t, c.file("fees", discRows["fees"]), http.StatusSeeOther)
	e.setClock(time.Date(2031, 10, 15, 11, 0, 0, 0, time.FixedZone("EST", -5*3600))) // 00:00:00 on the 16th, +08:00
	wantStatus(t, c.file("parking", discRows["parking"]), http.StatusSeeOther)

	public := e.client().get("/estates/e1/disclosures")
	wantBody(t, public, "物业服务费 <span class=\"status status-pending\">待审核</span>",
		"停车场所使用与收益 <span class=\"status status-pending\">待审核 · 宽限期内公开</span>")
	reviewer := e.loggedIn("reviewer1")
	dash := reviewer.get("/review/dashboard?period=2031Q4")
	wantStatus(t, dash, http.StatusOK)
	f, _ := e.current("2031Q4", "e1", "parking")
	if got := discTime(f.FiledAt); got != "2031-10-16 00:00" {
		t.Errorf("filed at %s in +08:00", got)
	}
}

func TestDashboard(t *testing.T) {
	e := newDiscEnv(t)
	ctx := context.Background()
	company := e.loggedIn("wanrun")
	other := e.loggedIn("anju")
	reviewer := e.loggedIn("reviewer1")
	// e1 files fees on time and parking; e2 files utilities on time. After the deadline, e1
	// files the fund late; the reviewer rejects e1's parking.
	wantStatus(t, company.file("fees", discRows["fees"]), http.StatusSeeOther)
	wantStatus(t, company.file("parking", discRows["parking"]), http.StatusSeeOther)
	form := discForm(discRows["utilities"])
	form.Set("_csrf", other.csrf("/company/disclosures/2031Q4/e2/utilities"))
	wantStatus(t, other.post("/company/disclosures/2031Q4/e2/utilities", form), http.StatusSeeOther)
	e.setClock(time.Date(2031, 10, 20, 9, 0, 0, 0, domain.Zone))
	company, reviewer = e.loggedIn("wanrun"), e.loggedIn("reviewer1") // the sessions of five days ago have expired
	wantStatus(t, company.file("maintenance_fund", discRows["maintenance_fund"]), http.StatusSeeOther)
	wantStatus(t, reviewer.decide("parking", 1, 1, "rejected", "去向不明"), http.StatusSeeOther)

	dir, estates, err := (&disclosureSite{s: e.s}).directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	filings, err := e.db.Filings(ctx, "2031Q4")
	if err != nil {
		t.Fatal(err)
	}
	report := discComplianceOf("zh", discCity().Periods[1], estates, filings, dir, e.clock.Now())
	want := discCompliance{Period: discCity().Periods[1], PastDeadline: true,
		Total: discCounts{Expected: 8, Filed: 4, Missing: 4, Late: 1, Rejected: 1, Pending: 3},
		Districts: []discCounts{
			{ID: "d2", Name: "西山区", Expected: 4, Filed: 1, Missing: 3, Pending: 1},
			{ID: "d1", Name: "东湖区", Expected: 4, Filed: 3, Missing: 1, Late: 1, Rejected: 1, Pending: 2},
		},
		Companies: []discCounts{
			{ID: otherCompany, Name: "安居物业", Expected: 4, Filed: 1, Missing: 3, Pending: 1},
			{ID: testCompany, Name: "万润物业", Expected: 4, Filed: 3, Missing: 1, Late: 1, Rejected: 1, Pending: 2},
		},
		Issues: []discIssue{
			{District: "东湖区", Company: "万润物业", CompanyID: testCompany, Estate: "翠竹花园", EstateID: "e1", Category: "公共水电分摊", State: "未公开"},
			{District: "东湖区", Company: "万润物业", CompanyID: testCompany, Estate: "翠竹花园", EstateID: "e1", Category: "专项维修资金", State: "待审核 · 宽限期内公开", FiledAt: "2031-10-20 09:00"},
			{District: "东湖区", Company: "万润物业", CompanyID: testCompany, Estate: "翠竹花园", EstateID: "e1", Category: "停车场所使用与收益", State: "已退回", FiledAt: "2031-10-10 10:00", Reason: "去向不明"},
			{District: "西山区", Company: "安居物业", CompanyID: otherCompany, Estate: "锦绣华庭", EstateID: "e2", Category: "物业服务费", State: "未公开"},
			{District: "西山区", Company: "安居物业", CompanyID: otherCompany, Estate: "锦绣华庭", EstateID: "e2", Category: "专项维修资金", State: "未公开"},
			{District: "西山区", Company: "安居物业", CompanyID: otherCompany, Estate: "锦绣华庭", EstateID: "e2", Category: "停车场所使用与收益", State: "未公开"},
		},
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("compliance (-want +got):\n%s", diff)
	}

	page := reviewer.get("/review/dashboard?period=2031Q4")
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "按区", "按企业", "西山区", "安居物业", "去向不明", "待审核 · 宽限期内公开")
	filtered := reviewer.get("/review/dashboard?period=2031Q4&company=" + otherCompany)
	if _, issues, _ := strings.Cut(filtered.body, `id="issues"`); strings.Contains(issues, "翠竹花园") {
		t.Error("the company filter shows another company's issues")
	}

	r := reviewer.get("/review/dashboard.xlsx?period=2031Q4")
	wantStatus(t, r, http.StatusOK)
	book, err := excelize.OpenReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if diff := cmp.Diff([]string{"按区", "按企业", "明细"}, book.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	rows, _ := book.GetRows("按企业")
	if diff := cmp.Diff([]string{"万润物业", testCompany, "4", "3", "1", "0", "1", "1", "2"}, rows[2]); diff != "" {
		t.Errorf("company row (-want +got):\n%s", diff)
	}
	issues, _ := book.GetRows("明细")
	if len(issues) != 1+len(want.Issues) || issues[3][6] != "去向不明" {
		t.Errorf("issues sheet: %v", issues)
	}
	// Companies may not see the dashboard.
	wantStatus(t, company.get("/review/dashboard"), http.StatusForbidden)
}

// The public page: no log-in, every category of every period begun, marked, amounts in
// yuan with two decimals; rejected figures are not shown; untrusted text is escaped.
func TestPublicDisclosures(t *testing.T) {
	e := newDiscEnv(t)
	company := e.loggedIn("wanrun")
	reviewer := e.loggedIn("reviewer1")
	hostile := `<script>alert(1)</script>`
	wantStatus(t, company.file("fees", withRow(discRows["fees"], "spending|公共设施维护|50000")), http.StatusSeeOther)
	wantStatus(t, company.file("utilities", withRow(withRow(discRows["utilities"], "water_allocation|2号楼|6000"), "water_allocation|"+hostile+"|345.67")), http.StatusSeeOther)
	wantStatus(t, company.file("parking", discRows["parking"]), http.StatusSeeOther)
	wantStatus(t, reviewer.decide("fees", 1, 1, "verified", ""), http.StatusSeeOther)
	wantStatus(t, reviewer.decide("parking", 1, 1, "rejected", "不对"), http.StatusSeeOther)

	r := e.client().get("/estates/e1/disclosures")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "翠竹花园", "万润物业",
		"物业服务费 <span class=\"status status-verified\">已审核</span>", "280,000.50", "2.50 元/平方米·月",
		"公共水电分摊 <span class=\"status status-pending\">待审核</span>", "总水表", "12,345.67", "&lt;script&gt;alert(1)&lt;/script&gt;",
		"停车场所使用与收益 <span class=\"status status-rejected\">已退回</span>", "该公开信息未通过住建部门审核",
		"专项维修资金 <span class=\"status status-due\">待公开</span>", "尚未公开，截止日期：2031-10-15",
		"2031Q3", "<span class=\"status status-missing\">未公开</span>")
	if strings.Contains(r.body, hostile) {
		t.Error("a company's text is rendered unescaped")
	}
	if strings.Contains(r.body, "96,000.00") {
		t.Error("rejected figures are shown")
	}
	if strings.Contains(r.body, "2032Q1") {
		t.Error("a period not begun is shown")
	}
	wantStatus(t, e.client().get("/estates/nope/disclosures"), http.StatusNotFound)
	en := e.client().english()
	wantBody(t, en.get("/estates/e1/disclosures"), "Verified", "Property service fees", "Amount (yuan)")
}

func TestObjections(t *testing.T) {
	e := newDiscEnv(t)
	ctx := context.Background()
	company := e.loggedIn("wanrun")
	wantStatus(t, company.file("utilities", discRows["utilities"]), http.StatusSeeOther)
	codes, err := e.db.IssueCodes(ctx, "2031Q4", "e1", []string{"3-2-1201"}, false)
	if err != nil {
		t.Fatal(err)
	}
	owner := e.client()
	owner.header.Set("X-Forwarded-For", "203.0.113.7")
	object := func(code, text string) *response {
		return owner.post("/estates/e1/objections", url.Values{"_csrf": {owner.csrf("/estates/e1/disclosures")},
			"target": {"2031Q4|utilities"}, "flat": {"3-2-1201"}, "code": {code}, "text": {text}})
	}
	r := object(codes[0].Code, "这笔分摊不对：2号楼没有用这么多水")
	wantStatus(t, r, http.StatusSeeOther)
	page := owner.get(r.location())
	wantBody(t, page, "异议已提交", "这笔分摊不对：2号楼没有用这么多水")
	if strings.Contains(page.body, "3-2-1201</") {
		t.Error("the public page shows the owner's flat")
	}

	r = object("WRONG-CODE1", "x")
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "房号或住户验证码不正确")
	r = object(codes[0].Code, strings.Repeat("长", 1001))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "请填写内容（不超过1000字，不能含控制字符）")
	wrong := owner.post("/estates/e1/objections", url.Values{"_csrf": {owner.csrf("/estates/e1/disclosures")},
		"target": {"2031Q4|fees"}, "flat": {"3-2-1201"}, "code": {codes[0].Code}, "text": {"x"}})
	wantStatus(t, wrong, http.StatusUnprocessableEntity)
	wantBody(t, wrong, "请选择一项已公开的信息")

	// The company answers; another company may not.
	list := company.get("/company/objections")
	wantBody(t, list, "2号楼没有用这么多水")
	if strings.Contains(list.body, "3-2-1201") {
		t.Error("the company sees the owner's flat")
	}
	answer := func(c *client, text string) *response {
		return c.post("/company/objections/answer", url.Values{"_csrf": {c.csrf("/company/objections")}, "id": {"o|e1|2031Q4|1"}, "text": {text}})
	}
	wantStatus(t, answer(e.loggedIn("anju"), "不是我们"), http.StatusForbidden)
	wantStatus(t, answer(company, "已复核：2号楼含地下车库用水"), http.StatusSeeOther)
	wantBody(t, e.client().get("/estates/e1/disclosures"), "已复核：2号楼含地下车库用水")

	// A reviewer closes it (seeing the flat); it stays on the public page, question, answer
	// and outcome, so that the owner learns how it ended.
	reviewer := e.loggedIn("reviewer1")
	wantBody(t, reviewer.get("/review/objections"), "3-2-1201", "已复核")
	r = reviewer.post("/review/objections/close", url.Values{"_csrf": {reviewer.csrf("/review/objections")}, "id": {"o|e1|2031Q4|1"}, "note": {"已核实"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, reviewer.post("/review/objections/close", url.Values{"_csrf": {reviewer.csrf("/review/objections")}, "id": {"o|e1|2031Q4|1"}}), http.StatusConflict)
	public := e.client().get("/estates/e1/disclosures").body
	for _, want := range []string{"2号楼没有用这么多水", "已复核：2号楼含地下车库用水", "已核实", "已办结"} {
		if !strings.Contains(public, want) {
			t.Errorf("the public page lost %q of a closed objection", want)
		}
	}
	if strings.Contains(strings.ReplaceAll(public, `placeholder="3-2-1201"`, ""), "3-2-1201") {
		t.Error("the public page shows the objecting flat")
	}
	wantStatus(t, answer(company, "late"), http.StatusConflict)

	// One address may file only so many objections an hour, right code or not.
	for range objectionThrottle.Limit - 4 {
		wantStatus(t, object(codes[0].Code, ""), http.StatusUnprocessableEntity)
	}
	r = object(codes[0].Code, "again")
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "提交过于频繁")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	other := e.client()
	other.header.Set("X-Forwarded-For", "198.51.100.9")
	if r := other.post("/estates/e1/objections", url.Values{"_csrf": {other.csrf("/estates/e1/disclosures")},
		"target": {"2031Q4|utilities"}, "flat": {"3-2-1201"}, "code": {codes[0].Code}, "text": {"from elsewhere"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("another address was limited too: %d", r.StatusCode)
	}
	objections, _ := e.db.AllObjections(ctx)
	if len(objections) != 2 {
		t.Errorf("%d objections stored", len(objections))
	}
}

// Pages render in both languages, for the roles that use them.
func TestDisclosurePagesInBothLanguages(t *testing.T) {
	e := newDiscEnv(t)
	company := e.loggedIn("wanrun")
	wantStatus(t, company.file("fees", discRows["fees"]), http.StatusSeeOther)
	reviewer := e.loggedIn("reviewer1")
	for _, lang := range []string{"zh", "en"} {
		for _, tc := range []struct {
			c     *client
			paths []string
		}{
			{company, []string{"/company/disclosures", formPath + "fees", formPath + "parking", "/company/tokens", "/company/objections"}},
			{reviewer, []string{"/review/disclosures", "/review/disclosures/2031Q4/e1/fees", "/review/dashboard", "/review/objections"}},
			{e.client(), []string{"/estates/e1/disclosures"}},
		} {
			for _, p := range tc.paths {
				r := tc.c.get(p + "?lang=" + lang)
				wantStatus(t, r, http.StatusOK)
				wantBody(t, r, T(lang, "site.name"))
			}
		}
	}
}

func TestDisclosurePagesWithoutPeriods(t *testing.T) {
	e := newEnv(t)
	e.addAccount("wanrun", domain.RoleCompany, testCompany, "pw")
	e.addAccount("reviewer1", domain.RoleReviewer, "", "pw")
	for _, tc := range []struct{ who, path string }{{"wanrun", "/company/disclosures"}, {"reviewer1", "/review/disclosures"}, {"reviewer1", "/review/dashboard"}} {
		r := e.loggedIn(tc.who).get(tc.path)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "还没有评价期")
	}
}

// The queue and dashboard read the period's filings from a cache: what goes through this
// server shows at once, what another server writes shows within discCacheTTL.
func TestReviewQueueCache(t *testing.T) {
	e := newDiscEnv(t)
	company := e.loggedIn("wanrun")
	reviewer := e.loggedIn("reviewer1")
	const link = "/review/disclosures/2031Q4/e1/"
	wantBody(t, reviewer.get("/review/disclosures"), "本期没有待审核的公开信息") // loads the cache
	wantStatus(t, company.file("fees", discRows["fees"]), http.StatusSeeOther)
	wantBody(t, reviewer.get("/review/disclosures"), link+"fees")

	// Another server files parking: not seen until the cache expires.
	if _, err := e.db.FileDisclosure(context.Background(), filing.NewFiling{Period: "2031Q4", Estate: "e1", Category: "parking",
		Data: []byte(storedJSON(t, "parking", discRows["parking"])), FiledBy: "elsewhere", Source: filing.FiledAPI, At: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(reviewer.get("/review/disclosures").body, link+"parking") {
		t.Error("the cache was not used")
	}
	e.clock.Advance(discCacheTTL + time.Second)
	wantBody(t, reviewer.get("/review/disclosures"), link+"fees", link+"parking")

	// A decision here leaves the queue at once.
	wantStatus(t, reviewer.decide("fees", 1, 1, "verified", ""), http.StatusSeeOther)
	if q := reviewer.get("/review/disclosures").body; strings.Contains(q, link+"fees") || !strings.Contains(q, link+"parking") {
		t.Errorf("after the decision the queue is:\n%s", q)
	}
}
