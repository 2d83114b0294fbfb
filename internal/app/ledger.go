package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/publication"
)

// DefaultLedgerName names the ledger (the first line of its checkpoints) unless configured.
const DefaultLedgerName = "propcredit.ledger"

// LedgerKeyFile is the signing key's file in the data directory.
const LedgerKeyFile = "ledger.key"

// LedgerKeyConfig says where the ledger's signing key is.
type LedgerKeyConfig struct {
	File     string // the key file; default DataDir/ledger.key with the embedded database
	DataDir  string
	External bool   // an external MongoDB: File is required, and every server must name the same key
	Name     string // the ledger's name, for a key created now
}

// LedgerSigner loads the ledger's signing key, creating it on first start, and checks that
// it is the key this database's ledger is signed with: the first server to start records
// its public key in the database, and a server with another key refuses to start.
func LedgerSigner(ctx context.Context, db *mongodb.DB, cfg LedgerKeyConfig) (*ledger.Signer, error) {
	path := cfg.File
	if path == "" {
		if cfg.External {
			return nil, errors.New("with an external MongoDB, name the ledger's signing key file with --ledger-key (PROPCREDIT_LEDGER_KEY); every server must use the same one")
		}
		path = filepath.Join(cfg.DataDir, LedgerKeyFile)
	}
	name := cfg.Name
	if name == "" {
		name = DefaultLedgerName
	}
	s, err := ledger.LoadOrCreateKey(path, name)
	if err != nil {
		return nil, err
	}
	recorded, err := db.LedgerVerifierKey(ctx, s.VerifierKey())
	if err != nil {
		return nil, err
	}
	if recorded != s.VerifierKey() {
		return nil, fmt.Errorf("the ledger key in %s (%s) is not the key this database's ledger is signed with (%s); use that key file", path, s.VerifierKey(), recorded)
	}
	return s, nil
}

// An AuditProblem is one disagreement the audit found.
type AuditProblem struct {
	Key     string // the ledger key, or "" for the tree as a whole
	Index   int64  // -1 when the leaf is missing
	Problem string
}

func (p AuditProblem) String() string {
	if p.Key == "" {
		return p.Problem
	}
	if p.Index < 0 {
		return fmt.Sprintf("%s: %s", p.Key, p.Problem)
	}
	return fmt.Sprintf("%s (leaf %d): %s", p.Key, p.Index, p.Problem)
}

// AuditReport is what the audit checked and found.
type AuditReport struct {
	Leaves       int64
	Root         tlog.Hash
	Publications int
	Checked      int // leaves recomputed from publications
	Problems     []AuditProblem
}

// AuditLedger checks the ledger against itself and against the stored publications:
//   - every stored hash is the hash that the leaves give (the tree is recomputed from the
//     leaves alone);
//   - every publication's leaves, recomputed from its stored result, are in the ledger, byte
//     for byte, under its keys;
//   - every publication leaf in the ledger belongs to a stored publication.
//
// progress, if not nil, is told how many leaves have been read.
func AuditLedger(ctx context.Context, db *mongodb.DB, progress func(done int64)) (AuditReport, error) {
	var rep AuditReport
	size, err := db.LedgerSize(ctx)
	if err != nil {
		return rep, err
	}
	// 1. The tree, from the leaves alone.
	var hashes ledger.Hashes
	byKey := map[string][]int64{}
	var next int64
	err = db.LedgerEntries(ctx, func(index int64, key string, leaf []byte) error {
		if index != next {
			return fmt.Errorf("ledger leaf %d is missing", next)
		}
		next++
		hs, err := tlog.StoredHashes(index, leaf, hashes)
		if err != nil {
			return err
		}
		hashes = append(hashes, hs...)
		byKey[key] = append(byKey[key], index)
		if progress != nil && next%1000 == 0 {
			progress(next)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if next < size {
		return rep, fmt.Errorf("the ledger says it has %d leaves, but only %d were read", size, next)
	}
	rep.Leaves = next
	if progress != nil {
		progress(next)
	}
	stored, err := tlog.TreeHash(next, ledgerReader(ctx, db))
	if err != nil {
		rep.Problems = append(rep.Problems, AuditProblem{Problem: fmt.Sprintf("the stored hashes do not give a root: %v", err)})
	}
	rep.Root, _ = tlog.TreeHash(next, hashes)
	if err == nil && stored != rep.Root {
		rep.Problems = append(rep.Problems, AuditProblem{Problem: fmt.Sprintf("the stored hashes give the root %s, the leaves give %s: a stored hash was changed", stored, rep.Root)})
	}
	// 2. Every publication's leaves.
	pubs, err := db.Publications(ctx, "")
	if err != nil {
		return rep, err
	}
	rep.Publications = len(pubs)
	known := map[string]bool{}
	for _, meta := range pubs {
		pub, err := db.Record(ctx, meta.ID)
		if err != nil {
			return rep, err
		}
		leaves, err := publication.LedgerLeaves(pub)
		if err != nil {
			rep.Problems = append(rep.Problems, AuditProblem{Key: pub.ID, Index: -1, Problem: fmt.Sprintf("the stored result cannot be read: %v", err)})
			continue
		}
		for _, leaf := range leaves {
			known[leaf.Key] = true
			rep.Checked++
			idx := byKey[leaf.Key]
			if len(idx) == 0 {
				rep.Problems = append(rep.Problems, AuditProblem{Key: leaf.Key, Index: -1, Problem: "published, but not in the ledger"})
				continue
			}
			found := false
			want := tlog.RecordHash(leaf.Data)
			for _, i := range idx {
				found = found || hashes[tlog.StoredHashIndex(0, i)] == want
			}
			if !found {
				last := idx[len(idx)-1]
				logged, err := db.LedgerLeaves(ctx, last, last+1)
				if err != nil {
					return rep, err
				}
				rep.Problems = append(rep.Problems, AuditProblem{Key: leaf.Key, Index: last,
					Problem: fmt.Sprintf("the stored publication gives %s, the ledger has %s", leaf.Data, logged[0])})
			}
		}
	}
	// 3. Publication leaves whose publication is not stored (deleted, or a publish that
	// failed after its leaves were appended).
	for key, idx := range byKey {
		if strings.HasPrefix(key, "pub|") && !known[key] {
			rep.Problems = append(rep.Problems, AuditProblem{Key: key, Index: idx[0], Problem: "in the ledger, but no such publication is stored (deleted, or its publishing failed after the ledger took it)"})
		}
	}
	return rep, nil
}

func ledgerReader(ctx context.Context, db *mongodb.DB) tlog.HashReader {
	return ledger.New(db, nil).HashReader(ctx)
}

// ErrAudit is returned by commands when the audit found problems.
var ErrAudit = derrors.Errorf(derrors.Conflict, "the ledger audit found problems")
