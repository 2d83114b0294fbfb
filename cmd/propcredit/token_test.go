package main

import (
	"context"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestTokenIssueListRevoke(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := run(t, nil, "", "import", "--data", dir, writeFile(t, "city.jsonl", goodLines)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	const company = "91440300MA5D000001"
	stdout, stderr, code := run(t, nil, "", "token", "issue", "--data", dir, "--company", strings.ToLower(company), "--name", "财务系统")
	if code != 0 {
		t.Fatalf("issue: exit %d: %s", code, stderr)
	}
	token := strings.TrimSpace(stdout)
	if !strings.HasPrefix(token, "pct_") || strings.Contains(token, "\n") || !strings.Contains(stderr, "shown only this once") {
		t.Fatalf("issue printed %q, %q", stdout, stderr)
	}

	// The token works, and only its hash is stored: the listing does not show it.
	store, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: dir, Log: mongodbtest.Quiet()}, app.Shared, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.DB.AuthenticateToken(context.Background(), token)
	store.Close(context.Background())
	if err != nil || got.Company != company {
		t.Fatalf("AuthenticateToken = %+v, %v", got, err)
	}
	stdout, _, code = run(t, nil, "", "token", "list", "--data", dir, "--company", company)
	if code != 0 || !strings.Contains(stdout, got.Ref) || !strings.Contains(stdout, "active\t财务系统") || strings.Contains(stdout, token) {
		t.Errorf("list: exit %d:\n%s", code, stdout)
	}
	if _, stderr, code := run(t, nil, "", "token", "revoke", "--data", dir, "--company", company, "--ref", got.Ref); code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, stderr)
	}
	stdout, _, _ = run(t, nil, "", "token", "list", "--data", dir, "--company", company)
	if !strings.Contains(stdout, "revoked ") {
		t.Errorf("after revoke:\n%s", stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token"}, 2, "give a subcommand"},
		{[]string{"token", "forge"}, 2, `unknown subcommand "forge"`},
		{[]string{"token", "issue", "--data", dir}, 2, "--company is required"},
		{[]string{"token", "revoke", "--data", dir, "--company", company}, 2, "--ref is required"},
		{[]string{"token", "issue", "--data", dir, "--company", "91440300MA5D00000X"}, 1, `company "91440300MA5D00000X" not found`},
		{[]string{"token", "revoke", "--data", dir, "--company", company, "--ref", "tok_nothing"}, 1, `API token "tok_nothing" not found`},
	} {
		_, stderr, code := run(t, nil, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
