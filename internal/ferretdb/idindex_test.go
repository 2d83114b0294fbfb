package ferretdb

import (
	"context"
	"database/sql"
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
	e, err := Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	if _, err := c.Database("pc").Collection("ratings").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sqlite", "pc.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var table string
		if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'ratings'`).Scan(&table); err != nil {
			t.Fatal(err)
		}
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
