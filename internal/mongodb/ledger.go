package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/ledger"
)

// The transparency ledger's storage (see internal/ledger). Each leaf is one document whose
// _id is its index (ledgerID), inserted, never updated: a second writer of the same index gets a
// duplicate key error and goes again on top of the first one's leaf, so the log cannot fork
// or be overwritten, whatever number of servers append at once. A leaf's document also holds
// the hashes tlog.StoredHashes gives for it: the stored hash (level L, number k) is in the
// document of leaf (k+1)·2^L − 1, at position L.
//
// Two helpers make it fast and are not needed for correctness: the key of each leaf in
// ledger_keys (written after the leaf; LedgerIndexes falls back to the leaves when it is
// missing), and a size hint in meta that only grows ($max) and that LedgerSize starts from.
const (
	colLedger     = "ledger"
	colLedgerKeys = "ledger_keys"
	ledgerSizeID  = "ledger-size"
)

type ledgerDoc struct {
	ID     string   `bson:"_id"` // ledgerID(Index)
	Index  int64    `bson:"index"`
	Key    string   `bson:"key"`
	Leaf   []byte   `bson:"leaf"`
	Hashes [][]byte `bson:"hashes"`
}

type ledgerKeyDoc struct {
	Key   string `bson:"_id"`
	Index int64  `bson:"index"`
}

var _ ledger.Store = (*DB)(nil)

// LedgerSize returns the number of leaves: it starts from the hint and looks forward for
// leaves appended since (by a writer that died before raising the hint, or is raising it now).
func (db *DB) LedgerSize(ctx context.Context) (int64, error) {
	var hint struct {
		Size int64 `bson:"size"`
	}
	err := db.c(colMeta).FindOne(ctx, byID(ledgerSizeID)).Decode(&hint)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("read ledger size: %w", err)
	}
	// Every leaf below the hint exists. Find the first missing one above it: grow a step
	// until a leaf is missing, then bisect.
	lo := hint.Size // lo-1 exists (or lo is 0)
	exists := func(i int64) (bool, error) {
		err := db.c(colLedger).FindOne(ctx, byIndex(i), options.FindOne().SetProjection(bson.D{{Key: "index", Value: 1}})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read ledger: %w", err)
		}
		return true, nil
	}
	return firstMissing(lo, exists)
}

// firstMissing finds the first i >= from for which exists is false, in a numbering without
// gaps (everything below from exists, and what exists has no missing number below it): it
// grows a step until one is missing, then bisects, with about 2·log2(i-from) calls.
func firstMissing(from int64, exists func(int64) (bool, error)) (int64, error) {
	lo := from
	ok, err := exists(lo)
	if err != nil || !ok {
		return lo, err
	}
	step := int64(1)
	hi := lo + step
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, step = hi, step*2
		hi = lo + step
	}
	for hi-lo > 1 { // lo exists, hi does not
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// ledgerID is the _id of leaf i: its index in 16 decimal digits. A string, because the embedded
// engine finds documents by _id through its index only for strings (by a number it scans the
// collection), and padded, so that the ids sort as the indexes.
func ledgerID(i int64) string { return fmt.Sprintf("%016d", i) }

func byIndex(i int64) bson.D { return bson.D{{Key: "_id", Value: ledgerID(i)}} }

// AppendLedger inserts entries in order with one ordered InsertMany; at the first index that
// exists already the server stops, and AppendLedger reports how many went in.
func (db *DB) AppendLedger(ctx context.Context, entries []ledger.Entry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	docs := make([]any, len(entries))
	for i, e := range entries {
		d := ledgerDoc{ID: ledgerID(e.Index), Index: e.Index, Key: e.Key, Leaf: e.Leaf, Hashes: make([][]byte, len(e.Hashes))}
		for j := range e.Hashes {
			d.Hashes[j] = e.Hashes[j][:]
		}
		docs[i] = d
	}
	inserted := len(entries)
	_, err := db.c(colLedger).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	var taken error
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 || !mongo.IsDuplicateKeyError(err) {
			return 0, fmt.Errorf("append to ledger: %w", err)
		}
		inserted = bwe.WriteErrors[0].Index
		taken = ledger.ErrTaken
	}
	if inserted > 0 {
		size := entries[inserted-1].Index + 1
		_, err := db.c(colMeta).UpdateOne(ctx, byID(ledgerSizeID), bson.D{{Key: "$max", Value: bson.D{{Key: "size", Value: size}}}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			db.log.Warn("ledger size hint not raised", "size", size, "err", err)
		}
		db.writeLedgerKeys(ctx, entries[:inserted])
	}
	return inserted, taken
}

// LedgerHashes returns stored hashes by their storage index.
func (db *DB) LedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	type at struct {
		record int64
		level  int
	}
	where := make([]at, len(indexes))
	var records []int64
	seen := map[int64]bool{}
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		rec := (n+1)<<uint(level) - 1
		where[i] = at{rec, level}
		if !seen[rec] {
			seen[rec] = true
			records = append(records, rec)
		}
	}
	docs, err := db.ledgerDocs(ctx, records, bson.D{{Key: "hashes", Value: 1}, {Key: "index", Value: 1}})
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, w := range where {
		d, ok := docs[w.record]
		if !ok || w.level >= len(d.Hashes) || len(d.Hashes[w.level]) != tlog.HashSize {
			return nil, fmt.Errorf("ledger hash %d (leaf %d, level %d) is missing", indexes[i], w.record, w.level)
		}
		copy(out[i][:], d.Hashes[w.level])
	}
	return out, nil
}

// LedgerLeaves returns the leaves [start, end).
func (db *DB) LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if end <= start {
		return nil, nil
	}
	indexes := make([]int64, 0, end-start)
	for i := start; i < end; i++ {
		indexes = append(indexes, i)
	}
	docs, err := db.ledgerDocs(ctx, indexes, bson.D{{Key: "leaf", Value: 1}, {Key: "index", Value: 1}})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(indexes))
	for i, x := range indexes {
		d, ok := docs[x]
		if !ok {
			return nil, fmt.Errorf("ledger leaf %d is missing", x)
		}
		out[i] = d.Leaf
	}
	return out, nil
}

// ledgerDocs reads the leaves' documents by _id, one lookup each (several at a time): the
// embedded engine serves only {_id: value} from its index ($in and ranges scan the whole
// collection).
func (db *DB) ledgerDocs(ctx context.Context, indexes []int64, projection bson.D) (map[int64]ledgerDoc, error) {
	docs := make([]ledgerDoc, len(indexes))
	found := make([]bool, len(indexes))
	if err := parallel(len(indexes), func(i int) error {
		err := db.c(colLedger).FindOne(ctx, byIndex(indexes[i]), options.FindOne().SetProjection(projection)).Decode(&docs[i])
		found[i] = err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("read ledger leaf %d: %w", indexes[i], err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make(map[int64]ledgerDoc, len(indexes))
	for i, d := range docs {
		if found[i] {
			out[indexes[i]] = d
		}
	}
	return out, nil
}

// maxKeyRepeats bounds how many leaves one key can have in ledger_keys: a key is repeated only
// when two servers publish the same publication number of a period at the same moment.
const maxKeyRepeats = 100

// ledgerKeyID is the _id in ledger_keys of the n-th leaf under key: the key itself, then key#1,
// key#2, …
func ledgerKeyID(key string, n int) string {
	if n == 0 {
		return key
	}
	return fmt.Sprintf("%s#%d", key, n)
}

// writeLedgerKeys records the keys of appended leaves. It is a lookup aid: a key that cannot
// be written is found by LedgerIndexes in the leaves themselves.
func (db *DB) writeLedgerKeys(ctx context.Context, entries []ledger.Entry) {
	docs := make([]any, len(entries))
	for i, e := range entries {
		docs[i] = ledgerKeyDoc{Key: e.Key, Index: e.Index}
	}
	_, err := db.c(colLedgerKeys).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		err = nil
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				err = we
				continue
			}
			e := entries[we.Index]
			for n := 1; n < maxKeyRepeats; n++ {
				_, ierr := db.c(colLedgerKeys).InsertOne(ctx, ledgerKeyDoc{Key: ledgerKeyID(e.Key, n), Index: e.Index})
				if !mongo.IsDuplicateKeyError(ierr) {
					err = errors.Join(err, ierr)
					break
				}
			}
		}
	}
	if err != nil {
		db.log.Warn("ledger keys not written", "first", entries[0].Index, "err", err)
	}
}

// LedgerIndexes returns the indexes of the leaves stored under key, from ledger_keys, or,
// when a key was not recorded there (its writer died), by searching the leaves.
func (db *DB) LedgerIndexes(ctx context.Context, key string) ([]int64, error) {
	var out []int64
	for n := 0; n < maxKeyRepeats; n++ {
		k, err := findByID[ledgerKeyDoc](ctx, db.c(colLedgerKeys), ledgerKeyID(key, n), "ledger key")
		if derrors.Code(err) == derrors.NotFound {
			break
		} else if err != nil {
			return nil, err
		}
		out = append(out, k.Index)
	}
	if len(out) > 0 {
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out, nil
	}
	cur, err := db.c(colLedger).Find(ctx, bson.D{{Key: "key", Value: key}},
		options.Find().SetProjection(bson.D{{Key: "index", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find ledger key %s: %w", key, err)
	}
	var docs []ledgerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find ledger key %s: %w", key, err)
	}
	for _, d := range docs {
		out = append(out, d.Index)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// LedgerEntries calls fn with every leaf and its key, in index order, for the audit.
func (db *DB) LedgerEntries(ctx context.Context, fn func(index int64, key string, leaf []byte) error) error {
	cur, err := db.c(colLedger).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "hashes", Value: 0}}).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d ledgerDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		if err := fn(d.Index, d.Key, d.Leaf); err != nil {
			return err
		}
	}
	return cur.Err()
}

// LedgerVerifierKey records the ledger's public key on first use and returns the one
// recorded, so that servers sharing a database refuse to sign with different keys.
func (db *DB) LedgerVerifierKey(ctx context.Context, vkey string) (string, error) {
	_, err := db.c(colMeta).InsertOne(ctx, bson.D{{Key: "_id", Value: "ledger-key"}, {Key: "vkey", Value: vkey}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("record ledger key: %w", err)
	}
	var doc struct {
		VKey string `bson:"vkey"`
	}
	if err := db.c(colMeta).FindOne(ctx, byID("ledger-key")).Decode(&doc); err != nil {
		return "", fmt.Errorf("read ledger key: %w", err)
	}
	return doc.VKey, nil
}
