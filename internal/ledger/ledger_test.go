package ledger_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"

	"github.com/propcredit/propcredit/internal/ledger"
)

// memStore keeps the log in memory, with the Store contract (insert under unique index) and
// nothing more; the database's implementation is tested in internal/mongodb.
type memStore struct {
	mu      sync.Mutex
	entries []ledger.Entry
	keys    map[string][]int64
}

func (m *memStore) LedgerSize(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.entries)), nil
}

func (m *memStore) AppendLedger(_ context.Context, es []ledger.Entry) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range es {
		if e.Index != int64(len(m.entries)) {
			return i, ledger.ErrTaken
		}
		m.entries = append(m.entries, e)
		if m.keys == nil {
			m.keys = map[string][]int64{}
		}
		m.keys[e.Key] = append(m.keys[e.Key], e.Index)
	}
	return len(es), nil
}

func (m *memStore) LedgerHashes(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		rec := (n+1)<<uint(level) - 1
		if rec >= int64(len(m.entries)) || level >= len(m.entries[rec].Hashes) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m.entries[rec].Hashes[level]
	}
	return out, nil
}

func (m *memStore) LedgerLeaves(_ context.Context, start, end int64) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [][]byte
	for i := start; i < end; i++ {
		out = append(out, m.entries[i].Leaf)
	}
	return out, nil
}

func (m *memStore) LedgerIndexes(_ context.Context, key string) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys[key], nil
}

func newSigner(t interface{ Fatal(...any) }, name string) *ledger.Signer {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func leaves(prefix string, n int) []ledger.Leaf {
	out := make([]ledger.Leaf, n)
	for i := range out {
		out[i] = ledger.Leaf{Key: fmt.Sprintf("%s%d", prefix, i), Data: []byte(fmt.Sprintf(`{"n":"%s%d"}`, prefix, i))}
	}
	return out
}

// logTiles reads tiles from the log as a client reads them from /ledger/tile/.
type logTiles struct {
	t    *rapid.T
	log  *ledger.Log
	size int64
}

func (lt logTiles) Height() int { return ledger.TileHeight }
func (lt logTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := lt.log.Tile(context.Background(), t.Path(), lt.size)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (lt logTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// TestLogAgainstTlog appends random batches and checks every answer of the log with tlog's own
// checks: inclusion proofs, consistency proofs, and tiles read through TileHashReader.
func TestLogAgainstTlog(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		store := &memStore{}
		log := ledger.New(store, newSigner(t, "test.example/ledger"))
		var all [][]byte
		var trees []tlog.Tree
		for b, batches := 0, rapid.IntRange(1, 5).Draw(t, "batches"); b < batches; b++ {
			batch := leaves(fmt.Sprintf("b%d.", b), rapid.IntRange(1, 700).Draw(t, "size"))
			idx, err := log.Append(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range idx {
				if x != int64(len(all)) {
					t.Fatalf("leaf %d of batch %d got index %d, want %d", i, b, x, len(all))
				}
				all = append(all, batch[i].Data)
			}
			tree, err := log.Tree(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// The root is the RFC 6962 root of the leaves, computed afresh.
			if want := rootOf(all); tree.Hash != want || tree.N != int64(len(all)) {
				t.Fatalf("tree %d %s, want %d %s", tree.N, tree.Hash, len(all), want)
			}
			trees = append(trees, tree)
		}
		last := trees[len(trees)-1]
		thr := tlog.TileHashReader(last, logTiles{t, log, last.N})
		for k := 0; k < 5; k++ {
			n := rapid.Int64Range(0, last.N-1).Draw(t, "leaf")
			p, err := log.ProveRecord(ctx, n, last.N)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(p, last.N, last.Hash, n, tlog.RecordHash(all[n])); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", n, last.N, err)
			}
			if err := tlog.CheckRecord(p, last.N, last.Hash, n, tlog.RecordHash(append([]byte("x"), all[n]...))); err == nil {
				t.Fatalf("inclusion of a changed leaf %d passed", n)
			}
			// The same proof, computed by a client from the served tiles.
			p2, err := tlog.ProveRecord(last.N, n, thr)
			if err != nil {
				t.Fatalf("prove from tiles: %v", err)
			}
			if fmt.Sprint(p) != fmt.Sprint(p2) {
				t.Fatalf("proof from tiles differs")
			}
		}
		for _, old := range trees {
			p, err := log.ProveTree(ctx, last.N, old.N)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p, last.N, last.Hash, old.N, old.Hash); err != nil {
				t.Fatalf("consistency %d → %d: %v", old.N, last.N, err)
			}
			if err := ledger.CheckExtends(old, last, logTiles{t, log, last.N}); err != nil {
				t.Fatalf("witness %d → %d: %v", old.N, last.N, err)
			}
		}
		// Data tiles give back the leaves.
		data, err := log.Tile(ctx, tlog.Tile{H: 8, L: -1, N: 0, W: int(min(last.N, 256))}.Path(), last.N)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(data), "\n"); got != int(min(last.N, 256)) {
			t.Fatalf("data tile has %d leaves", got)
		}
		if _, err := log.Tile(ctx, tlog.Tile{H: 8, L: 0, N: 0, W: int(min(last.N, 256)) + 1}.Path(), last.N); last.N < 256 && err == nil {
			t.Fatal("a tile beyond the tree was served")
		}
	})
}

// rootOf computes the RFC 6962 Merkle root directly from the definition.
func rootOf(leaves [][]byte) tlog.Hash {
	var rec func(l [][]byte) tlog.Hash
	rec = func(l [][]byte) tlog.Hash {
		if len(l) == 1 {
			return tlog.RecordHash(l[0])
		}
		k := 1
		for k*2 < len(l) {
			k *= 2
		}
		return tlog.NodeHash(rec(l[:k]), rec(l[k:]))
	}
	if len(leaves) == 0 {
		return tlog.Hash{}
	}
	return rec(leaves)
}

// TestConcurrentAppends: writers appending at once each get distinct indexes, every leaf is
// in the log once, and each writer's leaves stay in its order.
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	log := ledger.New(store, nil)
	var wg sync.WaitGroup
	got := make([][]int64, 4)
	for w := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				idx, err := log.Append(ctx, leaves(fmt.Sprintf("w%d.%d.", w, k), 30))
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], idx...)
			}
		}()
	}
	wg.Wait()
	var all []int64
	for _, idx := range got {
		if !sort.SliceIsSorted(idx, func(i, j int) bool { return idx[i] < idx[j] }) {
			t.Errorf("a writer's leaves are out of order: %v", idx)
		}
		all = append(all, idx...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i, x := range all {
		if x != int64(i) {
			t.Fatalf("indexes are not 0..%d: %d at %d", len(all)-1, x, i)
		}
	}
	tree, err := log.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	for _, e := range store.entries {
		data = append(data, e.Leaf)
	}
	if tree.Hash != rootOf(data) {
		t.Fatal("root of concurrently appended log is wrong")
	}
}

func TestCheckpointFormat(t *testing.T) {
	s := newSigner(t, "propcredit.example/ledger")
	tree := tlog.Tree{N: 3, Hash: tlog.RecordHash([]byte("x"))}
	cp, err := s.Sign(tree)
	if err != nil {
		t.Fatal(err)
	}
	body := "propcredit.example/ledger\n3\n" + tree.Hash.String() + "\n"
	if !strings.HasPrefix(string(cp.Signed), body+"\n— propcredit.example/ledger ") {
		t.Fatalf("checkpoint:\n%s", cp.Signed)
	}
	got, err := ledger.OpenCheckpoint(cp.Signed, s.VerifierKey())
	if err != nil || got.Tree != tree {
		t.Fatalf("open: %v %v", got.Tree, err)
	}
	other := newSigner(t, "propcredit.example/ledger")
	if _, err := ledger.OpenCheckpoint(cp.Signed, other.VerifierKey()); err == nil {
		t.Fatal("a checkpoint opened with another key")
	}
	if !strings.HasPrefix(s.VerifierKey(), "propcredit.example/ledger+") || strings.Contains(s.VerifierKey(), "PRIVATE") {
		t.Fatalf("verifier key %q", s.VerifierKey())
	}
}
