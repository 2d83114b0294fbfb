package ferretdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestStartInsertFind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := start(t, dir, EachCommit)
	uri, _ := SocketURI(dir)
	if uri != e.URI() {
		t.Errorf("SocketURI = %q, engine says %q", uri, e.URI())
	}
	coll := connect(t, e).Database("t").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.N != 1 {
		t.Fatalf("n = %d, want 1", got.N)
	}
}

// TestDurabilityPragmas opens a database the way FerretDB's pool does, with the URL each
// durability gives, and asks SQLite what it got: WAL in both, synchronous FULL (2) for
// EachCommit and NORMAL (1) only for OnSync.
func TestDurabilityPragmas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		d    Durability
		want int
	}{{EachCommit, 2}, {OnSync, 1}} {
		dir := t.TempDir()
		e, err := StartWith(ctx, dir, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if e.Durability() != tc.d {
			t.Errorf("Durability() = %v, want %v", e.Durability(), tc.d)
		}
		insert(t, e, "pc", "a")
		// FerretDB's pool: the database file in its URL's directory, the query kept, its
		// defaults added (pool.databaseURI, setDefaultValues).
		dirURL, query, _ := strings.Cut(sqliteURL(filepath.Join(dir, "sqlite"), tc.d), "?")
		u := dirURL + "pc.sqlite?" + query + "&_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=auto_vacuum(none)"
		db, err := sql.Open("sqlite", u)
		if err != nil {
			t.Fatal(err)
		}
		var sync int
		var mode string
		if err := db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if sync != tc.want || mode != "wal" {
			t.Errorf("durability %v: synchronous=%d journal_mode=%s, want %d and wal", tc.d, sync, mode, tc.want)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyncCheckpointsIntoTheDatabaseFile writes with OnSync, syncs, and then reads the
// database file alone, without its write-ahead log: after Sync everything is in the file that
// SQLite synced, and the log is empty.
func TestSyncCheckpointsIntoTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := start(t, dir, OnSync)
	for i := range 300 {
		insert(t, e, "pc", fmt.Sprint("doc", i))
	}
	file := filepath.Join(dir, "sqlite", "pc.sqlite")
	if st, err := os.Stat(file + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("before Sync the log should hold the commits: %v, %v", st, err)
	}
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("after Sync the log holds %d bytes, want 0", st.Size())
	}
	// What a crash right after Sync could leave at worst: the database file without its log.
	copyDir := t.TempDir()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, "pc.sqlite"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, table := openTable(t, filepath.Join(copyDir, "pc.sqlite"), "c")
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 300 {
		t.Errorf("the database file alone holds %d documents, want 300", n)
	}
}

// start starts an engine in dir with durability d, closed when the test ends.
func start(t *testing.T, dir string, d Durability) *Engine {
	t.Helper()
	e, err := StartWith(context.Background(), dir, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func insert(t *testing.T, e *Engine, database, id string) {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if _, err := c.Database(database).Collection("c").InsertOne(context.Background(), bson.D{{Key: "_id", Value: id}}); err != nil {
		t.Fatal(err)
	}
}

// connect is a client of e, disconnected when the test ends.
func connect(t *testing.T, e *Engine) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

// openTable opens the SQLite file of a FerretDB database directly, closed when the test ends,
// and finds the table that holds collection.
func openTable(t *testing.T, file, collection string) (*sql.DB, string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatal(err)
	}
	return db, table
}
