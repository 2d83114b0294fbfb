// Package browsertest runs pages in headless Chromium for tests, the way a person would see
// them: a fresh browser profile per test, a phone-sized (or desktop) viewport, every console
// error and uncaught exception collected, and screenshots saved under the test's temporary
// directory.
//
// A test skips when Chromium is not installed, unless the environment variable CI is set:
// there a missing browser is a failure, so that browser tests cannot silently stop running.
//
//	b := browsertest.New(t, browsertest.Phone)
//	b.Do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("form")))
//	text := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1")))
//	b.Screenshot("form")
//	b.CheckConsole()
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// candidates are where distributions install Chromium; Debian's package is /usr/bin/chromium.
var candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"}

// ExecPath returns the path of Chromium. When there is none it skips the test, or fails it
// when the environment variable CI is set.
func ExecPath(t testing.TB) string {
	t.Helper()
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const install = "apt-get install chromium fonts-noto-cjk"
	if os.Getenv("CI") != "" {
		t.Fatalf("Chromium is not installed, and CI is set, so the browser tests must run: %s", install)
	}
	t.Skipf("Chromium is not installed (%s to run the browser tests)", install)
	return ""
}

// Viewport is the size of the page the browser shows, in CSS pixels.
type Viewport struct {
	Width, Height int64
	Scale         float64 // device pixels per CSS pixel
	Mobile        bool    // touch, and the meta viewport counts
}

// Phone is a common phone held upright; Desktop a laptop screen.
var (
	Phone   = Viewport{Width: 390, Height: 844, Scale: 2, Mobile: true}
	Desktop = Viewport{Width: 1280, Height: 800, Scale: 1}
)

// Timeout bounds each Do and Run: long enough for a page of this project on a busy 2-core
// machine, short enough that a hung page fails the test quickly.
var Timeout = 15 * time.Second

// Browser is one Chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// An Option changes how New starts the browser.
type Option func(*settings)

type settings struct {
	languages string
}

// Languages sets the browser's Accept-Language, such as "en-US,en". The default is
// "zh-CN,zh", a phone in China.
func Languages(tags string) Option { return func(s *settings) { s.languages = tags } }

// New starts Chromium for t with a fresh profile, shows pages at vp, and starts collecting
// the console. The browser stops when the test ends.
func New(t testing.TB, vp Viewport, options ...Option) *Browser {
	t.Helper()
	set := settings{languages: "zh-CN,zh"}
	for _, o := range options {
		o(&set)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ExecPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Nothing but the page under test may touch the network.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.WindowSize(int(vp.Width), int(vp.Height)),
		chromedp.Flag("lang", strings.SplitN(set.languages, ",", 2)[0]),
		chromedp.Flag("accept-lang", set.languages),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx}
	// The first action starts the browser; it must not carry a timeout, which would end the
	// browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.Scale)}
	if vp.Mobile {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	b.Do(chromedp.EmulateViewport(vp.Width, vp.Height, emulate...))
	return b
}

// Context is the tab's context, for actions this package does not wrap.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in order, within Timeout. On an error it saves a screenshot and fails the
// test with the console's problems so far.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(err)
	}
}

// Run runs one action that returns a value, within Timeout, and fails the test on an error.
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(err)
	}
	return v
}

func (b *Browser) fail(err error) {
	b.t.Helper()
	shot := b.Screenshot("failure")
	b.t.Fatalf("browser: %v\nconsole problems: %s\nscreenshot: %s", err, strings.Join(b.Problems(), "\n"), shot)
}

// Problems returns the console errors and uncaught exceptions seen so far, and the browser's
// own error log (a failed request, a script blocked by the CSP...), each as one line.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.messages {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			line := m.String()
			if m.URL != "" {
				line += " (" + m.URL + ")"
			}
			out = append(out, line)
		}
	}
	return out
}

// CheckConsole fails the test for every problem Problems reports, except those that contain
// one of expected: a form answered with 422 after a person's mistake is logged by Chromium
// as a failed resource, and a test that walks into that mistake on purpose expects it.
func (b *Browser) CheckConsole(expected ...string) {
	b.t.Helper()
next:
	for _, p := range b.Problems() {
		for _, e := range expected {
			if strings.Contains(p, e) {
				continue next
			}
		}
		b.t.Errorf("browser console: %s", p)
	}
}

// FormError is the console line Chromium writes when a form is answered with 422.
const FormError = "status of 422"

// ScreenshotDirEnv names an environment variable: when it holds a directory, Screenshot also
// writes its pictures there (as TestName-name.png), since the test's own directory is removed
// when the test ends.
const ScreenshotDirEnv = "BROWSERTEST_SCREENSHOTS"

// Screenshot saves the whole page as name.png in the test's temporary directory and returns
// the file's path ("" if the browser could not take it).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.t.TempDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	if dir := os.Getenv(ScreenshotDirEnv); dir != "" {
		keep := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())+"-"+name+".png")
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			b.t.Logf("screenshot %s: %v", name, err)
		}
	}
	b.t.Logf("screenshot: %s", path)
	return path
}
