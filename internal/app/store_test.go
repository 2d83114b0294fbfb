package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestDeferSyncOnlyForPrivateJobs: the server (Exclusive) and the commands that may go through
// its engine (Shared) cannot open the store with deferred syncing; a private job can, and
// without asking for it gets an engine that syncs every commit.
func TestDeferSyncOnlyForPrivateJobs(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		access    Access
		purpose   string
		deferSync bool
		refused   bool
	}{
		{Exclusive, "serve", true, true},
		{Shared, "export", true, true},
		{Exclusive, "serve", false, false},
		{Private, "tally", false, false},
		{Private, "import", true, false},
	} {
		s, err := OpenStore(ctx, StoreConfig{DataDir: t.TempDir(), Log: quiet, DeferSync: tc.deferSync}, tc.access, tc.purpose)
		if tc.refused {
			if err == nil || !strings.Contains(err.Error(), "deferred sync") {
				t.Errorf("%s with DeferSync: err %v, want refused", tc.purpose, err)
			}
			if s != nil {
				s.Close(ctx)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.purpose, err)
		}
		if s.SyncDeferred() != tc.deferSync {
			t.Errorf("%s: SyncDeferred() = %v, want %v", tc.purpose, s.SyncDeferred(), tc.deferSync)
		}
		if err := s.Sync(ctx); err != nil {
			t.Errorf("%s: Sync: %v", tc.purpose, err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
