package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/datadir"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb"
)

// NotData are the names in a data directory that are not data: the lock, the engine's
// socket, and the record of the newest ledger checkpoint published (LedgerStateFile). Backups
// leave them out.
var NotData = []string{datadir.LockName, ferretdb.SocketName, LedgerStateFile}

// BackupOptions are the options for backing up the embedded engine's data directory dir.
func BackupOptions(dir, out, program string, log *slog.Logger) backup.Options {
	return backup.Options{DataDir: dir, Database: DatabaseName, Out: out, Program: program, Skip: NotData, Log: log,
		StageDir: backup.StageDirFor(dir)}
}

// RestoreConfig says what to restore where.
type RestoreConfig struct {
	From     string // the backup file
	DataDir  string // a new or empty directory
	Log      *slog.Logger
	Progress func(done, total int64)
}

// Restored is what Restore did.
type Restored struct {
	Manifest     backup.Manifest
	Verification Verification
}

// Restore restores a backup into a new or empty data directory. It refuses a directory that
// is not empty (a running server's always is), and a backup that is foreign, truncated,
// corrupted or of a newer schema. It unpacks the files into a staging directory beside the
// target, checking each against the manifest; starts the engine there, which runs the
// migrations; forgets the snapshot's servers and recovers any group of ratings they left
// half-way, as after a crash (mongodb.DB.AdoptRestored); then verifies the data (every tally against the ratings, every
// receipt against the rating versions, and the counts against the manifest). Only when all of
// that passed is the staging directory synced and renamed to the target: a failed restore
// leaves the target as it was.
func Restore(ctx context.Context, cfg RestoreConfig) (Restored, error) {
	var res Restored
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	target := filepath.Clean(cfg.DataDir)
	if err := checkEmpty(target); err != nil {
		return res, err
	}
	r, err := backup.Open(cfg.From, mongodb.ProgramSchema())
	if err != nil {
		return res, err
	}
	defer r.Close()
	res.Manifest = r.Manifest
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return res, err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".restoring-")
	if err != nil {
		return res, fmt.Errorf("create a staging directory beside %s: %w", target, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(stage)
		}
	}()
	if err := r.Extract(stage, cfg.Progress); err != nil {
		if !backup.IsBackupError(err) {
			err = fmt.Errorf("restore into %s: %w (nothing was restored)", target, err)
		}
		return res, err
	}
	cfg.Log.Info("restore: files unpacked and checked", "files", len(r.Manifest.Files), "bytes", r.Manifest.Size())

	cfg.Log.Info("restore: starting the engine on the restored files (migrations; unfinished tally changes of the snapshot recovered)")
	store, err := OpenStore(ctx, StoreConfig{DataDir: stage, Log: cfg.Log}, Private, "restore")
	if err != nil {
		return res, fmt.Errorf("open the restored database: %w", err)
	}
	verr := store.DB.AdoptRestored(ctx)
	var v Verification
	if verr == nil {
		cfg.Log.Info("restore: verifying every tally and receipt (reads every rating)")
		v, verr = VerifyData(ctx, store.DB, false)
	}
	if cerr := store.Close(ctx); verr == nil && cerr != nil {
		verr = fmt.Errorf("close the restored database: %w", cerr)
	}
	if verr != nil {
		return res, verr
	}
	res.Verification = v
	if !v.OK() {
		return res, fmt.Errorf("the restored data does not verify: %s", strings.Join(v.Problems(), "; "))
	}
	_, res.Verification.Counts, err = backup.Inspect(ctx, filepath.Join(stage, backup.EngineDir, DatabaseName+".sqlite"))
	if err != nil {
		return res, fmt.Errorf("count the restored documents: %w", err)
	}
	if diff := countDiff(r.Manifest.Collections, res.Verification.Counts); diff != "" {
		return res, fmt.Errorf("the restored data does not match the backup's manifest: %s", diff)
	}
	for _, name := range NotData {
		os.Remove(filepath.Join(stage, name))
	}
	for _, d := range []string{filepath.Join(stage, backup.EngineDir), stage} {
		if err := backup.SyncDir(d); err != nil {
			return res, err
		}
	}
	// rename(2) replaces an empty directory and refuses a non-empty one, so a process that put
	// something into the target meanwhile keeps it.
	if err := os.Rename(stage, target); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return res, fmt.Errorf("%s is no longer empty (another process wrote to it during the restore); nothing was restored", target)
		}
		return res, fmt.Errorf("move the restored data into %s: %w", target, err)
	}
	done = true
	if err := backup.SyncDir(parent); err != nil {
		return res, err
	}
	return res, nil
}

// checkEmpty refuses a data directory that holds anything, saying so more precisely when a
// process is using it.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("restore into %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	}
	if held := datadir.Holder(dir); held != "" {
		return fmt.Errorf("refusing to restore into %s: a propcredit process is using it (%s); stop it, and restore into a new directory", dir, held)
	}
	return fmt.Errorf("refusing to restore into %s: the directory is not empty; restore into a new or empty directory (and point --data at it)", dir)
}

// derived are the collections that opening the restored store may rewrite: the tallies and
// their journal (folded or rebuilt after a snapshot of a running server), the markers in meta,
// the announcements of running servers and the shared limits.
var derived = map[string]bool{"tallies": true, "tally_bases": true, "tally_journal": true, "meta": true, "servers": true, "limits": true}

// countDiff compares the documents counted in the restored database with the manifest's, but
// for the derived collections.
func countDiff(want, got map[string]int64) string {
	var diffs []string
	for name, n := range want {
		if derived[name] {
			continue
		}
		if got[name] != n {
			diffs = append(diffs, fmt.Sprintf("%s: %d in the backup, %d restored", name, n, got[name]))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}
