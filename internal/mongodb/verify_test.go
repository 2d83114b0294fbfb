package mongodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// TestVerifyReceipts: receipts of stored versions pass; a version whose receipt was never
// stored (a writer stopped between the two) is counted as unanswered, not broken; a receipt
// whose version is gone is broken. Counts counts what is there.
func TestVerifyReceipts(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	if _, err := db.Import(ctx, smallCity(), nil); err != nil {
		t.Fatal(err)
	}
	var receipts []mongodb.Receipt
	for _, flat := range []string{"1-1-101", "1-1-102", "1-1-103"} {
		rc, err := db.SubmitRating(ctx, mongodb.Submission{Source: mongodb.SourceWeb, Rating: domain.Rating{
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
	if check.Receipts != 3 || check.Unanswered != 0 || len(check.Broken) != 0 {
		t.Fatalf("clean data: %+v", check)
	}

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
	if check.Receipts != 2 || check.Unanswered != 1 || len(check.Broken) != 1 || !strings.Contains(check.Broken[0], receipts[1].Number) {
		t.Errorf("after damage: %+v", check)
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["rating_receipts"] != 2 || counts["estates"] == 0 {
		t.Errorf("counts %v", counts)
	}
}
