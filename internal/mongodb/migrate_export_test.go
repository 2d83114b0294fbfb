package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// What the migration tests (package mongodb_test) look at and set up.

const SchemaVersion = schemaVersion

// RatingScans counts the reads of every rating so far.
func (db *DB) RatingScans() int64 { return db.scans.Load() }

func (db *DB) IsFerretDB(ctx context.Context) (bool, error) { return db.isFerretDB(ctx) }

// RatingKeyIndexed tells whether ratings has the index on key.
func (db *DB) RatingKeyIndexed(ctx context.Context) (bool, error) {
	specs, err := db.c(colRatings).Indexes().ListSpecifications(ctx)
	for _, s := range specs {
		if s.Name == ratingKeyIndex {
			return true, err
		}
	}
	return false, err
}

// AsSchemaVersion1 puts the database back as migration 1 left it: the index on ratings.key
// there, version 1 recorded.
func (db *DB) AsSchemaVersion1(ctx context.Context) error {
	if _, err := db.c(colRatings).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}}); err != nil {
		return err
	}
	_, err := db.c(colMeta).UpdateOne(ctx, byID("schema"), bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 1}}}},
		options.UpdateOne().SetUpsert(true))
	return err
}

func (db *DB) StoredSchemaVersion(ctx context.Context) (int, error) {
	var meta struct {
		Version int `bson:"version"`
	}
	err := db.c(colMeta).FindOne(ctx, byID("schema")).Decode(&meta)
	return meta.Version, err
}
