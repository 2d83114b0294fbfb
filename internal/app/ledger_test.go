package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// TestLedgerSignerKeys: the key is created once, kept private, and loaded again; a second
// server with another key on the same database refuses to start; with an external database
// a key file must be named.
func TestLedgerSignerKeys(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	dir := t.TempDir()
	s1, err := app.LedgerSigner(ctx, db, app.LedgerKeyConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, app.LedgerKeyFile)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	s2, err := app.LedgerSigner(ctx, mongodbtest.Reconnect(t, db), app.LedgerKeyConfig{File: path, External: true})
	if err != nil || s2.VerifierKey() != s1.VerifierKey() {
		t.Fatalf("the same key file loads another key: %v", err)
	}
	if strings.Contains(s1.VerifierKey(), "PRIVATE") {
		t.Fatal("the verifier key holds the secret")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	_, err = app.LedgerSigner(ctx, db, app.LedgerKeyConfig{File: other, Name: app.DefaultLedgerName})
	if err == nil || !strings.Contains(err.Error(), "not the key this database's ledger is signed with") {
		t.Fatalf("a second key on the same database: %v", err)
	}
	if _, err := app.LedgerSigner(ctx, db, app.LedgerKeyConfig{External: true}); err == nil || !strings.Contains(err.Error(), "--ledger-key") {
		t.Fatalf("external database without a key file: %v", err)
	}
}
