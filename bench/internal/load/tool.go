package load

// The start-up that every tool in bench/ shares: a store on a temporary data directory, a
// logger that writes nowhere, the machine line, a CPU profile and the exit on failure.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"

	"github.com/propcredit/propcredit/internal/app"
)

// Quiet is the log of the stores and servers a tool starts: the tool prints its own results,
// and their log lines would only mix with them.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TempStore opens a store (logging to Quiet) on a new temporary data directory whose name
// starts with prefix, and returns it with the directory. done closes the store and removes
// the directory.
func TempStore(ctx context.Context, prefix string, access app.Access, purpose string) (store *app.Store, dir string, done func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return nil, "", nil, err
	}
	store, err = app.OpenStore(ctx, app.StoreConfig{DataDir: dir, Log: Quiet}, access, purpose)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return store, dir, func() {
		store.Close(ctx)
		os.RemoveAll(dir)
	}, nil
}

// Machine is the line that says what a measurement ran on.
func Machine() string {
	return fmt.Sprintf("machine: %d CPUs (GOMAXPROCS %d), %s/%s, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// StartCPUProfile starts writing a CPU profile to the file path, if path is not empty. stop
// ends the profile and closes the file; it may be called more than once.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		f.Close()
	}), nil
}

// ExitOnError ends a tool whose run failed: it prints "name: err" to standard error and exits
// with status 1. A nil err returns.
func ExitOnError(name string, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
