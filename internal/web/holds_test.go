package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

const allOnes = `{"service":1,"security":1,"cleaning":1,"greening":1,"maintenance":1,"transparency":1}`

var holdVersionPattern = regexp.MustCompile(`name="version" value="([^"]+)"`)

// A burst of valid codes from one phone is held, through HTTP and the embedded engine: the
// owner's receipt says it is under review, it counts in neither the tally nor the score's
// input, and a reviewer releases (it counts, audited) or rejects (it stays out, audited). Two
// servers on one database count the burst once.
func TestStuffingBurstIsHeldAndReviewed(t *testing.T) {
	e := newRateEnv(t)
	ctx := context.Background()
	rules := rating.DefaultStuffingRules
	e.db.SetStuffingRules(rules)
	other := mongodbtest.Reconnect(t, e.db)
	other.SetStuffingRules(rules)
	s2, err := New(Config{DB: other, Log: mongodbtest.Quiet(), TrustedProxies: []string{"0.0.0.0"}, Now: e.clock.Now,
		PublicURL: testPublicURL, LedgerKey: testLedgerKey})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	var flats []string
	for i := range n {
		flats = append(flats, fmt.Sprintf("5-1-%d", 101+i))
	}
	issued, err := e.db.IssueCodes(ctx, "2026Q4", "e1", flats, false)
	if err != nil {
		t.Fatal(err)
	}
	// One phone (address and User-Agent) rates ten flats, alternately on two servers.
	phones := []*client{e.owner("198.51.100.9"), e.clientOf(s2)}
	phones[1].header = phones[0].header
	var receipts []string
	held := 0
	for i, ic := range issued {
		r := phones[i%2].apiRate(apiBody("e1", ic.Household, ic.Code, allOnes, ""), nil)
		wantStatus(t, r, http.StatusCreated)
		var a struct {
			Receipt, Status string
		}
		decodeJSON(t, r, &a)
		if a.Status == "under_review" {
			held++
		} else if a.Status != "counted" {
			t.Errorf("status %q", a.Status)
		}
		receipts = append(receipts, a.Receipt)
	}
	if want := n - rules.Device; held != want {
		t.Fatalf("%d of %d held; want %d (one device passes %d households)", held, n, want, rules.Device)
	}
	if got := e.tally("e1").Ratings; got != int64(rules.Device) {
		t.Errorf("tally counts %d; want %d", got, rules.Device)
	}
	in, err := e.s.pubs.Input(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range in.Tallies {
		if tl.Estate == "e1" && tl.Ratings != int64(rules.Device) {
			t.Errorf("the score's input counts %d ratings of e1; want %d", tl.Ratings, rules.Device)
		}
	}
	// The same phone through the form: the page after sending says it is under review.
	phone := e.owner("198.51.100.9")
	done := phone.post("/rate/e1", phone.ratingForm("e1", "1-1-101", e.codes["1-1-101"], fives, ""))
	wantStatus(t, done, http.StatusOK)
	wantBody(t, done, "审核中：该评价正在人工审核", "感谢您的评价！")
	if strings.Contains(done.body, "已计入本期结果") {
		t.Errorf("the page after a held rating says it counts:\n%s", done.body)
	}
	held++
	receipts = append(receipts, receiptOf(t, done))
	last := receipts[n-1]
	wantBody(t, e.owner("203.0.113.1").get("/receipt/"+last), "审核中")
	en := e.owner("203.0.113.1")
	en.header.Set("Accept-Language", "en")
	wantBody(t, en.get("/receipt/"+last), "Under review")

	// The queue: reviewers only, with the evidence.
	wantStatus(t, e.client().get("/review/ratings"), http.StatusSeeOther)
	e.addAccount("co", domain.RoleCompany, testCompany, "correct horse battery")
	co := e.client()
	co.mustLogin("co", "correct horse battery")
	wantStatus(t, co.get("/review/ratings"), http.StatusForbidden)
	e.addAccount("rev", domain.RoleReviewer, "", "correct horse battery")
	rev := e.client()
	rev.mustLogin("rev", "correct horse battery")
	page := rev.get("/review/ratings")
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, fmt.Sprintf("共 %d 条待审核", held), "同一设备（地址与浏览器相同）", "5-1-105")
	wantBody(t, rev.english().get("/review/ratings"), "Ratings held for review", "One device (address and browser) sent 5 ratings")
	rev.header.Del("Accept-Language")
	versions := holdVersionPattern.FindAllStringSubmatch(page.body, -1)
	if len(versions) != held {
		t.Fatalf("%d forms in the queue, want %d", len(versions), held)
	}
	csrf := csrfPattern.FindStringSubmatch(page.body)[1]
	decide := func(version, outcome, reason string) *response {
		return rev.post("/review/ratings", url.Values{"_csrf": {csrf}, "version": {version}, "outcome": {outcome}, "reason": {reason}})
	}
	wantStatus(t, rev.post("/review/ratings", url.Values{"version": {versions[0][1]}, "outcome": {"released"}}), http.StatusForbidden) // no CSRF
	wantStatus(t, decide(versions[0][1], "rejected", ""), http.StatusUnprocessableEntity)                                              // no reason

	// Released: it counts, once, and the receipt says so.
	wantStatus(t, decide(versions[0][1], "released", ""), http.StatusSeeOther)
	if got := e.tally("e1").Ratings; got != int64(rules.Device)+1 {
		t.Errorf("after a release the tally counts %d; want %d", got, rules.Device+1)
	}
	wantStatus(t, decide(versions[0][1], "rejected", "again"), http.StatusConflict)
	// Rejected: it stays out.
	wantStatus(t, decide(versions[1][1], "rejected", "同一设备批量提交"), http.StatusSeeOther)
	if got := e.tally("e1").Ratings; got != int64(rules.Device)+1 {
		t.Errorf("after a rejection the tally counts %d; want %d", got, rules.Device+1)
	}
	if drift, err := e.db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
	for _, c := range []struct{ version, action string }{{versions[0][1], "rating.hold.released"}, {versions[1][1], "rating.hold.rejected"}} {
		entries, err := e.s.audit.Entries(ctx, audit.Filter{Object: "rating/" + c.version})
		if err != nil || len(entries) != 1 || entries[0].Action != c.action || entries[0].Actor != "rev" {
			t.Errorf("audit of %s = %+v, %v; want one %s by rev", c.version, entries, err, c.action)
		}
	}
	page = rev.get("/review/ratings")
	wantBody(t, page, fmt.Sprintf("共 %d 条待审核", held-2), "已放行，已计入", "已驳回，不计入", "同一设备批量提交")
	rc := map[string]rating.Receipt{}
	for _, number := range receipts {
		r, err := e.s.ratings.Receipt(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		rc[r.Key] = r
	}
	if r := rc["2026Q4|"+versionKey(versions[0][1])]; r.Hold != rating.HoldReleased || !r.Counted() {
		t.Errorf("released receipt %+v", r)
	}
	if r := rc["2026Q4|"+versionKey(versions[1][1])]; r.Hold != rating.HoldRejected || r.Counted() {
		t.Errorf("rejected receipt %+v", r)
	}
}

// versionKey is the estate|household of a version id period|estate|household|revision.
func versionKey(version string) string {
	m := regexp.MustCompile(`^[^|]+\|(.+)\|\d+$`).FindStringSubmatch(version)
	if m == nil {
		return ""
	}
	return m[1]
}
