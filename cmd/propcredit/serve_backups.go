package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/backup"
)

// backupFlags are serve's flags for scheduled backups.
type backupFlags struct {
	dir   string
	every time.Duration
	keep  int
}

func (b *backupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.dir, "backup-dir", "", "make scheduled backups into this directory (embedded engine only; see docs/BACKUP.md)")
	fs.DurationVar(&b.every, "backup-every", 6*time.Hour, "with --backup-dir: how often to back up (the first one at start-up)")
	fs.IntVar(&b.keep, "backup-keep", 28, "with --backup-dir: how many of the newest backups to keep")
}

func (b *backupFlags) check(sf *storeFlags) error {
	switch {
	case b.dir == "":
		return nil
	case sf.mongoURI != "":
		return usagef("serve: --backup-dir: %s", mongoBackupHelp)
	case b.every < time.Second:
		return usagef("serve: --backup-every must be at least 1s, not %s", b.every)
	case b.keep < 1:
		return usagef("serve: --backup-keep must be at least 1, not %d", b.keep)
	}
	return nil
}

// startBackups starts the scheduled backups, if asked for, in the background. It returns what
// the web server reports about them (nil when there are none) and a function that stops them,
// waiting for a backup in progress to end.
func (m *Main) startBackups(ctx context.Context, b backupFlags, sf *storeFlags) (func() backup.Status, func()) {
	if b.dir == "" {
		return nil, func() {}
	}
	skip := append([]string(nil), app.NotData...)
	// A backup directory inside the data directory is not data.
	if absData, err := filepath.Abs(sf.data); err == nil {
		if absDir, err := filepath.Abs(b.dir); err == nil {
			if rel, err := filepath.Rel(absData, absDir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				skip = append(skip, rel)
			}
		}
	}
	s := &backup.Schedule{Dir: b.dir, Every: b.every, Keep: b.keep, Log: m.Log,
		Make: func(ctx context.Context, out string) error {
			opts := app.BackupOptions(sf.data, out, version, m.Log)
			opts.Skip = skip
			_, err := backup.Create(ctx, opts)
			return err
		}}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	m.Log.Info("scheduled backups", "dir", b.dir, "every", b.every.String(), "keep", b.keep)
	return s.Status, func() {
		cancel()
		<-done
	}
}
