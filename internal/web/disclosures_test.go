package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// The disclosure tests run on a small city: two companies, each managing one estate, and
// three quarters: 2031Q3 (closed), 2031Q4 (open: the clock is set inside it) and 2032Q1 (not
// begun). The years lie ahead of the real clock, which the test browser uses to expire its
// cookies.

var discToday = time.Date(2031, 10, 10, 10, 0, 0, 0, domain.Zone)

func discCity() *domain.Dataset {
	return &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "东湖区"}, {ID: "d2", Name: "西山区"}},
		Companies: []domain.Company{{ID: testCompany, Name: "万润物业"}, {ID: otherCompany, Name: "安居物业"}},
		Estates: []domain.Estate{
			{ID: "e1", Name: "翠竹花园", District: "d1", Company: testCompany, Households: 100, Category: "commodity"},
			{ID: "e2", Name: "锦绣华庭", District: "d2", Company: otherCompany, Households: 80, Category: "commodity"},
		},
		Periods: []domain.Period{
			{ID: "2031Q3", Start: "2031-07-01", End: "2031-09-30", DisclosureDeadline: "2031-07-15"},
			{ID: "2031Q4", Start: "2031-10-01", End: "2031-12-31", DisclosureDeadline: "2031-10-15"},
			{ID: "2032Q1", Start: "2032-01-01", End: "2032-03-31", DisclosureDeadline: "2032-01-15"},
		},
	}
}

func newDiscEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	e.setClock(discToday)
	if _, err := e.db.Import(context.Background(), discCity(), nil); err != nil {
		t.Fatal(err)
	}
	e.addAccount("wanrun", domain.RoleCompany, testCompany, "pw")
	e.addAccount("anju", domain.RoleCompany, otherCompany, "pw")
	e.addAccount("reviewer1", domain.RoleReviewer, "", "pw")
	return e
}

// discRows are valid figures of each category, as "item|name|value" rows.
var discRows = map[string][]string{
	"utilities":        {"water_bill|总水表|12345.67", "electricity_bill||23456.78", "water_allocation|1号楼|6000", "water_allocation|2号楼|6345.67", "electricity_allocation|1-3号楼|23456.78"},
	"fees":             {"standard||2.50", "collected||300000", "spent||280000.50", "spending|人员工资|150000", "spending|保洁绿化|80000.50", "spending|公共设施维护|50000"},
	"maintenance_fund": {"opening||1000000", "deposits||50000", "withdrawals||30000", "withdrawal|电梯维修|30000", "interest||3500", "closing||1023500"},
	"parking": {"spaces_total||200", "spaces_rented||120", "spaces_sold||50", "spaces_temporary||20", "income||96000",
		"income_line|车位租金|72000", "income_line|临时停车费|24000", "expense|管理人员工资|30000", "owners_share|转入业主共有资金账户|66000"},
}

// discForm is the filing form posted with rows: single figures as v.<item>, lines as
// <item>.name.<i> and <item>.value.<i> with n.<item> lines.
func discForm(rows []string) url.Values {
	form := url.Values{}
	lines := map[string]int{}
	for _, r := range rows {
		p := strings.Split(r, "|")
		schema := disclosure.SchemaOf(discCategoryOf(p[0]))
		if it, _ := schema.Item(p[0]); it.Kind != disclosure.Lines {
			form.Set("v."+p[0], p[2])
			continue
		}
		i := lines[p[0]]
		lines[p[0]]++
		form.Set(fmt.Sprintf("%s.name.%d", p[0], i), p[1])
		form.Set(fmt.Sprintf("%s.value.%d", p[0], i), p[2])
	}
	for item, n := range lines {
		form.Set("n."+item, fmt.Sprint(n))
	}
	return form
}

func discCategoryOf(item string) string {
	for _, c := range domain.DisclosureCategories {
		if _, ok := disclosure.SchemaOf(c).Item(item); ok {
			return c
		}
	}
	panic("no category has item " + item)
}

// withRow returns rows with the row of item (and name) replaced by row, or row added.
func withRow(rows []string, row string) []string {
	p := strings.SplitN(row, "|", 3)
	out := append([]string(nil), rows...)
	for i, r := range out {
		q := strings.SplitN(r, "|", 3)
		if q[0] == p[0] && q[1] == p[1] {
			out[i] = row
			return out
		}
	}
	return append(out, row)
}

const formPath = "/company/disclosures/2031Q4/e1/"

func (c *client) file(category string, rows []string) *response {
	c.t.Helper()
	form := discForm(rows)
	form.Set("_csrf", c.csrf(formPath+category))
	return c.post(formPath+category, form)
}

func (c *client) upload(path, filename string, content []byte) *response {
	c.t.Helper()
	token := c.csrf(strings.TrimSuffix(path, "/upload"))
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", token)
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	return c.send(req)
}

func (e *testEnv) current(period, estate, category string) (filing.Filing, bool) {
	e.t.Helper()
	f, err := e.db.CurrentFiling(context.Background(), period, estate, category)
	if derrors.Code(err) == derrors.NotFound {
		return f, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return f, true
}

// storedJSON is what Parse makes of rows: the JSON a filing of them stores.
func storedJSON(t *testing.T, category string, rows []string) string {
	t.Helper()
	var rs []disclosure.Row
	for _, r := range rows {
		p := strings.Split(r, "|")
		rs = append(rs, disclosure.Row{Item: p[0], Name: p[1], Value: p[2]})
	}
	d, ps := disclosure.Parse(category, rs)
	if len(ps) > 0 {
		t.Fatalf("%s: test figures are invalid: %v", category, ps.Messages("en"))
	}
	return string(disclosure.Marshal(d))
}

func TestFileEachCategoryByForm(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	for _, category := range domain.DisclosureCategories {
		r := c.file(category, discRows[category])
		wantStatus(t, r, http.StatusSeeOther)
		if r.location() != formPath+category+"?ok=filed" {
			t.Errorf("%s: redirected to %q", category, r.location())
		}
		f, ok := e.current("2031Q4", "e1", category)
		if !ok || f.Status != domain.StatusPending || f.Version != 1 || f.Source != filing.FiledWeb || f.FiledBy != "wanrun" ||
			!f.FiledAt.Equal(discToday) || string(f.Data) != storedJSON(t, category, discRows[category]) {
			t.Errorf("%s: stored %+v (data %s)", category, f, f.Data)
		}
		wantBody(t, c.get(r.location()), "已提交，等待审核。", "待审核")
	}
	// The overview reads by _id for a few estates and scans for many; either way the company
	// sees its own estates only.
	for _, scanAbove := range []int{100, 0} {
		discScanAbove = scanAbove
		r := c.get("/company/disclosures")
		wantBody(t, r, "翠竹花园", "待审核")
		if strings.Contains(r.body, "锦绣华庭") {
			t.Error("the overview lists another company's estate")
		}
		if n := strings.Count(r.body, `class="status status-pending"`); n != 4 {
			t.Errorf("scan above %d: %d pending filings shown, want 4", scanAbove, n)
		}
	}
	discScanAbove = 100
}

// An arithmetic mistake in each category's form is refused with a message that names the
// field, in Chinese by default and in English on request, and nothing is stored. (Every rule
// and its words are tested where they live, in internal/disclosure's check_test.go; here,
// one mistake a category checks the form's wiring.)
func TestFormArithmeticErrors(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	for _, tc := range []struct {
		category string
		row      string
		zh, en   string
	}{
		{"utilities", "water_allocation|2号楼|6000", "水费分摊合计 12,000.00 元与水费账单 12,345.67 元不一致（相差 345.67 元）",
			"Water allocation lines add up to 12,000.00 yuan, but the water bill is 12,345.67 yuan (a difference of 345.67)"},
		{"fees", "spending|保洁绿化|80000.49", "支出明细合计 280,000.49 元与支出合计 280,000.50 元不一致（相差 0.01 元）",
			"Spending lines add up to 280,000.49 yuan, but the total spent is 280,000.50 yuan (a difference of 0.01)"},
		{"maintenance_fund", "closing||1023400", "期末余额应为 期初余额 + 本期缴存 − 本期使用 + 利息收入 = 1,000,000.00 + 50,000.00 − 30,000.00 + 3,500.00 = 1,023,500.00 元，填报为 1,023,400.00 元",
			"the closing balance must be opening + deposits − withdrawals + interest = 1,000,000.00 + 50,000.00 − 30,000.00 + 3,500.00 = 1,023,500.00 yuan, not 1,023,400.00"},
		{"parking", "spaces_total||150", "出租、出售和临时停车位之和（190）超过车位总数（150）",
			"rented, sold and temporary spaces add up to 190, more than the 150 spaces in total"},
	} {
		rows := withRow(discRows[tc.category], tc.row)
		for lang, want := range map[string]string{"zh": tc.zh, "en": tc.en} {
			c.header.Set("Accept-Language", map[string]string{"zh": "zh-CN", "en": "en"}[lang])
			r := c.file(tc.category, rows)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, htmlEscape(want)) {
				t.Errorf("%s %s (%s): page lacks %q", tc.category, tc.row, lang, want)
			}
		}
		c.header.Del("Accept-Language")
		if f, ok := e.current("2031Q4", "e1", tc.category); ok {
			t.Errorf("%s: stored despite the error: %+v", tc.category, f)
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;").Replace(s)
}

// The form keeps what was typed when it is shown again, exactly (no lines added after an
// error), and "more lines" adds five blank lines without filing anything (it works without
// JavaScript).
func TestFormShowsInputAgainAndAddsLines(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	form := discForm(withRow(discRows["fees"], "spending|保洁绿化|abc"))
	form.Set("_csrf", c.csrf(formPath+"fees"))
	r := c.post(formPath+"fees", form)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, `value="abc"`, `value="人员工资"`, "支出明细（第2行）：不是有效的数字", `name="n.spending" value="3"`)
	if strings.Contains(r.body, `name="spending.name.3"`) {
		t.Error("the form grew after an error")
	}

	form = discForm(discRows["fees"])
	form.Set("_csrf", c.csrf(formPath+"fees"))
	form.Set("more", "spending")
	r = c.post(formPath+"fees", form)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `name="spending.name.7"`, `name="n.spending" value="8"`)
	if _, ok := e.current("2031Q4", "e1", "fees"); ok {
		t.Error("asking for more lines filed the form")
	}
}

func TestFilingScope(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	// Another company's estate: forbidden. An estate, period or category that does not exist:
	// not found.
	wantStatus(t, c.get("/company/disclosures/2031Q4/e2/fees"), http.StatusForbidden)
	form := discForm(discRows["fees"])
	form.Set("_csrf", c.csrf(formPath+"fees"))
	wantStatus(t, c.post("/company/disclosures/2031Q4/e2/fees", form), http.StatusForbidden)
	for _, p := range []string{"/company/disclosures/2031Q4/nope/fees", "/company/disclosures/1999Q1/e1/fees", "/company/disclosures/2031Q4/e1/gas"} {
		wantStatus(t, c.get(p), http.StatusNotFound)
	}
	// A period that has not begun cannot be filed for; a closed one can, and counts as late.
	r := c.get("/company/disclosures/2032Q1/e1/fees")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "本期尚未开始")
	wantStatus(t, c.post("/company/disclosures/2032Q1/e1/fees", form), http.StatusConflict)
	wantStatus(t, c.post("/company/disclosures/2031Q3/e1/fees", form), http.StatusSeeOther)
	if f, ok := e.current("2031Q3", "e1", "fees"); !ok || !disclosure.Late(discCity().Periods[0], f.FiledAt) {
		t.Errorf("late filing for the closed period: %+v", f)
	}
	wantBody(t, c.get("/company/disclosures/2031Q3/e1/fees"), "已过公开截止日期", "待审核 · 逾期")
}

func TestUploads(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	upload := formPath + "fees/upload"
	feesCSV := "项目,名称,金额（元）或数量\n收费标准,,2.50\n实收物业服务费,,\"300,000.00\"\n支出合计,,280000.50\n" +
		"支出明细,人员工资,150000\n支出明细,保洁绿化,80000.50\n支出明细,公共设施维护,50000\n"
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(feesCSV))
	want := storedJSON(t, "fees", discRows["fees"])
	var rows []disclosure.Row
	for _, r := range discRows["fees"] {
		p := strings.Split(r, "|")
		rows = append(rows, disclosure.Row{Item: p[0], Name: p[1], Value: p[2]})
	}
	book, err := disclosure.XLSX("fees", rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		content    []byte
	}{
		{"CSV", "fees.csv", []byte(feesCSV)},
		{"GBK CSV", "物业费.csv", gbk},
		{"XLSX", "fees.xlsx", book},
	} {
		r := c.upload(upload, tc.file, tc.content)
		wantStatus(t, r, http.StatusSeeOther)
		f, _ := e.current("2031Q4", "e1", "fees")
		if string(f.Data) != want || f.Source != filing.FiledUpload {
			t.Errorf("%s: stored %s from %s", tc.name, f.Data, f.Source)
		}
	}
	filed, _ := e.current("2031Q4", "e1", "fees")

	big := append([]byte(feesCSV), bytes.Repeat([]byte("#"), disclosure.MaxFileBytes)...)
	for _, tc := range []struct {
		name, file string
		content    []byte
		status     int
		want       string
	}{
		{"UTF-16", "fees.csv", append([]byte{0xFF, 0xFE}, "项"...), http.StatusUnprocessableEntity, "文件是UTF-16编码"},
		{"unknown encoding", "fees.csv", []byte("收费标准,,\x80\xff\n"), http.StatusUnprocessableEntity, "无法识别文件的文字编码"},
		{"bad sums", "fees.csv", []byte(strings.Replace(feesCSV, "50000\n", "50001\n", 1)), http.StatusUnprocessableEntity, "支出明细合计 280,001.50 元与支出合计 280,000.50 元不一致"},
		{"bad row", "fees.csv", []byte(feesCSV + "支出明细,杂费,1.005\n"), http.StatusUnprocessableEntity, "支出明细（第8行）：最多两位小数"},
		{"another category's file", "fees.csv", []byte("期初余额,,5\n"), http.StatusUnprocessableEntity, "“期初余额”是专项维修资金的项目"},
		{"not a workbook", "fees.xlsx", []byte("PK\x03\x04garbage"), http.StatusUnprocessableEntity, "不是有效的Excel（.xlsx）文件"},
		{"old Excel", "fees.xls", []byte{0xD0, 0xCF, 0x11, 0xE0}, http.StatusUnprocessableEntity, "不支持旧版Excel"},
		{"formula without a value", "fees.xlsx", discWorkbook(t, `<c r="C4"><f>SUM(C5:C7)</f></c>`), http.StatusUnprocessableEntity, "单元格C4是公式（=SUM(C5:C7)），但文件没有保存它的计算结果"},
		{"zip bomb", "fees.xlsx", declaredBomb(t), http.StatusUnprocessableEntity, "文件解压后超过 4 MB"},
		{"too large", "fees.csv", big, http.StatusRequestEntityTooLarge, "文件大小 2049 KB，超过上限 2048 KB"},
		{"empty", "fees.csv", nil, http.StatusBadRequest, "请选择要上传的文件"},
	} {
		r := c.upload(upload, tc.file, tc.content)
		wantStatus(t, r, tc.status)
		wantBody(t, r, tc.want)
	}
	// GBK files that go wrong say how they were read.
	badGBK, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("杂项,,1\n"))
	wantBody(t, c.upload(upload, "fees.csv", badGBK), "文件按GBK编码读取")
	if f, _ := e.current("2031Q4", "e1", "fees"); f.Draft != filed.Draft {
		t.Errorf("a refused upload changed the filing: %+v", f)
	}
}

// discWorkbook is the valid fees table as a minimal XLSX with the "spent" cell C4 as given.
func discWorkbook(t *testing.T, spent string) []byte {
	t.Helper()
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>收费标准</t></is></c><c r="C1"><v>2.5</v></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>实收物业服务费</t></is></c><c r="C2"><v>300000</v></c></row>` +
		`<row r="4"><c r="A4" t="inlineStr"><is><t>支出合计</t></is></c>` + spent + `</row>` +
		`<row r="5"><c r="A5" t="inlineStr"><is><t>支出明细</t></is></c><c r="B5" t="inlineStr"><is><t>x</t></is></c><c r="C5"><v>280000.5</v></c></row>`
	return zipWorkbook(t, rows)
}

func TestTemplatesDownload(t *testing.T) {
	e := newDiscEnv(t)
	c := e.client() // no log-in needed: the format is public
	for _, category := range domain.DisclosureCategories {
		r := c.get("/disclosures/templates/" + category + ".xlsx")
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Errorf("%s: Content-Type %q", category, ct)
		}
		file, ps := disclosure.ReadXLSX([]byte(r.body))
		if len(ps) > 0 || len(file.Rows) == 0 {
			t.Errorf("%s: the template does not read back: %v", category, ps.Messages("en"))
		}
		r = c.get("/disclosures/templates/" + category + ".csv")
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.body, "\xEF\xBB\xBF项目,名称") {
			t.Errorf("%s: CSV template starts %q", category, r.body[:min(len(r.body), 30)])
		}
	}
	wantStatus(t, c.get("/disclosures/templates/gas.csv"), http.StatusNotFound)
	wantStatus(t, c.get("/disclosures/templates/fees.pdf"), http.StatusNotFound)

	// A company downloads its current figures to edit them.
	w := e.loggedIn("wanrun")
	wantStatus(t, w.get(formPath+"fees/export?format=csv"), http.StatusNotFound)
	w.file("fees", discRows["fees"])
	r := w.get(formPath + "fees/export?format=csv")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "支出明细,人员工资,150000.00")
	wantStatus(t, w.get("/company/disclosures/2031Q4/e2/fees/export"), http.StatusForbidden)
}

// Re-filing before review replaces the draft (the same version); after review it is a new
// version, and the reviewed one stays in the history with its decision.
func TestRefiling(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	c.file("fees", discRows["fees"])
	e.clock.Advance(time.Hour)
	r := c.file("fees", withRow(discRows["fees"], "standard||2.80"))
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasSuffix(r.location(), "?ok=replaced") {
		t.Errorf("re-filing before review redirected to %q", r.location())
	}
	f, _ := e.current("2031Q4", "e1", "fees")
	if f.Version != 1 || f.Draft != 2 || !strings.Contains(string(f.Data), `"standard_fen_per_m2_month":280`) || !f.FiledAt.Equal(discToday.Add(time.Hour)) {
		t.Errorf("after replacing the draft: %+v", f)
	}
	reviewer := e.loggedIn("reviewer1")
	queue := reviewer.get("/review/disclosures")
	if n := strings.Count(queue.body, "/review/disclosures/2031Q4/e1/fees"); n != 1 {
		t.Errorf("the queue lists the filing %d times", n)
	}
	reviewer.decide("fees", 1, 2, "verified", "")
	e.clock.Advance(time.Hour)
	r = c.file("fees", discRows["fees"])
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasSuffix(r.location(), "?ok=filed") {
		t.Errorf("re-filing after review redirected to %q", r.location())
	}
	f, _ = e.current("2031Q4", "e1", "fees")
	if f.Version != 2 || f.Draft != 1 || f.Status != domain.StatusPending {
		t.Errorf("after re-filing a reviewed one: %+v", f)
	}
	page := c.get(formPath + "fees")
	wantBody(t, page, "第2版", "审核记录", "第1版", "已审核", "reviewer1")
}

func (c *client) decide(category string, version, draft int, status, reason string) *response {
	c.t.Helper()
	path := "/review/disclosures/2031Q4/e1/" + category
	return c.post(path, url.Values{"_csrf": {c.csrf(path)}, "version": {fmt.Sprint(version)}, "draft": {fmt.Sprint(draft)},
		"status": {status}, "reason": {reason}})
}

// The role walk covers cookies; the API takes only a bearer token, tested here.
func TestDisclosureAPI(t *testing.T) {
	e := newDiscEnv(t)
	company, token := e.issueToken(t)
	if strings.Contains(company.get("/company/tokens").body, token) {
		t.Error("the token is shown a second time")
	}
	otherToken, _, err := e.db.IssueToken(context.Background(), otherCompany, "x", "anju", discToday)
	if err != nil {
		t.Fatal(err)
	}
	fees := storedJSON(t, "fees", discRows["fees"])
	body := func(estate, category, data string) string {
		return fmt.Sprintf(`{"period":"2031Q4","estate":%q,"category":%q,"data":%s}`, estate, category, data)
	}
	api := e.client()
	lang := "zh-CN"
	call := func(token, contentType, body string) *response {
		h := map[string]string{"Content-Type": contentType, "Accept-Language": lang}
		if token != "" {
			h["Authorization"] = "Bearer " + token
		}
		return api.doRaw(http.MethodPost, "/api/v1/disclosures", strings.NewReader(body), h)
	}
	const jsonType = "application/json"

	r := call(token, jsonType, body("e1", "fees", fees))
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, `"version":1`, `"status":"pending"`, `"late":false`, `"replaced_draft":false`, `"filed_at":"2031-10-10T10:00:00+08:00"`)
	f, _ := e.current("2031Q4", "e1", "fees")
	if string(f.Data) != fees || f.Source != filing.FiledAPI || !strings.HasPrefix(f.FiledBy, "token tok_") {
		t.Errorf("stored %+v", f)
	}
	r = call(token, "application/json; charset=utf-8", body("e1", "fees", fees))
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, `"draft":2`, `"replaced_draft":true`)

	for _, tc := range []struct {
		name, token, contentType, body string
		status                         int
		want                           string
	}{
		{"no token", "", jsonType, body("e1", "fees", fees), http.StatusUnauthorized, "缺少或无效的接口令牌"},
		{"a bad token", "pct_" + strings.Repeat("A", 43), jsonType, body("e1", "fees", fees), http.StatusUnauthorized, "缺少或无效的接口令牌"},
		{"another company's token", otherToken, jsonType, body("e1", "fees", fees), http.StatusForbidden, "该令牌所属企业不管理小区“e1”"},
		{"a form post", token, "application/x-www-form-urlencoded", "period=2031Q4", http.StatusUnsupportedMediaType, "请求体必须是JSON"},
		{"yuan instead of fen", token, jsonType, body("e1", "fees", `{"standard_fen_per_m2_month":2.5,"collected_fen":1,"spent_fen":0}`),
			http.StatusBadRequest, `"data.standard_fen_per_m2_month":"data.standard_fen_per_m2_month必须是整数（金额以分为单位`},
		{"sums that do not add up", token, jsonType, body("e1", "fees", strings.Replace(fees, `"spent_fen":28000050`, `"spent_fen":28000051`, 1)),
			http.StatusBadRequest, `"data.spending":"支出明细合计 280,000.50 元与支出合计 280,000.51 元不一致`},
		{"an unknown field", token, jsonType, `{"period":"2031Q4","estate":"e1","category":"fees","data":{},"extra":1}`, http.StatusBadRequest, "含有未知字段"},
		{"no category", token, jsonType, `{"period":"2031Q4","estate":"e1","data":{}}`, http.StatusBadRequest, `"category":"缺少category"`},
		{"an unknown category", token, jsonType, body("e1", "gas", "{}"), http.StatusBadRequest, "category必须是以下之一"},
		{"an unknown estate", token, jsonType, body("nope", "fees", fees), http.StatusNotFound, "小区“nope”不存在"},
		{"a period not begun", token, jsonType, strings.Replace(body("e1", "fees", fees), "2031Q4", "2032Q1", 1), http.StatusConflict, "尚未开始"},
		{"too large", token, jsonType, body("e1", "fees", fees) + strings.Repeat(" ", maxDisclosureAPIBody), http.StatusRequestEntityTooLarge, "提交的内容太大"},
	} {
		r := call(tc.token, tc.contentType, tc.body)
		if r.StatusCode != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, r.StatusCode, r.body, tc.status, tc.want)
		}
		if tc.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != `Bearer realm="propcredit"` {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, r.Header.Get("WWW-Authenticate"))
		}
	}
	// English on request.
	lang = "en"
	r = call(token, jsonType, body("e1", "fees", `{"standard_fen_per_m2_month":-1,"collected_fen":1,"spent_fen":0}`))
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "data.standard_fen_per_m2_month must not be negative")
	lang = "zh-CN"

	// A revoked token stops working at once.
	ref := strings.TrimPrefix(f.FiledBy, "token ")
	r = company.post("/company/tokens/revoke", url.Values{"_csrf": {company.csrf("/company/tokens")}, "ref": {ref}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, call(token, jsonType, body("e1", "fees", fees)), http.StatusUnauthorized)
	// Another company cannot revoke a token it does not own.
	other := e.loggedIn("anju")
	wantStatus(t, other.post("/company/tokens/revoke", url.Values{"_csrf": {other.csrf("/company/tokens")}, "ref": {ref}}), http.StatusNotFound)
}

// issueToken logs in as wanrun and issues an API token on the tokens page.
func (e *testEnv) issueToken(t *testing.T) (*client, string) {
	t.Helper()
	company := e.loggedIn("wanrun")
	r := company.post("/company/tokens", url.Values{"_csrf": {company.csrf("/company/tokens")}, "name": {"财务系统"}})
	wantStatus(t, r, http.StatusCreated)
	return company, discTokenIn(t, r.body)
}

func discTokenIn(t *testing.T, page string) string {
	t.Helper()
	start := strings.Index(page, "<code>"+domain.TokenPrefix)
	if start < 0 {
		t.Fatalf("no token on the page:\n%s", page)
	}
	rest := page[start+len("<code>"):]
	return rest[:strings.Index(rest, "</code>")]
}

func TestTokenNameRequired(t *testing.T) {
	e := newDiscEnv(t)
	c := e.loggedIn("wanrun")
	r := c.post("/company/tokens", url.Values{"_csrf": {c.csrf("/company/tokens")}, "name": {"  "}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "请填写用途说明")
	if list, _ := e.db.Tokens(context.Background(), testCompany); len(list) != 0 {
		t.Errorf("%d tokens issued", len(list))
	}
}

func TestDiscFormRowsMatchSchema(t *testing.T) {
	// Every item of every schema can be posted and read back by the form.
	for _, category := range domain.DisclosureCategories {
		got := discForm(discRows[category])
		var items []string
		for k := range got {
			items = append(items, strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(k, "v."), "n."), ".", 2)[0])
		}
		for _, it := range disclosure.SchemaOf(category).Items {
			if !strings.Contains(strings.Join(items, " "), it.Code) {
				t.Errorf("%s: test figures lack %s", category, it.Code)
			}
		}
	}
}
