package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testEnv struct {
	t     testing.TB
	db    *mongodb.DB
	clock *clock
	s     *Server
}

// newEnv starts a server on a fresh database. The test connection's peer address (0.0.0.0)
// is a trusted proxy, so tests choose client addresses with X-Forwarded-For.
func newEnv(t testing.TB) *testEnv {
	t.Helper()
	db := mongodbtest.NewDB(t)
	e := &testEnv{t: t, db: db, clock: newClock()}
	e.s = e.newServer()
	return e
}

func (e *testEnv) newServer() *Server {
	e.t.Helper()
	return e.serverOn(e.db)
}

// serverOn starts another server on db: e.db itself, or e.db with hooks (hookedDB).
func (e *testEnv) serverOn(db Store) *Server {
	e.t.Helper()
	s, err := New(Config{DB: db, Log: mongodbtest.Quiet(), TrustedProxies: []string{"0.0.0.0"}, Now: e.clock.Now,
		PublicURL: testPublicURL, LedgerKey: testLedgerKey})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// testPublicURL is the site address the test server prints on code slips. It differs from the
// Host of test requests (example.com), so a slip that used the Host header would show.
const testPublicURL = "https://wy.example.gov.cn"

const (
	testCompany  = "91440300MA5D000001"
	otherCompany = "91440300MA5D000002"
)

// addAccount stores an account with password pw.
func (e *testEnv) addAccount(name, role, company, pw string) {
	e.t.Helper()
	h, err := auth.HashPassword(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	a := domain.Account{Name: name, Role: role, Company: company, PasswordHash: h, CreatedAt: e.clock.Now()}
	if err := e.db.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) setClock(t time.Time) {
	e.clock.mu.Lock()
	defer e.clock.mu.Unlock()
	e.clock.t = t
}

// loggedIn returns a client logged in as name, whose password is "pw".
func (e *testEnv) loggedIn(name string) *client {
	e.t.Helper()
	c := e.client()
	c.mustLogin(name, "pw")
	return c
}

// user adds an account whose password is "pw" and returns a client logged in as it.
func (e *testEnv) user(name, role, company string) *client {
	e.t.Helper()
	e.addAccount(name, role, company, "pw")
	return e.loggedIn(name)
}

// client is a browser: it keeps cookies and sends them back.
type client struct {
	t       testing.TB
	s       *Server
	cookies map[string]string
	header  http.Header // sent with every request
}

func (e *testEnv) client() *client { return e.clientOf(e.s) }

func (e *testEnv) clientOf(s *Server) *client {
	return &client{t: e.t, s: s, cookies: map[string]string{}, header: http.Header{}}
}

// english makes the client ask for English pages, as a browser set to English does.
func (c *client) english() *client {
	c.header.Set("Accept-Language", "en")
	return c
}

type response struct {
	*http.Response
	body string
}

func (r *response) location() string { return r.Header.Get("Location") }

func (c *client) get(path string) *response { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) *response {
	return c.do(http.MethodPost, path, form)
}

func (c *client) do(method, path string, form url.Values) *response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) *response {
	c.t.Helper()
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, err := c.s.App().Test(req, 30_000)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		// Expiry is judged by the server's clock, which tests set, not the machine's.
		if ck.Value == "" || ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(c.s.now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return &response{Response: resp, body: string(b)}
}

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf fetches path and returns the CSRF token of its first form.
func (c *client) csrf(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfPattern.FindStringSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("GET %s (%d): no CSRF token in the page", path, r.StatusCode)
	}
	return m[1]
}

// login logs in through the form and returns the response to the POST.
func (c *client) login(name, pw string) *response {
	c.t.Helper()
	return c.post("/login", url.Values{"_csrf": {c.csrf("/login")}, "name": {name}, "password": {pw}})
}

func (c *client) mustLogin(name, pw string) {
	c.t.Helper()
	if r := c.login(name, pw); r.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("log-in as %s: status %d, want 303\n%s", name, r.StatusCode, r.body)
	}
}

func wantStatus(t testing.TB, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, want, r.body)
	}
}

func wantBody(t testing.TB, r *response, substrings ...string) {
	t.Helper()
	for _, s := range substrings {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL, s, r.body)
		}
	}
}

func (c *client) doRaw(method, path string, body io.Reader, header map[string]string) *response {
	c.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}
