package mongodb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/rating"
)

// ReceiptCheck is what VerifyReceipts found.
type ReceiptCheck struct {
	Receipts int // receipt documents read
	Versions int // rating versions read
	Held     int // receipts whose version is stored under them: what ReceiptByNumber shows
	// Claims counts receipts whose version is not stored under them: a writer claims the
	// receipt before it stores the version (see commitPeriod), so a crash, or a backup's
	// snapshot, between the two leaves a claim. It was never answered; ReceiptByNumber says
	// "not found", and the same request submitted again takes it over.
	Claims int
	// Unanswered counts versions whose receipt is not stored: a failed group frees its claims,
	// and a version may still have been stored. It counts; its owner was not answered.
	Unanswered int
	// Broken lists versions that carry the number of another household's receipt: an owner's
	// receipt that the data contradicts.
	Broken []string
}

// VerifyReceipts checks the receipts against the rating versions. It reads every receipt and
// every rating version.
func (db *DB) VerifyReceipts(ctx context.Context) (ReceiptCheck, error) {
	versions := map[string]versionRef{}
	if _, err := db.scanRatings(ctx, versions); err != nil {
		return ReceiptCheck{}, fmt.Errorf("read rating versions: %w", err)
	}
	return db.checkReceipts(ctx, versions)
}

// VerifyAll does what VerifyTallies (without fix) and VerifyReceipts do, reading the ratings
// once for both: a restore's verification reads a million ratings.
func (db *DB) VerifyAll(ctx context.Context) ([]TallyDrift, ReceiptCheck, error) {
	if err := db.CompactTallies(ctx); err != nil {
		return nil, ReceiptCheck{}, err
	}
	versions := map[string]versionRef{}
	heads, err := db.scanRatings(ctx, versions)
	if err != nil {
		return nil, ReceiptCheck{}, fmt.Errorf("read rating versions: %w", err)
	}
	first, err := db.tallyDrift(ctx, heads)
	if err != nil {
		return nil, ReceiptCheck{}, err
	}
	rc, err := db.checkReceipts(ctx, versions)
	if err != nil {
		return nil, rc, err
	}
	drift, err := db.confirmDrift(ctx, first)
	return drift, rc, err
}

// checkReceipts reads every receipt and checks it against the versions (by _id) that
// scanRatings recorded.
func (db *DB) checkReceipts(ctx context.Context, versions map[string]versionRef) (ReceiptCheck, error) {
	rc := ReceiptCheck{Versions: len(versions)}
	keyOf := map[string]string{} // receipt number -> the household key it names
	cur, err := db.c(colReceipts).Find(ctx, bson.D{})
	if err != nil {
		return rc, fmt.Errorf("read receipts: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r rating.Receipt
		if err := cur.Decode(&r); err != nil {
			return rc, err
		}
		rc.Receipts++
		keyOf[r.Number] = r.Key
		if v, ok := versions[versionID(r.Key, r.Revision)]; ok && v.receipt == r.Number {
			rc.Held++
		} else {
			rc.Claims++
		}
	}
	if err := cur.Err(); err != nil {
		return rc, fmt.Errorf("read receipts: %w", err)
	}
	for id, v := range versions {
		key, ok := keyOf[v.receipt]
		switch {
		case v.receipt == "":
		case !ok:
			rc.Unanswered++
		case key != v.key:
			rc.Broken = append(rc.Broken, fmt.Sprintf("rating version %s carries receipt %s, which names household %s", id, v.receipt, key))
		}
	}
	sort.Strings(rc.Broken)
	return rc, nil
}

// Counts returns the number of documents in each collection of the database.
func (db *DB) Counts(ctx context.Context) (map[string]int64, error) {
	names, err := db.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	out := map[string]int64{}
	for _, name := range names {
		n, err := db.c(name).CountDocuments(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

// ProgramSchema is the version of the database schema this program writes; a database or a
// backup of a newer one cannot be used by it.
func ProgramSchema() int { return schemaVersion }

// AdoptRestored makes a database restored from a backup this process's alone. The snapshot may
// hold servers' announcements and a group of ratings half-way (an intent without its journal
// entry), as after a crash; none of those servers runs on this copy. So it forgets them, and
// recovers every half-done group at once instead of after journalGrace. Only for restore,
// which holds the restored data privately.
func (db *DB) AdoptRestored(ctx context.Context) error {
	if _, err := db.c(colServers).DeleteMany(ctx, bson.D{}); err != nil {
		return fmt.Errorf("forget the snapshot's servers: %w", err)
	}
	saved := db.grace
	db.grace = 0
	defer func() { db.grace = saved }()
	if err := db.CompactTallies(ctx); err != nil {
		return fmt.Errorf("recover the snapshot's unfinished tally changes: %w", err)
	}
	return nil
}
