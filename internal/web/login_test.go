package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
)

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "right-password")
	c := e.client()

	r := c.get("/account")
	wantStatus(t, r, http.StatusSeeOther)
	if r.location() != "/login?next=%2Faccount" {
		t.Errorf("anonymous /account redirects to %q", r.location())
	}

	r = c.login("zhang", "right-password")
	wantStatus(t, r, http.StatusSeeOther)
	if r.location() != "/account" {
		t.Errorf("after log-in, redirect to %q, want /account", r.location())
	}
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "pc_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/", session)
	}
	r = c.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "zhang", "住建局审核人员")
}

func TestLoginRotatesSession(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "pw-zhang")
	e.addAccount("li", domain.RoleAdmin, "", "pw-li")
	c := e.client()
	c.mustLogin("zhang", "pw-zhang")
	first := c.cookies["pc_session"]
	c.mustLogin("li", "pw-li")
	if c.cookies["pc_session"] == first {
		t.Fatal("log-in kept the old session token")
	}
	old := e.client()
	old.cookies["pc_session"] = first
	if r := old.get("/account"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the session before the second log-in still works: status %d", r.StatusCode)
	}
}

func TestLoginNext(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleAdmin, "", "pw")
	for next, want := range map[string]string{
		"/admin/accounts":        "/admin/accounts",
		"//evil.example/x":       "/account",
		"https://evil.example/":  "/account",
		"/\\evil.example":        "/account",
		"javascript:alert(1)":    "/account",
		"/account?tab=1#section": "/account?tab=1#section",
	} {
		c := e.client()
		token := c.csrf("/login?next=" + url.QueryEscape(next))
		r := c.post("/login", url.Values{"_csrf": {token}, "name": {"zhang"}, "password": {"pw"}, "next": {next}})
		wantStatus(t, r, http.StatusSeeOther)
		if r.location() != want {
			t.Errorf("next=%q: redirect to %q, want %q", next, r.location(), want)
		}
	}
}

func TestLoginFailure(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "right-password")
	for _, tc := range []struct{ name, pw string }{
		{"zhang", "wrong"},
		{"nobody", "right-password"},
		{"<script>", "x"},
		{"zhang", strings.Repeat("x", 10_000)},
	} {
		c := e.client()
		r := c.login(tc.name, tc.pw)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "用户名或密码错误")
		if strings.Contains(r.body, "<script>") {
			t.Errorf("the name %q is echoed unescaped", tc.name)
		}
		if _, ok := c.cookies["pc_session"]; ok {
			t.Errorf("%s/%s: failed log-in set a session cookie", tc.name, tc.pw[:min(len(tc.pw), 8)])
		}
	}
}

// A guesser is slowed and then locked out, but cannot lock the account's owner out: not on
// another client, and not on a browser the owner has logged in from before, even while a
// distributed guess has locked the account for every unknown client.
func TestLoginThrottleSlowsTheGuesserNotTheOwner(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "right-password")
	// Failures are counted in fixed 15-minute windows: start each phase at the start of one.
	toNextWindow := func() {
		now := e.clock.Now()
		e.clock.Advance(now.Truncate(15 * time.Minute).Add(15 * time.Minute).Sub(now))
	}
	toNextWindow()
	attacker := e.client()
	attacker.header.Set("X-Forwarded-For", "203.0.113.5")
	for range 3 { // the free tries
		r := attacker.login("zhang", "wrong")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "用户名或密码错误")
	}
	// Then each failure makes the next try wait: 2 s, 4 s, 8 s, ...
	for _, wait := range []string{"2", "4", "8", "16", "32"} {
		r := attacker.login("zhang", "wrong")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "用户名或密码错误。登录失败次数较多，请等待"+wait+"秒后再试")
		if got := r.Header.Get("Retry-After"); got != wait {
			t.Errorf("Retry-After = %q, want %s", got, wait)
		}
		wantStatus(t, attacker.login("zhang", "right-password"), http.StatusTooManyRequests) // too soon: not checked
		seconds, _ := strconv.Atoi(wait)
		e.clock.Advance(time.Duration(seconds) * time.Second) // as told
	}

	// The owner, on another client, is not slowed at all, and its browser becomes known.
	owner := e.client()
	owner.header.Set("X-Forwarded-For", "198.51.100.7")
	owner.mustLogin("zhang", "right-password")
	wantStatus(t, owner.post("/logout", url.Values{"_csrf": {owner.csrf("/account")}}), http.StatusSeeOther)

	// A guess spread over many addresses, each waiting as told, is slowed (10 free tries, then
	// waits of 1 s, 2 s, 4 s, ...) and after 20 failures locks the account for unknown clients.
	toNextWindow()
	for i := range 20 {
		bot := e.client()
		bot.header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i+1))
		r := bot.login("zhang", "wrong")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "用户名或密码错误")
		if wait, _ := strconv.Atoi(r.Header.Get("Retry-After")); i >= 10 && i < 19 && wait != 1<<(i-10) {
			t.Errorf("failure %d: Retry-After %d s, want %d", i+1, wait, 1<<(i-10))
		}
		if i < 19 {
			wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			e.clock.Advance(time.Duration(wait) * time.Second)
		}
	}
	stranger := e.client()
	stranger.header.Set("X-Forwarded-For", "198.51.100.99")
	r := stranger.login("zhang", "right-password")
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "登录失败次数过多，请在15分钟后再试")
	// ... but not for the owner's known browser, from any address.
	owner.header.Set("X-Forwarded-For", "203.0.113.5")
	owner.mustLogin("zhang", "right-password")

	// A forged device cookie is an unknown client.
	forger := e.client()
	forger.cookies["pc_device"] = "AAAAAAAAAAAAAAAAAAAAAA.00000000000000000000000000000000.zhang"
	wantStatus(t, forger.login("zhang", "right-password"), http.StatusTooManyRequests)

	e.clock.Advance(16 * time.Minute)
	stranger.mustLogin("zhang", "right-password")
}

func TestLoginLockoutPerAddress(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "right-password")
	attacker := e.client()
	attacker.header.Set("X-Forwarded-For", "203.0.113.5")
	for i := range 20 {
		r := attacker.login("user"+string(rune('a'+i)), "guess")
		wantStatus(t, r, http.StatusOK)
		if i == 19 {
			wantBody(t, r, "用户名或密码错误。登录失败次数过多，请在15分钟后再试")
		}
	}
	wantStatus(t, attacker.login("useru", "guess"), http.StatusTooManyRequests)
	wantStatus(t, attacker.login("zhang", "right-password"), http.StatusTooManyRequests)

	// A forged X-Forwarded-For entry to the left does not escape the lock: the address is
	// the right-most one that is not a trusted proxy.
	spoof := e.client()
	spoof.header.Set("X-Forwarded-For", "192.0.2.99, 203.0.113.5")
	wantStatus(t, spoof.login("zhang", "right-password"), http.StatusTooManyRequests)

	// Another address is not affected.
	owner := e.client()
	owner.header.Set("X-Forwarded-For", "198.51.100.7")
	owner.mustLogin("zhang", "right-password")
}

func TestSessionSharedAcrossServers(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "pw")
	second := e.newServer()

	a := e.client()
	a.mustLogin("zhang", "pw")
	// The same browser, its next request routed to the other server.
	b := e.clientOf(second)
	b.cookies = a.cookies
	r := b.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "zhang")

	// An anonymous form from one server posts to the other: the signing key is shared.
	anon := e.client()
	token := anon.csrf("/login")
	anon.s = second
	r = anon.post("/login", url.Values{"_csrf": {token}, "name": {"zhang"}, "password": {"pw"}})
	wantStatus(t, r, http.StatusSeeOther)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	c := e.user("zhang", domain.RoleReviewer, "")
	token := c.cookies["pc_session"]
	r := c.post("/logout", url.Values{"_csrf": {c.csrf("/account")}})
	wantStatus(t, r, http.StatusSeeOther)
	if _, ok := c.cookies["pc_session"]; ok {
		t.Error("log-out did not clear the session cookie")
	}
	// Replaying the old token: the session is gone from the database.
	replay := e.client()
	replay.cookies["pc_session"] = token
	wantStatus(t, replay.get("/account"), http.StatusSeeOther)
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.user("zhang", domain.RoleReviewer, "")
	// Used every 90 minutes, the session outlives the 2-hour idle limit...
	for range 7 {
		e.clock.Advance(90 * time.Minute)
		wantStatus(t, c.get("/account"), http.StatusOK)
	}
	// ... but not the 12-hour absolute one.
	e.clock.Advance(90 * time.Minute)
	wantStatus(t, c.get("/account"), http.StatusSeeOther)

	c.mustLogin("zhang", "pw")
	e.clock.Advance(sessionIdle + time.Minute)
	wantStatus(t, c.get("/account"), http.StatusSeeOther)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.addAccount("root", domain.RoleAdmin, "", "pw")
	ctx := context.Background()
	admin := e.client()
	ownAnon := admin.csrf("/login") // this browser's anonymous token, from before log-in
	admin.mustLogin("root", "pw")
	good := admin.csrf("/admin/accounts")
	other := e.client()
	otherToken := other.csrf("/login") // a valid anonymous token of another browser

	count := func() int {
		all, err := e.db.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	before := count()
	for name, token := range map[string]string{
		"missing":       "",
		"garbage":       "abc",
		"other browser": otherToken,
		"tampered":      tamper(good),
		"own anonymous": ownAnon,
	} {
		form := url.Values{"name": {"mallory"}, "role": {domain.RoleAdmin}}
		if token != "" {
			form.Set("_csrf", token)
		}
		r := admin.post("/admin/accounts", form)
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "表单已过期，请刷新页面后重试")
		if n := count(); n != before {
			t.Fatalf("%s token: the account was created anyway", name)
		}
	}
	// A valid token in the query string is refused: query strings end up in logs and Referers.
	r := admin.post("/admin/accounts?_csrf="+url.QueryEscape(good), url.Values{"name": {"mallory"}, "role": {domain.RoleAdmin}})
	wantStatus(t, r, http.StatusForbidden)
	if n := count(); n != before {
		t.Fatal("a query-string token created the account")
	}
	// A header works as well as the form field (for scripts on our pages).
	req := strings.NewReader(url.Values{"name": {"wang"}, "role": {domain.RoleEvaluator}}.Encode())
	r = admin.doRaw(http.MethodPost, "/admin/accounts", req, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": good})
	wantStatus(t, r, http.StatusCreated)

	// Anonymous forms: no token, no log-in.
	anon := e.client()
	anon.get("/login")
	r = anon.post("/login", url.Values{"name": {"root"}, "password": {"pw"}})
	wantStatus(t, r, http.StatusForbidden)
	if _, ok := anon.cookies["pc_session"]; ok {
		t.Error("log-in without a CSRF token set a session")
	}
	// A token without its cookie (a forged cross-site post) fails too.
	r = e.client().post("/login", url.Values{"_csrf": {otherToken}, "name": {"root"}, "password": {"pw"}})
	wantStatus(t, r, http.StatusForbidden)
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "pw")
	s, err := New(Config{DB: e.db, Log: e.s.log, Secure: true, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := e.clientOf(s)
	r := c.get("/login")
	if r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with Secure")
	}
	r = c.post("/login", url.Values{"_csrf": {csrfPattern.FindStringSubmatch(r.body)[1]}, "name": {"zhang"}, "password": {"pw"}})
	wantStatus(t, r, http.StatusSeeOther)
	found := false
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-pc_session" {
			found = ck.Secure && ck.HttpOnly
		}
	}
	if !found {
		t.Errorf("no Secure, HttpOnly __Host-pc_session cookie: %v", r.Header["Set-Cookie"])
	}
}

// tamper changes one character in the middle of a token. (Replacing its last characters is not
// enough: base64 ignores the unused bits of the last character, and "AA" decodes to the same
// byte whenever the last byte was zero, one time in 256.)
func tamper(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// Disabling an account ends its sessions at once and refuses its log-ins; enabling lets it
// back in. The refusal is said only after the right password.
func TestDisableAccount(t *testing.T) {
	e := newEnv(t)
	admin := e.user("root", domain.RoleAdmin, "")
	e.addAccount("zhang", domain.RoleReviewer, "", "right-password")
	phone, laptop := e.client(), e.client()
	phone.mustLogin("zhang", "right-password")
	laptop.mustLogin("zhang", "right-password")
	wantStatus(t, phone.get("/account"), http.StatusOK)

	accounts, err := e.db.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, a := range accounts {
		ids[a.Name] = a.ID
	}
	// An admin cannot disable the account it is using.
	r := admin.post("/admin/accounts/"+ids["root"]+"/disable", url.Values{"_csrf": {admin.csrf("/admin/accounts")}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "不能停用自己正在使用的账号")

	r = admin.post("/admin/accounts/"+ids["zhang"]+"/disable", url.Values{"_csrf": {admin.csrf("/admin/accounts")}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, admin.get("/admin/accounts"), "已停用")
	for _, c := range []*client{phone, laptop} {
		wantStatus(t, c.get("/account"), http.StatusSeeOther) // to the log-in page
	}
	wrong := e.client()
	r = wrong.login("zhang", "wrong-password")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "用户名或密码错误")
	r = phone.login("zhang", "right-password")
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "该账号已停用，请联系系统管理员")
	if _, ok := phone.cookies["pc_session"]; ok {
		t.Error("a disabled account got a session")
	}

	r = admin.post("/admin/accounts/"+ids["zhang"]+"/enable", url.Values{"_csrf": {admin.csrf("/admin/accounts")}})
	wantStatus(t, r, http.StatusSeeOther)
	phone.mustLogin("zhang", "right-password")
	// Only admins may do it.
	wantStatus(t, phone.post("/admin/accounts/"+ids["root"]+"/disable", url.Values{"_csrf": {phone.csrf("/account")}}), http.StatusForbidden)
}

// A password change ends the account's other sessions (ASVS 7.4.3): someone who knew the old
// password and logged in elsewhere is out, while the browser that changed it stays in.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "old-password-1")
	phone, laptop, other := e.client(), e.client(), e.client()
	phone.mustLogin("zhang", "old-password-1")
	laptop.mustLogin("zhang", "old-password-1")
	e.addAccount("li", domain.RoleReviewer, "", "li-password-1")
	other.mustLogin("li", "li-password-1")
	r := laptop.post("/account/password", url.Values{"_csrf": {laptop.csrf("/account/password")},
		"current": {"old-password-1"}, "new": {"a-long-new-password"}, "confirm": {"a-long-new-password"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, laptop.get("/account"), http.StatusOK)
	wantStatus(t, phone.get("/account"), http.StatusSeeOther) // to the log-in page
	wantStatus(t, other.get("/account"), http.StatusOK)       // another account keeps its session
}

// hookedDB is the database with what a test makes happen inside a request: an audit trail
// that refuses entries, as a full disk does (auditErr; internal/credit's brokenLedger does
// the same to the ledger), and an action of another person just before a session is created
// (beforeSession).
type hookedDB struct {
	*mongodb.DB
	auditErr      error
	beforeSession func()
}

func (h *hookedDB) AppendAudit(ctx context.Context, e audit.Entry) error {
	if h.auditErr != nil {
		return h.auditErr
	}
	return h.DB.AppendAudit(ctx, e)
}

func (h *hookedDB) CreateSession(ctx context.Context, s *domain.Session) (string, error) {
	if h.beforeSession != nil {
		h.beforeSession()
	}
	return h.DB.CreateSession(ctx, s)
}

// A log-in is in the audit trail before its session exists: when the trail cannot take the
// entry, nobody is logged in, and the person is told to try again later (503, in zh-CN and
// English), not shown an internal error. Once the trail works, the browser logs in, once in
// the trail.
func TestLoginNotAuditedStartsNoSession(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "pw")
	db := &hookedDB{DB: e.db, auditErr: errors.New("database or disk is full")}
	s := e.serverOn(db)
	phone, laptop := e.clientOf(s), e.clientOf(s).english()
	for _, tc := range []struct {
		c        *client
		password string
		want     string
	}{
		{phone, "pw", "暂时无法登录：登录记录未能写入审计日志，请稍后再试"},
		{laptop, "pw", "the log-in could not be recorded in the audit trail. Please try again later."},
		// A wrong password gets the same answer (it was a 500): nothing tells it apart.
		{phone, "wrong", "暂时无法登录：登录记录未能写入审计日志，请稍后再试"},
	} {
		r := tc.c.login("zhang", tc.password)
		wantStatus(t, r, http.StatusServiceUnavailable)
		wantBody(t, r, tc.want, `value="zhang"`)
		if r.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if _, ok := tc.c.cookies["pc_session"]; ok {
			t.Error("a log-in that is not in the audit trail got a session cookie")
		}
		wantStatus(t, tc.c.get("/account"), http.StatusSeeOther) // to the log-in page
	}
	if n, err := e.db.DeleteSessionsOf(context.Background(), "zhang"); err != nil || n != 0 {
		t.Errorf("%d sessions (%v) of log-ins that are not in the audit trail, want none", n, err)
	}
	if _, got := e.entriesOf(t, "account/zhang"); len(got) != 0 {
		t.Errorf("trail %q, want none", got)
	}

	db.auditErr = nil
	phone.mustLogin("zhang", "pw")
	wantStatus(t, phone.get("/account"), http.StatusOK)
	if _, got := e.entriesOf(t, "account/zhang"); strings.Join(got, ",") != "zhang reviewer account.login" {
		t.Errorf("trail %q, want the one log-in", got)
	}
}

// An account disabled while its log-in is under way, after the password was checked and before
// the session exists (so that the administrator's ending of its sessions misses this one), is
// refused when the log-in reads the account again; the refusal is in the trail, as a refusal
// of a disabled account always is.
func TestLoginOfAccountDisabledMeanwhile(t *testing.T) {
	e := newEnv(t)
	admin := e.user("root", domain.RoleAdmin, "")
	e.addAccount("zhang", domain.RoleReviewer, "", "pw")
	db := &hookedDB{DB: e.db}
	var disabled *response
	db.beforeSession = func() {
		db.beforeSession = nil
		disabled = admin.post("/admin/accounts/zhang/disable", url.Values{"_csrf": {admin.csrf("/admin/accounts")}})
	}
	phone := e.clientOf(e.serverOn(db))
	r := phone.login("zhang", "pw")
	if disabled == nil {
		t.Fatal("the log-in created no session")
	}
	wantStatus(t, disabled, http.StatusSeeOther)
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "该账号已停用，请联系系统管理员")
	if _, ok := phone.cookies["pc_session"]; ok {
		t.Error("the disabled account kept a session cookie")
	}
	if n, err := e.db.DeleteSessionsOf(context.Background(), "zhang"); err != nil || n != 0 {
		t.Errorf("%d sessions (%v) of the disabled account, want none", n, err)
	}
	entries, got := e.entriesOf(t, "account/zhang")
	want := "zhang reviewer account.login,root admin account.disable,anonymous anonymous account.login_failed"
	if strings.Join(got, ",") != want {
		t.Fatalf("trail of account/zhang:\n got %q\nwant %q", strings.Join(got, ","), want)
	}
	if !strings.Contains(entries[2].After, `"failure":"disabled"`) || !strings.Contains(entries[2].After, `"client":"`) {
		t.Errorf("the refusal's entry: %+v", entries[2])
	}
}

// The account page shows the account's newest accountHistoryLimit entries, oldest first, as
// every object's history does.
func TestAccountHistoryShowsTheNewest(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleReviewer, "", "pw")
	log := audit.New(e.db, e.clock.Now)
	for i := 1; i <= accountHistoryLimit+5; i++ {
		e.clock.Advance(time.Minute)
		ch := audit.Change{Action: "account.test", Object: "account/zhang", Reason: "step-" + strconv.Itoa(100+i)}
		if err := log.Record(context.Background(), audit.Actor{Name: "root", Role: domain.RoleAdmin}, ch); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Minute)
	r := e.loggedIn("zhang").get("/account") // the log-in is the newest entry
	wantStatus(t, r, http.StatusOK)
	at := -1
	for i := 1; i <= accountHistoryLimit+5; i++ {
		step := "step-" + strconv.Itoa(100+i)
		switch next := strings.Index(r.body, step); {
		case i <= 6 && next >= 0:
			t.Errorf("%s, older than the newest %d entries, is shown", step, accountHistoryLimit)
		case i > 6 && next <= at:
			t.Errorf("%s is not shown after the entries before it (at %d, previous at %d)", step, next, at)
		case i > 6:
			at = next
		}
	}
	if login := strings.Index(r.body, "<code>account.login</code>"); login <= at {
		t.Errorf("the log-in, the newest entry, is not shown last (at %d, previous at %d)", login, at)
	}
}
