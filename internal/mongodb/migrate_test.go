package mongodb_test

import (
	"context"
	"testing"

	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// TestMigrationDropsRatingKeyIndexOnFerretDBOnly: a database migrated by this version has the
// index on ratings.key on MongoDB and not on FerretDB; one that migration 1 left (the index
// there, version 1 recorded) loses it on FerretDB at the next Migrate; Migrate stays idempotent.
func TestMigrationDropsRatingKeyIndexOnFerretDBOnly(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	ferret, err := db.IsFerretDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		indexed, err := db.RatingKeyIndexed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if indexed == ferret {
			t.Errorf("%s: index on ratings.key %v on a server that is FerretDB %v", when, indexed, ferret)
		}
		if v, err := db.StoredSchemaVersion(ctx); err != nil || v != mongodb.SchemaVersion {
			t.Errorf("%s: schema version %d, %v; want %d", when, v, err, mongodb.SchemaVersion)
		}
	}
	check("fresh database")
	if err := db.AsSchemaVersion1(ctx); err != nil {
		t.Fatal(err)
	}
	if indexed, err := db.RatingKeyIndexed(ctx); err != nil || !indexed {
		t.Fatalf("set-up: index on ratings.key %v, %v", indexed, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	check("migrated from version 1")
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	check("migrated again")
}
