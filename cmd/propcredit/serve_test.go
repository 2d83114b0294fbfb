package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until the server at base is ready, or says why it is not: it stopped (done
// has its error) or did not answer within a minute.
func waitReady(t *testing.T, base string, done <-chan error) error {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := get(t, base+"/readyz"); code == http.StatusOK {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("server not ready within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serveDemo runs `serve --demo` on dir in this process, listening on addr, until ctx ends,
// and waits until it is ready. done receives what serve (and closing the store) returned.
func serveDemo(t *testing.T, ctx context.Context, dir, addr string) (base string, stdout *syncBuffer, done <-chan error) {
	t.Helper()
	stdout = &syncBuffer{}
	m := &Main{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: io.Discard, Log: mongodbtest.Quiet(),
		Getenv: func(k string) string { return map[string]string{"PROPCREDIT_ADDR": addr}[k] }}
	finished := make(chan error, 1)
	go func() {
		err := m.Run(ctx, []string{"serve", "--data", dir, "--demo", "--log-format", "text"})
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		finished <- err
	}()
	base = "http://" + addr
	if err := waitReady(t, base, finished); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	return base, stdout, finished
}

// TestServeDemo runs the server as `make demo` does: it loads the demo city, answers its
// health checks and pages, lets another command read through its engine, refuses a second
// server, and shuts down cleanly on a signal (here: the context).
func TestServeDemo(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stdout, done := serveDemo(t, ctx, dir, addr)
	if !strings.Contains(stdout.String(), `name "reviewer", password "`) {
		t.Errorf("demo reviewer log-in not printed: %q", stdout.String())
	}
	// The demo city's previous quarter has always ended: it is scored and published at once.
	_, link, found := strings.Cut(stdout.String(), "scored and published: http://"+addr)
	if !found {
		t.Errorf("no ended demo period was published: %q", stdout.String())
	}
	path, _, _ := strings.Cut(link, "\n")
	if code, body := get(t, base+path); found && (code != http.StatusOK || !strings.Contains(body, "物业")) {
		t.Errorf("GET %s = %d: %.300s", path, code, body)
	}
	for _, path := range []string{"/healthz", "/", "/login"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d: %.200s", path, code, body)
		}
	}

	checkAccessAudited(t, base, stdout.String(), dir)

	exported, stderr, code := run(t, nil, "", "export", "--data", dir)
	if code != 0 || strings.Count(exported, `"type":"company"`) < 30 {
		t.Errorf("export through the server's engine: exit %d, %d bytes, stderr %q", code, len(exported), stderr)
	}
	_, stderr, code = run(t, map[string]string{"PROPCREDIT_ADDR": freeAddr(t)}, "", "serve", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "in use by another propcredit process") {
		t.Errorf("second server: exit %d, stderr %q", code, stderr)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not shut down within 40s")
	}
	if code, _ := get(t, base+"/healthz"); code != 0 {
		t.Errorf("server still answers after shutdown: %d", code)
	}
	// The directory is free again, and the demo city is not loaded twice.
	out, stderr, code := run(t, nil, "", "tally", "--verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "agree") {
		t.Errorf("tallies after a clean stop: exit %d, %q %q", code, out, stderr)
	}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// checkAccessAudited logs in to the running demo server with a wrong password, then as the
// demo reviewer, and logs out; `audit export` reads the three entries through the server's
// engine, without a password.
func checkAccessAudited(t *testing.T, base, stdout, dir string) {
	t.Helper()
	_, rest, _ := strings.Cut(stdout, `name "reviewer", password "`)
	pw, _, _ := strings.Cut(rest, `"`)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, formPage string, form url.Values) int {
		t.Helper()
		resp, err := browser.Get(base + formPage)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfField.FindSubmatch(page)
		if m == nil {
			t.Fatalf("GET %s = %d: no CSRF field", formPage, resp.StatusCode)
		}
		form.Set("_csrf", string(m[1]))
		if resp, err = browser.PostForm(base+path, form); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/login", "/login", url.Values{"name": {"reviewer"}, "password": {"not-the-password"}}); code != http.StatusOK {
		t.Errorf("wrong password: %d", code)
	}
	if code := post("/login", "/login", url.Values{"name": {"reviewer"}, "password": {pw}}); code != http.StatusSeeOther {
		t.Errorf("log-in: %d", code)
	}
	if code := post("/logout", "/account/password", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("log-out: %d", code)
	}
	out, stderr, code := run(t, nil, "", "audit", "export", "--data", dir)
	if code != 0 {
		t.Fatalf("audit export: exit %d %s", code, stderr)
	}
	for _, want := range []string{`"action":"account.login_failed","object":"account/reviewer"`, `"actor":"reviewer","role":"reviewer"`,
		`"action":"account.login","object":"account/reviewer"`, `"action":"account.logout","object":"account/reviewer"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit export lacks %s:\n%s", want, out)
		}
	}
	if pw == "" || strings.Contains(out, pw) || strings.Contains(out, "not-the-password") {
		t.Errorf("audit export holds a password (or none was printed: %q)", pw)
	}
}
