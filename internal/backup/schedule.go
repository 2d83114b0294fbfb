package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Scheduled backups are named propcredit-<UTC time>.pcbackup, so that their names sort by age.
const (
	schedPrefix = "propcredit-"
	schedSuffix = ".pcbackup"
	schedTime   = "20060102T150405.000Z"
)

// Status is what a Schedule has done so far.
type Status struct {
	Every       time.Duration
	Keep        int // how many backups are kept
	Dir         string
	Running     bool      // a backup is being made now
	LastSuccess time.Time // zero before the first
	LastFile    string
	LastSeconds float64
	LastFailure time.Time // zero when none has failed
	LastError   string
	// Failing is set when the latest attempt failed.
	Failing bool
	Next    time.Time
}

// Schedule makes a backup every Every into Dir and keeps the newest Keep. Make writes one
// backup to the file it is given. A failure is logged and recorded in the status, and the
// schedule goes on: it never stops the server.
type Schedule struct {
	Dir   string
	Every time.Duration
	Keep  int
	Make  func(ctx context.Context, out string) error
	Log   *slog.Logger

	mu     sync.Mutex
	status Status
}

// Status returns a copy of the schedule's status.
func (s *Schedule) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Dir, st.Every, st.Keep = s.Dir, s.Every, s.Keep
	return st
}

// Run makes the first backup at once, then one every s.Every, until ctx is done.
func (s *Schedule) Run(ctx context.Context) {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	for {
		s.once(ctx)
		next := time.Now().Add(s.Every)
		s.mu.Lock()
		s.status.Next = next
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// once makes one backup and prunes the old ones.
func (s *Schedule) once(ctx context.Context) {
	start := time.Now()
	out := filepath.Join(s.Dir, schedPrefix+start.UTC().Format(schedTime)+schedSuffix)
	s.mu.Lock()
	s.status.Running = true
	s.mu.Unlock()
	err := s.make(ctx, out)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Running = false
	if err != nil {
		s.status.LastFailure, s.status.LastError, s.status.Failing = time.Now(), err.Error(), true
		s.Log.Error("scheduled backup failed; the server goes on serving", "file", out, "err", err)
		return
	}
	s.status.LastSuccess, s.status.LastFile, s.status.Failing = time.Now(), out, false
	s.status.LastSeconds = time.Since(start).Seconds()
	s.Log.Info("scheduled backup written", "file", out, "seconds", s.status.LastSeconds)
	if err := s.prune(); err != nil {
		s.status.LastFailure, s.status.LastError = time.Now(), "remove old backups: "+err.Error()
		s.Log.Error("remove old backups", "dir", s.Dir, "err", err)
	}
}

// make runs Make, turning a panic into an error so that the server survives it.
func (s *Schedule) make(ctx context.Context, out string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("backup panicked: %v", p)
		}
	}()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	return s.Make(ctx, out)
}

// prune removes all but the newest s.Keep scheduled backups in s.Dir. Other files are left alone.
func (s *Schedule) prune() error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, schedPrefix) && strings.HasSuffix(n, schedSuffix) {
			if _, err := time.Parse(schedTime, strings.TrimSuffix(strings.TrimPrefix(n, schedPrefix), schedSuffix)); err == nil {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	var errs []string
	for len(names) > s.Keep {
		if err := os.Remove(filepath.Join(s.Dir, names[0])); err != nil {
			errs = append(errs, err.Error())
		}
		names = names[1:]
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return SyncDir(s.Dir)
}
