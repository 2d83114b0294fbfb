package ferretdb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestIndexIDsMakesLookupsIndexSearches checks the query plan SQLite chooses for the lookup
// FerretDB runs for every find, update and delete by _id: a full scan before IndexIDs, an
// index search after.
func TestIndexIDsMakesLookupsIndexSearches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := start(t, dir, EachCommit)
	if _, err := connect(t, e).Database("pc").Collection("ratings").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		db, table := openTable(t, filepath.Join(dir, "sqlite", "pc.sqlite"), "ratings")
		rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "`+table+`" WHERE _ferretdb_sjson->'$._id' = ?`, `"a"`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		return strings.Join(steps, "; ")
	}
	if p := plan(); !strings.HasPrefix(p, "SCAN") {
		t.Logf("FerretDB's own _id index is used now (%s); IndexIDs may no longer be needed", p)
	}
	n, err := IndexIDs(ctx, dir, "pc")
	if err != nil || n != 1 {
		t.Fatalf("IndexIDs = %d, %v; want 1 table indexed", n, err)
	}
	if p := plan(); !strings.Contains(p, "USING INDEX") {
		t.Errorf("lookup by _id after IndexIDs: plan %q, want an index search", p)
	}
	if n, err := IndexIDs(ctx, dir, "pc"); err != nil || n != 1 {
		t.Errorf("second IndexIDs = %d, %v; want idempotent", n, err)
	}
}

// TestIndexIDsLeavesOneUniqueIndex: FerretDB's _id index is the one IndexIDs expects to replace;
// afterwards, also on a table indexed by an earlier IndexIDs, the table has our unique index
// alone, and through FerretDB, also after a restart, a second document with an existing _id is
// refused as a duplicate key, alone or among others in an unordered InsertMany.
func TestIndexIDsLeavesOneUniqueIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, e, "pc", "a")
	db, table := openTable(t, filepath.Join(dir, "sqlite", "pc.sqlite"), "c")
	indexes := func() map[string]string {
		rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var name, q string
			if err := rows.Scan(&name, &q); err != nil {
				t.Fatal(err)
			}
			out[name] = q
		}
		return out
	}
	if got := indexes()[ferretIDIndex(table)]; got != ferretIDIndexSQL(table) {
		t.Fatalf("FerretDB's _id index is %q, not the %q IndexIDs replaces", got, ferretIDIndexSQL(table))
	}
	// As an earlier IndexIDs left it.
	if _, err := db.Exec(fmt.Sprintf(`CREATE INDEX %q ON %q (_ferretdb_sjson->'$._id')`, oldIDIndex(table), table)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n, err := IndexIDs(ctx, dir, "pc"); err != nil || n != 1 {
			t.Fatalf("IndexIDs = %d, %v", n, err)
		}
	}
	want := map[string]string{idIndex(table): fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (_ferretdb_sjson->'$._id')`, idIndex(table), table)}
	if got := indexes(); !maps.Equal(got, want) {
		t.Errorf("indexes after IndexIDs: %v, want %v", got, want)
	}

	for restart := range 2 {
		c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
		if err != nil {
			t.Fatal(err)
		}
		coll := c.Database("pc").Collection("c")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); !mongo.IsDuplicateKeyError(err) {
			t.Errorf("restart %d: second _id a: %v, want a duplicate key error", restart, err)
		}
		id := fmt.Sprint("new", restart)
		_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "_id", Value: id}}},
			options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 2 || bwe.WriteErrors[0].Index != 1 || bwe.WriteErrors[1].Index != 2 ||
			bwe.WriteErrors[0].Code != 11000 || bwe.WriteErrors[1].Code != 11000 {
			t.Errorf("restart %d: InsertMany of new, a, new: %v, want documents 1 and 2 refused as duplicates", restart, err)
		}
		if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != int64(2+restart) {
			t.Errorf("restart %d: %d documents, %v; want %d", restart, n, err, 2+restart)
		}
		c.Disconnect(ctx)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if e, err = Start(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	e.Close()
	if got := indexes(); !maps.Equal(got, want) {
		t.Errorf("indexes after restarts: %v, want %v", got, want)
	}
}
