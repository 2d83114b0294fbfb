package web

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/domain"
)

// demoDay is the day the demo city is generated for: 2026Q3 closed, 2026Q4 open.
var demoDay = time.Date(2026, 11, 23, 12, 0, 0, 0, domain.Zone)

// newDemoEnv is a server on the demo city, with both periods scored and published, and one
// company, one district and one estate renamed to something hostile.
func newDemoEnv(t *testing.T) (e *testEnv, hostileCompany, hostileEstate string) {
	t.Helper()
	e = newEnv(t)
	ds := demo.Generate(demo.DefaultSeed, demoDay)
	hostileCompany, hostileEstate = ds.Companies[0].ID, ds.Estates[0].ID
	ds.Companies[0].Name = reportHostileName
	ds.Districts[0].Name = `"><img src=x onerror=alert(2)>`
	ds.Estates[0].Name = `<svg onload=alert(3)>`
	if _, err := e.db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range ds.Periods {
		e.scoreAndPublish(p.ID)
	}
	return e, hostileCompany, hostileEstate
}

// listenReports serves e's server on a loopback port until the test ends.
func listenReports(t *testing.T, e *testEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.s.App().Listener(ln) }()
	t.Cleanup(func() { _ = e.s.App().Shutdown() })
	return "http://" + ln.Addr().String()
}

// Every public page of the demo city, in Chromium: the charts draw (a canvas in every chart
// container), the console stays clean (so the CSP blocked nothing the pages need), and no
// hostile name runs anything, not even in a chart's tooltip.
func TestReportPagesInBrowser(t *testing.T) {
	e, hostileCompany, hostileEstate := newDemoEnv(t)
	base := listenReports(t, e)
	st, err := newPublishedCache(e.s.pubs, e.db, e.clock.Now, e.s.log).get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	latest := st.city.Latest()
	red, black := latest.Result.RedList(), latest.Result.BlackList()
	if len(red) == 0 || len(black) == 0 {
		t.Fatalf("the demo city has %d red and %d black companies; the test wants both", len(red), len(black))
	}

	pages := []struct {
		name, path string
		charts     int
	}{
		{"lists", "/lists/" + latest.ID(), 0},
		{"rankings", "/rankings/" + latest.ID(), 0},
		{"report", "/reports/" + latest.ID(), 6},
		{"report-q3", "/reports/" + st.city.Periods()[0].ID(), 6},
		{"company-red", "/companies/" + red[0].Company, 2},
		{"company-black", "/companies/" + black[0].Company, 2},
		{"company-hostile", "/companies/" + hostileCompany, 2},
		{"estate-hostile", "/estates/" + hostileEstate, 1},
		{"estate", "/estates/" + latest.Result.Grades[0].EstateDetails[0].Estate, 1},
	}

	for _, vp := range []struct {
		name string
		vp   browsertest.Viewport
		lang string
	}{{"phone", browsertest.Phone, "zh-CN,zh"}, {"desktop", browsertest.Desktop, "en-US,en"}} {
		t.Run(vp.name, func(t *testing.T) {
			b := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			// An alert would be the hostile names running: count every dialog, and close it
			// so that the page goes on.
			var dialogs atomic.Int32
			opening := chromedp.Events(b.Context(), page.JavascriptDialogOpening)
			go func() {
				for ev, err := range opening {
					if err != nil {
						return
					}
					dialogs.Add(1)
					t.Logf("a dialog opened: %q", ev.Message)
					_, _ = chromedp.Call(b.Context(), page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
				}
			}()
			for _, p := range pages {
				b.Do(chromedp.Navigate(base+p.path), chromedp.WaitReady("main"))
				if p.charts > 0 {
					b.Do(chromedp.WaitVisible(`[data-drawn="true"]`))
				}
				containers := browsertest.Run(b, chromedp.Evaluate[int64](`document.querySelectorAll("[data-echarts]").length`))
				drawn := browsertest.Run(b, chromedp.Evaluate[int64](`[...document.querySelectorAll("[data-echarts]")].filter(el => el.querySelector("canvas")).length`))
				if containers != int64(p.charts) || drawn != containers {
					t.Errorf("%s: %d chart containers (want %d), %d with a canvas", p.name, containers, p.charts, drawn)
				}
				// Nothing sticks out sideways on a phone (tables scroll within their box).
				if w := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); vp.vp.Mobile && w > vp.vp.Width {
					t.Errorf("%s: the page is %d px wide on a %d px phone", p.name, w, vp.vp.Width)
				}
				// Show every chart's tooltip: ECharts writes it as HTML, names included.
				browsertest.Run(b, chromedp.Evaluate[bool](`(() => {
					for (const el of document.querySelectorAll("[data-echarts]")) {
						const chart = echarts.getInstanceByDom(el);
						for (let i = 0; i < 3; i++) chart.dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: i});
					}
					return true;
				})()`))
				injected := browsertest.Run(b, chromedp.Evaluate[int64](`document.querySelectorAll("main script:not([src]), main img[src=x], main svg[onload]").length`))
				if injected != 0 {
					t.Errorf("%s: %d injected elements in the page", p.name, injected)
				}
				b.Screenshot(p.name)
			}
			b.Do(chromedp.Sleep(200 * time.Millisecond)) // let a dialog, if any, arrive
			if dialogs.Load() != 0 {
				t.Errorf("%d dialogs opened", dialogs.Load())
			}
			b.CheckConsole()
			if vp.lang != "zh-CN,zh" {
				b.Do(chromedp.Navigate(base + "/lists/" + latest.ID()))
				if h1 := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1"))); !strings.HasPrefix(h1, "Red and black lists") {
					t.Errorf("English browser got %q", h1)
				}
			}
		})
	}

	// The static export works opened from disk: the same charts, drawn from assets/.
	t.Run("static", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "site")
		if _, err := ExportSite(context.Background(), e.s.pubs, e.db, dir, latest.ID()); err != nil {
			t.Fatal(err)
		}
		b := browsertest.New(t, browsertest.Desktop)
		for _, f := range []struct {
			file   string
			charts int64
		}{{"report.html", 6}, {"company-" + hostileCompany + ".en.html", 2}, {"index.html", 0}} {
			b.Do(chromedp.Navigate("file://"+filepath.Join(dir, f.file)), chromedp.WaitReady("main"))
			if f.charts > 0 {
				b.Do(chromedp.WaitVisible(`[data-drawn="true"]`))
			}
			drawn := browsertest.Run(b, chromedp.Evaluate[int64](`[...document.querySelectorAll("[data-echarts]")].filter(el => el.querySelector("canvas")).length`))
			if drawn != f.charts {
				t.Errorf("%s: %d charts drawn, want %d", f.file, drawn, f.charts)
			}
			b.Screenshot(strings.TrimSuffix(f.file, ".html"))
		}
		b.CheckConsole()
	})
}
