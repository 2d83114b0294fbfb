// Package ledger is propcredit's transparency log: an append-only Merkle tree (RFC 6962
// hashing, golang.org/x/mod/sumdb/tlog) of everything that makes a grade, with Ed25519-signed
// checkpoints (golang.org/x/mod/sumdb/note) in the C2SP tlog-checkpoint format, hash tiles of
// height 8 in the Go checksum database's layout, and inclusion and consistency proofs.
//
// Anyone can check a certificate with tlog and note alone, given the leaf bytes, its index,
// the proof and the signed checkpoint: no code of this project is needed (see Verify, which
// uses nothing else).
//
// The package stores nothing itself: it needs a Store, which the database adapter
// implements. Leaves go in under their index as a unique key, each with the hashes that
// tlog.StoredHashes gives for it, so that several servers appending at once can never fork
// or overwrite the log: the second insert of an index fails, and its writer recomputes its
// hashes on top of the winner's leaf and tries the next index.
package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
)

// TileHeight is the height of the hash tiles served, as in the Go checksum database.
const TileHeight = 8

// An Entry is one leaf as stored: its index, a key that names what it records (so that a
// certificate can find it), its exact bytes, and the hashes tlog.StoredHashes gives for it.
type Entry struct {
	Index  int64
	Key    string
	Leaf   []byte
	Hashes []tlog.Hash
}

// ErrTaken is what Store.Append returns when an index is already taken by another writer.
var ErrTaken = errors.New("ledger index already taken")

// Store keeps the log's leaves and hashes. Implementations must make Append an insert under
// the index as a unique key: it never replaces a stored entry.
type Store interface {
	// LedgerSize returns the number of leaves stored: every index below it has its entry.
	LedgerSize(ctx context.Context) (int64, error)
	// AppendLedger inserts entries, whose indexes are consecutive, in order. When an index is
	// already taken it stops there and returns how many it inserted and ErrTaken.
	AppendLedger(ctx context.Context, entries []Entry) (int, error)
	// LedgerHashes returns the stored hashes at the given storage indexes
	// (tlog.StoredHashIndex), in the same order.
	LedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// LedgerLeaves returns the leaves with indexes [start, end), in order.
	LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error)
	// LedgerIndexes returns the indexes of every leaf stored under key, in order (more than
	// one when two servers published the same publication number at once and one lost).
	LedgerIndexes(ctx context.Context, key string) ([]int64, error)
}

// A Leaf is a record to append: its key and its canonical bytes.
type Leaf struct {
	Key  string
	Data []byte
}

// Log is the transparency log over a Store. It holds no state of its own: every server and
// command sharing a database sees the same log.
type Log struct {
	store  Store
	signer *Signer // nil: the log can be appended to and read, but not sign checkpoints
}

// New returns the log over store. signer may be nil for commands that only append or audit.
func New(store Store, signer *Signer) *Log { return &Log{store: store, signer: signer} }

// Signer returns the log's signer, or nil.
func (l *Log) Signer() *Signer { return l.signer }

// maxAttempts bounds how often Append starts again after losing indexes to other writers.
const maxAttempts = 100

// Append adds leaves to the log, in order, and returns their indexes. Other writers may
// append at the same time: each index is taken by exactly one of them, and a writer that
// loses one computes the rest of its leaves again on top of the winner's. Leaves of one call
// are therefore in order but not necessarily adjacent.
func (l *Log) Append(ctx context.Context, leaves []Leaf) ([]int64, error) {
	indexes := make([]int64, 0, len(leaves))
	for attempt := 0; len(leaves) > 0; attempt++ {
		if attempt == maxAttempts {
			return indexes, derrors.Errorf(derrors.Conflict, "the ledger is too busy: %d leaves were not appended; try again", len(leaves))
		}
		size, err := l.store.LedgerSize(ctx)
		if err != nil {
			return indexes, err
		}
		entries, err := l.entries(ctx, size, leaves)
		if err != nil {
			return indexes, err
		}
		n, err := l.store.AppendLedger(ctx, entries)
		for _, e := range entries[:n] {
			indexes = append(indexes, e.Index)
		}
		leaves = leaves[n:]
		if err != nil && !errors.Is(err, ErrTaken) {
			return indexes, err
		}
	}
	return indexes, nil
}

// entries computes the entries of leaves appended from index size on.
func (l *Log) entries(ctx context.Context, size int64, leaves []Leaf) ([]Entry, error) {
	// New hashes are kept here so that each leaf's hashes can read its predecessors' in the
	// same batch; older ones come from the store, fetched once each.
	known := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		var missing []int64
		for _, i := range indexes {
			if _, ok := known[i]; !ok {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			hs, err := l.store.LedgerHashes(ctx, missing)
			if err != nil {
				return nil, err
			}
			for k, i := range missing {
				known[i] = hs[k]
			}
		}
		out := make([]tlog.Hash, len(indexes))
		for k, i := range indexes {
			out[k] = known[i]
		}
		return out, nil
	})
	entries := make([]Entry, len(leaves))
	for k, leaf := range leaves {
		n := size + int64(k)
		hs, err := tlog.StoredHashes(n, leaf.Data, reader)
		if err != nil {
			return nil, fmt.Errorf("hash ledger leaf %d: %w", n, err)
		}
		base := tlog.StoredHashIndex(0, n)
		for j, h := range hs {
			known[base+int64(j)] = h
		}
		entries[k] = Entry{Index: n, Key: leaf.Key, Leaf: leaf.Data, Hashes: hs}
	}
	return entries, nil
}

// Hashes are stored hashes held in memory, in storage order (tlog.StoredHashIndex): a
// tlog.HashReader for recomputing a tree from its leaves alone.
type Hashes []tlog.Hash

// ReadHashes implements tlog.HashReader.
func (h Hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d among %d", x, len(h))
		}
		out[i] = h[x]
	}
	return out, nil
}

// HashReader reads the log's stored hashes.
func (l *Log) HashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return l.store.LedgerHashes(ctx, indexes)
	})
}

// Size returns the number of leaves in the log.
func (l *Log) Size(ctx context.Context) (int64, error) { return l.store.LedgerSize(ctx) }

// Tree returns the log's current size and root hash.
func (l *Log) Tree(ctx context.Context) (tlog.Tree, error) {
	size, err := l.store.LedgerSize(ctx)
	if err != nil {
		return tlog.Tree{}, err
	}
	root, err := tlog.TreeHash(size, l.HashReader(ctx))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("ledger root of %d leaves: %w", size, err)
	}
	return tlog.Tree{N: size, Hash: root}, nil
}

// Tile returns the bytes of the tile at path (tile/8/L/N[.p/W], or tile/8/data/N[.p/W] for
// the leaves, each followed by a newline), which must lie within a tree of size treeSize.
func (l *Log) Tile(ctx context.Context, path string, treeSize int64) ([]byte, error) {
	t, err := tlog.ParseTilePath(path)
	if err != nil || t.H != TileHeight {
		return nil, derrors.Errorf(derrors.NotFound, "no ledger tile %s", path)
	}
	// The tile covers leaves [start, end) of its level, which must all exist.
	level := t.L
	if level < 0 {
		level = 0
	}
	shift := uint(t.H * level)
	end := (t.N*(1<<uint(t.H)) + int64(t.W)) << shift
	if end > treeSize {
		return nil, derrors.Errorf(derrors.NotFound, "ledger tile %s is beyond the tree of %d leaves", path, treeSize)
	}
	if t.L == -1 {
		start := t.N << uint(t.H)
		leaves, err := l.store.LedgerLeaves(ctx, start, start+int64(t.W))
		if err != nil {
			return nil, err
		}
		var out []byte
		for _, leaf := range leaves {
			out = append(append(out, leaf...), '\n')
		}
		return out, nil
	}
	return tlog.ReadTileData(t, l.HashReader(ctx))
}

// ProveRecord proves that leaf index is in the tree of size treeSize.
func (l *Log) ProveRecord(ctx context.Context, index, treeSize int64) (tlog.RecordProof, error) {
	return tlog.ProveRecord(treeSize, index, l.HashReader(ctx))
}

// ProveTree proves that the tree of size oldSize is a prefix of the tree of size treeSize.
func (l *Log) ProveTree(ctx context.Context, treeSize, oldSize int64) (tlog.TreeProof, error) {
	return tlog.ProveTree(treeSize, oldSize, l.HashReader(ctx))
}

// Leaves returns the leaves [start, end).
func (l *Log) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	return l.store.LedgerLeaves(ctx, start, end)
}

// Find returns the index of leaf: the leaf stored under its key with exactly its bytes. A key
// with other bytes is a Conflict (what is stored now is not what was logged); no leaf under
// the key is NotFound.
func (l *Log) Find(ctx context.Context, leaf Leaf) (int64, error) {
	indexes, err := l.store.LedgerIndexes(ctx, leaf.Key)
	if err != nil {
		return 0, err
	}
	if len(indexes) == 0 {
		return 0, derrors.Errorf(derrors.NotFound, "nothing is in the ledger under %s", leaf.Key)
	}
	for _, i := range indexes {
		got, err := l.store.LedgerLeaves(ctx, i, i+1)
		if err != nil {
			return 0, err
		}
		if bytes.Equal(got[0], leaf.Data) {
			return i, nil
		}
	}
	return 0, derrors.Errorf(derrors.Conflict, "the ledger's record of %s differs from the stored one", leaf.Key)
}
