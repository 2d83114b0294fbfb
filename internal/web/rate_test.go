package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/qrcode/qrcodetest"
	"github.com/propcredit/propcredit/internal/rating"
)

// The rating tests run against a small city: estate e1 (翠竹花园) of company 万润物业, with
// period 2026Q3 closed and 2026Q4 open on the test clock's day. The clock starts at the real
// time, because the test client drops cookies by the real clock.

var (
	rateToday  = time.Now().In(domain.Zone).Truncate(time.Second)
	rateClosed = domain.Period{ID: "2026Q3", Start: day(rateToday, -120), End: day(rateToday, -31), DisclosureDeadline: day(rateToday, -110)}
	rateOpen   = domain.Period{ID: "2026Q4", Start: day(rateToday, -30), End: day(rateToday, 30), DisclosureDeadline: day(rateToday, -20)}
)

func day(t time.Time, days int) string { return domain.Today(t.AddDate(0, 0, days)) }

func rateCity() *domain.Dataset {
	return &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "东湖区"}},
		Companies: []domain.Company{{ID: testCompany, Name: "万润物业"}},
		Estates: []domain.Estate{
			{ID: "e1", Name: "翠竹花园", District: "d1", Company: testCompany, Households: 100, Category: "commodity"},
			{ID: "e2", Name: "锦绣华庭", District: "d1", Company: testCompany, Households: 50, Category: "commodity"},
		},
		Periods: []domain.Period{rateClosed, rateOpen},
	}
}

// rateEnv is a test server on the small city, with codes issued to three flats of e1.
type rateEnv struct {
	*testEnv
	dbName string
	codes  map[string]string // flat → code
}

func newRateEnv(t *testing.T) *rateEnv {
	t.Helper()
	ctx := context.Background()
	// A database whose name the test knows, so that it can read the stored documents raw.
	name := "test_rate_" + strings.ToLower(randomString(6))
	name = strings.NewReplacer("-", "x", "_", "x").Replace(name)
	db, err := mongodb.Connect(ctx, mongodbtest.URI(t), name, mongodbtest.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
	})
	e := &testEnv{t: t, db: db, clock: &clock{t: rateToday}}
	e.s = e.newServer()
	if _, err := db.Import(ctx, rateCity(), nil); err != nil {
		t.Fatal(err)
	}
	issued, err := db.IssueCodes(ctx, "2026Q4", "e1", []string{"1-1-101", "1-1-102", "1-1-103"}, false)
	if err != nil {
		t.Fatal(err)
	}
	re := &rateEnv{testEnv: e, dbName: name, codes: map[string]string{}}
	for _, ic := range issued {
		re.codes[ic.Household] = ic.Code
	}
	return re
}

// count says how many documents a collection of the test database holds.
func (e *testEnv) count(t *testing.T, collection string) int64 {
	t.Helper()
	raw, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Disconnect(context.Background())
	n, err := raw.Database(e.db.Name()).Collection(collection).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rawRatings reads the stored rating versions as the database has them.
func (e *rateEnv) rawRatings() []bson.M {
	e.t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(e.t)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	cur, err := client.Database(e.dbName).Collection("ratings").Find(ctx, bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []bson.M
	if err := cur.All(ctx, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *rateEnv) revision(estate, flat string) int {
	e.t.Helper()
	rev, err := e.db.CurrentRevision(context.Background(), "2026Q4|"+estate+"|"+flat)
	if err != nil {
		e.t.Fatal(err)
	}
	return rev
}

func (e *rateEnv) tally(estate string) domain.Tally {
	e.t.Helper()
	tallies, err := e.db.Tallies(context.Background(), "2026Q4")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, tl := range tallies {
		if tl.Estate == estate {
			return tl
		}
	}
	return domain.Tally{Period: "2026Q4", Estate: estate}
}

// owner is a phone on an address of its own, so that the per-address limit of one test does
// not spill into another.
func (e *rateEnv) owner(ip string) *client {
	c := e.client()
	c.header.Set("X-Forwarded-For", ip)
	c.header.Set("User-Agent", "Mozilla/5.0 (iPhone) test")
	return c
}

var formKeyFieldPattern = regexp.MustCompile(`name="key" value="([^"]+)"`)

// ratingForm fills the form of estate as an owner would: it fetches the page for its CSRF
// token and idempotency key, and sets the fields.
func (c *client) ratingForm(estate, flat, code string, marks [6]int, comment string) url.Values {
	c.t.Helper()
	r := c.get("/rate/" + estate)
	wantStatus(c.t, r, http.StatusOK)
	csrf := csrfPattern.FindStringSubmatch(r.body)
	key := formKeyFieldPattern.FindStringSubmatch(r.body)
	if csrf == nil || key == nil {
		c.t.Fatalf("the rating form lacks its CSRF token or idempotency key:\n%s", r.body)
	}
	form := url.Values{"_csrf": {csrf[1]}, "key": {key[1]}, "household": {flat}, "code": {code}, "comment": {comment}}
	for i, d := range domain.Dimensions {
		if marks[i] != 0 {
			form.Set(d.ID, strconv.Itoa(marks[i]))
		}
	}
	return form
}

var receiptPattern = regexp.MustCompile(`id="receipt-number">([^<]+)<`)

func receiptOf(t *testing.T, r *response) string {
	t.Helper()
	m := receiptPattern.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no receipt number in the page:\n%s", r.body)
	}
	return m[1]
}

var fives = [6]int{5, 5, 5, 5, 5, 5}

func TestRateHappyPathAndRevision(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.10")

	r := c.get("/rate/e1")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "翠竹花园", "万润物业", "2026Q4", "客户服务", "收费与公开", `name="service"`, `type="radio"`,
		`name="household"`, `name="code"`, `name="comment"`, `name="_csrf"`)

	comment := "电梯维修及时，<b>保安</b>很负责 & 热情"
	form := c.ratingForm("e1", "1-1-101", e.codes["1-1-101"], [6]int{4, 3, 5, 2, 4, 1}, comment)
	r = c.post("/rate/e1", form)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "评价已提交", "翠竹花园")
	first := receiptOf(t, r)

	versions, err := e.db.RatingVersions(context.Background(), "2026Q4|e1|1-1-101")
	if err != nil || len(versions) != 1 {
		t.Fatalf("stored versions = %+v, %v", versions, err)
	}
	got := versions[0]
	if diff := cmp.Diff(domain.ScoresOf([6]int{4, 3, 5, 2, 4, 1}), got.Scores); diff != "" {
		t.Errorf("stored scores (-want +got):\n%s", diff)
	}
	if got.Comment != comment {
		t.Errorf("stored comment %q, want it as typed, %q", got.Comment, comment)
	}
	if !got.SubmittedAt.Equal(rateToday) {
		t.Errorf("submitted at %v, want the server's clock %v", got.SubmittedAt, rateToday)
	}
	raw := e.rawRatings()
	if len(raw) != 1 {
		t.Fatalf("%d rating documents, want 1", len(raw))
	}
	doc := fmt.Sprint(raw[0])
	if strings.Contains(doc, "203.0.113.10") || strings.Contains(doc, "iPhone") {
		t.Errorf("the raw address or user agent is stored: %s", doc)
	}
	if ip, _ := raw[0]["ip_hash"].(string); len(ip) != 32 || raw[0]["ua_hash"] == "" || raw[0]["source"] != rating.SourceWeb {
		t.Errorf("stored ip_hash %v, ua_hash %v, source %v; want salted hashes and source web", raw[0]["ip_hash"], raw[0]["ua_hash"], raw[0]["source"])
	}
	if tl := e.tally("e1"); tl.Ratings != 1 || tl.Sums.Service != 4 {
		t.Errorf("tally %+v, want one rating with service 4", tl)
	}

	// The receipt says it counts, and names neither the flat nor the scores.
	r = c.get("/receipt/" + first)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "该评价已计入本期结果", first, "翠竹花园", "2026Q4", rateToday.Format("2006-01-02 15:04:05"))
	for _, secret := range []string{"1-1-101", "电梯", e.codes["1-1-101"]} {
		if strings.Contains(r.body, secret) {
			t.Errorf("the receipt page shows %q", secret)
		}
	}

	// The same code again revises: both versions kept, only the latest counts.
	e.clock.Advance(time.Hour)
	r = c.post("/rate/e1", c.ratingForm("e1", "1-1-101", strings.ToLower(e.codes["1-1-101"]), fives, ""))
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "这是您本期第2次提交")
	second := receiptOf(t, r)
	if second == first {
		t.Fatal("the revision got the first receipt's number")
	}
	if rev := e.revision("e1", "1-1-101"); rev != 2 {
		t.Errorf("current revision %d, want 2", rev)
	}
	if tl := e.tally("e1"); tl.Ratings != 1 || tl.Sums.Service != 5 || tl.Sums.Transparency != 5 {
		t.Errorf("tally after the revision %+v, want one rating of all fives", tl)
	}
	wantBody(t, c.get("/receipt/"+first), "已被同一住户之后的提交取代")
	wantBody(t, c.get("/receipt/"+strings.ToLower(second)), "该评价已计入本期结果")

	en := e.owner("203.0.113.11").english()
	wantBody(t, en.get("/receipt/"+second), "This rating is counted.", "翠竹花园")
}

func TestReceiptNotFound(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.12")
	for _, n := range []string{"AAAA-BBBB-CC", "x", strings.Repeat("A", 200), "%3Cscript%3E"} {
		r := c.get("/receipt/" + n)
		wantStatus(t, r, http.StatusNotFound)
		wantBody(t, r, "未找到该回执")
	}
}

func TestRateClosedPeriod(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.20")
	form := c.ratingForm("e1", "1-1-101", e.codes["1-1-101"], fives, "")

	e.clock.Advance(31 * 24 * time.Hour) // 2026Q4 has ended, nothing is open
	r := c.get("/rate/e1")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "本期评价已结束", "2026Q4 评价期已于 "+rateOpen.End+" 结束")
	if strings.Contains(r.body, `name="code"`) {
		t.Error("the closed form still asks for a code")
	}
	r = c.post("/rate/e1", form)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "本期评价已结束")

	api := e.owner("203.0.113.21")
	r = api.apiRate(`{"estate":"e1","household":"1-1-101","code":"`+e.codes["1-1-101"]+`","scores":{"service":5,"security":5,"cleaning":5,"greening":5,"maintenance":5,"transparency":5}}`, nil)
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, `"error":"本期评价已结束`)

	if rev := e.revision("e1", "1-1-101"); rev != 0 {
		t.Errorf("a rating was stored after the period ended (revision %d)", rev)
	}

	// Before the first period starts, the form says when rating opens.
	e.clock.Advance(-200 * 24 * time.Hour)
	wantBody(t, c.get("/rate/e1"), "评价尚未开始", "下一期评价（2026Q3）将于 "+rateClosed.Start+" 开始")
}

func TestRateUnknownEstate(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.25")
	for _, path := range []string{"/rate/nope", "/rate/bad%20id", "/rate/" + strings.Repeat("x", 100)} {
		r := c.get(path)
		wantStatus(t, r, http.StatusNotFound)
		wantBody(t, r, "小区不存在")
	}
}

func TestRateCodeProblems(t *testing.T) {
	e := newRateEnv(t)
	ctx := context.Background()

	t.Run("wrong code", func(t *testing.T) {
		c := e.owner("203.0.113.30")
		r := c.post("/rate/e1", c.ratingForm("e1", "1-1-102", "ABCDE-FGHJK", fives, ""))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "验证码错误", "还可再试 4 次", `value="ABCDE-FGHJK"`, `id="code-error"`)
	})
	t.Run("flat without a code", func(t *testing.T) {
		c := e.owner("203.0.113.31")
		r := c.post("/rate/e1", c.ratingForm("e1", "9-9-999", "ABCDE-FGHJK", fives, ""))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "该住户尚未发放验证码", `id="household-error"`)
	})
	t.Run("the code of another estate's flat", func(t *testing.T) {
		c := e.owner("203.0.113.32")
		r := c.post("/rate/e2", c.ratingForm("e2", "1-1-101", e.codes["1-1-101"], fives, ""))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "该住户尚未发放验证码")
	})
	t.Run("locked after five wrong codes, from that address only", func(t *testing.T) {
		c := e.owner("203.0.113.33")
		for i := 1; i <= 5; i++ {
			r := c.post("/rate/e1", c.ratingForm("e1", "1-1-103", "WRONG-CODE"+strconv.Itoa(i), fives, ""))
			want := http.StatusForbidden
			if i == 5 {
				want = http.StatusTooManyRequests
			} else {
				wantBody(t, r, fmt.Sprintf("还可再试 %d 次", 5-i))
			}
			wantStatus(t, r, want)
		}
		r := c.post("/rate/e1", c.ratingForm("e1", "1-1-103", e.codes["1-1-103"], fives, ""))
		wantStatus(t, r, http.StatusTooManyRequests)
		wantBody(t, r, "错误次数过多", "之后再试", "换用其他手机或网络")
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
			t.Errorf("Retry-After = %q, want the seconds until the lock ends", r.Header.Get("Retry-After"))
		}
		// The household's own phone, on another network, is not locked out.
		own := e.owner("198.51.100.7")
		wantStatus(t, own.post("/rate/e1", own.ratingForm("e1", "1-1-103", e.codes["1-1-103"], fives, "")), http.StatusOK)
		e.clock.Advance(time.Hour)
		wantStatus(t, c.post("/rate/e1", c.ratingForm("e1", "1-1-103", e.codes["1-1-103"], fives, "")), http.StatusOK)
	})
	t.Run("re-issued code", func(t *testing.T) {
		reissued, err := e.db.IssueCodes(ctx, "2026Q4", "e1", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		c := e.owner("203.0.113.34")
		r := c.post("/rate/e1", c.ratingForm("e1", "1-1-102", e.codes["1-1-102"], fives, ""))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "该验证码已失效：本户的验证码已重新发放，请使用最新发放的验证码")
		for _, ic := range reissued {
			if ic.Household == "1-1-102" {
				wantStatus(t, c.post("/rate/e1", c.ratingForm("e1", "1-1-102", ic.Code, fives, "")), http.StatusOK)
			}
		}
		if rev := e.revision("e1", "1-1-102"); rev != 1 {
			t.Errorf("revision %d after the new code, want 1", rev)
		}
	})
	t.Run("one address guessing many flats", func(t *testing.T) {
		c := e.owner("198.51.100.7")
		var last *response
		for i := 0; i < rating.AddressFailures.Burst+1; i++ {
			last = c.post("/rate/e1", c.ratingForm("e1", fmt.Sprintf("8-8-%03d", i), "ABCDE-FGHJK", fives, ""))
		}
		wantStatus(t, last, http.StatusTooManyRequests)
		wantBody(t, last, "尝试次数过多")
		// Another address is not affected.
		other := e.owner("198.51.100.8")
		wantStatus(t, other.post("/rate/e1", other.ratingForm("e1", "8-8-999", "ABCDE-FGHJK", fives, "")), http.StatusForbidden)
	})
}

func TestRateInvalidFields(t *testing.T) {
	e := newRateEnv(t)
	code := e.codes["1-1-101"]
	long := strings.Repeat("好", 501)
	for _, tc := range []struct {
		name    string
		edit    func(url.Values)
		field   string // id of the marked field's message
		message string
	}{
		{"no flat", func(f url.Values) { f.Set("household", "") }, "household-error", "请输入房号"},
		{"bad flat", func(f url.Values) { f.Set("household", "1 1 101") }, "household-error", "房号只能包含字母、数字、点、下划线和连字符"},
		{"no code", func(f url.Values) { f.Set("code", "") }, "code-error", "请输入住户验证码"},
		{"code too long", func(f url.Values) { f.Set("code", strings.Repeat("A", 41)) }, "code-error", "验证码格式不正确"},
		{"score missing", func(f url.Values) { f.Del("service") }, "service-error", "请为“客户服务”选择1-5分"},
		{"score zero", func(f url.Values) { f.Set("security", "0") }, "security-error", "请为“秩序维护”选择1-5分"},
		{"score six", func(f url.Values) { f.Set("cleaning", "6") }, "cleaning-error", "请为“保洁”选择1-5分"},
		{"score not a number", func(f url.Values) { f.Set("greening", "五") }, "greening-error", "请为“绿化”选择1-5分"},
		{"score negative", func(f url.Values) { f.Set("maintenance", "-3") }, "maintenance-error", "请为“设施设备维修”选择1-5分"},
		{"score fraction", func(f url.Values) { f.Set("transparency", "4.5") }, "transparency-error", "请为“收费与公开”选择1-5分"},
		{"comment too long", func(f url.Values) { f.Set("comment", long) }, "comment-error", "意见和建议不能超过500字（现有501字）"},
		{"comment with control characters", func(f url.Values) { f.Set("comment", "ok\x00\x1b[31m") }, "comment-error", "意见和建议含有无法识别的字符"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.owner("203.0.113.40")
			form := c.ratingForm("e1", "1-1-101", code, [6]int{4, 4, 4, 4, 4, 4}, "<script>alert(1)</script>")
			tc.edit(form)
			r := c.post("/rate/e1", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantBody(t, r, "请更正标出的项目后重新提交", `id="`+tc.field+`"`, tc.message, `aria-invalid="true"`)
			// Everything typed is still there, the code too, and the comment escaped.
			if form.Get("household") != "" {
				wantBody(t, r, `value="`+form.Get("household")+`"`)
			}
			if form.Get("code") != "" && tc.field != "code-error" {
				wantBody(t, r, `value="`+code+`"`)
			}
			if tc.field != "comment-error" {
				wantBody(t, r, "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>")
				if strings.Contains(r.body, "<script>alert(1)") {
					t.Error("the comment came back unescaped")
				}
			}
			if tc.field != "service-error" {
				wantBody(t, r, `name="service" value="4" required checked`)
			}
		})
	}
	if rev := e.revision("e1", "1-1-101"); rev != 0 {
		t.Errorf("an invalid form stored a rating (revision %d)", rev)
	}
	// Mistakes in the form are not code failures: the address may still try.
	c := e.owner("203.0.113.40")
	wantStatus(t, c.post("/rate/e1", c.ratingForm("e1", "1-1-101", code, fives, strings.Repeat("好", 500))), http.StatusOK)
}

func TestRateSameFormTwiceAtOnceCountsOnce(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.50")
	form := c.ratingForm("e1", "1-1-101", e.codes["1-1-101"], [6]int{3, 3, 3, 3, 3, 3}, "双击")
	const n = 4
	var wg sync.WaitGroup
	bodies := make([]string, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodPost, "/rate/e1", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.50")
			for name, value := range c.cookies {
				req.AddCookie(&http.Cookie{Name: name, Value: value})
			}
			resp, err := e.s.App().Test(req, 30_000)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			bodies[i], statuses[i] = string(b), resp.StatusCode
		}()
	}
	wg.Wait()
	receipts := map[string]bool{}
	for i := range n {
		if statuses[i] != http.StatusOK {
			t.Fatalf("submission %d: status %d\n%s", i, statuses[i], bodies[i])
		}
		receipts[receiptOf(t, &response{body: bodies[i]})] = true
	}
	if len(receipts) != 1 {
		t.Errorf("one form sent %d times got %d receipts, want 1", n, len(receipts))
	}
	if raw := e.rawRatings(); len(raw) != 1 {
		t.Errorf("%d rating documents stored, want 1", len(raw))
	}
	if tl := e.tally("e1"); tl.Ratings != 1 || tl.Sums.Service != 3 {
		t.Errorf("tally %+v, want one rating", tl)
	}
	drift, err := e.db.VerifyTallies(context.Background(), false)
	if err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

func TestRateNeedsCSRF(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.60")
	form := c.ratingForm("e1", "1-1-101", e.codes["1-1-101"], fives, "")
	for _, token := range []string{"", "garbage", mask(e.s.csrfSecret("anon", randomString(32)))} {
		form.Set("_csrf", token)
		r := c.post("/rate/e1", form)
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "表单已过期")
	}
	// Without the cookie the token was made for.
	stranger := e.owner("203.0.113.61")
	form = c.ratingForm("e1", "1-1-101", e.codes["1-1-101"], fives, "")
	wantStatus(t, stranger.post("/rate/e1", form), http.StatusForbidden)
	if rev := e.revision("e1", "1-1-101"); rev != 0 {
		t.Errorf("a forged form stored a rating (revision %d)", rev)
	}
}

func TestRateHostileEstateName(t *testing.T) {
	e := newRateEnv(t)
	ds := rateCity()
	ds.Estates = []domain.Estate{{ID: "e3", Name: `<img src=x onerror=alert(1)>"`, District: "d1", Company: testCompany, Households: 5, Category: "old"}}
	ds.Companies = []domain.Company{{ID: otherCompany, Name: "</title><script>alert(2)</script>"}}
	ds.Estates[0].Company = otherCompany
	if _, err := e.db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	r := e.owner("203.0.113.65").get("/rate/e3")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<img src=x") || strings.Contains(r.body, "<script>alert(2)") {
		t.Errorf("hostile names rendered unescaped:\n%s", r.body)
	}
	wantBody(t, r, "&lt;img src=x onerror=alert(1)&gt;")
}

// apiRate posts a JSON body to the ratings API.
func (c *client) apiRate(body string, header map[string]string) *response {
	c.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, vs := range c.header {
		h[k] = vs[0]
	}
	for k, v := range header {
		h[k] = v
	}
	return c.doRaw(http.MethodPost, "/api/v1/ratings", strings.NewReader(body), h)
}

type apiAnswer struct {
	Receipt  string            `json:"receipt"`
	Period   string            `json:"period"`
	Revision int               `json:"revision"`
	Error    string            `json:"error"`
	Fields   map[string]string `json:"fields"`
}

func decodeAnswer(t *testing.T, r *response) apiAnswer {
	t.Helper()
	var a apiAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("not JSON (%d): %v\n%s", r.StatusCode, err, r.body)
	}
	return a
}

func apiBody(estate, flat, code string, scores string, comment string) string {
	b, _ := json.Marshal(map[string]any{"estate": estate, "household": flat, "code": code,
		"scores": json.RawMessage(scores), "comment": comment})
	return string(b)
}

const allFours = `{"service":4,"security":4,"cleaning":4,"greening":4,"maintenance":4,"transparency":4}`

func TestRatingsAPI(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.70")
	code := e.codes["1-1-101"]

	r := c.apiRate(apiBody("e1", "1-1-101", code, allFours, "好"), map[string]string{"Idempotency-Key": "k-1"})
	wantStatus(t, r, http.StatusCreated)
	a := decodeAnswer(t, r)
	if a.Period != "2026Q4" || a.Revision != 1 || a.Receipt == "" {
		t.Fatalf("answer %+v", a)
	}
	if len(r.Cookies()) != 0 {
		t.Errorf("the API set cookies: %v", r.Cookies())
	}
	// The same request again, with its key, counts once.
	again := decodeAnswer(t, c.apiRate(apiBody("e1", "1-1-101", code, allFours, "好"), map[string]string{"Idempotency-Key": "k-1"}))
	if again.Receipt != a.Receipt || again.Revision != 1 {
		t.Errorf("repeated request answered %+v, want the first answer %+v", again, a)
	}
	// The same key with other marks is refused (422), and nothing is stored for it.
	r = c.apiRate(apiBody("e1", "1-1-101", code, fivesJSON, "好"), map[string]string{"Idempotency-Key": "k-1"})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "刚才的新评分没有保存")
	r = c.apiRate(apiBody("e1", "1-1-101", code, allFours, "好，但是"), map[string]string{"Idempotency-Key": "k-1"})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if n := len(e.rawRatings()); n != 1 {
		t.Fatalf("%d versions stored after a reused key, want 1", n)
	}
	// Without it, or with another key, it is a revision.
	rev := decodeAnswer(t, c.apiRate(apiBody("e1", "1-1-101", code, fivesJSON, ""), nil))
	if rev.Revision != 2 || rev.Receipt == a.Receipt {
		t.Errorf("revision answered %+v", rev)
	}
	raw := e.rawRatings()
	if len(raw) != 2 || raw[0]["source"] != rating.SourceAPI {
		t.Errorf("stored %d versions (%v), want 2 from the API", len(raw), raw)
	}
	wantBody(t, c.get("/receipt/"+a.Receipt), "已被同一住户之后的提交取代")

	for _, tc := range []struct {
		name   string
		body   string
		header map[string]string
		lang   string
		status int
		error  string
		fields map[string]string
	}{
		{"not JSON", "estate=e1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "zh",
			415, "请求体必须是JSON（Content-Type: application/json）", nil},
		{"JSONP is not JSON", apiBody("e1", "1-1-102", "x", allFours, ""), map[string]string{"Content-Type": "application/jsonp"}, "zh",
			415, "请求体必须是JSON（Content-Type: application/json）", nil},
		{"broken JSON", `{"estate":`, nil, "zh", 400, "请求体不是有效的JSON", nil},
		{"broken JSON, English", `{"estate":`, nil, "en", 400, "The body is not valid JSON", nil},
		{"two bodies", apiBody("e1", "1-1-102", "x", allFours, "") + "{}", nil, "zh", 400, "请求体不是有效的JSON", nil},
		{"unknown field", `{"estate":"e1","flat":"1"}`, nil, "zh", 400, "未知字段“flat”", map[string]string{"flat": "未知字段“flat”"}},
		{"score of the wrong type", apiBody("e1", "1-1-102", "x", `{"service":"5"}`, ""), nil, "zh", 400,
			"请为“客户服务”选择1-5分", map[string]string{"scores.service": "请为“客户服务”选择1-5分"}},
		{"scores missing", `{"estate":"e1","household":"1-1-102","code":"ABCDE-FGHJK"}`, nil, "en", 400, "",
			map[string]string{
				"scores.service": "Choose 1 to 5 for “Customer service”", "scores.security": "Choose 1 to 5 for “Security and order”",
				"scores.cleaning": "Choose 1 to 5 for “Cleaning”", "scores.greening": "Choose 1 to 5 for “Greening”",
				"scores.maintenance": "Choose 1 to 5 for “Facility maintenance”", "scores.transparency": "Choose 1 to 5 for “Fees and transparency”"}},
		{"every field wrong", apiBody("e1", "", "", `{"service":0,"security":6,"cleaning":1,"greening":1,"maintenance":1,"transparency":1}`, strings.Repeat("a", 501)),
			nil, "zh", 400, "", map[string]string{
				"household": "请输入房号", "code": "请输入住户验证码", "comment": "意见和建议不能超过500字（现有501字）",
				"scores.service": "请为“客户服务”选择1-5分", "scores.security": "请为“秩序维护”选择1-5分"}},
		{"unknown estate", apiBody("nope", "1-1-102", "x", allFours, ""), nil, "zh", 404, "小区不存在", map[string]string{"estate": "小区不存在"}},
		{"unknown estate, English", apiBody("nope", "1-1-102", "x", allFours, ""), nil, "en", 404, "No such estate", map[string]string{"estate": "No such estate"}},
		{"wrong code", apiBody("e1", "1-1-102", "ABCDE-FGHJK", allFours, ""), nil, "zh", 403,
			"验证码错误，请核对纸条上的验证码。本手机（网络）本小时内还可再试 4 次。", map[string]string{"code": "验证码错误，请核对纸条上的验证码。本手机（网络）本小时内还可再试 4 次。"}},
		{"wrong code, English", apiBody("e1", "1-1-102", "ABCDE-FGHJK", allFours, ""), nil, "en", 403,
			"Wrong code: check the code on your slip. This phone (network) may try 3 more times this hour.", map[string]string{"code": "Wrong code: check the code on your slip. This phone (network) may try 3 more times this hour."}},
		{"flat without a code, English", apiBody("e1", "7-7-707", "ABCDE-FGHJK", allFours, ""), nil, "en", 403,
			"No code has been issued to this flat for this period; check the flat, or ask your community office", map[string]string{"household": "No code has been issued to this flat for this period; check the flat, or ask your community office"}},
		{"bad idempotency key", apiBody("e1", "1-1-102", "x", allFours, ""), map[string]string{"Idempotency-Key": "a key with spaces"}, "en", 400,
			"Idempotency-Key must be 1-128 visible ASCII characters", map[string]string{"Idempotency-Key": "Idempotency-Key must be 1-128 visible ASCII characters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.owner("203.0.113.71")
			if tc.lang == "en" {
				c.header.Set("Accept-Language", "en")
			}
			r := c.apiRate(tc.body, tc.header)
			wantStatus(t, r, tc.status)
			a := decodeAnswer(t, r)
			if tc.error != "" && a.Error != tc.error {
				t.Errorf("error %q, want %q", a.Error, tc.error)
			}
			if a.Error == "" {
				t.Error("no error message")
			}
			for f, want := range tc.fields {
				if a.Fields[f] != want {
					t.Errorf("fields[%q] = %q, want %q (all: %v)", f, a.Fields[f], want, a.Fields)
				}
			}
		})
	}
	if rev := e.revision("e1", "1-1-102"); rev != 0 {
		t.Errorf("a failed API call stored a rating (revision %d)", rev)
	}
}

// The estate may come in the path instead, for load balancers that send each estate's owners
// to one server; the body then leaves it out or names the same.
func TestRatingsAPIEstateInPath(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.72")
	post := func(path, body string, header map[string]string) *response {
		h := map[string]string{"Content-Type": "application/json"}
		for k, vs := range c.header {
			h[k] = vs[0]
		}
		for k, v := range header {
			h[k] = v
		}
		return c.doRaw(http.MethodPost, path, strings.NewReader(body), h)
	}
	body := func(fields string) string {
		return `{` + fields + `"household":"1-1-101","code":"` + e.codes["1-1-101"] + `","scores":` + allFours + `}`
	}

	r := post("/api/v1/estates/e1/ratings", body(""), map[string]string{"Idempotency-Key": "p-1"})
	wantStatus(t, r, http.StatusCreated)
	a := decodeAnswer(t, r)
	if a.Revision != 1 || e.revision("e1", "1-1-101") != 1 {
		t.Fatalf("answer %+v, stored revision %d; want revision 1 of e1's 1-1-101", a, e.revision("e1", "1-1-101"))
	}
	// The same request through the other route, with its key, is the same request.
	if again := decodeAnswer(t, c.apiRate(apiBody("e1", "1-1-101", e.codes["1-1-101"], allFours, ""), map[string]string{"Idempotency-Key": "p-1"})); again.Receipt != a.Receipt {
		t.Errorf("the same key on /api/v1/ratings answered %+v, want %+v", again, a)
	}
	wantStatus(t, post("/api/v1/estates/e1/ratings", body(`"estate":"e1",`), nil), http.StatusCreated)
	if rev := e.revision("e1", "1-1-101"); rev != 2 {
		t.Errorf("stored revision %d after a second rating naming the same estate; want 2", rev)
	}

	for _, tc := range []struct {
		name, path, body, lang string
		status                 int
		field                  string
	}{
		{"another estate in the body", "/api/v1/estates/e1/ratings", body(`"estate":"e2",`), "zh", 400, "请求体中的小区与地址中的小区不一致"},
		{"another estate in the body, English", "/api/v1/estates/e1/ratings", body(`"estate":"e2",`), "en", 400, "The estate in the body is not the one in the path"},
		{"unknown estate in the path", "/api/v1/estates/nope/ratings", body(""), "zh", 404, "小区不存在"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.lang == "en" {
				h["Accept-Language"] = "en"
			}
			r := post(tc.path, tc.body, h)
			wantStatus(t, r, tc.status)
			if a := decodeAnswer(t, r); a.Fields["estate"] != tc.field || a.Error != tc.field {
				t.Errorf("answer %+v; want %q for the estate", a, tc.field)
			}
		})
	}
	if rev := e.revision("e1", "1-1-101"); rev != 2 {
		t.Errorf("refused calls changed the stored revision to %d", rev)
	}
}

const fivesJSON = `{"service":5,"security":5,"cleaning":5,"greening":5,"maintenance":5,"transparency":5}`

func TestRatingsAPILockedCode(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.80").english()
	var r *response
	for i := 0; i < 6; i++ {
		r = c.apiRate(apiBody("e1", "1-1-101", "WRONG-"+strconv.Itoa(i), allFours, ""), nil)
	}
	wantStatus(t, r, http.StatusTooManyRequests)
	if a := decodeAnswer(t, r); !strings.HasPrefix(a.Error, "Too many wrong codes: this phone (network) has sent 5 wrong codes for this flat. Try again after ") {
		t.Errorf("error %q", a.Error)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

// Household codes: the page for reviewers and administrators.

var slipPattern = regexp.MustCompile(`<dd class="slip-flat">([^<]+)</dd>\s*<dt>[^<]+</dt><dd class="slip-code">([^<]+)</dd>`)
var qrPattern = regexp.MustCompile(`<svg[^>]*class="qr".*?</svg>`)
var csvLinkPattern = regexp.MustCompile(`href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="([^"]+)"`)

func TestCodesPage(t *testing.T) {
	e := newRateEnv(t)
	e.addAccount("reviewer1", domain.RoleReviewer, "", "pw")
	e.addAccount("admin1", domain.RoleAdmin, "", "pw")
	e.addAccount("company1", domain.RoleCompany, testCompany, "pw")
	e.addAccount("evaluator1", domain.RoleEvaluator, "", "pw")

	anon := e.client()
	r := anon.get("/codes")
	wantStatus(t, r, http.StatusSeeOther)
	for _, name := range []string{"company1", "evaluator1"} {
		c := e.client()
		c.mustLogin(name, "pw")
		wantStatus(t, c.get("/codes"), http.StatusForbidden)
		wantStatus(t, c.post("/codes", url.Values{"_csrf": {c.csrf("/account")}, "period": {"2026Q4"}, "estate": {"e2"}, "flats": {"1"}}), http.StatusForbidden)
	}
	admin := e.client()
	admin.mustLogin("admin1", "pw")
	wantStatus(t, admin.get("/codes"), http.StatusOK)

	rev := e.client()
	rev.mustLogin("reviewer1", "pw")
	r = rev.get("/codes")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `<option value="2026Q4" selected>`, `<option value="e2">锦绣华庭</option>`, `name="flats"`, `type="file"`)

	issue := func(form url.Values) *response {
		form.Set("_csrf", rev.csrf("/codes"))
		return rev.post("/codes", form)
	}
	r = issue(url.Values{"period": {"2026Q4"}, "estate": {"e2"}, "flats": {"flat\n2-1-101\n-2-102\n\n2-1-101\n=cmd\n"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "第6行：房号“=cmd”无效", `-2-102`)

	r = issue(url.Values{"period": {"2026Q4"}, "estate": {"e2"}, "flats": {"flat\r\n2-1-101\r\n-2-102\r\n\r\n2-1-101\r\n"}})
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, "验证码发放单", "锦绣华庭", "万润物业", "已为 锦绣华庭（2026Q4）发放 2 个验证码", testPublicURL+"/rate/e2")
	slips := slipPattern.FindAllStringSubmatch(r.body, -1)
	if len(slips) != 2 || slips[0][1] != "-2-102" || slips[1][1] != "2-1-101" {
		t.Fatalf("slips %v, want one per flat, sorted", slips)
	}
	// Each slip's QR code opens the form with its flat filled in, and never carries the code.
	qrs := qrPattern.FindAllString(r.body, -1)
	if len(qrs) != 2 {
		t.Fatalf("%d QR codes on the sheet, want one per slip", len(qrs))
	}
	for i, flat := range []string{"-2-102", "2-1-101"} {
		scanned, err := qrcodetest.Decode(qrs[i])
		if err != nil {
			t.Fatalf("scan the QR code of %s: %v", flat, err)
		}
		if want := testPublicURL + "/rate/e2?flat=" + flat; scanned != want {
			t.Errorf("QR code of %s opens %q, want %q", flat, scanned, want)
		}
		form := anon.get(strings.TrimPrefix(scanned, testPublicURL))
		wantStatus(t, form, http.StatusOK)
		wantBody(t, form, `id="household" value="`+flat+`"`)
	}
	link := csvLinkPattern.FindStringSubmatch(r.body)
	if link == nil {
		t.Fatalf("no CSV download in the sheet:\n%s", r.body)
	}
	csvText, _ := base64.StdEncoding.DecodeString(link[1])
	want := fmt.Sprintf("flat,code\n'-2-102,%s\n2-1-101,%s\n", slips[0][2], slips[1][2])
	if diff := cmp.Diff(want, string(csvText)); diff != "" || link[2] != "codes-2026Q4-e2.csv" {
		t.Errorf("CSV %s (-want +got):\n%s", link[2], diff)
	}

	// The issued code works in the rating form.
	owner := e.owner("203.0.113.90")
	wantStatus(t, owner.post("/rate/e2", owner.ratingForm("e2", "2-1-101", slips[1][2], fives, "")), http.StatusOK)

	// Issuing again gives codes only to new flats; re-issuing voids the old ones.
	r = issue(url.Values{"period": {"2026Q4"}, "estate": {"e2"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "没有需要发放的验证码")
	r = issue(url.Values{"period": {"2026Q4"}, "estate": {"e2"}, "reissue": {"1"}})
	wantStatus(t, r, http.StatusCreated)
	if again := slipPattern.FindAllStringSubmatch(r.body, -1); len(again) != 2 || again[1][2] == slips[1][2] {
		t.Errorf("re-issue gave %v", again)
	}
	r = owner.post("/rate/e2", owner.ratingForm("e2", "2-1-101", slips[1][2], fives, ""))
	wantStatus(t, r, http.StatusForbidden)

	// A file of flats, uploaded.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", rev.csrf("/codes"))
	_ = mw.WriteField("period", "2026Q4")
	_ = mw.WriteField("estate", "e1")
	fw, _ := mw.CreateFormFile("flats_file", "flats.csv")
	_, _ = fw.Write([]byte("\uFEFFflat\n5-5-501,\n5-5-502\n"))
	mw.Close()
	r = rev.doRaw(http.MethodPost, "/codes", &body, map[string]string{"Content-Type": mw.FormDataContentType()})
	wantStatus(t, r, http.StatusCreated)
	if got := slipPattern.FindAllStringSubmatch(r.body, -1); len(got) != 2 || got[0][1] != "5-5-501" {
		t.Errorf("uploaded flats gave slips %v", got)
	}

	// Unknown period and estate.
	r = issue(url.Values{"period": {"2030Q1"}, "estate": {"nope"}, "flats": {"1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "评价期不存在", "小区不存在")
}

func TestWriteCodesCSVGuardsFormulas(t *testing.T) {
	var b bytes.Buffer
	err := WriteCodesCSV(&b, []rating.IssuedCode{{Household: "=1+1", Code: "+A"}, {Household: "@x", Code: "-y"}, {Household: "a,b", Code: "\tz"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "flat,code\n'=1+1,'+A\n'@x,'-y\n\"a,b\",'\tz\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
}

func TestReadFlats(t *testing.T) {
	flats, bad := ReadFlats(strings.NewReader("\uFEFFFlat\n 1-1-101 \n1-1-101\n\n\"2-2-202\",\nbad flat\n"), domain.LangEN)
	if diff := cmp.Diff([]string{"1-1-101", "2-2-202"}, flats); diff != "" {
		t.Errorf("flats (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]FlatError{{Line: 6, Message: `flat "bad flat" is not valid: use 1-64 letters, digits, '.', '_' or '-'`}}, bad); diff != "" {
		t.Errorf("bad lines (-want +got):\n%s", diff)
	}
}

// The slips point at the configured public address, whatever Host the request names; without
// one, the codes page says so and issues nothing.
func TestCodeSlipsUsePublicURL(t *testing.T) {
	e := newRateEnv(t)
	rev := e.user("reviewer1", domain.RoleReviewer, "")

	req := httptest.NewRequest(http.MethodPost, "/codes", strings.NewReader(url.Values{
		"_csrf": {rev.csrf("/codes")}, "period": {"2026Q4"}, "estate": {"e2"}, "flats": {"2-1-101"}}.Encode()))
	req.Host = "evil.example.net"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := rev.send(req)
	wantStatus(t, r, http.StatusCreated)
	if strings.Contains(r.body, "evil.example.net") {
		t.Error("the forged Host header reached the code sheet")
	}
	qrs := qrPattern.FindAllString(r.body, -1)
	if len(qrs) != 1 {
		t.Fatalf("%d QR codes, want 1", len(qrs))
	}
	if scanned, err := qrcodetest.Decode(qrs[0]); err != nil || scanned != testPublicURL+"/rate/e2?flat=2-1-101" {
		t.Errorf("QR code opens %q (%v), want the public address", scanned, err)
	}

	// A server without a public address refuses, and issues no code.
	s, err := New(Config{DB: e.db, Log: mongodbtest.Quiet(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	bare := e.clientOf(s)
	bare.mustLogin("reviewer1", "pw")
	wantBody(t, bare.get("/codes"), "本站尚未配置公开网址")
	r = bare.post("/codes", url.Values{"_csrf": {bare.csrf("/codes")}, "period": {"2026Q4"}, "estate": {"e2"}, "flats": {"2-1-102"}})
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantBody(t, r, "本站尚未配置公开网址")
	hh, err := e.db.Households(context.Background(), "e2")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hh {
		if h.Flat == "2-1-102" {
			t.Error("a household was registered without a public address")
		}
	}
	for _, bad := range []string{"wy.example.gov.cn", "ftp://x", "https://x/?a=1", "https://user@x", "https://x/#f"} {
		if _, err := ParsePublicURL(bad); err == nil {
			t.Errorf("ParsePublicURL(%q) accepted it", bad)
		}
	}
}

// An owner submits the form, goes Back, changes a mark and submits the same page again: the
// form's hidden key is the same, so the new marks are not taken silently. The owner is told,
// gets the form back with the new marks and a new key, and submitting it stores a revision.
func TestRateFormBackWithOtherMarks(t *testing.T) {
	e := newRateEnv(t)
	c := e.owner("203.0.113.81")
	code := e.codes["1-1-102"]
	form := c.ratingForm("e1", "1-1-102", code, fives, "")
	wantStatus(t, c.post("/rate/e1", form), http.StatusOK)
	// The same page again, unchanged (a double click): the same receipt, nothing new.
	wantStatus(t, c.post("/rate/e1", form), http.StatusOK)
	if n := len(e.rawRatings()); n != 1 {
		t.Fatalf("%d versions after a repeat, want 1", n)
	}

	form.Set("service", "2")
	r := c.post("/rate/e1", form)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "刚才的新评分没有保存", `name="service" value="2" required checked`)
	newKey := formKeyFieldPattern.FindStringSubmatch(r.body)
	if newKey == nil || newKey[1] == form.Get("key") {
		t.Fatalf("the form came back without a new key")
	}
	if n := len(e.rawRatings()); n != 1 {
		t.Fatalf("%d versions after a reused key, want 1", n)
	}
	form.Set("key", newKey[1])
	form.Set("_csrf", csrfPattern.FindStringSubmatch(r.body)[1])
	wantStatus(t, c.post("/rate/e1", form), http.StatusOK)
	raw := e.rawRatings()
	if len(raw) != 2 {
		t.Fatalf("%d versions, want the revision stored", len(raw))
	}
}

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
