package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/qrcode/qrcodetest"
	"github.com/propcredit/propcredit/internal/rating"
)

// An owner on a phone opens the rating page of their estate, fills it in with a finger and
// gets a receipt: through a real listener, in headless Chromium, with the page's own script
// (stars, counter) running under the site's CSP, and not one console error.
func TestRateInBrowser(t *testing.T) {
	e := newRateEnv(t)
	base := serve(t, e.testEnv)
	b := browsertest.New(t, browsertest.Phone)

	b.Do(chromedp.Navigate(base+"/rate/e1"), chromedp.WaitVisible(chromedp.ID("rate-form")))
	if name := browsertest.Run(b, chromedp.Text(chromedp.CSS(".estate-name"))); name != "翠竹花园" {
		t.Errorf("estate shown as %q", name)
	}
	if !browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector("fieldset.score").classList.contains("stars")`)) {
		t.Error("rate.js did not turn the radios into stars")
	}
	// Nothing sticks out sideways on a phone.
	if w := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width {
		t.Errorf("the page is %d px wide on a %d px phone", w, browsertest.Phone.Width)
	}

	marks := [6]int{5, 4, 3, 4, 2, 5}
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("household"), "1-1-101"),
		chromedp.SendKeys(chromedp.ID("code"), strings.ToLower(e.codes["1-1-101"])),
	}
	for i, d := range domain.Dimensions {
		// The labels are the stars; the n-th label holds the radio of n points.
		fill = append(fill, chromedp.Click(chromedp.CSS("#score-"+d.ID+" .choices label:nth-child("+itoa(marks[i])+")")))
	}
	fill = append(fill, chromedp.SendKeys(chromedp.ID("comment"), "保洁可以更勤快一些"))
	b.Do(fill...)
	if lit := browsertest.Run(b, chromedp.Evaluate[int64](`document.querySelectorAll("#score-service label.on").length`)); lit != 5 {
		t.Errorf("%d stars lit for 5 points", lit)
	}
	b.Screenshot("form")

	b.Do(chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("receipt-number")))
	receipt := browsertest.Run(b, chromedp.Text(chromedp.ID("receipt-number")))
	b.Screenshot("receipt")

	versions, err := e.db.RatingVersions(context.Background(), "2026Q4|e1|1-1-101")
	if err != nil || len(versions) != 1 {
		t.Fatalf("stored versions %+v, %v; want one", versions, err)
	}
	if got := versions[0].Scores.Array(); got != marks {
		t.Errorf("stored scores %v, want the stars clicked, %v", got, marks)
	}
	if versions[0].Comment != "保洁可以更勤快一些" {
		t.Errorf("stored comment %q", versions[0].Comment)
	}

	b.Do(chromedp.Navigate(base+"/receipt/"+receipt), chromedp.WaitVisible(chromedp.ID("receipt-status")))
	if status := browsertest.Run(b, chromedp.Text(chromedp.ID("receipt-status"))); status != "该评价已计入本期结果。" {
		t.Errorf("receipt status %q", status)
	}
	b.CheckConsole()
}

func itoa(n int) string { return string(rune('0' + n)) }

// serve runs e's server on a loopback port until the test ends and returns its base URL.
func serve(t *testing.T, e *testEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	e.s.publicURL = base // the slips must point at this listener
	go func() { _ = e.s.App().Listener(ln) }()
	t.Cleanup(func() { _ = e.s.App().Shutdown() })
	return base
}

// A reviewer issues codes in the browser and prints the sheet; an owner scans a slip's QR code
// with a phone. The picture Chromium draws (not the SVG source) is decoded, so the test fails
// if the code is clipped, styled away or too small to scan.
func TestCodeSlipQRInBrowser(t *testing.T) {
	e := newRateEnv(t)
	e.addAccount("reviewer1", domain.RoleReviewer, "", "pw")
	base := serve(t, e.testEnv)
	b := browsertest.New(t, browsertest.Desktop)

	b.Do(chromedp.Navigate(base+"/login?next=/codes"),
		chromedp.SendKeys(chromedp.CSS("[name=name]"), "reviewer1"),
		chromedp.SendKeys(chromedp.CSS("[name=password]"), "pw"),
		chromedp.Submit(chromedp.CSS("[name=password]")),
		chromedp.WaitVisible(chromedp.CSS("[name=flats]")),
		chromedp.SetValue(chromedp.CSS("[name=estate]"), "e2"),
		chromedp.SendKeys(chromedp.CSS("[name=flats]"), "8-1-801\n8-1-802"),
		chromedp.Submit(chromedp.CSS("[name=flats]")),
		chromedp.WaitVisible(chromedp.CSS(".slip-qr svg")))
	b.Screenshot("sheet")
	picture := browsertest.Run(b, chromedp.ScreenshotScale(chromedp.CSS(".slip-qr svg"), 2))
	scanned, err := qrcodetest.DecodePNG(picture)
	if err != nil {
		t.Fatalf("the first slip's QR code does not scan: %v", err)
	}
	if want := base + "/rate/e2?flat=8-1-801"; scanned != want {
		t.Fatalf("the QR code opens %q, want %q", scanned, want)
	}

	phone := browsertest.New(t, browsertest.Phone)
	phone.Do(chromedp.Navigate(scanned), chromedp.WaitVisible(chromedp.ID("rate-form")))
	if flat := browsertest.Run(phone, chromedp.Value(chromedp.ID("household"))); flat != "8-1-801" {
		t.Errorf("the scanned address fills in flat %q, want 8-1-801", flat)
	}
	b.CheckConsole()
	phone.CheckConsole()
}

// A reviewer works through the ballot-stuffing queue in Chromium, on a phone in Chinese and on a
// desktop in English: one phone rated six flats, the last two are held with their evidence; a
// rejection without a reason is refused and the queue stays; with a reason it is rejected; the
// other is released, and the estate's count goes up by one, not two.
func TestHeldRatingsReviewInBrowser(t *testing.T) {
	for _, vp := range []browserCase{
		{"phone-zh", browsertest.Phone, "zh-CN,zh", map[string]string{"count": "共 2 条待审核", "evidence": "同一设备", "reason": "驳回时必须填写理由",
			"rejected": "已驳回，该评价不计入", "released": "已放行，该评价现已计入", "empty": "本期没有待审核的评价"}},
		{"desktop-en", browsertest.Desktop, "en-US,en", map[string]string{"count": "2 await review", "evidence": "One device", "reason": "A rejection needs a reason",
			"rejected": "Rejected: the rating does not count", "released": "Released: the rating counts now", "empty": "No rating of this period awaits review"}},
	} {
		t.Run(vp.name, func(t *testing.T) {
			e := newRateEnv(t)
			rules := rating.DefaultStuffingRules
			e.db.SetStuffingRules(rules)
			var flats []string
			for i := range rules.Device + 2 {
				flats = append(flats, fmt.Sprintf("6-1-%d", 101+i))
			}
			issued, err := e.db.IssueCodes(context.Background(), "2026Q4", "e1", flats, false)
			if err != nil {
				t.Fatal(err)
			}
			before := e.tally("e1").Ratings
			phone := e.owner("198.51.100.7")
			for _, ic := range issued {
				wantStatus(t, phone.apiRate(apiBody("e1", ic.Household, ic.Code, allOnes, ""), nil), http.StatusCreated)
			}
			if got := e.tally("e1").Ratings; got != before+int64(rules.Device) {
				t.Fatalf("the estate counts %d ratings after the burst; want %d", got, before+int64(rules.Device))
			}
			e.addAccount("rev", domain.RoleReviewer, "", "pw")
			base := serve(t, e.testEnv)

			co := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			browserLogin(co, base, "rev")
			co.Do(chromedp.Navigate(base+"/review/ratings"), chromedp.WaitVisible(chromedp.ID("holds-count")))
			if got := mainText(co); !strings.Contains(got, vp.want["count"]) || !strings.Contains(got, vp.want["evidence"]) {
				t.Errorf("the queue does not show two held ratings with their evidence: %q", got)
			}
			wantFits(t, co, vp.vp, "the queue")
			co.Screenshot("queue")

			// Reject the first without a reason: refused, nothing decided.
			first := `section.hold:nth-of-type(1)`
			co.Do(press(first+` button[value="rejected"]`), chromedp.WaitVisible(chromedp.ID("hold-error")))
			if got := mainText(co); !strings.Contains(got, vp.want["reason"]) || !strings.Contains(got, vp.want["count"]) {
				t.Errorf("a rejection without a reason: %q", got)
			}
			co.Screenshot("reason-required")
			co.Do(chromedp.SendKeys(chromedp.CSS(`section.hold textarea[name="reason"]`), "同一手机连续提交"),
				press(`section.hold button[value="rejected"]`), chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
			if got := mainText(co); !strings.Contains(got, vp.want["rejected"]) {
				t.Errorf("after the rejection: %q", got)
			}
			co.Do(press(`section.hold button[value="released"]`), chromedp.WaitNotPresent(chromedp.CSS(`section.hold`)))
			got := mainText(co)
			if !strings.Contains(got, vp.want["released"]) || !strings.Contains(got, vp.want["empty"]) {
				t.Errorf("after the release: %q", got)
			}
			wantFits(t, co, vp.vp, "the reviewed queue")
			co.Screenshot("reviewed")
			if got := e.tally("e1").Ratings; got != before+int64(rules.Device)+1 {
				t.Errorf("the estate counts %d ratings after one release and one rejection; want %d", got, before+int64(rules.Device)+1)
			}
		})
	}
}

// press clicks the button that sel finds, as a person's tap does, submitting its form with the
// button's name and value.
func press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, sel))
}
