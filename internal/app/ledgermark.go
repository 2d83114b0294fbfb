package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb"
)

// LedgerStateFile is the default file, in the data directory, where a server records the
// newest checkpoint it published. Backups leave it out (NotData): a restored system must not
// take a backup's idea of what was published. Keep a copy off the data's disk with
// serve --ledger-state (docs/BACKUP.md), so that it outlives the data.
const LedgerStateFile = "ledger.checkpoint"

// A LedgerMark is the newest checkpoint a system has given out (on /ledger/checkpoint or in a
// certificate), kept in a file outside the database. A database restored from an older backup
// has a shorter ledger than that checkpoint: appending to it would fork the published log,
// so a server refuses to start on it (CheckLedgerMark) until an operator accepts it
// (AcceptLedgerRollback).
type LedgerMark struct {
	path string
	mu   sync.Mutex
	size int64 // the tree size recorded, -1 before the file is read
}

// NewLedgerMark returns the mark kept in path.
func NewLedgerMark(path string) *LedgerMark { return &LedgerMark{path: path, size: -1} }

// Path is the mark's file.
func (m *LedgerMark) Path() string { return m.path }

// Read returns the recorded checkpoint's tree, or ok false when nothing was recorded yet.
func (m *LedgerMark) Read() (tree tlog.Tree, ok bool, err error) {
	b, err := os.ReadFile(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		return tlog.Tree{}, false, nil
	}
	if err != nil {
		return tlog.Tree{}, false, fmt.Errorf("read the ledger's published checkpoint: %w", err)
	}
	body, _, _ := strings.Cut(string(b), "\n\n")
	cp, err := ledger.ParseCheckpointBody(body + "\n")
	if err != nil {
		return tlog.Tree{}, false, fmt.Errorf("the ledger's published checkpoint in %s cannot be read: %w", m.path, err)
	}
	return cp.Tree, true, nil
}

// Record writes cp into the file if its tree is larger than the one recorded (Signer.OnSign
// calls it for every checkpoint signed). The file is replaced whole: written aside, synced,
// renamed.
func (m *LedgerMark) Record(cp ledger.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.size < 0 {
		tree, _, err := m.Read()
		if err != nil {
			return err
		}
		m.size = tree.N
	}
	if cp.Tree.N <= m.size {
		return nil
	}
	if err := m.write(cp); err != nil {
		return err
	}
	m.size = cp.Tree.N
	return nil
}

func (m *LedgerMark) write(cp ledger.Checkpoint) error {
	tmp := m.path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write(cp.Signed)
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, m.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record the ledger's published checkpoint in %s: %w", m.path, err)
	}
	if d, err := os.Open(filepath.Dir(m.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ErrLedgerBehind says that the database's ledger does not continue the checkpoint published
// before: it is shorter (restored from an older backup) or its tree differs (forked).
var ErrLedgerBehind = derrors.Errorf(derrors.Conflict, "the ledger does not continue its published checkpoint")

// CheckLedgerMark checks that the database's ledger continues the recorded checkpoint: at
// least as many leaves, and the same tree up to it.
func CheckLedgerMark(ctx context.Context, db *mongodb.DB, m *LedgerMark, accept string) error {
	tree, ok, err := m.Read()
	if err != nil || !ok {
		return err
	}
	size, err := db.LedgerSize(ctx)
	if err != nil {
		return err
	}
	if size < tree.N {
		return fmt.Errorf("%w: the database's ledger has %d leaves, but this system published a checkpoint of %d leaves (recorded in %s). "+
			"The database was restored from an older backup or rolled back; appending now would fork the published log, and every witness would report it. "+
			"Restore a newer backup, or, to go on from %d leaves deliberately, run `%s` (docs/BACKUP.md)",
			ErrLedgerBehind, size, tree.N, m.path, size, accept)
	}
	root, err := tlog.TreeHash(tree.N, ledgerReader(ctx, db))
	if err != nil {
		return fmt.Errorf("compute the ledger's tree at %d leaves: %w", tree.N, err)
	}
	if root != tree.Hash {
		return fmt.Errorf("%w: the database's ledger at %d leaves has the root %s, but this system published %s for that size (recorded in %s): "+
			"the log was forked. Restore the right backup, or, to go on from this ledger deliberately, run `%s` (docs/BACKUP.md)",
			ErrLedgerBehind, tree.N, root, tree.Hash, m.path, accept)
	}
	return nil
}

// AcceptLedgerRollback records the database's current tree as the published checkpoint, even
// if it is shorter than, or differs from, the one recorded: an operator's deliberate decision to
// go on from a restored ledger. It returns the tree given up (ok false if none was recorded)
// and the new checkpoint.
func AcceptLedgerRollback(ctx context.Context, db *mongodb.DB, signer *ledger.Signer, m *LedgerMark) (old tlog.Tree, ok bool, now ledger.Checkpoint, err error) {
	if old, ok, err = m.Read(); err != nil {
		return old, ok, now, err
	}
	if now, err = ledger.New(db, signer).Checkpoint(ctx); err != nil {
		return old, ok, now, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write(now); err != nil {
		return old, ok, now, err
	}
	m.size = now.Tree.N
	return old, ok, now, nil
}
