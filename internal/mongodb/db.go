// Package mongodb stores propcredit's data in MongoDB, or in the embedded FerretDB that speaks
// its protocol. It keeps to what both support (see shared/notes/EMBEDDED-STORE.md): no
// transactions, no multi-accumulator $group, lookups keyed by _id, arithmetic in Go.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/propcredit/propcredit/internal/derrors"
)

// Collection names.
const (
	colDistricts   = "districts"
	colCompanies   = "companies"
	colEstates     = "estates"
	colPeriods     = "periods"
	colRatings     = "ratings" // every version of every rating; see submit.go
	colTallies     = "tallies" // running sums per estate and period
	colDisclosures = "disclosures"
	colGovernance  = "governance"
	colEvents      = "events"
	colAccounts    = "accounts"
	colSessions    = "sessions"
	colMeta        = "meta"
)

// DB is a connection to the database with propcredit's collections.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	log    *slog.Logger
	locks  keyLocks

	writerOnce   sync.Once
	ratingWriter *ratingWriter // started by the first SubmitRating; see batch.go
}

// Connect opens a connection to uri and checks that the server answers.
func Connect(ctx context.Context, uri, database string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	opts := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetServerSelectionTimeout(10 * time.Second).
		SetAppName("propcredit")
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{client: client, db: client.Database(database), log: log}
	if err := db.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return db, nil
}

// Close disconnects.
// Close flushes pending tally changes and disconnects.
func (db *DB) Close(ctx context.Context) error {
	if db.ratingWriter != nil {
		db.ratingWriter.close()
	}
	return db.client.Disconnect(ctx)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return &derrors.Error{Code: derrors.Unavailable, Message: "database does not answer: " + err.Error()}
	}
	return nil
}

func (db *DB) c(name string) *mongo.Collection { return db.db.Collection(name) }

// Name is the name of the database.
func (db *DB) Name() string { return db.db.Name() }

// schemaVersion is bumped by every migration; Migrate brings older databases forward.
const schemaVersion = 2

type migration struct {
	version int
	apply   func(ctx context.Context, db *DB) error
}

var migrations = []migration{
	{1, createIndexes},
	{2, dropRatingKeyIndexOnFerretDB},
}

// Migrate creates indexes and applies pending migrations. It is idempotent, so every process
// may run it at start-up.
func (db *DB) Migrate(ctx context.Context) error {
	var meta struct {
		Version int `bson:"version"`
	}
	err := db.c(colMeta).FindOne(ctx, bson.D{{Key: "_id", Value: "schema"}}).Decode(&meta)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if meta.Version > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this binary's %d; upgrade propcredit", meta.Version, schemaVersion)
	}
	for _, m := range migrations {
		if m.version <= meta.Version {
			continue
		}
		if err := m.apply(ctx, db); err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
		_, err := db.c(colMeta).UpdateOne(ctx, bson.D{{Key: "_id", Value: "schema"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: m.version}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("record schema version %d: %w", m.version, err)
		}
		db.log.Info("schema migrated", "version", m.version)
	}
	return db.createCollections(ctx)
}

// allCollections names every collection, so that Migrate can create them all before anything
// is written: the embedded engine creates a collection's table on first write otherwise, and
// ferretdb.IndexIDs can only index tables that exist. TestEveryCollectionIsListed keeps the
// list complete.
var allCollections = []string{
	colDistricts, colCompanies, colEstates, colPeriods, colRatings, colReceipts, colTallies,
	colDisclosures, colDisclosureVersions, colDisclosureSubmissions, colObjections, colObjectionSlots,
	colGovernance, colEvents, colAccounts, colSessions, colLoginThrottle, colAPITokens,
	colHouseholds, colCodes, colCodeFailures, colResults, colMeta, colLedger, colLedgerKeys,
}

// createCollections creates every collection that does not exist yet.
func (db *DB) createCollections(ctx context.Context) error {
	existing, err := db.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	have := map[string]bool{}
	for _, name := range existing {
		have[name] = true
	}
	for _, name := range allCollections {
		if have[name] {
			continue
		}
		err := db.db.CreateCollection(ctx, name)
		var cmdErr mongo.CommandError
		if errors.As(err, &cmdErr) && cmdErr.Code == 48 { // NamespaceExists: another process won
			err = nil
		}
		if err != nil {
			return fmt.Errorf("create collection %s: %w", name, err)
		}
	}
	return nil
}

func createIndexes(ctx context.Context, db *DB) error {
	unique := options.Index().SetUnique(true)
	indexes := []struct {
		collection string
		model      mongo.IndexModel
	}{
		{colAccounts, mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}, Options: unique}},
		{colEstates, mongo.IndexModel{Keys: bson.D{{Key: "company", Value: 1}}}},
		{colRatings, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}}},
		{colDisclosures, mongo.IndexModel{Keys: bson.D{{Key: "period", Value: 1}, {Key: "estate", Value: 1}}}},
		{colTallies, mongo.IndexModel{Keys: bson.D{{Key: "period", Value: 1}}}},
		{colEvents, mongo.IndexModel{Keys: bson.D{{Key: "company", Value: 1}}}},
		{colHouseholds, mongo.IndexModel{Keys: bson.D{{Key: "estate", Value: 1}}}},
	}
	for _, ix := range indexes {
		if _, err := db.c(ix.collection).Indexes().CreateOne(ctx, ix.model); err != nil {
			return fmt.Errorf("create index on %s: %w", ix.collection, err)
		}
	}
	return nil
}

// dropRatingKeyIndexOnFerretDB drops the index on ratings.key that migration 1 created, on
// FerretDB only. FerretDB v1.24 on SQLite pushes no filter down to SQLite but one on _id alone,
// so no query uses that index, while SQLite evaluates its expression on every rating inserted
// (see bench/README.md, "Import"). MongoDB uses it to find a household's rating versions
// (RatingVersions) and keeps it.
func dropRatingKeyIndexOnFerretDB(ctx context.Context, db *DB) error {
	ferret, err := db.isFerretDB(ctx)
	if err != nil || !ferret {
		return err
	}
	specs, err := db.c(colRatings).Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", colRatings, err)
	}
	for _, spec := range specs {
		if spec.Name == ratingKeyIndex {
			if err := db.c(colRatings).Indexes().DropOne(ctx, ratingKeyIndex); err != nil {
				return fmt.Errorf("drop index %s of %s: %w", ratingKeyIndex, colRatings, err)
			}
		}
	}
	return nil
}

// ratingKeyIndex is the name MongoDB and FerretDB give the index on ratings.key.
const ratingKeyIndex = "key_1"

// isFerretDB tells whether the server is FerretDB (the embedded engine), which names its
// version in buildInfo.
func (db *DB) isFerretDB(ctx context.Context) (bool, error) {
	var info struct {
		FerretDB string `bson:"ferretdbVersion"`
	}
	if err := db.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("buildInfo: %w", err)
	}
	return info.FerretDB != "", nil
}

// findAll decodes every document of a collection matching filter into a slice.
func findAll[T any](ctx context.Context, c *mongo.Collection, filter any) ([]T, error) {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("find in %s: %w", c.Name(), err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", c.Name(), err)
	}
	return out, nil
}

// findByID decodes the document with the given _id, or returns a NotFound error.
func findByID[T any](ctx context.Context, c *mongo.Collection, id string, what string) (T, error) {
	var out T
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return out, derrors.Errorf(derrors.NotFound, "%s %q not found", what, id)
	}
	if err != nil {
		return out, fmt.Errorf("find %s %q: %w", what, id, err)
	}
	return out, nil
}

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// Drop deletes the whole database. Tests use it; nothing else should.
func (db *DB) Drop(ctx context.Context) error { return db.db.Drop(ctx) }
