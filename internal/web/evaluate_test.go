package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/note"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/qrcode/qrcodetest"
)

// testLedgerKey signs the ledger of every test server.
var testLedgerKey = func() *ledger.Signer {
	skey, _, err := note.GenerateKey(rand.Reader, "test.propcredit/ledger")
	if err != nil {
		panic(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s
}()

const (
	unratedCompany = "91440300MA5R000009" // registered after the publications: never graded
	unknownCompany = "91440300MA5R0000XX"
)

// newBidderEnv is the published report city, both quarters approved as final by a second
// person after their publicity, a company that no publication graded, and an evaluator's
// account.
func newBidderEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newPublishedEnv(t)
	e.clock.Advance(8 * 24 * time.Hour)
	for _, period := range []string{"2026Q3", "2026Q4"} {
		if _, err := e.s.pubs.Finalize(context.Background(), period, "second", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.Import(context.Background(), &domain.Dataset{Companies: []domain.Company{{ID: unratedCompany, Name: "新来物业"}}}, nil); err != nil {
		t.Fatal(err)
	}
	e.addAccount("eva", domain.RoleEvaluator, "", "pw")
	e.addAccount("firm", domain.RoleCompany, reportRed, "pw")
	return e
}

var rowStatus = regexp.MustCompile(`data-status="(\w+)"`)

func TestBidderLookUp(t *testing.T) {
	e := newBidderEnv(t)
	today := domain.Today(e.clock.Now())
	q := strings.Join([]string{reportRed, reportVeto + "，新来物业", unknownCompany, "不存在物业", "平平物业"}, "\n")
	path := "/bidders?" + url.Values{"q": {q}, "date": {today}}.Encode()

	// Evaluators (and bureau staff) only.
	if r := e.client().get(path); r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous look-up: %d", r.StatusCode)
	}
	firm := e.client()
	firm.mustLogin("firm", "pw")
	wantStatus(t, firm.get(path), http.StatusForbidden)

	c := e.client()
	c.mustLogin("eva", "pw")
	r := c.get(path)
	wantStatus(t, r, http.StatusOK)
	var statuses []string
	for _, m := range rowStatus.FindAllStringSubmatch(r.body, -1) {
		statuses = append(statuses, m[1])
	}
	if got, want := strings.Join(statuses, ","), "graded,graded,unrated,unknown,unknown,graded"; got != want {
		t.Errorf("row statuses %s, want %s", got, want)
	}
	// Today only the first quarter has ended: its publication is in force.
	for _, want := range []string{"2026Q3", "EV-veto", "本市登记的企业，但评价期 2026Q3 第1次发布未对其评级", "本市没有“" + unknownCompany + "”这家物业企业", "本市没有“不存在物业”"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("look-up page lacks %q", want)
		}
	}
	// Before anything was published, nothing was in force.
	r = c.get("/bidders?" + url.Values{"q": {reportRed}, "date": {"2026-09-30"}}.Encode())
	if !strings.Contains(r.body, `data-status="none"`) {
		t.Errorf("a date before any publication: %s", rowStatus.FindAllString(r.body, -1))
	}
	// Mistakes are said per field.
	r = c.get("/bidders?q=x&date=2026-13-01")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "日期格式应为 YYYY-MM-DD") {
		t.Errorf("bad date: %s", r.body)
	}

	// The download carries publication, time and fingerprint.
	r = c.get("/bidders/bidders.csv?" + url.Values{"q": {q}, "date": {today}}.Encode())
	wantStatus(t, r, http.StatusOK)
	pub, err := e.db.Publications(context.Background(), "2026Q3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{pub[0].InputsHash, "2026Q3", "/certificates/" + reportRed, "新来物业"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("CSV lacks %q:\n%s", want, r.body)
		}
	}
	r = c.get("/bidders/bidders.xlsx?" + url.Values{"q": {q}, "date": {today}}.Encode())
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.body, "PK") {
		t.Error("XLSX is not a zip file")
	}

	// Side by side, for printing.
	r = c.get("/bidders/compare?" + url.Values{"q": {reportRed + "," + reportVeto}, "date": {today}}.Encode())
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "阳光物业") || !strings.Contains(r.body, "弃管物业") || !strings.Contains(r.body, "print.css") {
		t.Errorf("compare page: %.500s", r.body)
	}
	many := strings.Repeat(reportRed+"\n", 1) + strings.Join([]string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}, "\n")
	wantStatus(t, c.get("/bidders/compare?"+url.Values{"q": {many}}.Encode()), http.StatusBadRequest)

	// A correction in publicity (公示中) is not final: the approved publication stays in force.
	e.scoreAndPublish("2026Q3")
	e.clock.Advance(publishedTTL) // the look-up reads the publications again
	r = c.get(path)
	if !strings.Contains(r.body, "本市登记的企业，但评价期 2026Q3 第1次发布未对其评级") {
		t.Errorf("a publication in publicity is taken as in force: %s", rowStatus.FindAllString(r.body, -1))
	}
}

func TestGradeInForceAPI(t *testing.T) {
	e := newBidderEnv(t)
	c := e.client()
	today := domain.Today(e.clock.Now())
	r := c.get("/api/v1/companies/" + reportVeto + "/grade?date=" + today)
	wantStatus(t, r, http.StatusOK)
	var got apiInForce
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "graded" || got.InForce == nil || got.InForce.Period != "2026Q3" || got.InForce.Grade != "C" || got.Certificate == "" {
		t.Errorf("grade in force: %s", r.body)
	}
	wantStatus(t, c.get("/api/v1/companies/"+reportVeto+"/grade?date=2026/12/01"), http.StatusBadRequest)
	wantStatus(t, c.get("/api/v1/companies/"+unknownCompany+"/grade"), http.StatusNotFound)
	r = c.get("/api/v1/grades?ids=" + url.QueryEscape(reportRed+","+unratedCompany+","+unknownCompany) + "&date=" + today)
	wantStatus(t, r, http.StatusOK)
	var list struct{ Grades []apiInForce }
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, g := range list.Grades {
		statuses = append(statuses, g.Status)
	}
	if strings.Join(statuses, ",") != "graded,unrated,unknown" {
		t.Errorf("list form statuses %v", statuses)
	}
	wantStatus(t, c.get("/api/v1/grades"), http.StatusBadRequest)
}

var svgPattern = regexp.MustCompile(`(?s)<svg.*?</svg>`)

// TestCertificateAndVerifyPages: the printable certificate's QR code opens /verify with the
// certificate's number, which shows the certified facts; a number the ledger does not hold,
// or one with a wrong hash, is refused.
func TestCertificateAndVerifyPages(t *testing.T) {
	e := newBidderEnv(t)
	c := e.client()
	r := c.get("/certificates/" + reportRed + "?period=2026Q3")
	wantStatus(t, r, http.StatusOK)
	svg := svgPattern.FindString(r.body[strings.Index(r.body, `id="qr"`):])
	scanned, err := qrcodetest.Decode(svg)
	if err != nil {
		t.Fatalf("certificate QR: %v", err)
	}
	u, err := url.Parse(scanned)
	if err != nil || !strings.HasPrefix(scanned, testPublicURL+"/verify?n=") || u.Query().Get("n") == "" {
		t.Fatalf("QR opens %q, not the site's public address %s", scanned, testPublicURL)
	}
	// The address comes from the configuration, whatever Host the request names.
	req := httptest.NewRequest(http.MethodGet, "http://evil.example/certificates/"+reportRed+"?period=2026Q3", nil)
	if r := c.send(req); r.StatusCode != http.StatusOK || strings.Contains(r.body, "evil.example") || !strings.Contains(r.body, testPublicURL+"/verify?n=") {
		t.Errorf("with Host evil.example: %d, the certificate's address is not the configured one", r.StatusCode)
	}
	if !strings.Contains(r.body, u.Query().Get("n")) || !strings.Contains(r.body, "AAA") {
		t.Error("certificate page does not show its number and grade")
	}
	// Without a configured public address the certificate carries no QR code, only its number.
	bare, err := New(Config{DB: e.db, Log: mongodbtest.Quiet(), Now: e.clock.Now, LedgerKey: testLedgerKey})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.clientOf(bare).get("/certificates/" + reportRed + "?period=2026Q3"); r.StatusCode != http.StatusOK ||
		!strings.Contains(r.body, `id="no-public-url"`) || strings.Contains(r.body, "<svg") || !strings.Contains(r.body, u.Query().Get("n")) {
		t.Errorf("certificate without a public address: %d %.300s", r.StatusCode, r.body)
	}
	r = c.get(u.RequestURI())
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "核验通过") || !strings.Contains(r.body, `id="verified-grade">AAA<`) || !strings.Contains(r.body, "这是该评价期现行的发布") {
		t.Errorf("verify page: %.2000s", r.body)
	}
	n := u.Query().Get("n")
	wrong := n[:len(n)-1] + map[bool]string{true: "0", false: "1"}[n[len(n)-1] != '0']
	wantStatus(t, c.get("/verify?n="+wrong), http.StatusNotFound)
	wantStatus(t, c.get("/verify?n=999999-0a0a0a0a0a0a"), http.StatusNotFound)
	wantStatus(t, c.get("/verify?n=abc"), http.StatusUnprocessableEntity)
	// The number of a leaf that is not a company's result (here the period's final approval)
	// is no certificate's.
	idx, err := e.db.LedgerIndexes(context.Background(), ledger.FinalKey("2026Q3", 1))
	if err != nil || len(idx) != 1 {
		t.Fatalf("final approval's leaf: %v %v", idx, err)
	}
	leaves, err := e.db.LedgerLeaves(context.Background(), idx[0], idx[0]+1)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/verify?n="+certificateNumber(idx[0], leaves[0])), http.StatusNotFound)
	wantStatus(t, c.get("/verify"), http.StatusOK)
	// After a second publication of the period, the old certificate still verifies, and says it
	// was superseded.
	e.scoreAndPublish("2026Q3")
	e.clock.Advance(time.Hour) // past the published cache's freshness
	r = c.get(u.RequestURI())
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "该评价期后来有第2次发布") {
		t.Errorf("verify page of a superseded certificate: %.2000s", r.body)
	}

	// A result changed in the database behind the application's back gets no certificate.
	wantStatus(t, c.get("/api/v1/companies/"+reportRed+"/certificate?period=2026Q4"), http.StatusOK)
	raw, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Disconnect(context.Background())
	_, err = raw.Database(e.db.Name()).Collection("results").UpdateOne(context.Background(),
		bson.D{{Key: "_id", Value: "pub|2026Q4|0001"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "inputs_hash", Value: strings.Repeat("f", 64)}}}})
	if err != nil {
		t.Fatal(err)
	}
	fresh := e.clientOf(e.newServer()) // another server, which reads the changed result
	r = fresh.get("/api/v1/companies/" + reportRed + "/certificate?period=2026Q4")
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.body, "与公示账本记录不一致") {
		t.Errorf("certificate of a changed result: %s", r.body)
	}
}

// FuzzCertificateNumber: every number the certificate page prints reads back, and whatever a
// person types either reads as an index and 12 hex digits or is refused.
func FuzzCertificateNumber(f *testing.F) {
	f.Add(int64(0), []byte("{}"), "42-0a1b2c3d4e5f")
	f.Add(int64(1<<40), []byte(`{"a":1}`), "http://x/verify?n=7-AAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, index int64, leaf []byte, typed string) {
		if index >= 0 {
			n := certificateNumber(index, leaf)
			got, h, ok := parseCertificateNumber(n)
			if !ok || got != index || n != strconv.FormatInt(index, 10)+"-"+h {
				t.Fatalf("%q reads back as %d %q %v", n, got, h, ok)
			}
		}
		if got, h, ok := parseCertificateNumber(typed); ok && (got < 0 || len(h) != 12) {
			t.Fatalf("%q read as %d %q", typed, got, h)
		}
	})
}

// FuzzSplitBidders: a pasted list splits into distinct, trimmed, non-empty entries.
func FuzzSplitBidders(f *testing.F) {
	f.Add("a\nb，c、d;e\r\n a ")
	f.Fuzz(func(t *testing.T, text string) {
		seen := map[string]bool{}
		for _, s := range splitBidders(text) {
			if s == "" || s != strings.TrimSpace(s) || seen[s] || strings.ContainsAny(s, "\n,，;；、") {
				t.Fatalf("entry %q of %q", s, text)
			}
			seen[s] = true
		}
	})
}
