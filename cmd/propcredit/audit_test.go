package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
)

// Commands that change data are audited as the operating system's user; audit export writes
// the trail as JSON Lines, from --since on.
func TestAuditExport(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"PROPCREDIT_DATA": data, "USER": "ops"}
	file := writeFile(t, "city.jsonl", goodLines)
	before := time.Now()
	if _, stderr, code := run(t, env, "", "import", file); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if _, stderr, code := run(t, env, "", "user", "add", "--role", "company", "--name", "wanrun", "--company", "91440300MA5D000001"); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	if _, stderr, code := run(t, env, "", "token", "issue", "--company", "91440300MA5D000001", "--name", "财务系统"); code != 0 {
		t.Fatalf("token issue: %s", stderr)
	}
	out, stderr, code := run(t, env, "", "audit", "export")
	if code != 0 || !strings.Contains(stderr, "exported 3 audit entries") {
		t.Fatalf("audit export: exit %d %s", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if e.Actor != "cli:ops" || e.Role != "cli" || e.At.Before(before.Add(-time.Second)) {
			t.Errorf("entry %+v", e)
		}
		got = append(got, e.Action+" "+e.Object)
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "data.import import/") || got[1] != "account.create account/wanrun" || !strings.HasPrefix(got[2], "token.issue token/tok_") {
		t.Errorf("entries %q", got)
	}
	// --since after both: nothing.
	since := time.Now().Add(time.Minute).Format(time.RFC3339)
	out, _, code = run(t, env, "", "audit", "export", "--since", since)
	if code != 0 || out != "" {
		t.Errorf("--since %s: exit %d, %q", since, code, out)
	}
	if _, stderr, code := run(t, env, "", "audit", "export", "--since", "yesterday"); code != 2 || !strings.Contains(stderr, "--since") {
		t.Errorf("bad --since: exit %d %q", code, stderr)
	}
	if _, _, code := run(t, env, "", "audit", "purge"); code != 2 {
		t.Errorf("audit purge: exit %d, want 2 (there is no such thing)", code)
	}
}

// publish opens publicity; publish --final refuses, saying why, while it runs and to the
// person who published; each step is audited under the operating system's user.
func TestPublishFinalRefusals(t *testing.T) {
	dir := t.TempDir()
	ops := map[string]string{"PROPCREDIT_DATA": dir, "USER": "ops"}
	boss := map[string]string{"PROPCREDIT_DATA": dir, "USER": "boss"}
	if _, stderr, code := run(t, ops, "", "import", writeFile(t, "city.jsonl", handCity)); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if _, stderr, code := run(t, ops, "", "publish", "--period", "2026Q3", "--final"); code != 1 || !strings.Contains(stderr, "no publication") {
		t.Errorf("final with nothing published: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, ops, "", "score", "--period", "2026Q3"); code != 0 {
		t.Fatalf("score: %s", stderr)
	}
	out, stderr, code := run(t, ops, "", "publish", "--period", "2026Q3")
	if code != 0 || !strings.Contains(out, "publicity until") {
		t.Fatalf("publish: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := run(t, ops, "", "publish", "--period", "2026Q3", "--final"); code != 1 || !strings.Contains(stderr, "cannot also approve") {
		t.Errorf("final by the publisher: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, boss, "", "publish", "--period", "2026Q3", "--final"); code != 1 || !strings.Contains(stderr, "the publicity runs until") {
		t.Errorf("final during publicity: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, ops, "", "publish", "--period", "2026Q3", "--publicity-days", "0"); code != 2 || !strings.Contains(stderr, "--publicity-days") {
		t.Errorf("zero publicity days: exit %d %q", code, stderr)
	}
	out, _, _ = run(t, ops, "", "audit", "export", "--object", "period/2026Q3")
	if !strings.Contains(out, `"actor":"cli:ops"`) || !strings.Contains(out, `"action":"results.publish"`) {
		t.Errorf("audit of the publication: %s", out)
	}
}

// checkAccessAudited logs in to the running demo server with a wrong password, then as the
// demo reviewer, changes the password and logs out; `audit export` reads the entries (and the
// demo account's creation) through the server's engine, without a password.
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
		_, token, found := strings.Cut(string(page), `name="_csrf" value="`)
		token, _, _ = strings.Cut(token, `"`)
		if !found {
			t.Fatalf("GET %s = %d: no CSRF field", formPage, resp.StatusCode)
		}
		form.Set("_csrf", token)
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
	if code := post("/account/password", "/account/password", url.Values{"current": {pw}, "new": {"demo-passphrase-9"}, "confirm": {"demo-passphrase-9"}}); code != http.StatusSeeOther {
		t.Errorf("password change: %d", code)
	}
	if code := post("/logout", "/account", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("log-out: %d", code)
	}
	out, stderr, code := run(t, nil, "", "audit", "export", "--data", dir)
	if code != 0 {
		t.Fatalf("audit export: exit %d %s", code, stderr)
	}
	for _, want := range []string{`"action":"account.create","object":"account/reviewer"`,
		`"action":"account.login_failed","object":"account/reviewer"`, `"actor":"reviewer","role":"reviewer"`,
		`"action":"account.login","object":"account/reviewer"`, `"action":"account.password","object":"account/reviewer"`,
		`"action":"account.logout","object":"account/reviewer"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit export lacks %s:\n%s", want, out)
		}
	}
	if pw == "" || strings.Contains(out, pw) || strings.Contains(out, "not-the-password") || strings.Contains(out, "demo-passphrase-9") {
		t.Errorf("audit export holds a password (or none was printed: %q)", pw)
	}
}
