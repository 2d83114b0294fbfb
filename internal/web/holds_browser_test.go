package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

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
