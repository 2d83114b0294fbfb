package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestConsoleProblemsAreCaught(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/clean", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><meta name="viewport" content="width=device-width"><link rel="icon" href="data:,"><h1 id="t">你好</h1><script>console.log("fine")</script>`))
	})
	mux.HandleFunc("/lang", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><p id="t">` + r.Header.Get("Accept-Language") + `</p>`))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><h1 id="t">x</h1><script>console.error("bad thing"); null.boom;</script>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := New(t, Phone)
	b.Do(chromedp.Navigate(srv.URL+"/clean"), chromedp.WaitVisible(chromedp.ID("t")))
	if got := Run(b, chromedp.Text(chromedp.ID("t"))); got != "你好" {
		t.Errorf("heading %q", got)
	}
	if width := Run(b, chromedp.Evaluate[int64]("window.innerWidth")); width != Phone.Width {
		t.Errorf("viewport width %d, want %d", width, Phone.Width)
	}
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("a clean page has problems: %v", p)
	}
	path := b.Screenshot("clean")
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("screenshot %q: %v", path, err)
	}

	b.Do(chromedp.Navigate(srv.URL+"/lang"), chromedp.WaitVisible(chromedp.ID("t")))
	if got := Run(b, chromedp.Text(chromedp.ID("t"))); !strings.HasPrefix(got, "zh-CN") {
		t.Errorf("Accept-Language %q, want zh-CN first", got)
	}

	b.Do(chromedp.Navigate(srv.URL+"/broken"), chromedp.WaitVisible(chromedp.ID("t")))
	// The messages arrive asynchronously; wait until both are in.
	want := []string{"error: bad thing", "exception: "}
	for range 50 {
		if joined := strings.Join(b.Problems(), "\n"); strings.Contains(joined, want[0]) && strings.Contains(joined, want[1]) {
			return
		}
		Run(b, chromedp.Evaluate[bool]("new Promise(r => setTimeout(() => r(true), 20))", chromedp.EvalAwaitPromise))
	}
	t.Errorf("problems %q, want a console error and an exception", b.Problems())
}
