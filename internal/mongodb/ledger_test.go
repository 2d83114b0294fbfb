package mongodb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func testLeaves(prefix string, n int) []ledger.Leaf {
	out := make([]ledger.Leaf, n)
	for i := range out {
		out[i] = ledger.Leaf{Key: fmt.Sprintf("%s%d", prefix, i), Data: []byte(fmt.Sprintf(`{"leaf":"%s%d"}`, prefix, i))}
	}
	return out
}

// TestLedgerStore: leaves appended by several servers at once (separate connections, as
// separate processes) all land, each once, and the stored tree is the RFC 6962 tree of the
// stored leaves, checked with tlog's own proofs.
func TestLedgerStore(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	servers := []*ledger.Log{ledger.New(db, nil), ledger.New(mongodbtest.Reconnect(t, db), nil), ledger.New(mongodbtest.Reconnect(t, db), nil)}
	var wg sync.WaitGroup
	for w, l := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 4; k++ {
				if _, err := l.Append(ctx, testLeaves(fmt.Sprintf("s%d.%d.", w, k), 40)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	const want = 3 * 4 * 40
	size, err := db.LedgerSize(ctx)
	if err != nil || size != want {
		t.Fatalf("size %d, %v; want %d", size, err, want)
	}
	leaves, err := db.LedgerLeaves(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var hashes []tlog.Hash
	for _, l := range leaves {
		if seen[string(l)] {
			t.Fatalf("leaf %s twice", l)
		}
		seen[string(l)] = true
		hashes = append(hashes, tlog.RecordHash(l))
	}
	// Recompute every stored hash from the leaves alone, in memory.
	var mem ledger.Hashes
	for n, l := range leaves {
		hs, err := tlog.StoredHashes(int64(n), l, mem)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	tree, err := servers[1].Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantRoot, _ := tlog.TreeHash(size, mem)
	if tree.Hash != wantRoot {
		t.Fatalf("stored root %s, recomputed %s", tree.Hash, wantRoot)
	}
	for _, n := range []int64{0, 1, 255, 256, size - 1} {
		p, err := servers[2].ProveRecord(ctx, n, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, size, tree.Hash, n, hashes[n]); err != nil {
			t.Errorf("leaf %d: %v", n, err)
		}
		idx, err := servers[0].Find(ctx, ledger.Leaf{Key: leafKey(t, db, n), Data: leaves[n]})
		if err != nil || idx != n {
			t.Errorf("index of leaf %d found by its key: %d, %v", n, idx, err)
		}
	}
	// A lost size hint (as after a crash between the leaves and the hint) is found again.
	if _, err := rawDB(t, db).Collection("meta").DeleteOne(ctx, bson.D{{Key: "_id", Value: "ledger-size"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.LedgerSize(ctx); err != nil || got != size {
		t.Fatalf("size without hint: %d, %v", got, err)
	}
	// A key appended twice (two servers publishing the same number at once) finds both
	// leaves, and Find the one with the bytes asked for.
	again := ledger.Leaf{Key: leafKey(t, db, 7), Data: []byte(`{"leaf":"again"}`)}
	idx, err := servers[1].Append(ctx, []ledger.Leaf{again})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.LedgerIndexes(ctx, again.Key); err != nil || len(got) != 2 || got[0] != 7 || got[1] != idx[0] {
		t.Errorf("indexes of a repeated key: %v, %v", got, err)
	}
	if got, err := servers[2].Find(ctx, again); err != nil || got != idx[0] {
		t.Errorf("find the second leaf of a key: %d, %v", got, err)
	}
	if _, err := servers[2].Find(ctx, ledger.Leaf{Key: again.Key, Data: []byte("{}")}); derrors.Code(err) != derrors.Conflict {
		t.Errorf("a leaf the ledger does not hold: %v", err)
	}
	size++
	// An index cannot be written twice.
	n, err := db.AppendLedger(ctx, []ledger.Entry{{Index: 5, Key: "x", Leaf: []byte("{}"), Hashes: []tlog.Hash{{}}}})
	if n != 0 || err != ledger.ErrTaken {
		t.Fatalf("overwrite of leaf 5: %d, %v", n, err)
	}
	if again, _ := db.LedgerLeaves(ctx, 5, 6); string(again[0]) != string(leaves[5]) {
		t.Fatal("leaf 5 was overwritten")
	}
}

func leafKey(t *testing.T, db interface{ Name() string }, n int64) string {
	t.Helper()
	var d struct {
		Key string `bson:"key"`
	}
	if err := rawDB(t, db).Collection("ledger").FindOne(context.Background(), bson.D{{Key: "index", Value: n}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Key
}

// rawDB opens the test database with the driver, behind the application's back.
func rawDB(t *testing.T, db interface{ Name() string }) *mongo.Database {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database(db.Name())
}
