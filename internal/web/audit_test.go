package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/domain"
)

// entriesOf reads the trail of object, oldest first, as "actor role action".
func (e *testEnv) entriesOf(t *testing.T, object string) ([]audit.Entry, []string) {
	t.Helper()
	entries, err := audit.New(e.db, nil).Entries(context.Background(), audit.Filter{Object: object})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		got = append(got, en.Actor+" "+en.Role+" "+en.Action)
	}
	return entries, got
}

// Log-ins, failed log-ins, log-outs and password changes are in the trail: never a password; a
// failed log-in's name only when it names an account, and the client's salted hash. An
// administrator finds them at /admin/audit.
func TestAccessAudited(t *testing.T) {
	e := newEnv(t)
	e.addAccount("zhang", domain.RoleCompany, testCompany, "pw")
	e.addAccount("root", domain.RoleAdmin, "", "pw")
	c := e.client()
	wantStatus(t, c.login("zhang", "guess-one"), http.StatusOK)
	wantStatus(t, c.login("secret-typed-as-name", "pw"), http.StatusOK)
	c.mustLogin("zhang", "pw")
	r := c.post("/account/password", url.Values{"_csrf": {c.csrf("/account/password")}, "current": {"pw"}, "new": {"new-passphrase-7"}, "confirm": {"new-passphrase-7"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, c.post("/logout", url.Values{"_csrf": {c.csrf("/account")}}), http.StatusSeeOther)

	entries, got := e.entriesOf(t, "account/zhang")
	want := "anonymous anonymous account.login_failed,zhang company account.login,zhang company account.password,zhang company account.logout"
	if strings.Join(got, ",") != want {
		t.Fatalf("trail of account/zhang:\n got %q\nwant %q", strings.Join(got, ","), want)
	}
	if !strings.Contains(entries[0].After, `"failure":"wrong_password"`) || !strings.Contains(entries[0].After, `"client":"`) || entries[0].Company != testCompany {
		t.Errorf("failed log-in: %+v", entries[0])
	}
	unknown, got := e.entriesOf(t, "account/~unknown")
	if len(unknown) != 1 || got[0] != "anonymous anonymous account.login_failed" || !strings.Contains(unknown[0].After, `"name_hash":"`) {
		t.Errorf("log-in with an unknown name: %v %+v", got, unknown)
	}
	all, err := audit.New(e.db, nil).Entries(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range all {
		for _, secret := range []string{"guess-one", "secret-typed-as-name", "new-passphrase-7", `"pw"`} {
			if strings.Contains(en.Before+en.After+en.Reason+en.Object, secret) {
				t.Errorf("entry %s %s holds %q", en.Action, en.Object, secret)
			}
		}
	}

	// The account's own page shows its log-ins, the failed one included.
	c.mustLogin("zhang", "new-passphrase-7")
	wantBody(t, c.get("/account"), `id="history"`, "account.login_failed", "wrong_password", "account.password", "account.logout")

	root := e.loggedIn("root")
	page := root.get("/admin/audit?object=account/zhang")
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "account.login_failed", "account.login", "account.password", "account.logout")
	export := root.get("/admin/audit/export?format=jsonl&object=account/~unknown")
	wantStatus(t, export, http.StatusOK)
	wantBody(t, export, `"action":"account.login_failed"`, "name_hash")
}

// A filing through the API is audited as the company account that issued the token, naming
// the token; the filing's pages (the company's form and the reviewer's review) show its trail.
func TestDisclosureFilingHistory(t *testing.T) {
	e := newDiscEnv(t)
	company, token := e.issueToken(t)
	body := `{"period":"2031Q4","estate":"e1","category":"fees","data":` + storedJSON(t, "fees", discRows["fees"]) + `}`
	r := e.client().doRaw(http.MethodPost, "/api/v1/disclosures", strings.NewReader(body),
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token})
	wantStatus(t, r, http.StatusCreated)
	reviewer := e.loggedIn("reviewer1")
	wantStatus(t, reviewer.decide("fees", 1, 1, "verified", ""), http.StatusSeeOther)

	entries, got := e.entriesOf(t, "disclosure/2031Q4|e1|fees")
	if strings.Join(got, ",") != "wanrun company disclosure.file,reviewer1 reviewer disclosure.review" {
		t.Fatalf("trail %q", got)
	}
	f, _ := e.current("2031Q4", "e1", "fees")
	ref := strings.TrimPrefix(f.FiledBy, "token ")
	if !strings.Contains(entries[0].After, `"source":"api"`) || !strings.Contains(entries[0].After, `"token":"`+ref+`"`) || entries[0].Company != testCompany {
		t.Errorf("API filing entry %+v", entries[0])
	}
	for _, page := range []*response{company.get(formPath + "fees"), reviewer.get("/review/disclosures/2031Q4/e1/fees")} {
		wantStatus(t, page, http.StatusOK)
		wantBody(t, page, `id="history"`, "操作记录", "disclosure.file", ref, "disclosure.review", "reviewer1")
	}
	e.addAccount("root", domain.RoleAdmin, "", "pw")
	root := e.loggedIn("root")
	wantBody(t, root.get("/admin/audit?actor=wanrun"), "disclosure.file", ref, "token.issue")
	wantBody(t, root.get("/admin/audit/export?format=csv&actor=wanrun"), "disclosure.file", ref)
}
