package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/progress"
)

// mongoBackupHelp says what to use instead of `backup` against an external MongoDB.
const mongoBackupHelp = "backup copies the embedded engine's data directory; for MongoDB use its own tools " +
	"(mongodump --oplog / mongorestore --oplogReplay, or the cluster's snapshots), then `propcredit verify-data`: see docs/BACKUP.md"

func (m *Main) backup(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("backup", "backup --out FILE [--data DIR]")
	out := fs.String("out", "", "the backup file to write (it must not exist); for example propcredit-20261204.pcbackup")
	if err := m.parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("backup: --out FILE is required")
	}
	if sf.mongoURI != "" {
		return usagef("%s", mongoBackupHelp)
	}
	opts := app.BackupOptions(sf.data, *out, version, m.Log)
	var rep *progress.Reporter
	opts.Progress = func(done, total int64) {
		if rep == nil {
			rep = progress.New("backup (bytes)", total, m.Stderr, m.Log)
		}
		rep.Set(done)
	}
	start := time.Now()
	man, err := backup.Create(ctx, opts)
	if rep != nil {
		rep.Finish()
	}
	if err != nil {
		return err
	}
	m.Log.Info("backup written", "file", *out, "ratings", man.Collections["ratings"], "bytes", man.Size(), "seconds", time.Since(start).Seconds())
	fmt.Fprintf(m.Stdout, "backup written to %s: snapshot of %s (schema %d, %d files, %d rating versions, %d receipts), in %.1f s\n",
		*out, man.CreatedAt.Format(time.RFC3339), man.SchemaVersion, len(man.Files), man.Collections["ratings"], man.Collections["rating_receipts"], time.Since(start).Seconds())
	return nil
}

// yieldProcessors lowers the priority of every thread of this process to nice 10 (on Linux a
// thread's nice value is its own, and new threads inherit their creator's): `propcredit backup`
// is background work beside a server that answers owners. main calls it for that command only,
// so that tests running commands in-process keep their priority.
func yieldProcessors() {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 10)
		}
	}
}

func (m *Main) restore(ctx context.Context, args []string) error {
	fs := m.flagSet("restore", "restore --from FILE --data DIR")
	from := fs.String("from", "", "the backup file (made by propcredit backup)")
	data := fs.String("data", "", "a new or empty data directory to restore into")
	if err := m.parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		return usagef("restore: --from FILE and --data DIR are both required")
	}
	var rep *progress.Reporter
	start := time.Now()
	res, err := app.Restore(ctx, app.RestoreConfig{From: *from, DataDir: *data, Log: m.Log, Progress: func(done, total int64) {
		if rep == nil {
			rep = progress.New("restore (bytes)", total, m.Stderr, m.Log)
		}
		rep.Set(done)
	}})
	if rep != nil {
		rep.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "restored the backup of %s into %s in %.1f s, and verified it: %s\n",
		res.Manifest.CreatedAt.Format(time.RFC3339), *data, time.Since(start).Seconds(), res.Verification.Summary())
	fmt.Fprintf(m.Stdout, "start it with: propcredit serve --data %s\n", *data)
	return nil
}

func (m *Main) verifyData(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("verify-data", "verify-data [--data DIR | --mongodb-uri URI]")
	store, err := m.parseAndOpen(ctx, fs, sf, args, "verify-data")
	if err != nil {
		return err
	}
	// Another process may be writing unless this one runs the engine.
	v, err := app.VerifyData(ctx, store.DB, !store.Embedded)
	if err != nil {
		return err
	}
	if v.Counts, err = store.DB.Counts(ctx); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, v.Summary())
	if !v.OK() {
		for _, p := range v.Problems() {
			fmt.Fprintln(m.Stdout, "problem:", p)
		}
		fmt.Fprintln(m.Stdout, "the data does not verify; `propcredit tally --verify --fix` repairs tallies (with no server running)")
		return errSilent
	}
	fmt.Fprintln(m.Stdout, "the data verifies: every tally agrees with the ratings, no rating carries another household's receipt")
	return nil
}
