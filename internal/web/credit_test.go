package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
)

type upload struct {
	field, name string
	data        []byte
}

// postMultipart posts a multipart form, as a browser does for forms with files.
func (c *client) postMultipart(path string, fields url.Values, files ...upload) *response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			c.t.Fatal(err)
		}
		_, _ = fw.Write(f.data)
	}
	_ = w.Close()
	return c.doRaw(http.MethodPost, path, &body, map[string]string{"Content-Type": w.FormDataContentType()})
}

var (
	testPDF    = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	recordIDRe = regexp.MustCompile(`/credit/records/(CR[0-9]{8}-[0-9A-Z]{8})`)
	fileLinkRe = regexp.MustCompile(`/credit/files/(F[0-9]{8}-[0-9A-Z]{8})`)
)

func newCreditEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	if _, err := e.db.Import(context.Background(), mongodbtest.TwoEstates(testCompany, otherCompany), nil); err != nil {
		t.Fatal(err)
	}
	// Test times lie after the machine's clock: the test client drops cookies that expired by
	// it. The calendar is the bureau's file for 2027, as a test would write it: Monday 02-01
	// off, Saturday 02-06 a make-up working day.
	cal, err := credit.ParseCalendar(strings.NewReader("2027-02-01 off 测试假日\n2027-02-06 work 测试调休\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DB: e.db, Log: e.s.log, TrustedProxies: []string{"0.0.0.0"}, Now: e.clock.Now, Calendar: cal})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	e.setClock(time.Date(2027, 1, 29, 10, 0, 0, 0, domain.Zone))
	for _, a := range []struct{ name, role, company string }{
		{"alice", domain.RoleReviewer, ""}, {"bob", domain.RoleReviewer, ""}, {"root", domain.RoleAdmin, ""},
		{"acme", domain.RoleCompany, testCompany}, {"rival", domain.RoleCompany, otherCompany}, {"eva", domain.RoleEvaluator, ""},
	} {
		e.addAccount(a.name, a.role, a.company, "pw")
	}
	return e
}

// The cycle over HTTP: a reviewer records a bad record with evidence and notifies; the company
// sees one unread notice, opens it, objects at the window's last second with evidence; a second
// objection is refused; the author may not decide; another reviewer does; the company reads
// the decision and its reason. Evidence is served to staff and the company, to nobody else.
func TestCreditCycleOverHTTP(t *testing.T) {
	e := newCreditEnv(t)
	alice, bob, acme, rival, eva, root := e.loggedIn("alice"), e.loggedIn("bob"), e.loggedIn("acme"), e.loggedIn("rival"), e.loggedIn("eva"), e.loggedIn("root")

	// A form with every field wrong comes back with a message per field, and stores nothing.
	r := alice.postMultipart("/credit", url.Values{"_csrf": {alice.csrf("/credit/new")}, "company": {"X"}, "rule": {""}, "date": {"2026-13-01"}, "description": {""}},
		upload{"evidence", "a.png", testPDF})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "没有这家企业", "请从目录中选择记录类型", "请填写日期", "此项必填", "文件内容与扩展名不符")
	// Without a CSRF token: refused.
	wantStatus(t, alice.postMultipart("/credit", url.Values{"company": {testCompany}}), http.StatusForbidden)

	r = alice.postMultipart("/credit", url.Values{"_csrf": {alice.csrf("/credit/new")}, "company": {testCompany}, "estate": {"e1"},
		"rule": {"B02"}, "date": {"2027-01-28"}, "description": {"消防通道堵塞<script>alert(1)</script>"}},
		upload{"evidence", "现场照片.pdf", testPDF})
	wantStatus(t, r, http.StatusSeeOther)
	m := recordIDRe.FindStringSubmatch(r.location())
	if m == nil {
		t.Fatalf("redirect to %q", r.location())
	}
	id := m[1]
	page := alice.get(r.location())
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "已保存为草稿", "草稿（企业不可见）", "消防通道堵塞或消防设施损坏未及时整改", "&lt;script&gt;", "现场照片.pdf")
	if strings.Contains(page.body, "<script>alert(1)") {
		t.Fatal("description not escaped")
	}
	fm := fileLinkRe.FindStringSubmatch(page.body)
	if fm == nil {
		t.Fatal("no evidence link")
	}
	fileURL := fm[0]

	// The draft is invisible to the company.
	wantStatus(t, acme.get("/company/credit/"+id), http.StatusNotFound)
	wantStatus(t, acme.get(fileURL), http.StatusNotFound)
	wantBody(t, acme.get("/company/credit"), "暂无告知单")

	r = alice.post("/credit/records/"+id+"/notify", url.Values{"_csrf": {alice.csrf("/credit/records/" + id)}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, alice.get(r.location()), "告知单已发出", "信告〔2027〕000001号", "2027-02-06 24:00（北京时间）")

	// The company's inbox: one unread notice.
	inbox := acme.get("/company/credit")
	wantBody(t, inbox, `id="unread"`, ">1</span>", "信告〔2027〕000001号")
	notice := acme.get("/credit/records/" + id + "/notice")
	wantStatus(t, notice, http.StatusOK)
	wantBody(t, notice, "信用记分告知单", "信告〔2027〕000001号", "阳光物业", "−5", "现场照片.pdf", "2027-02-06 24:00（北京时间）")
	if strings.Contains(acme.get("/company/credit").body, `id="unread"`) {
		t.Error("still unread after the notice was opened")
	}
	// Evidence: staff and the company, nobody else.
	for name, c := range map[string]*client{"alice": alice, "root": root, "acme": acme} {
		r := c.get(fileURL)
		wantStatus(t, r, http.StatusOK)
		if r.body != string(testPDF) || r.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("%s got %q %q", name, r.Header.Get("Content-Type"), r.body)
		}
	}
	wantStatus(t, rival.get(fileURL), http.StatusNotFound)
	wantStatus(t, eva.get(fileURL), http.StatusForbidden)
	wantStatus(t, e.client().get(fileURL), http.StatusSeeOther) // to log in
	wantStatus(t, rival.get("/company/credit/"+id), http.StatusNotFound)
	wantStatus(t, rival.get("/credit/records/"+id+"/notice"), http.StatusNotFound)
	wantStatus(t, rival.post("/company/credit/"+id+"/objection", url.Values{"_csrf": {rival.csrf("/company/credit")}, "text": {"x"}}), http.StatusNotFound)
	wantStatus(t, acme.get("/credit/records/"+id), http.StatusForbidden)

	// The objection at the window's last second: an empty text first, then a good one.
	e.setClock(time.Date(2027, 2, 6, 23, 59, 59, 0, domain.Zone))
	acme = e.loggedIn("acme") // sessions end after 12 hours
	csrf := acme.csrf("/company/credit/" + id)
	r = acme.postMultipart("/company/credit/"+id+"/objection", url.Values{"_csrf": {csrf}, "text": {"  "}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "此项必填")
	r = acme.postMultipart("/company/credit/"+id+"/objection", url.Values{"_csrf": {csrf}, "text": {"通道已于当日清理"}}, upload{"evidence", "after.pdf", testPDF})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, acme.get(r.location()), "异议已提交", "通道已于当日清理", "after.pdf")
	r = acme.postMultipart("/company/credit/"+id+"/objection", url.Values{"_csrf": {csrf}, "text": {"再提一次"}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "每条记录只能提出一次异议")

	// The author may not decide; the other reviewer must give a reason.
	e.setClock(time.Date(2027, 2, 8, 9, 0, 0, 0, domain.Zone))
	alice, bob, acme, root = e.loggedIn("alice"), e.loggedIn("bob"), e.loggedIn("acme"), e.loggedIn("root")
	r = alice.post("/credit/records/"+id+"/decide", url.Values{"_csrf": {alice.csrf("/credit/records/" + id)}, "outcome": {"rejected"}, "reason": {"维持"}})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "异议须由记录人以外的工作人员复核")
	r = bob.post("/credit/records/"+id+"/decide", url.Values{"_csrf": {bob.csrf("/credit/records/" + id)}, "outcome": {"partly"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "此项必填", "部分成立时请改变记录类型或分值")
	r = bob.post("/credit/records/"+id+"/decide", url.Values{"_csrf": {bob.csrf("/credit/records/" + id)}, "outcome": {"partly"}, "points": {"2.5"}, "reason": {"已部分整改，减为2.5分"}})
	wantStatus(t, r, http.StatusSeeOther)
	page = acme.get("/company/credit/" + id)
	wantBody(t, page, "异议部分成立，变更记录", "已部分整改，减为2.5分", "生效", "−2.5", "申请信用修复")

	// The record's own history, and the admin's audit trail.
	wantBody(t, bob.get("/credit/records/"+id), `id="history"`, "credit.record.create", "credit.notice.read", "credit.objection.file", "credit.objection.decide")
	wantStatus(t, bob.get("/admin/audit"), http.StatusForbidden)
	r = root.get("/admin/audit?object=record/" + id)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "credit.objection.decide", "bob", "已部分整改，减为2.5分")
	r = root.get("/admin/audit/export?format=jsonl&object=record/" + id)
	wantStatus(t, r, http.StatusOK)
	if lines := strings.Count(r.body, "\n"); lines != 5 {
		t.Errorf("export has %d lines:\n%s", lines, r.body)
	}
	r = root.get("/admin/audit/export?format=csv&actor=bob")
	wantBody(t, r, "id,at,actor,role,action,object", "credit.objection.decide")
	r = root.get("/admin/audit/export?format=xlsx&company=" + testCompany)
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.body, "PK") {
		t.Error("xlsx is not a zip")
	}
	wantStatus(t, root.get("/admin/audit?since=yesterday"), http.StatusBadRequest)
	wantStatus(t, root.get("/admin/audit/export?format=doc"), http.StatusBadRequest)
	entries, err := audit.New(e.db, nil).Entries(context.Background(), audit.Filter{Object: "record/" + id})
	if err != nil || len(entries) != 5 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	if entries[4].Actor != "bob" || entries[4].Role != domain.RoleReviewer || !entries[4].At.Equal(time.Date(2027, 2, 8, 9, 0, 0, 0, domain.Zone)) {
		t.Errorf("decision entry %+v", entries[4])
	}

	// Repair: applied by the company, decided by a reviewer, shown on the company's page.
	r = acme.postMultipart("/company/credit/"+id+"/repair", url.Values{"_csrf": {acme.csrf("/company/credit/" + id)}, "text": {"已清理并加装监控"}}, upload{"evidence", "整改.jpg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 64)...)})
	wantStatus(t, r, http.StatusSeeOther)
	r = bob.post("/credit/records/"+id+"/repair", url.Values{"_csrf": {bob.csrf("/credit/records/" + id)}, "reason": {"整改到位"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "请选择同意或不予修复")
	r = bob.post("/credit/records/"+id+"/repair", url.Values{"_csrf": {bob.csrf("/credit/records/" + id)}, "decision": {"approve"}, "reason": {"整改到位"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, acme.get("/company/credit/"+id), "已同意修复", "整改到位", "2027-02-08", "整改.jpg")
	rec, err := e.db.CreditRecord(context.Background(), id)
	if err != nil || rec.RepairedOn != "2027-02-08" || rec.Status != domain.EventInForce {
		t.Fatalf("stored %+v %v", rec, err)
	}
	// Every step over HTTP is in the ledger: the record as stored, and each of its audit entries.
	log := ledger.New(e.db, nil)
	leaf, err := credit.LedgerLeaf(rec)
	if err == nil {
		_, err = log.Find(context.Background(), leaf)
	}
	if err != nil {
		t.Errorf("the stored record's leaf: %v", err)
	}
	entries, _ = audit.New(e.db, nil).Entries(context.Background(), audit.Filter{Object: "record/" + id})
	for _, en := range entries {
		if leaf, err := audit.LedgerLeaf(en); err != nil {
			t.Error(err)
		} else if _, err := log.Find(context.Background(), leaf); err != nil {
			t.Errorf("audit entry %s %s: %v", en.Actor, en.Action, err)
		}
	}

	wantBody(t, acme.get("/company/credit"), `id="repair-history"`, "已同意修复 · 2027-02-08", "整改到位")
	// The company's view of the record shows the record's own trail too.
	wantBody(t, acme.get("/company/credit/"+id), `id="history"`, "credit.record.notify", "credit.objection.file", "credit.repair.decide")

	// English.
	wantBody(t, acme.get("/company/credit/"+id+"?lang=en"), "Partly upheld: the record is changed", "Approved")
}

// Governance facts over HTTP: the company declares with evidence, a reviewer verifies two of
// three items, and only those reach the governance record.
func TestGovernanceOverHTTP(t *testing.T) {
	e := newCreditEnv(t)
	acme, rival, bob := e.loggedIn("acme"), e.loggedIn("rival"), e.loggedIn("bob")
	r := acme.get("/company/governance")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "2026Q4 申报项目", "建立党组织")
	csrf := acme.csrf("/company/governance")
	r = acme.postMultipart("/company/governance/2026Q4", url.Values{"_csrf": {csrf}, "items": {"party_org", "joint_mechanism", "party_instructor"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "申报项目须附证明材料")
	r = acme.postMultipart("/company/governance/2026Q4", url.Values{"_csrf": {csrf}, "items": {"party_org", "joint_mechanism", "party_instructor"}, "note": {"联合党支部"}},
		upload{"evidence", "批复.pdf", testPDF})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, acme.get(r.location()), "申报已提交", "待核实", "批复.pdf")
	wantBody(t, rival.get("/company/governance"), "2026Q4 申报项目")
	if strings.Contains(rival.get("/company/governance").body, "批复.pdf") {
		t.Error("another company sees the declaration")
	}
	wantStatus(t, rival.get("/credit/governance"), http.StatusForbidden)

	page := bob.get("/credit/governance?period=2026Q4")
	wantBody(t, page, "联合党支部", "批复.pdf", `name="verified" value="party_instructor"`)
	// An outcome the page does not know, typed into the address, is no outcome (it was a 500).
	for _, r := range []*response{bob.get("/credit/governance?period=2026Q4&ok=bogus"), acme.get("/company/governance?ok=%3Cscript%3E")} {
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, `class="notice"`) {
			t.Errorf("an unknown outcome shows a notice:\n%s", r.body)
		}
	}
	r = bob.post("/credit/governance/2026Q4/"+testCompany, url.Values{"_csrf": {bob.csrf("/credit/governance")}, "verified": {"party_org", "joint_mechanism"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	r = bob.post("/credit/governance/2026Q4/"+testCompany, url.Values{"_csrf": {bob.csrf("/credit/governance")}, "verified": {"party_org", "joint_mechanism"}, "reason": {"指导员未到岗"}})
	wantStatus(t, r, http.StatusSeeOther)
	g, err := e.db.Governance(context.Background(), "2026Q4")
	if err != nil || len(g) != 1 || !g[0].PartyOrg || g[0].PartyInstructor || !g[0].JointMechanism {
		t.Fatalf("governance %+v %v", g, err)
	}
	wantBody(t, acme.get("/company/governance?period=2026Q4"), "已核实", "未核实", "指导员未到岗")
	// Each declaration's own trail, on both sides.
	for _, page := range []*response{acme.get("/company/governance?period=2026Q4"), bob.get("/credit/governance?period=2026Q4")} {
		wantBody(t, page, `id="history-`+testCompany+`"`, "操作记录", "acme", "governance.declare", "bob", "governance.verify", "指导员未到岗")
	}
	if strings.Contains(acme.get("/company/governance?period=2026Q4").body, `id="declare"`) {
		t.Error("the verified declaration is offered for change")
	}
}

// Periods in the app: created, refused when they overlap or are malformed, changed with the
// change in the period's history.
func TestPeriodsInTheApp(t *testing.T) {
	e := newCreditEnv(t)
	bob, acme := e.loggedIn("bob"), e.loggedIn("acme")
	wantStatus(t, acme.get("/periods"), http.StatusForbidden)
	csrf := bob.csrf("/periods")
	r := bob.post("/periods", url.Values{"_csrf": {csrf}, "id": {"2027Q1"}, "start": {"2026-12-15"}, "end": {"2027-03-31"}, "disclosure_deadline": {"2027-01-15"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "与评价期 2026Q4 的日期重叠")
	r = bob.post("/periods", url.Values{"_csrf": {csrf}, "id": {"2027Q1"}, "start": {"2027-01-01"}, "end": {"2026-03-31"}, "disclosure_deadline": {"2027-01-15"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	r = bob.post("/periods", url.Values{"_csrf": {csrf}, "id": {"2027Q1"}, "start": {"2027-01-01"}, "end": {"2027-03-31"}, "disclosure_deadline": {"2027-01-15"}})
	wantStatus(t, r, http.StatusSeeOther)
	r = bob.post("/periods", url.Values{"_csrf": {csrf}, "id": {"2027Q1"}, "start": {"2027-04-01"}, "end": {"2027-06-30"}, "disclosure_deadline": {"2027-04-15"}})
	wantStatus(t, r, http.StatusConflict)
	r = bob.post("/periods/2027Q1", url.Values{"_csrf": {csrf}, "start": {"2027-01-01"}, "end": {"2027-03-31"}, "disclosure_deadline": {"2027-01-20"}})
	wantStatus(t, r, http.StatusSeeOther)
	p, err := e.db.Period(context.Background(), "2027Q1")
	if err != nil || p.DisclosureDeadline != "2027-01-20" {
		t.Fatalf("stored %+v %v", p, err)
	}
	wantBody(t, bob.get("/periods/2027Q1"), `id="history"`, "period.create", "period.change", "2027-01-15 → 2027-01-20")
}

// Publicity and the final publication on the web: the reviewer who published may not approve;
// nobody may before the publicity ends; another reviewer may after it, and it is audited.
func TestFinalPublicationFourEyes(t *testing.T) {
	e := newReportEnv(t)
	e.addAccount("rev", domain.RoleReviewer, "", "pw")
	e.addAccount("rev2", domain.RoleReviewer, "", "pw")
	rev, rev2 := e.loggedIn("rev"), e.loggedIn("rev2")
	openPublicity(t, rev)
	page := rev.get("/publish/2026Q4")
	wantBody(t, page, `id="publicity"`, "公示中，至")
	public := e.client()
	wantBody(t, public.get("/lists/2026Q4"), `class="publicity"`, "公示中，至")

	final := func(c *client) *response {
		return c.post("/publish/2026Q4/final", url.Values{"_csrf": {c.csrf("/publish/2026Q4")}, "confirm": {"yes"}})
	}
	r := final(rev)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "发布公示的人员不能同时批准正式发布")
	r = final(rev2)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "公示期至")
	wantStatus(t, rev2.post("/publish/2026Q4/final", url.Values{"_csrf": {rev2.csrf("/publish/2026Q4")}}), http.StatusUnprocessableEntity)

	// The company objects to its result during the publicity, once.
	e.addAccount("red", domain.RoleCompany, reportRed, "pw")
	red := e.loggedIn("red")
	wantBody(t, red.get("/company/results"), "公示中，至", `action="/company/results/2026Q4"`)
	r = red.post("/company/results/2026Q4", url.Values{"_csrf": {red.csrf("/company/results")}, "text": {"E1 小区样本有误"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, red.get(r.location()), "异议已提交", "E1 小区样本有误", "等待答复")
	r = red.post("/company/results/2026Q4", url.Values{"_csrf": {red.csrf("/company/results")}, "text": {"再提一次"}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "每次公示只能对结果提出一次异议")

	e.clock.Advance(8 * 24 * time.Hour)
	rev2 = e.loggedIn("rev2") // sessions end after 12 hours
	r = final(rev2)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "还有企业异议未答复", "E1 小区样本有误")
	r = rev2.post("/publish/2026Q4/answer", url.Values{"_csrf": {rev2.csrf("/publish/2026Q4")}, "id": {"pub|2026Q4|0001|" + reportRed}, "answer": {"样本经核对无误"}})
	wantStatus(t, r, http.StatusSeeOther)
	red = e.loggedIn("red")
	wantBody(t, red.get("/company/results"), "样本经核对无误")
	r = final(rev2)
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, rev2.get(r.location()), "第1次发布已正式发布", "已正式发布")
	if strings.Contains(public.get("/lists/2026Q4").body, `class="publicity"`) {
		t.Error("the public page still shows the publicity after the final approval")
	}
	entries, err := audit.New(e.db, nil).Entries(context.Background(), audit.Filter{Period: "2026Q4"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Actor+" "+en.Action)
	}
	if strings.Join(actions, ",") != "rev results.score,rev results.publish,red results.objection,rev2 results.objection.answer,rev2 results.final" {
		t.Errorf("trail %v", actions)
	}
	// The publish page shows the period's own trail.
	wantBody(t, rev2.get("/publish/2026Q4"), `id="history"`, "results.score", "results.publish", "results.final")
	r = final(rev2)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "本期结果已正式发布")
}

// openPublicity scores the report city's 2026Q4 as rev and publishes it, which opens the
// publicity. The period is open and a filing waits: publishing takes the second confirmation.
func openPublicity(t *testing.T, rev *client) {
	t.Helper()
	wantStatus(t, rev.post("/publish/2026Q4/score", url.Values{"_csrf": {rev.csrf("/publish/2026Q4")}}), http.StatusSeeOther)
	version := draftFieldPattern.FindStringSubmatch(rev.get("/publish/2026Q4").body)[1]
	r := rev.post("/publish/2026Q4", url.Values{"_csrf": {rev.csrf("/publish/2026Q4")}, "draft": {version}, "confirm": {"yes"}, "early": {"yes"}})
	wantStatus(t, r, http.StatusSeeOther)
}

// A company objects to its result with evidence files, checked as every evidence form checks
// them; a bad file is refused with its reason in the company's language and nothing is stored;
// the reviewer who answers sees and opens the files; nobody else may.
func TestResultObjectionEvidence(t *testing.T) {
	e := newReportEnv(t)
	for _, a := range []struct{ name, role, company string }{{"rev", domain.RoleReviewer, ""}, {"red", domain.RoleCompany, reportRed},
		{"plain", domain.RoleCompany, reportPlain}, {"eva", domain.RoleEvaluator, ""}} {
		e.addAccount(a.name, a.role, a.company, "pw")
	}
	rev, red, plain, eva := e.loggedIn("rev"), e.loggedIn("red"), e.loggedIn("plain"), e.loggedIn("eva")
	openPublicity(t, rev)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	object := func(c *client, query, text string, files ...upload) *response {
		return c.postMultipart("/company/results/2026Q4"+query, url.Values{"_csrf": {c.csrf("/company/results")}, "text": {text}}, files...)
	}
	six := make([]upload, 6)
	for i := range six {
		six[i] = upload{"evidence", "p" + strconv.Itoa(i) + ".pdf", testPDF}
	}
	for _, tc := range []struct {
		name, query, text string
		files             []upload
		want              []string
	}{
		{"png named pdf", "", "样本有误", []upload{{"evidence", "证明.pdf", png}}, []string{"文件内容与扩展名不符"}},
		{"not a kind taken", "", "样本有误", []upload{{"evidence", "run.exe", testPDF}}, []string{"只接受 PDF、JPG 或 PNG 文件"}},
		{"too large", "", "样本有误", []upload{{"evidence", "big.pdf", append(slices.Clone(testPDF), make([]byte, credit.MaxFileBytes)...)}}, []string{"文件不能超过 5 MB"}},
		{"six files, in English", "?lang=en", "wrong sample", six, []string{"At most 5 files"}},
		{"no text and a bad file", "", " ", []upload{{"evidence", "a.png", testPDF}}, []string{"请填写 1 至 2000 字", "文件内容与扩展名不符"}},
	} {
		c := red
		if tc.query != "" {
			c = e.loggedIn("red") // a browser of its own, which keeps the language
		}
		r := object(c, tc.query, tc.text, tc.files...)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", tc.name, r.StatusCode)
		}
		wantBody(t, r, tc.want...)
		if n, m := e.count(t, "credit_files"), e.count(t, "credit_file_chunks"); n != 0 || m != 0 {
			t.Fatalf("%s: %d files and %d chunks stored", tc.name, n, m)
		}
	}
	if os, err := publication.New(e.db).ResultObjections(context.Background(), "2026Q4"); err != nil || len(os) != 0 {
		t.Fatalf("objections stored after refusals: %v %v", os, err)
	}

	r := object(red, "", "E1 小区样本有误", upload{"evidence", "样本核对.pdf", testPDF}, upload{"evidence", "现场.png", png})
	wantStatus(t, r, http.StatusSeeOther)
	page := red.get(r.location())
	wantBody(t, page, "异议已提交", "样本核对.pdf", "现场.png")
	links := fileLinkRe.FindAllString(page.body, -1)
	if len(links) != 2 {
		t.Fatalf("file links on the company's page: %v", links)
	}
	// A second objection with files: refused, and its files are not stored.
	r = object(red, "", "再提一次", upload{"evidence", "again.pdf", testPDF})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "每次公示只能对结果提出一次异议")
	if n := e.count(t, "credit_files"); n != 2 {
		t.Errorf("%d files stored, want 2", n)
	}

	// The reviewer who answers sees the files on the publish page and opens them.
	wantBody(t, rev.get("/publish/2026Q4"), "E1 小区样本有误", links[0], links[1])
	for _, c := range []*client{red, rev} {
		f := c.get(links[0])
		wantStatus(t, f, http.StatusOK)
		if f.body != string(testPDF) || f.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("file as served: %q %q", f.Header.Get("Content-Type"), f.body)
		}
	}
	wantStatus(t, plain.get(links[1]), http.StatusNotFound)      // another company
	wantStatus(t, eva.get(links[1]), http.StatusForbidden)       // an evaluator
	wantStatus(t, e.client().get(links[1]), http.StatusSeeOther) // to the log-in page

	entries, err := audit.New(e.db, nil).Entries(context.Background(), audit.Filter{Object: "objection/pub|2026Q4|0001|" + reportRed})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].After, "样本核对.pdf") || !strings.Contains(entries[0].After, "现场.png") {
		t.Fatalf("audit: %v %+v", err, entries)
	}
}
