package mongodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

// TestVerifyReceipts: receipts of stored versions hold; a version whose receipt is not stored
// is unanswered, and a receipt whose version is gone is a claim, neither of them broken (both
// happen when a writer stops half-way, or in a snapshot); a version carrying the receipt of
// another household is broken. Counts counts what is there.
func TestVerifyReceipts(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var receipts []rating.Receipt
	for _, flat := range []string{"1-1-101", "1-1-102", "1-1-103"} {
		rc, err := db.SubmitRating(ctx, rating.Submission{Source: rating.SourceWeb, Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: flat, SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})}})
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, rc)
	}
	check, err := db.VerifyReceipts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if check.Receipts != 3 || check.Held != 3 || check.Claims != 0 || check.Unanswered != 0 || len(check.Broken) != 0 {
		t.Fatalf("clean data: %+v", check)
	}
	verifyAllAgrees(t, db, check, 1)

	client, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	raw := client.Database(db.Name())
	// The first owner's receipt was never stored; the second's version is gone.
	if _, err := raw.Collection("rating_receipts").DeleteOne(ctx, bson.D{{Key: "_id", Value: receipts[0].Number}}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Collection("ratings").DeleteOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s|%d", receipts[1].Key, receipts[1].Revision)}}); err != nil {
		t.Fatal(err)
	}
	check, err = db.VerifyReceipts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if check.Receipts != 2 || check.Held != 1 || check.Claims != 1 || check.Unanswered != 1 || len(check.Broken) != 0 {
		t.Errorf("after a stop half-way: %+v", check)
	}
	// The third owner's receipt now names another household.
	if _, err := raw.Collection("rating_receipts").UpdateOne(ctx, bson.D{{Key: "_id", Value: receipts[2].Number}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "key", Value: "2026Q4|e1|9-9-999"}}}}); err != nil {
		t.Fatal(err)
	}
	check, err = db.VerifyReceipts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Broken) != 1 || !strings.Contains(check.Broken[0], receipts[2].Number) {
		t.Errorf("after damage: %+v", check)
	}
	verifyAllAgrees(t, db, check, 2) // a drift is read again a moment later
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["rating_receipts"] != 2 || counts["estates"] == 0 {
		t.Errorf("counts %v", counts)
	}
}

// verifyAllAgrees checks that VerifyAll finds what VerifyTallies and VerifyReceipts find, with
// the same messages, reading every rating the given number of times (once, unless a tally
// drifted), where the two read them at least twice.
func verifyAllAgrees(t *testing.T, db *mongodb.DB, receipts mongodb.ReceiptCheck, scans int64) {
	t.Helper()
	ctx := context.Background()
	drift, err := db.VerifyTallies(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	before := db.RatingScans()
	gotDrift, gotReceipts, err := db.VerifyAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := db.RatingScans() - before; n != scans {
		t.Errorf("VerifyAll read every rating %d times, want %d", n, scans)
	}
	if diff := cmp.Diff(receipts, gotReceipts); diff != "" {
		t.Errorf("VerifyAll's receipts differ from VerifyReceipts' (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(drift, gotDrift); diff != "" {
		t.Errorf("VerifyAll's drift differs from VerifyTallies' (-want +got):\n%s", diff)
	}
}
