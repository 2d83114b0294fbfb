package mongodb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ReceiptCheck is what VerifyReceipts found.
type ReceiptCheck struct {
	Receipts int // receipts read
	Versions int // rating versions read
	// Unanswered counts versions whose receipt was never stored: a writer stopped (or a backup
	// was taken) between a group's versions and its receipts. Their owners were never told the
	// rating counted; it counts, and submitting the same form again counts once.
	Unanswered int
	// Broken lists receipts that name a rating version that is not there, or belongs to another
	// household: a receipt an owner holds that the data cannot back.
	Broken []string
}

// VerifyReceipts checks that every owner's receipt names a stored rating version of its own
// household. It reads every receipt and every rating version (their _id and receipt only).
func (db *DB) VerifyReceipts(ctx context.Context) (ReceiptCheck, error) {
	var rc ReceiptCheck
	versions := map[string]string{} // version _id -> its receipt number
	cur, err := db.c(colRatings).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "receipt", Value: 1}}))
	if err != nil {
		return rc, fmt.Errorf("read rating versions: %w", err)
	}
	for cur.Next(ctx) {
		var v struct {
			ID      string `bson:"_id"`
			Receipt string `bson:"receipt"`
		}
		if err := cur.Decode(&v); err != nil {
			cur.Close(ctx)
			return rc, err
		}
		versions[v.ID] = v.Receipt
	}
	if err := cur.Err(); err != nil {
		cur.Close(ctx)
		return rc, fmt.Errorf("read rating versions: %w", err)
	}
	cur.Close(ctx)
	rc.Versions = len(versions)

	answered := map[string]bool{} // numbers of stored receipts
	cur, err = db.c(colReceipts).Find(ctx, bson.D{})
	if err != nil {
		return rc, fmt.Errorf("read receipts: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r Receipt
		if err := cur.Decode(&r); err != nil {
			return rc, err
		}
		rc.Receipts++
		answered[r.Number] = true
		if _, ok := versions[versionID(r.Key, r.Revision)]; !ok {
			rc.Broken = append(rc.Broken, fmt.Sprintf("receipt %s names rating version %s, which is not stored", r.Number, versionID(r.Key, r.Revision)))
		}
	}
	if err := cur.Err(); err != nil {
		return rc, fmt.Errorf("read receipts: %w", err)
	}
	for _, number := range versions {
		if number != "" && !answered[number] {
			rc.Unanswered++
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
