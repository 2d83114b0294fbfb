package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
)

func TestNotFoundPages(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.get("/no/such/page")
	wantStatus(t, r, http.StatusNotFound)
	wantBody(t, r, `<html lang="zh-CN">`, "页面不存在", "返回首页")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if strings.Contains(r.body, "Cannot GET") {
		t.Error("Fiber's own message leaked into the page")
	}

	en := e.client()
	en.header.Set("Accept-Language", "en-US,en;q=0.9,zh-CN;q=0.8")
	r = en.get("/no/such/page")
	wantStatus(t, r, http.StatusNotFound)
	wantBody(t, r, `<html lang="en">`, "Page not found")

	// A Chinese browser that also reads English stays in Chinese.
	zh := e.client()
	zh.header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
	wantBody(t, zh.get("/nope"), "页面不存在")

	// ?lang=en is remembered.
	pick := e.client()
	wantBody(t, pick.get("/?lang=en"), `<html lang="en">`)
	wantBody(t, pick.get("/nope"), "Page not found")
	wantBody(t, pick.get("/?lang=zh"), `<html lang="zh-CN">`)
	wantBody(t, pick.get("/"), `<html lang="zh-CN">`)

	r = c.get("/api/nope")
	wantStatus(t, r, http.StatusNotFound)
	var body struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("API 404 is not JSON: %v\n%s", err, r.body)
	}
	if body.Error != "页面不存在" || body.RequestID == "" || body.RequestID != r.Header.Get("X-Request-ID") {
		t.Errorf("API 404 body = %+v (X-Request-ID %q)", body, r.Header.Get("X-Request-ID"))
	}

	r = c.do(http.MethodDelete, "/", nil)
	wantStatus(t, r, http.StatusMethodNotAllowed)
	wantBody(t, r, "不支持该请求方法")
}

// Fiber rejects a body over the limit before any handler runs, and app.Test reports that as
// an error instead of a response, so this test goes through a real listener on loopback.
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.s.App().Listener(ln) }()
	t.Cleanup(func() { _ = e.s.Shutdown(context.Background()) })

	// Announce a body over the limit and send none of it: the server must answer from the
	// headers alone (a client that insists on writing the body gets its connection reset).
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", BodyLimit+1)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	resp.Request = httptest.NewRequest(http.MethodPost, "/login", nil)
	r := &response{Response: resp, body: string(b)}
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	wantBody(t, r, "提交的内容太大", `<html lang="zh-CN">`)
	if r.Header.Get("Content-Security-Policy") == "" {
		t.Error("the 413 page has no CSP")
	}
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t)
	fail := func(err error) fiber.Handler { return func(*fiber.Ctx) error { return err } }
	e.s.handle(fiber.MethodGet, "/test/invalid", Public, fail(derrors.FieldErrors("表单有误", map[string]string{"name": "名称<必填>"})))
	e.s.handle(fiber.MethodGet, "/test/conflict", Public, fail(derrors.Errorf(derrors.Conflict, "已存在")))
	e.s.handle(fiber.MethodGet, "/test/unavailable", Public, fail(derrors.Errorf(derrors.Unavailable, "database does not answer: secret detail")))
	e.s.handle(fiber.MethodGet, "/test/limited", Public, fail(RateLimited("慢一点", 90_000_000_000)))
	e.s.handle(fiber.MethodGet, "/test/internal", Public, fail(context.DeadlineExceeded))
	e.s.handle(fiber.MethodGet, "/api/test/invalid", Public, fail(derrors.FieldErrors("表单有误", map[string]string{"name": "名称必填"})))
	c := e.client()
	for _, tc := range []struct {
		path   string
		status int
		want   []string
		hidden string
	}{
		{"/test/invalid", 400, []string{"表单有误", "名称&lt;必填&gt;"}, "名称<必填>"},
		{"/test/conflict", 409, []string{"已存在"}, ""},
		{"/test/unavailable", 503, []string{"服务暂时不可用"}, "secret detail"},
		{"/test/limited", 429, []string{"慢一点"}, ""},
		{"/test/internal", 500, []string{"服务器内部错误", "请求编号"}, "deadline"},
		{"/api/test/invalid", 400, []string{`"fields":{"name":"名称必填"}`, `"error":"表单有误"`}, ""},
	} {
		r := c.get(tc.path)
		wantStatus(t, r, tc.status)
		wantBody(t, r, tc.want...)
		if tc.hidden != "" && strings.Contains(r.body, tc.hidden) {
			t.Errorf("%s shows %q", tc.path, tc.hidden)
		}
	}
	if r := c.get("/test/limited"); r.Header.Get("Retry-After") != "90" {
		t.Errorf("Retry-After = %q, want 90", r.Header.Get("Retry-After"))
	}
	if r := c.get("/test/internal"); !strings.Contains(r.body, r.Header.Get("X-Request-ID")) {
		t.Error("the 500 page does not show the request id")
	}
}

func TestPanicPage(t *testing.T) {
	e := newEnv(t)
	e.s.handle(fiber.MethodGet, "/test/crash", Public, func(*fiber.Ctx) error {
		panic("boom: secret internals")
	})
	r := e.client().get("/test/crash")
	wantStatus(t, r, http.StatusInternalServerError)
	wantBody(t, r, "服务器内部错误", r.Header.Get("X-Request-ID"))
	for _, leak := range []string{"boom", "secret", "goroutine", "runtime/", ".go:"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("the 500 page shows %q", leak)
		}
	}
	// The server is still alive.
	wantStatus(t, e.client().get("/healthz"), http.StatusOK)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	nonceRE := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'`)
	var nonces []string
	for _, path := range []string{"/", "/", "/nope", "/static/site.css", "/api/nope"} {
		r := c.get(path)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'",
			"form-action 'self'", "object-src 'none'", "base-uri 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "script-src 'self' 'unsafe-inline'") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows inline scripts or other hosts", path, csp)
		}
		m := nonceRE.FindStringSubmatch(csp)
		if m == nil {
			t.Fatalf("%s: CSP %q has no script nonce", path, csp)
		}
		nonces = append(nonces, m[1])
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
		if path != "/static/site.css" && r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", path, r.Header.Get("Cache-Control"))
		}
		if r.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without Secure", path)
		}
	}
	if nonces[0] == nonces[1] {
		t.Error("two requests got the same CSP nonce")
	}
	// No page loads anything from another host.
	for _, path := range []string{"/", "/login"} {
		if strings.Contains(c.get(path).body, "//") && regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(c.get(path).body) {
			t.Errorf("%s refers to another host", path)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if r.body != "ok" {
		t.Errorf("healthz body %q", r.body)
	}
	wantStatus(t, c.get("/readyz"), http.StatusOK)

	if err := e.db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, c.get("/healthz"), http.StatusOK)
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.get("/static/site.css")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("site.css Content-Type = %q", ct)
	}
	r = c.get("/favicon.ico")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "<svg")
	for _, p := range []string{"/static/", "/static/nope.css", "/static/../templates/layout.html", "/static/%2e%2e/templates/layout.html"} {
		if r := c.get(p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, r.StatusCode)
		}
	}
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	e := newEnv(t)
	started := make(chan struct{})
	e.s.handle(fiber.MethodGet, "/test/slow", Public, func(c *fiber.Ctx) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return c.SendString("finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.s.App().Listener(ln) }()
	base := "http://" + ln.Addr().String()

	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/test/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{string(b), err}
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if r := <-slow; r.err != nil || r.body != "finished" {
		t.Errorf("request in flight during shutdown: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Listener returned %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still takes requests after Shutdown")
	}
}
