package ferretdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

// IndexIDs gives every collection table of database one unique index on _id that FerretDB's own
// lookups by _id can use, in place of the one FerretDB builds.
//
// FerretDB v1.24 looks documents up by _id with the SQL expression _ferretdb_sjson->'$._id' but
// builds its unique _id index on _ferretdb_sjson->"_id" (with no column of that name, SQLite
// reads "_id" as the string '_id': the same value). SQLite uses an index only for the
// expression it was built on, so every find, update and delete by _id scans the whole table:
// measured, 40 ms per update on 20,000 documents and 260 ms per find on 21,000 ratings. An
// index on the expression the queries use makes them index searches.
//
// Made unique, that index also refuses a second document with the same _id, as FerretDB's did:
// SQLite reports SQLITE_CONSTRAINT_UNIQUE whichever unique index refuses, and FerretDB turns it
// into the duplicate key error (E11000). So FerretDB's index is dropped, and every insert
// maintains one index on _id instead of two (measured with bench/import: see bench/README.md).
// FerretDB need not know: its metadata still lists the _id_ index, which nothing can drop
// (dropIndexes refuses _id_), and it never looks the SQLite index up by name but to drop it or
// to report its size (collStats, which propcredit does not use).
//
// Per table, in one transaction, so that the table always has a unique index on _id: create
// ours, drop the non-unique one that earlier versions of IndexIDs created, and drop FerretDB's
// if it is exactly the index FerretDB v1.24 builds (any other is left alone). Call it while
// this process runs the engine, after the collections exist; it is idempotent.
func IndexIDs(ctx context.Context, dataDir, database string) (indexed int, err error) {
	path := filepath.Join(dataDir, "sqlite", database+".sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return 0, fmt.Errorf("list collections in %s: %w", path, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, t := range tables {
		if err := indexIDs(ctx, db, t); err != nil {
			return indexed, fmt.Errorf("index %s: %w", t, err)
		}
		indexed++
	}
	return indexed, nil
}

// The names of the indexes on _id of table t: ours, the one earlier versions of IndexIDs
// made, FerretDB's, and what FerretDB v1.24 creates under that name.
func idIndex(t string) string       { return t + "_propcredit_uid" }
func oldIDIndex(t string) string    { return t + "_propcredit_id" }
func ferretIDIndex(t string) string { return t + "__id_" }
func ferretIDIndexSQL(t string) string {
	return fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (_ferretdb_sjson->"_id")`, ferretIDIndex(t), t)
}

func indexIDs(ctx context.Context, db *sql.DB, t string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{
		fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, idIndex(t), t),
		fmt.Sprintf(`DROP INDEX IF EXISTS %q`, oldIDIndex(t)),
	}
	var ferretSQL string
	err = tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?`,
		ferretIDIndex(t), t).Scan(&ferretSQL)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case ferretSQL == ferretIDIndexSQL(t):
		stmts = append(stmts, fmt.Sprintf(`DROP INDEX %q`, ferretIDIndex(t)))
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}
