// Package mongodb stores propcredit's data in MongoDB, or in the embedded FerretDB that speaks
// its protocol. It keeps to what both support (see shared/notes/EMBEDDED-STORE.md): no
// transactions, no multi-accumulator $group, lookups keyed by _id, arithmetic in Go.
package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/rating"
)

// Collection names.
const (
	colDistricts   = "districts"
	colCompanies   = "companies"
	colEstates     = "estates"
	colPeriods     = "periods"
	colRatings     = "ratings" // every version of every rating; see submit.go
	colDisclosures = "disclosures"
	colGovernance  = "governance"
	colEvents      = "events"
	colAccounts    = "accounts"
	colSessions    = "sessions"
	colMeta        = "meta"
)

// legacyTallies held running sums per estate and period, updated in place by every writer,
// before the tally journal (journal.go); migration 3 drops it.
const legacyTallies = "tallies"

// DB is a connection to the database with propcredit's collections.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	log    *slog.Logger
	locks  keyLocks

	grace time.Duration // journalGrace, but for tests
	// Tests make these fail as a full disk does: the journal entry of a rating group, the
	// settling of a failed group's journal, and the reads that follow versions stored again
	// after their revision was taken (see export_test.go).
	failEntry, failSettle, failTaken atomic.Pointer[error]
	fieldLookups                     bool         // see UseFieldLookups
	serverID                         string       // set by Announce; the owner of this process's journal intents
	scans                            atomic.Int64 // reads of every rating (scanRatings), for tests

	stuffing rating.StuffingRules // ballot-stuffing thresholds; see holds.go

	writerOnce   sync.Once
	ratingWriter *ratingWriter // started by the first SubmitRating; see batch.go
}

// Connect opens a connection to uri and checks that the server answers.
func Connect(ctx context.Context, uri, database string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	// Several servers may share the database (docs/SCALING.md). Every read may decide a write
	// (a head, a claim, a code), so reads go to the primary with majority read concern, and
	// see what a majority acknowledged; writes wait for a majority and are retried once by
	// the driver after a primary steps down. Driver v2 has no wtimeout: every write runs under
	// a context with a deadline (a group commit: 30 s), which bounds the wait for a majority.
	// A URI's own options win.
	opts := options.Client().
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority()).
		SetReadPreference(readpref.Primary()).
		SetRetryWrites(true).
		SetRetryReads(true).
		SetServerSelectionTimeout(10 * time.Second).
		SetAppName("propcredit").
		ApplyURI(uri)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{client: client, db: client.Database(database), log: log, grace: journalGrace}
	if err := db.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return db, nil
}

// Close stops the rating writer and disconnects.
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

// ProbeWrite checks that the database takes writes: it inserts a document and deletes it. A
// full disk answers Ping but fails here, so readiness checks both.
func (db *DB) ProbeWrite(ctx context.Context) error {
	id := "probe|" + db.serverID + "|" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.c(colMeta).InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return &derrors.Error{Code: derrors.Unavailable, Message: "database takes no writes: " + err.Error()}
	}
	if _, err := db.c(colMeta).DeleteOne(ctx, byID(id)); err != nil {
		return &derrors.Error{Code: derrors.Unavailable, Message: "database takes no writes: " + err.Error()}
	}
	return nil
}

func (db *DB) c(name string) *mongo.Collection { return db.db.Collection(name) }

// Name is the name of the database.
func (db *DB) Name() string { return db.db.Name() }

// schemaVersion is bumped by every migration; Migrate brings older databases forward.
const schemaVersion = 4

type migration struct {
	version int
	apply   func(ctx context.Context, db *DB) error
}

var migrations = []migration{
	{1, createIndexes},
	{2, dropRatingKeyIndexOnFerretDB},
	{3, startTallyJournal},
	{4, indexCodeLookups},
}

// Migrate creates indexes and applies pending migrations. Every process runs it at start-up,
// and servers may start at once: each migration is idempotent and tolerates another process
// running it at the same moment, and the recorded version only moves forward.
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
	if err := db.createCollections(ctx); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.version <= meta.Version {
			continue
		}
		// Another process applying the same migration at the same moment can make a step
		// fail (an index being created twice); the migration is idempotent, so try again.
		for attempt := 1; ; attempt++ {
			err := m.apply(ctx, db)
			if err == nil {
				break
			}
			if attempt == 3 {
				return fmt.Errorf("migration %d: %w", m.version, err)
			}
			db.log.Warn("migration failed; trying again", "version", m.version, "err", err)
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		_, err := db.c(colMeta).UpdateOne(ctx,
			bson.D{{Key: "_id", Value: "schema"}, {Key: "version", Value: bson.D{{Key: "$lt", Value: m.version}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: m.version}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) { // duplicate: another process recorded it
			return fmt.Errorf("record schema version %d: %w", m.version, err)
		}
		db.log.Info("schema migrated", "version", m.version)
	}
	return nil
}

// allCollections names every collection, so that Migrate can create them all before anything
// is written: the embedded engine creates a collection's table on first write otherwise, and
// ferretdb.IndexIDs can only index tables that exist. TestEveryCollectionIsListed keeps the
// list complete.
var allCollections = []string{
	colDistricts, colCompanies, colEstates, colPeriods, colRatings, colReceipts, colTallyBases, colTallyJournal,
	colDisclosures, colDisclosureVersions, colDisclosureSubmissions, colDisclosureWrites, colObjections, colObjectionSlots,
	colGovernance, colEvents, colAccounts, colSessions, colServers, colLimits, colLoginThrottle, colAPITokens,
	colHouseholds, colCodes, colCodeFailures, colCodeGenerations, colResults, colMeta, colLedger, colLedgerKeys,
	colSignals, colHolds, colHoldDecisions,
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

// startTallyJournal moves the tallies into the journal (journal.go): the ratings stored so far
// become the first base of each period, gaps in their revisions are filled, and the old tally
// documents, which every writer updated in place, are dropped. On MongoDB, the journal's
// queries by period and the recovery's query by journal get indexes; FerretDB on SQLite pushes
// down only filters on _id, so there they would only slow inserts down.
func startTallyJournal(ctx context.Context, db *DB) error {
	if err := db.legacyBases(ctx); err != nil {
		return err
	}
	if err := db.c(legacyTallies).Drop(ctx); err != nil {
		return fmt.Errorf("drop %s: %w", legacyTallies, err)
	}
	ferret, err := db.isFerretDB(ctx)
	if err != nil || ferret {
		return err
	}
	for _, ix := range []struct{ col, field string }{{colTallyJournal, "period"}, {colTallyBases, "period"}, {colRatings, "journal"}} {
		_, err := db.c(ix.col).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: ix.field, Value: 1}}})
		if err != nil {
			return fmt.Errorf("create index on %s: %w", ix.col, err)
		}
	}
	return nil
}

// indexCodeLookups indexes household codes by lookup on MongoDB, where the check of a code
// reads the code and its lock-outs by it (DB.UseFieldLookups). FerretDB gets no index here: on
// SQLite it would only slow inserts down (only _id is pushed down), and on PostgreSQL `db tune`
// makes the kind of index FerretDB's filters use. The schema version it records also stops
// servers from before it from starting: they cannot read the tally journal's string form
// (tallylist.go) nor see lock-outs kept beside the codes.
func indexCodeLookups(ctx context.Context, db *DB) error {
	ferret, err := db.isFerretDB(ctx)
	if err != nil || ferret {
		return err
	}
	if _, err := db.c(colCodes).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "lookup", Value: 1}}}); err != nil {
		return fmt.Errorf("create index on %s: %w", colCodes, err)
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

// allByID decodes every document of a collection, sorted by id (reference data and
// declarations number in the thousands at most, so they are sorted in Go).
func allByID[T any](ctx context.Context, c *mongo.Collection, filter any, id func(T) string) ([]T, error) {
	out, err := findAll[T](ctx, c, filter)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return out, err
}

// insertUnique inserts doc, whose _id is its unique key: taken is the error when the id is
// already there (another server or request inserted it first).
func insertUnique(ctx context.Context, c *mongo.Collection, doc any, taken error) error {
	_, err := c.InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return taken
	}
	return err
}

// replaceNextVersion writes doc, version n of document id, if the stored one is version n-1;
// a Conflict ("credit.err.changed") when someone wrote it in the meantime.
func (db *DB) replaceNextVersion(ctx context.Context, col, id string, n int, doc any, what string) error {
	defer db.locks.lock(col, id)()
	res, err := db.c(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: n - 1}}, doc)
	if err != nil {
		return fmt.Errorf("replace %s %s: %w", what, id, err)
	}
	if res.MatchedCount == 0 {
		return &derrors.Error{Code: derrors.Conflict, Message: "credit.err.changed"}
	}
	return nil
}

// every runs f every d until stop is closed, then closes finished: a server's background
// chore (compaction, heartbeat).
func every(d time.Duration, stop <-chan struct{}, finished chan<- struct{}, f func()) {
	defer close(finished)
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			f()
		case <-stop:
			return
		}
	}
}

// findByToken decodes the record kept under the hash of a secret token (sha256Hex); none is
// the error unknown, which says no more than a wrong token would.
func findByToken[T any](ctx context.Context, c *mongo.Collection, token, what string, unknown error) (T, error) {
	out, err := findByID[T](ctx, c, sha256Hex(token), what)
	if derrors.Code(err) == derrors.NotFound {
		return out, unknown
	}
	return out, err
}

// sha256Hex is the hex SHA-256 of a secret token: the _id under which its record is kept, so
// that the hot lookup is by _id and the database holds no working token.
func sha256Hex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Drop deletes the whole database. Tests use it; nothing else should.
func (db *DB) Drop(ctx context.Context) error { return db.db.Drop(ctx) }

// FilteredFields names, by collection, the fields besides _id that propcredit's queries filter
// on. MongoDB gets its indexes from the migrations; `propcredit db tune` indexes them on a
// FerretDB-PostgreSQL backend (ferretdb.TunePostgreSQL), where FerretDB pushes such filters
// down to PostgreSQL.
func FilteredFields() map[string][]string {
	return map[string][]string{
		colCodes:        {"lookup"},
		colTallyJournal: {"period"},
		colTallyBases:   {"period"},
		colRatings:      {"key", "journal"},
		colHouseholds:   {"estate"},
		colDisclosures:  {"period"},
		colEstates:      {"company"},
		colEvents:       {"company"},
		colAccounts:     {"name"},
	}
}
