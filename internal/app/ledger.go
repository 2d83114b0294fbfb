package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
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
	Leaves        int64
	Root          tlog.Hash
	Publications  int
	Finals        int // publications approved as final
	CreditRecords int // credit records written by the credit process (imported ones have no leaves)
	AuditEntries  int
	Checked       int // leaves recomputed from the stored records
	Problems      []AuditProblem
}

// AuditLedger checks the ledger against itself and against what is stored:
//   - every stored hash is the hash that the leaves give (the tree is recomputed from the
//     leaves alone);
//   - every leaf recomputed from what is stored is in the ledger, byte for byte, under its
//     key: each publication's result and publication leaves, each final approval, each credit
//     record at its current version, each audit-trail entry;
//   - every leaf in the ledger belongs to something stored: a publication, an approval, an
//     audit entry, a credit record at or before its current version (the leaves of a record's
//     earlier versions are its history, which the record no longer holds).
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
	// 2. Every leaf recomputed from what is stored.
	known := map[string]bool{}
	check := func(leaf ledger.Leaf, what string) error {
		known[leaf.Key] = true
		rep.Checked++
		idx := byKey[leaf.Key]
		if len(idx) == 0 {
			rep.Problems = append(rep.Problems, AuditProblem{Key: leaf.Key, Index: -1, Problem: "a stored " + what + ", but not in the ledger"})
			return nil
		}
		want := tlog.RecordHash(leaf.Data)
		for _, i := range idx {
			if hashes[tlog.StoredHashIndex(0, i)] == want {
				return nil
			}
		}
		last := idx[len(idx)-1]
		logged, err := db.LedgerLeaves(ctx, last, last+1)
		if err != nil {
			return err
		}
		rep.Problems = append(rep.Problems, AuditProblem{Key: leaf.Key, Index: last,
			Problem: fmt.Sprintf("the stored %s gives %s, the ledger has %s", what, leaf.Data, logged[0])})
		return nil
	}
	counts, versions, err := storedLeaves(ctx, db, func(leaf ledger.Leaf, what string) error {
		if what == storedBroken {
			rep.Problems = append(rep.Problems, AuditProblem{Key: leaf.Key, Index: -1, Problem: string(leaf.Data)})
			return nil
		}
		return check(leaf, what)
	})
	if err != nil {
		return rep, err
	}
	rep.Publications, rep.Finals, rep.CreditRecords, rep.AuditEntries = counts.Publications, counts.Finals, counts.CreditRecords, counts.AuditEntries
	// 3. Leaves of nothing stored: deleted, or a write that failed (or lost to another
	// writer) after the ledger took its leaf.
	for key, idx := range byKey {
		if known[key] {
			continue
		}
		kind, rest, _ := strings.Cut(key, "|")
		switch kind {
		case "pub", "final":
			rep.Problems = append(rep.Problems, AuditProblem{Key: key, Index: idx[0], Problem: "in the ledger, but no such publication or approval is stored (deleted, or its writing failed after the ledger took it)"})
		case "audit":
			rep.Problems = append(rep.Problems, AuditProblem{Key: key, Index: idx[0], Problem: "in the ledger, but no such audit entry is stored (deleted, or its writing failed after the ledger took it)"})
		case "credit":
			id, version, _ := strings.Cut(rest, "|")
			if cur, ok := versions[id]; !ok || version > fmt.Sprintf("%06d", cur) {
				rep.Problems = append(rep.Problems, AuditProblem{Key: key, Index: idx[0], Problem: "in the ledger, but the credit record is not stored at this version (deleted, or the write failed after the ledger took it)"})
			}
		}
	}
	sort.Slice(rep.Problems, func(i, j int) bool { return rep.Problems[i].Key < rep.Problems[j].Key })
	return rep, nil
}

func ledgerReader(ctx context.Context, db *mongodb.DB) tlog.HashReader {
	return ledger.New(db, nil).HashReader(ctx)
}

// ErrAudit is returned by commands when the audit found problems.
var ErrAudit = derrors.Errorf(derrors.Conflict, "the ledger audit found problems")

// AdoptReport says how many stored records AdoptIntoLedger appended leaves for.
type AdoptReport struct {
	Finals, CreditRecords, AuditEntries int
}

// AdoptIntoLedger appends the leaves of stored records that have none: final approvals,
// credit records (at their current version) and audit entries written before the ledger
// logged them (or left without a leaf by a server older than this one). Only a key with no
// leaf at all is adopted: a record whose leaf differs from it stays for the audit to report,
// and so does a publication without its leaves (publications were always logged).
// It is idempotent; run it once after upgrading, then `ledger audit`.
func AdoptIntoLedger(ctx context.Context, db *mongodb.DB) (AdoptReport, error) {
	var rep AdoptReport
	logged := map[string]bool{} // every key in the ledger, read once (a lookup per key would scan for each missing one)
	err := db.LedgerEntries(ctx, func(_ int64, key string, _ []byte) error {
		logged[key] = true
		return nil
	})
	if err != nil {
		return rep, err
	}
	var leaves []ledger.Leaf
	_, _, err = storedLeaves(ctx, db, func(leaf ledger.Leaf, what string) error {
		counter := map[string]*int{storedFinal: &rep.Finals, storedCredit: &rep.CreditRecords, storedAudit: &rep.AuditEntries}[what]
		if counter != nil && !logged[leaf.Key] {
			leaves = append(leaves, leaf)
			*counter++
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if _, err := ledger.New(db, nil).Append(ctx, leaves); err != nil {
		return rep, fmt.Errorf("append %d leaves: %w", len(leaves), err)
	}
	return rep, nil
}

// What storedLeaves says each leaf it recomputes is of; storedBroken is a publication whose
// result cannot be read (the leaf's Data says why).
const (
	storedPublication = "publication"
	storedFinal       = "final approval"
	storedCredit      = "credit record"
	storedAudit       = "audit entry"
	storedBroken      = "unreadable"
)

type storedCounts struct {
	Publications, Finals, CreditRecords, AuditEntries int
}

// storedLeaves recomputes, from what is stored, every leaf the ledger must hold, and calls
// fn with each and what it is of: each publication's result and publication leaves, each
// final approval, each credit record at its current version (imported ones, at version 0,
// have none), each audit entry. It returns the counts and every credit record's version.
func storedLeaves(ctx context.Context, db *mongodb.DB, fn func(leaf ledger.Leaf, what string) error) (storedCounts, map[string]int, error) {
	var n storedCounts
	versions := map[string]int{}
	pubs, err := db.Publications(ctx, "")
	if err != nil {
		return n, nil, err
	}
	n.Publications = len(pubs)
	for _, meta := range pubs {
		pub, err := db.Record(ctx, meta.ID)
		if err != nil {
			return n, nil, err
		}
		leaves, err := publication.LedgerLeaves(pub)
		if err != nil {
			if err := fn(ledger.Leaf{Key: pub.ID, Data: []byte(fmt.Sprintf("the stored result cannot be read: %v", err))}, storedBroken); err != nil {
				return n, nil, err
			}
			continue
		}
		for _, leaf := range leaves {
			if err := fn(leaf, storedPublication); err != nil {
				return n, nil, err
			}
		}
		if pub.FinalAt.IsZero() {
			continue
		}
		n.Finals++
		if err := emit(fn, storedFinal)(publication.FinalLeaf(pub)); err != nil {
			return n, nil, err
		}
	}
	records, err := db.CreditRecords(ctx, credit.Filter{})
	if err != nil {
		return n, nil, err
	}
	var logged []credit.Record
	for _, r := range records {
		versions[r.ID] = r.Version
		if r.Version > 0 {
			logged = append(logged, r)
		}
	}
	n.CreditRecords = len(logged)
	if err := emitAll(fn, storedCredit, logged, credit.LedgerLeaf); err != nil {
		return n, nil, err
	}
	entries, err := db.AuditEntries(ctx, audit.Filter{})
	n.AuditEntries = len(entries)
	if err == nil {
		err = emitAll(fn, storedAudit, entries, audit.LedgerLeaf)
	}
	return n, versions, err
}

// emitAll makes the leaf of each item and passes it to fn.
func emitAll[T any](fn func(ledger.Leaf, string) error, what string, items []T, leafOf func(T) (ledger.Leaf, error)) error {
	for _, it := range items {
		if err := emit(fn, what)(leafOf(it)); err != nil {
			return err
		}
	}
	return nil
}

// emit passes a leaf just made to fn, unless making it failed.
func emit(fn func(ledger.Leaf, string) error, what string) func(ledger.Leaf, error) error {
	return func(leaf ledger.Leaf, err error) error {
		if err != nil {
			return err
		}
		return fn(leaf, what)
	}
}
