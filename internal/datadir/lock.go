// Package datadir guards a data directory so that one process at a time runs the embedded
// engine on its files.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// LockName is the lock file inside the data directory.
const LockName = "LOCK"

// Lock is an exclusive advisory lock (flock) on a data directory. The kernel drops it when the
// process dies, so a crash never leaves the directory locked.
type Lock struct {
	f *os.File
}

// HeldError says that another process holds the directory.
type HeldError struct {
	Dir    string
	Holder string // "pid 123 serve", as the holder wrote it
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another propcredit process (%s)", e.Dir, e.Holder)
}

// Serving reports whether the holder is a server, whose engine other commands may share.
func (e *HeldError) Serving() bool { return strings.HasSuffix(e.Holder, " serve") }

// Acquire locks dir (creating it) for the given purpose, such as "serve" or "import".
func Acquire(dir, purpose string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Dir: dir, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d %s\n", os.Getpid(), purpose)), 0)
	}
	return &Lock{f: f}, nil
}

// Release unlocks the directory.
func (l *Lock) Release() error {
	_ = l.f.Truncate(0)
	return l.f.Close() // closing the descriptor drops the flock
}
