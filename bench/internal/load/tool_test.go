package load

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/propcredit/propcredit/internal/app"
)

// TestTempStore opens a store that works, and done removes its directory.
func TestTempStore(t *testing.T) {
	ctx := context.Background()
	store, dir, done, err := TempStore(ctx, "propcredit-load-test-", app.Private, "load test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DB.Companies(ctx); err != nil {
		done()
		t.Fatalf("the store does not answer: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		done()
		t.Fatalf("no data directory: %v", err)
	}
	done()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("done left %s behind (%v)", dir, err)
	}
}

// TestStartCPUProfile writes a profile that stop ends, once however often it is called; no
// path, no profile.
func TestStartCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := StartCPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	stop()
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("no profile written: %v", err)
	}
	stop, err = StartCPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	// A profile could not start while another runs: the first one has stopped.
	stop, err = StartCPUProfile(filepath.Join(t.TempDir(), "again.pprof"))
	if err != nil {
		t.Fatalf("the first profile did not stop: %v", err)
	}
	stop()
}
