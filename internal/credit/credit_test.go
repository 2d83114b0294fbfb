package credit_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

const (
	acme  = "91440300MA5D000001"
	other = "91440300MA5D000002"
)

var (
	alice  = credit.Actor{Name: "alice", Role: domain.RoleReviewer}
	bob    = credit.Actor{Name: "bob", Role: domain.RoleReviewer}
	admin  = credit.Actor{Name: "root", Role: domain.RoleAdmin}
	acmeA  = credit.Actor{Name: "acme", Role: domain.RoleCompany, Company: acme}
	otherA = credit.Actor{Name: "other", Role: domain.RoleCompany, Company: other}
	evalA  = credit.Actor{Name: "eva", Role: domain.RoleEvaluator}
)

// at is a wall-clock time in +08:00.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, domain.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

type env struct {
	db    *mongodb.DB
	clock *clock
	svc   *credit.Service
	log   *audit.Log
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := mongodbtest.NewDBWith(t, mongodbtest.TwoEstates(acme, other))
	e := &env{db: db, clock: &clock{t: at("2026-09-30 10:00:00")}}
	e.log = audit.New(db, e.clock.Now)
	e.svc = credit.New(credit.Config{Store: db, Audit: e.log, Now: e.clock.Now})
	return e
}

var pdf = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

func code(err error) string { return derrors.Code(err) }

func fieldsOf(err error) map[string]string {
	if de, ok := err.(*derrors.Error); ok {
		return de.Fields
	}
	return nil
}

// trail returns the actions of the object's audit entries, as "actor action".
func (e *env) trail(t *testing.T, object string) []string {
	t.Helper()
	entries, err := e.log.Entries(context.Background(), audit.Filter{Object: object})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Actor+" "+en.Action)
	}
	return out
}

// The whole cycle of one bad record: record → notice → objection at the window's last second
// (the window skips the National Day holidays and counts the 10-10 make-up Saturday) → a second
// objection refused → decision by another reviewer → the record counts in the score; and a
// record whose window closes without objection goes in force by itself.
func TestRecordNoticeObjectionDecision(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// Bad input: every bad field at once, nothing written.
	_, err := e.svc.Create(ctx, alice, credit.NewRecord{Company: "NOPE", Estate: "e2", Rule: "B99", Date: "2026-10-30", Description: " ",
		Evidence: []credit.Upload{{Name: "photo.png", Data: pdf}}})
	want := map[string]string{"company": "credit.err.no_company", "estate": "credit.err.estate_company", "rule": "credit.err.no_rule",
		"date": "credit.err.date_future", "description": "credit.err.text_required", "evidence": "credit.err.file_content"}
	if code(err) != derrors.Invalid || !cmp.Equal(fieldsOf(err), want) {
		t.Fatalf("bad record: %v %v", err, cmp.Diff(want, fieldsOf(err)))
	}
	if rs, _ := e.db.CreditRecords(ctx, credit.Filter{}); len(rs) != 0 {
		t.Fatalf("a refused record was stored: %v", rs)
	}
	_, err = e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Rule: "B02", Date: "2026-09-28", Description: "名称\u202e倒序"})
	if fieldsOf(err)["description"] != "credit.err.text_chars" {
		t.Fatalf("a text-direction control: %v", err)
	}
	if _, err := e.svc.Create(ctx, acmeA, credit.NewRecord{Company: acme, Rule: "B02", Date: "2026-09-29", Description: "x"}); code(err) != derrors.Forbidden {
		t.Fatalf("company recording: %v", err)
	}

	r, err := e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Estate: "e1", Rule: "B02", Date: "2026-09-28",
		Description: "消防通道堵塞", Evidence: []credit.Upload{{Name: "现场.pdf", Data: pdf}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.EventDraft || r.Points != "5" || r.Kind != "bad" || len(r.Evidence) != 1 {
		t.Fatalf("created %+v", r)
	}
	// A draft is invisible to the company, and not a record for scoring or export.
	if _, err := e.svc.Get(ctx, acmeA, r.ID); code(err) != derrors.NotFound {
		t.Fatalf("company sees a draft: %v", err)
	}
	if evs, _ := e.db.Events(ctx); len(evs) != 0 {
		t.Fatalf("draft among events: %v", evs)
	}
	if _, _, err := e.svc.OpenFile(ctx, acmeA, r.Evidence[0].ID); code(err) != derrors.NotFound {
		t.Fatalf("company reads a draft's evidence: %v", err)
	}

	// Notice on Wednesday 2026-09-30: the window counts 10-08, 10-09, 10-10 (调休 Saturday),
	// 10-12 and 10-13, so it closes at 2026-10-14 00:00 +08:00.
	r, err = e.svc.Notify(ctx, alice, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.EventNotified || !r.Notice.ObjectionDue.Equal(at("2026-10-14 00:00:00")) || r.Notice.Number != "信告〔2026〕000001号" {
		t.Fatalf("notified: %+v %+v", r, r.Notice)
	}
	if _, err := e.svc.Notify(ctx, alice, r.ID); code(err) != derrors.Conflict {
		t.Fatalf("notified twice: %v", err)
	}
	if n, _ := e.svc.Unread(ctx, acmeA); n != 1 {
		t.Fatalf("unread = %d", n)
	}
	if _, err := e.svc.MarkRead(ctx, acmeA, r.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.svc.Unread(ctx, acmeA); n != 0 {
		t.Fatalf("unread after reading = %d", n)
	}
	// Another company sees nothing of it.
	if _, err := e.svc.Get(ctx, otherA, r.ID); code(err) != derrors.NotFound {
		t.Fatalf("other company: %v", err)
	}
	if _, err := e.svc.Object(ctx, otherA, r.ID, "不是我们", nil); code(err) != derrors.NotFound {
		t.Fatalf("other company objects: %v", err)
	}
	for _, who := range []credit.Actor{alice, admin, acmeA} {
		if _, data, err := e.svc.OpenFile(ctx, who, r.Evidence[0].ID); err != nil || !bytes.Equal(data, pdf) {
			t.Errorf("%s reads the evidence: %v", who.Name, err)
		}
	}
	for _, who := range []credit.Actor{otherA, evalA, {}} {
		if _, _, err := e.svc.OpenFile(ctx, who, r.Evidence[0].ID); code(err) != derrors.NotFound {
			t.Errorf("%q reads the evidence: %v", who.Name, err)
		}
	}

	// The window's last second, and a mislabelled file refused first with nothing written.
	e.clock.Set(at("2026-10-13 23:59:59"))
	if _, err := e.svc.Object(ctx, acmeA, r.ID, "已整改", []credit.Upload{{Name: "a.pdf", Data: []byte("GIF89a")}}); code(err) != derrors.Invalid {
		t.Fatalf("mislabelled evidence: %v", err)
	}
	if n, _ := e.svc.Settle(ctx); n != 0 {
		t.Fatalf("settled %d records inside the window", n)
	}
	r, err = e.svc.Object(ctx, acmeA, r.ID, "通道已于当日清理，附照片", []credit.Upload{{Name: "after.pdf", Data: pdf}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Object(ctx, acmeA, r.ID, "再次异议", nil); code(err) != derrors.Conflict {
		t.Fatalf("second objection: %v", err)
	}
	// An objection keeps the record notified after the window.
	e.clock.Set(at("2026-10-20 09:00:00"))
	if n, _ := e.svc.Settle(ctx); n != 0 {
		t.Fatalf("settled a record with an open objection")
	}
	// Four eyes: the author may not decide; a reason is required.
	if _, err := e.svc.Decide(ctx, alice, r.ID, credit.DecisionInput{Outcome: credit.Rejected, Reason: "维持"}); code(err) != derrors.Forbidden {
		t.Fatalf("author decides: %v", err)
	}
	if _, err := e.svc.Decide(ctx, bob, r.ID, credit.DecisionInput{Outcome: credit.PartlyUpheld, Reason: ""}); code(err) != derrors.Invalid ||
		!cmp.Equal(fieldsOf(err), map[string]string{"reason": "credit.err.text_required", "points": "credit.err.partly_needs_change"}) {
		t.Fatalf("no reason: %v %v", err, fieldsOf(err))
	}
	r, err = e.svc.Decide(ctx, bob, r.ID, credit.DecisionInput{Outcome: credit.PartlyUpheld, Reason: "已部分整改，减为2.5分", Points: "2.5"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.EventInForce || r.Points != "2.5" || r.Decision.FromPoints != "5" {
		t.Fatalf("decided: %+v", r)
	}
	if _, err := e.svc.Decide(ctx, admin, r.ID, credit.DecisionInput{Outcome: credit.Upheld, Reason: "改判"}); code(err) != derrors.Conflict {
		t.Fatalf("decided twice: %v", err)
	}

	// A second record, never objected to: in force by itself when its window closes.
	e.clock.Set(at("2026-11-02 09:00:00")) // Monday; window 11-03..11-09, closes 11-10 00:00
	r2, err := e.svc.Create(ctx, bob, credit.NewRecord{Company: acme, Rule: "B01", Date: "2026-11-01", Description: "未公示收费标准"})
	if err != nil {
		t.Fatal(err)
	}
	if r2, err = e.svc.Notify(ctx, bob, r2.ID); err != nil || r2.Notice.Number != "信告〔2026〕000002号" {
		t.Fatalf("notify: %v %+v", err, r2.Notice)
	}
	// A third, withdrawn on objection.
	r3, _ := e.svc.Create(ctx, bob, credit.NewRecord{Company: acme, Rule: "B07", Date: "2026-11-01", Description: "挪用维修资金"})
	r3, _ = e.svc.Notify(ctx, bob, r3.ID)
	if _, err := e.svc.Object(ctx, acmeA, r3.ID, "资金使用经业主大会表决", nil); err != nil {
		t.Fatal(err)
	}
	if r3, err = e.svc.Decide(ctx, alice, r3.ID, credit.DecisionInput{Outcome: credit.Upheld, Reason: "表决材料齐全，撤销"}); err != nil || r3.Status != domain.EventWithdrawn {
		t.Fatalf("upheld: %v %+v", err, r3)
	}

	score := func() *scoring.Grade {
		in, err := publication.New(e.db).Input(ctx, "2026Q4")
		if err != nil {
			t.Fatal(err)
		}
		res, err := scoring.Score(scoring.Default(), in)
		if err != nil {
			t.Fatal(err)
		}
		return res.Grade(acme)
	}
	e.clock.Set(at("2026-11-09 23:59:59"))
	if n, _ := e.svc.Settle(ctx); n != 0 {
		t.Fatal("settled before the window closed")
	}
	if g := score(); g.Components.Deduction.String() != "2.50" || g.GradeBasis == scoring.BasisVeto {
		t.Fatalf("deduction %s grade %s: want only the decided record's 2.5 (not the notified 3, not the withdrawn veto)", g.Components.Deduction, g.Grade)
	}
	e.clock.Set(at("2026-11-10 00:00:00"))
	if n, err := e.svc.Settle(ctx); n != 1 || err != nil {
		t.Fatalf("settle: %d %v", n, err)
	}
	if _, err := e.svc.Object(ctx, acmeA, r2.ID, "晚了", nil); code(err) != derrors.Conflict {
		t.Fatalf("objection after the window: %v", err)
	}
	if g := score(); g.Components.Deduction.String() != "5.50" {
		t.Fatalf("deduction %s, want 2.5 + 3", g.Components.Deduction)
	}

	// The audit trail of the first record, step by step.
	wantTrail := []string{"alice credit.record.create", "alice credit.record.notify", "acme credit.notice.read",
		"acme credit.objection.file", "bob credit.objection.decide"}
	if diff := cmp.Diff(wantTrail, e.trail(t, "record/"+r.ID)); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob credit.record.create", "bob credit.record.notify", "system credit.record.in_force"}, e.trail(t, "record/"+r2.ID)); diff != "" {
		t.Errorf("trail of the settled record (-want +got):\n%s", diff)
	}
	entries, _ := e.log.Entries(ctx, audit.Filter{Object: "record/" + r.ID})
	last := entries[len(entries)-1]
	if !strings.Contains(last.Before, `"points":"5"`) || !strings.Contains(last.After, `"points":"2.5"`) || last.Reason != "已部分整改，减为2.5分" || last.Role != domain.RoleReviewer {
		t.Errorf("decision entry %+v", last)
	}

	// Export carries the statuses; drafts are left out.
	d, _ := e.svc.Create(ctx, alice, credit.NewRecord{Company: other, Rule: "G01", Date: "2026-11-01", Description: "示范项目"})
	evs, err := e.db.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range evs {
		got[ev.ID] = ev.Status
	}
	if diff := cmp.Diff(map[string]string{r.ID: "in_force", r2.ID: "in_force", r3.ID: "withdrawn"}, got); diff != "" {
		t.Errorf("events (drafts left out) (-want +got):\n%s", diff)
	}
	// A good record is in force as soon as it is notified.
	if d, err = e.svc.Notify(ctx, alice, d.ID); err != nil || d.Status != domain.EventInForce {
		t.Fatalf("good record notified: %v %+v", err, d)
	}
}

// Credit repair: a repairable record after rectification; a veto is not repairable.
func TestRepair(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(rule string) credit.Record {
		r, err := e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Rule: rule, Date: "2026-09-01", Description: "记录"})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.svc.Notify(ctx, alice, r.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r, veto := mk("B03"), mk("B07")
	// Not yet in force: no repair.
	if _, err := e.svc.ApplyRepair(ctx, acmeA, r.ID, "已整改", nil); code(err) != derrors.Conflict {
		t.Fatalf("repair of a notified record: %v", err)
	}
	e.clock.Set(at("2026-10-20 10:00:00"))
	if _, err := e.svc.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ApplyRepair(ctx, acmeA, veto.ID, "已整改", nil); derrors.Message(err) != "credit.err.not_repairable" {
		t.Fatalf("repair of a veto: %v", err)
	}
	if _, err := e.svc.ApplyRepair(ctx, otherA, r.ID, "已整改", nil); code(err) != derrors.NotFound {
		t.Fatalf("another company's repair: %v", err)
	}
	r, err := e.svc.ApplyRepair(ctx, acmeA, r.ID, "电梯已全部维保，附维保记录", []credit.Upload{{Name: "维保.pdf", Data: pdf}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ApplyRepair(ctx, acmeA, r.ID, "再次申请", nil); derrors.Message(err) != "credit.err.repair_pending" {
		t.Fatalf("second application while pending: %v", err)
	}
	if r, err = e.svc.DecideRepair(ctx, bob, r.ID, false, "维保记录缺少签字"); err != nil || r.Repairs[0].Status != credit.RepairRefused {
		t.Fatalf("refuse: %v", err)
	}
	e.clock.Set(at("2026-10-22 10:00:00"))
	if r, err = e.svc.ApplyRepair(ctx, acmeA, r.ID, "补充签字的维保记录", nil); err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.DecideRepair(ctx, bob, r.ID, true, "材料齐全，同意修复"); err != nil {
		t.Fatal(err)
	}
	if r.RepairedOn != "2026-10-22" || len(r.Repairs) != 2 || r.Repairs[1].Status != credit.RepairApproved {
		t.Fatalf("repaired: %+v", r)
	}
	if _, err := e.svc.ApplyRepair(ctx, acmeA, r.ID, "again", nil); derrors.Message(err) != "credit.err.repaired_already" {
		t.Fatalf("repair after repair: %v", err)
	}
	// The repaired record no longer counts at the period's end.
	in, _ := publication.New(e.db).Input(ctx, "2026Q4")
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		t.Fatal(err)
	}
	if g := res.Grade(acme); g.Components.Deduction.String() != "20.00" || g.GradeBasis != scoring.BasisVeto {
		t.Fatalf("deduction %s grade %s: the veto counts, the repaired record does not", g.Components.Deduction, g.Grade)
	}
	if diff := cmp.Diff([]string{"alice credit.record.create", "alice credit.record.notify", "system credit.record.in_force",
		"acme credit.repair.apply", "bob credit.repair.decide", "acme credit.repair.apply", "bob credit.repair.decide"}, e.trail(t, "record/"+r.ID)); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
}

// Uploads: size, count, type by content, empty.
func TestUploadChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	jpg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 100)...)
	big := append([]byte("%PDF-1.7\n"), make([]byte, credit.MaxFileBytes)...)
	for _, tc := range []struct {
		name  string
		files []credit.Upload
		want  string
	}{
		{"ok", []credit.Upload{{Name: "a.PNG", Data: png}, {Name: "b.jpeg", Data: jpg}, {Name: "c.pdf", Data: pdf}}, ""},
		{"too large", []credit.Upload{{Name: "a.pdf", Data: big}}, "credit.err.file_too_large"},
		{"png named pdf", []credit.Upload{{Name: "a.pdf", Data: png}}, "credit.err.file_content"},
		{"html named png", []credit.Upload{{Name: "a.png", Data: []byte("<html><script>alert(1)</script>")}}, "credit.err.file_content"},
		{"exe", []credit.Upload{{Name: "a.exe", Data: pdf}}, "credit.err.file_type"},
		{"empty", []credit.Upload{{Name: "a.pdf"}}, "credit.err.file_empty"},
		{"six files", []credit.Upload{{"1.pdf", pdf}, {"2.pdf", pdf}, {"3.pdf", pdf}, {"4.pdf", pdf}, {"5.pdf", pdf}, {"6.pdf", pdf}}, "credit.err.too_many_files"},
	} {
		r, err := e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Rule: "B01", Date: "2026-09-01", Description: "x", Evidence: tc.files})
		if got := fieldsOf(err)["evidence"]; got != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if tc.want == "" {
			for i, ref := range r.Evidence {
				_, data, err := e.svc.OpenFile(ctx, alice, ref.ID)
				if err != nil || !bytes.Equal(data, tc.files[i].Data) {
					t.Errorf("%s: file %d read back: %v", tc.name, i, err)
				}
			}
		}
	}
	// A file larger than one chunk comes back whole.
	large := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0123456789"), 60000)...)
	r, err := e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Rule: "B01", Date: "2026-09-01", Description: "x", Evidence: []credit.Upload{{Name: `..\..\etc\x.pdf`, Data: large}}})
	if err != nil {
		t.Fatal(err)
	}
	f, data, err := e.svc.OpenFile(ctx, alice, r.Evidence[0].ID)
	if err != nil || !bytes.Equal(data, large) || f.Chunks != 3 || f.Name != "x.pdf" {
		t.Fatalf("large file: %v chunks %d name %q", err, f.Chunks, f.Name)
	}
}

// Governance facts: declared by the company with evidence, verified item by item; only the
// verified items count.
func TestGovernanceDeclaredAndVerified(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Declare(ctx, acmeA, "2026Q4", []string{"party_org", "free_lunch"}, "", nil); code(err) != derrors.Invalid ||
		!cmp.Equal(fieldsOf(err), map[string]string{"items": "credit.err.items"}) {
		t.Fatalf("unknown item: %v %v", err, fieldsOf(err))
	}
	if _, err := e.svc.Declare(ctx, acmeA, "2026Q4", []string{"party_org"}, "", nil); fieldsOf(err)["evidence"] != "credit.err.evidence_required" {
		t.Fatalf("no evidence: %v", err)
	}
	if _, err := e.svc.Declare(ctx, acmeA, "2099Q1", nil, "", nil); code(err) != derrors.NotFound {
		t.Fatalf("unknown period: %v", err)
	}
	if _, err := e.svc.Declare(ctx, alice, "2026Q4", nil, "", nil); code(err) != derrors.Forbidden {
		t.Fatalf("reviewer declares: %v", err)
	}
	c, err := e.svc.Declare(ctx, acmeA, "2026Q4", []string{"joint_mechanism", "party_org", "party_instructor"}, "联合党支部，见批复",
		[]credit.Upload{{Name: "批复.pdf", Data: pdf}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"party_org", "party_instructor", "joint_mechanism"}, c.Items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if _, _, err := e.svc.OpenFile(ctx, otherA, c.Evidence[0].ID); code(err) != derrors.NotFound {
		t.Errorf("another company reads the evidence: %v", err)
	}
	if _, _, err := e.svc.OpenFile(ctx, acmeA, c.Evidence[0].ID); err != nil {
		t.Errorf("the company reads its evidence: %v", err)
	}
	if cs, _ := e.svc.Claims(ctx, otherA, "2026Q4"); len(cs) != 0 {
		t.Errorf("another company sees %d declarations", len(cs))
	}
	if g, _ := e.db.Governance(ctx, "2026Q4"); len(g) != 0 {
		t.Fatalf("a declaration counts before it is verified: %v", g)
	}
	if _, err := e.svc.Verify(ctx, bob, "2026Q4", acme, []string{"party_org", "joint_mechanism"}, ""); code(err) != derrors.Invalid {
		t.Fatalf("no reason: %v", err)
	}
	if c, err = e.svc.Verify(ctx, bob, "2026Q4", acme, []string{"party_org", "joint_mechanism"}, "指导员未到岗"); err != nil {
		t.Fatal(err)
	}
	g, _ := e.db.Governance(ctx, "2026Q4")
	if diff := cmp.Diff([]domain.Governance{{Period: "2026Q4", Company: acme, PartyOrg: true, JointMechanism: true}}, g); diff != "" {
		t.Errorf("governance (-want +got):\n%s", diff)
	}
	if _, err := e.svc.Declare(ctx, acmeA, "2026Q4", []string{"party_org"}, "", []credit.Upload{{Name: "a.pdf", Data: pdf}}); code(err) != derrors.Conflict {
		t.Errorf("declared again after verification: %v", err)
	}
	if _, err := e.svc.Verify(ctx, alice, "2026Q4", acme, nil, "again"); code(err) != derrors.Conflict {
		t.Errorf("verified twice: %v", err)
	}
	in, _ := publication.New(e.db).Input(ctx, "2026Q4")
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Grade(acme).Components.Governance.String(); got != "70.00" {
		t.Errorf("G = %s, want 70 (party_org 40 + joint_mechanism 30; the instructor was not verified)", got)
	}
	if diff := cmp.Diff([]string{"acme governance.declare", "bob governance.verify"}, e.trail(t, "governance/2026Q4|"+acme)); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
}

// Two servers decide the same objection at once: one decision stands, the other is told the
// record changed, and the trail has one decision.
func TestConcurrentDecisions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, _ := e.svc.Create(ctx, alice, credit.NewRecord{Company: acme, Rule: "B01", Date: "2026-09-01", Description: "x"})
	r, _ = e.svc.Notify(ctx, alice, r.ID)
	if _, err := e.svc.Object(ctx, acmeA, r.ID, "异议", nil); err != nil {
		t.Fatal(err)
	}
	other := credit.New(credit.Config{Store: e.db, Audit: e.log, Now: e.clock.Now}) // a second server's service
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*credit.Service{e.svc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcome := []string{credit.Upheld, credit.Rejected}[i]
			_, errs[i] = svc.Decide(ctx, []credit.Actor{bob, admin}[i], r.ID, credit.DecisionInput{Outcome: outcome, Reason: "理由"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch code(err) {
		case "":
			ok++
		case derrors.Conflict:
		default:
			t.Errorf("decision: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d decisions stood (%v)", ok, errs)
	}
	n := 0
	for _, a := range e.trail(t, "record/"+r.ID) {
		if strings.HasSuffix(a, "credit.objection.decide") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d decisions in the trail", n)
	}
}
