package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/domain"
)

// Owners rate through a server that does not own their estate, in Chromium: on a phone in
// Chinese and on a desktop in English. A missing mark comes back in the form, the corrected
// form gets its receipt, and both answers came from the estate's own server through the
// hand-over, which stored the rating once.
func TestRateThroughAHandOverInBrowser(t *testing.T) {
	e := newRateEnv(t)
	a, b := e.peerServer(), e.peerServer()
	a.peers.refresh()
	b.peers.refresh()
	first, owner := a, b
	if a.peers.owner("e1") == "" {
		first, owner = b, a
	}
	for _, tc := range []struct {
		name, lang, flat, mistake string
		vp                        browsertest.Viewport
	}{
		{"phone-zh", "zh-CN,zh", "1-1-102", "选择1-5分", browsertest.Phone},
		{"desktop-en", "en-US,en", "1-1-103", "Choose 1 to 5", browsertest.Desktop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := browsertest.New(t, tc.vp, browsertest.Languages(tc.lang))
			br.Do(chromedp.Navigate(first.url+"/rate/e1"), chromedp.WaitVisible(chromedp.ID("rate-form")))
			fill(br, "household", tc.flat, "code", e.codes[tc.flat])
			var marks []chromedp.Action[chromedp.Void]
			for _, d := range domain.Dimensions[:5] { // the last one forgotten
				marks = append(marks, chromedp.Click(chromedp.CSS("#score-"+d.ID+" .choices label:nth-child(4)")))
			}
			br.Do(marks...)
			br.Do(chromedp.Evaluate[chromedp.Void](`document.getElementById("rate-form").noValidate = true`)) // as an old phone browser would
			submitAndWait(br, "#submit")
			br.Screenshot("mistake")
			if got := text(br, "main"); text(br, "#form-error") == "" || !strings.Contains(got, tc.mistake) {
				t.Fatalf("a missing mark, through the hand-over: no error saying %q:\n%s", tc.mistake, got)
			}
			if v := value(br, "household"); v != tc.flat {
				t.Errorf("the flat came back as %q", v)
			}

			fill(br, "code", e.codes[tc.flat])
			br.Do(chromedp.Click(chromedp.CSS("#score-" + domain.Dimensions[5].ID + " .choices label:nth-child(3)")))
			submitAndWait(br, "#submit")
			br.Screenshot("receipt")
			if receipt := text(br, "#receipt-number"); receipt == "" {
				t.Fatalf("no receipt through the hand-over:\n%s", text(br, "main"))
			}
			versions, err := e.db.RatingVersions(context.Background(), "2026Q4|e1|"+tc.flat)
			if err != nil || len(versions) != 1 || versions[0].Scores.Array() != [6]int{4, 4, 4, 4, 4, 3} {
				t.Errorf("stored versions %+v, %v; want one, with the marks clicked", versions, err)
			}
			took := requests(owner.log, "/rate/e1")
			var statuses []any
			for _, l := range took {
				if l["method"] == "POST" && l["from_peer"] == true {
					statuses = append(statuses, l["status"])
				}
			}
			if n := len(statuses); n < 2 || statuses[n-2] != float64(422) || statuses[n-1] != float64(200) {
				t.Errorf("the owner answered the hand-overs %v; want the mistake (422), then the receipt (200)", statuses)
			}
			br.CheckConsole(browsertest.FormError)
		})
	}
}
