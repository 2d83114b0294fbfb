package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/domain"
)

func TestAdminCreatesAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.db.Import(ctx, &domain.Dataset{Companies: []domain.Company{{ID: testCompany, Name: "万润物业"}}}, nil); err != nil {
		t.Fatal(err)
	}
	admin := e.user("root", domain.RoleAdmin, "")

	create := func(form url.Values) *response {
		form.Set("_csrf", admin.csrf("/admin/accounts"))
		return admin.post("/admin/accounts", form)
	}
	r := create(url.Values{"name": {"wanrun"}, "role": {domain.RoleCompany}, "company": {strings.ToLower(testCompany)}})
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, "账号“wanrun”已创建")
	m := regexp.MustCompile(`<code>([^<]+)</code>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no one-time password shown:\n%s", r.body)
	}
	password := m[1]
	if len(password) != 16 {
		t.Errorf("one-time password %q", password)
	}
	// Shown once: the list does not show it again, and the database has only its hash.
	r = admin.get("/admin/accounts")
	wantBody(t, r, "wanrun", testCompany, "物业服务企业")
	if strings.Contains(r.body, password) {
		t.Error("the one-time password is shown a second time")
	}
	stored, err := e.db.AccountByName(ctx, "wanrun")
	if err != nil || stored.Company != testCompany || strings.Contains(stored.PasswordHash, password) {
		t.Errorf("stored account = %+v, %v", stored, err)
	}

	// The new account logs in with it and must first choose its own password: every page
	// sends it to the change-password form, every form is refused.
	user := e.client()
	r = user.login("wanrun", password)
	if r.StatusCode != http.StatusSeeOther || r.location() != "/account/password" {
		t.Fatalf("log-in with a one-time password: %d to %q, want 303 to /account/password", r.StatusCode, r.location())
	}
	if r = user.get("/company/disclosures"); r.location() != "/account/password" {
		t.Errorf("with a one-time password, /company/disclosures answers %d %q", r.StatusCode, r.location())
	}
	changeForm := func(current, next, again string) url.Values {
		return url.Values{"_csrf": {user.csrf("/account/password")}, "current": {current}, "new": {next}, "confirm": {again}}
	}
	for _, tc := range []struct{ current, next, again, want string }{
		{password, "short", "short", "至少需要8位"},
		{password, "password", "password", "最常见的密码之一"},
		{password, password, password, "不能与当前密码相同"},
		{password, "a-long-new-password", "a-long-new-passwore", "两次输入的新密码不一致"},
		{"wrong", "a-long-new-password", "a-long-new-password", "当前密码不正确"},
	} {
		r = user.post("/account/password", changeForm(tc.current, tc.next, tc.again))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, tc.want)
	}
	wantStatus(t, user.post("/account/password", changeForm(password, "a-long-new-password", "a-long-new-password")), http.StatusSeeOther)
	// The one-time password is spent; the new one works, with no more detours.
	if r := e.client().login("wanrun", password); r.StatusCode == http.StatusSeeOther {
		t.Error("the one-time password still logs in")
	}
	user = e.client()
	r = user.login("wanrun", "a-long-new-password")
	if r.StatusCode != http.StatusSeeOther || r.location() != "/account" {
		t.Errorf("log-in with the new password: %d to %q", r.StatusCode, r.location())
	}
	// It sees its company and cannot administer.
	wantBody(t, user.get("/account"), "万润物业", testCompany)
	wantStatus(t, user.get("/admin/accounts"), http.StatusForbidden)

	for _, tc := range []struct {
		form   url.Values
		status int
		want   string
	}{
		{url.Values{"name": {"wanrun"}, "role": {domain.RoleReviewer}}, http.StatusConflict, "账号名“wanrun”已被使用"},
		{url.Values{"name": {"bad name"}, "role": {domain.RoleReviewer}}, http.StatusUnprocessableEntity, "只能包含字母"},
		{url.Values{"name": {"x"}, "role": {"owner"}}, http.StatusUnprocessableEntity, "role必须是"},
		{url.Values{"name": {"y"}, "role": {domain.RoleCompany}}, http.StatusUnprocessableEntity, "company"},
		{url.Values{"name": {"z"}, "role": {domain.RoleCompany}, "company": {otherCompany}}, http.StatusUnprocessableEntity, "企业不存在"},
	} {
		r := create(tc.form)
		wantStatus(t, r, tc.status)
		wantBody(t, r, tc.want)
	}
	all, _ := e.db.Accounts(ctx)
	if len(all) != 2 {
		t.Errorf("%d accounts after the failed attempts, want 2", len(all))
	}
}

// Untrusted text (here a company name from an import) is escaped wherever it appears.
func TestHostileTextIsEscaped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	evil := `x</script><script>alert(1)</script>"'`
	if _, err := e.db.Import(ctx, &domain.Dataset{Companies: []domain.Company{{ID: testCompany, Name: evil}}}, nil); err != nil {
		t.Fatal(err)
	}
	c := e.user("wanrun", domain.RoleCompany, testCompany)
	r := c.get("/account")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<script>") {
		t.Errorf("company name rendered unescaped:\n%s", r.body)
	}
	wantBody(t, r, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

func TestPagesRenderInBothLanguages(t *testing.T) {
	e := newEnv(t)
	e.addAccount("root", domain.RoleAdmin, "", "pw")
	for _, lang := range []string{"zh", "en"} {
		c := e.client()
		c.get("/?lang=" + lang)
		c.mustLogin("root", "pw")
		for _, path := range []string{"/", "/login", "/account", "/admin/accounts"} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			wantBody(t, r, `<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`href="/static/site.css"`, T(lang, "site.name"), T(lang, "nav.logout"))
		}
	}
	anon := e.client()
	wantBody(t, anon.get("/"), "物业服务企业信用评价与红黑榜", `href="/login"`, `action="/search"`, `action="/receipt"`)
}

func TestMessagesComplete(t *testing.T) {
	for _, k := range messageKeys() {
		m := messages[k]
		if strings.TrimSpace(m.ZH) == "" || strings.TrimSpace(m.EN) == "" {
			t.Errorf("message %q lacks a language: %+v", k, m)
		}
		if strings.Count(m.ZH, "%") != strings.Count(m.EN, "%") {
			t.Errorf("message %q: the languages take different arguments", k)
		}
	}
	for _, r := range domain.Roles {
		if _, ok := messages["role."+r]; !ok {
			t.Errorf("no label for role %s", r)
		}
	}
	if got := T(domain.LangEN, "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key = %q", got)
	}
}

// TestRequestStrings: the functions that read a string a request brings, each with its table.
func TestRequestStrings(t *testing.T) {
	for _, fn := range []struct {
		name  string
		f     func(string) string
		cases map[string]string
	}{
		{"localPath", localPath, map[string]string{
			"":                   "",
			"/":                  "/",
			"/account":           "/account",
			"/a?b=c":             "/a?b=c",
			"//evil.example":     "",
			"/\\evil.example":    "",
			"\\\\evil.example":   "",
			"https://evil.ex/":   "",
			"evil.example":       "",
			"/a\nLocation: x":    "",
			"javascript:alert()": "",
		}},
		{"preferredLanguage", preferredLanguage, map[string]string{
			"":                               "",
			"en":                             "en",
			"EN-us,zh;q=0.5":                 "en-us",
			"zh-CN,zh;q=0.9,en;q=0.8":        "zh-cn",
			"zh;q=0.1, en-GB;q=0.9":          "en-gb",
			"fr, en;q=0.9":                   "fr",
			"*;q=0.1, en;q=oops":             "en",
			"en;q=0.5, zh-TW;q=0.5, de;q=.1": "en",
		}},
	} {
		for in, want := range fn.cases {
			if got := fn.f(in); got != want {
				t.Errorf("%s(%q) = %q, want %q", fn.name, in, got, want)
			}
		}
	}
}

func TestClientIP(t *testing.T) {
	e := newEnv(t)
	s, err := New(Config{DB: e.db, Log: e.s.log, TrustedProxies: []string{"0.0.0.0", "10.0.0.0/8"}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	s.handle("GET", "/test/ip", Public, func(c *fiber.Ctx) error { got = ClientIP(c); return nil })
	for xff, want := range map[string]string{
		"":                                  "0.0.0.0",
		"203.0.113.5":                       "203.0.113.5",
		"192.0.2.1, 203.0.113.5":            "203.0.113.5", // the left entry is the client's own claim
		"203.0.113.5, 10.1.2.3":             "203.0.113.5", // a second proxy of ours
		"garbage, 203.0.113.5":              "203.0.113.5",
		"203.0.113.5, garbage":              "0.0.0.0",
		"[2001:db8::1]:443":                 "2001:db8::1",
		"::ffff:203.0.113.9, 10.0.0.1":      "203.0.113.9",
		"10.0.0.1, 10.0.0.2":                "10.0.0.1",
		"203.0.113.5,198.51.100.1,10.0.0.9": "198.51.100.1",
	} {
		c := e.clientOf(s)
		if xff != "" {
			c.header.Set("X-Forwarded-For", xff)
		}
		c.get("/test/ip")
		if got != want {
			t.Errorf("X-Forwarded-For %q: ClientIP = %q, want %q", xff, got, want)
		}
	}
	if _, err := New(Config{DB: e.db, TrustedProxies: []string{"not-an-ip"}}); err == nil {
		t.Error("New accepted a malformed trusted proxy")
	}
}
