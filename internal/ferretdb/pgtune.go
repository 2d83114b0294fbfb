package ferretdb

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// TunePostgreSQL makes FerretDB v1.24 on PostgreSQL find documents with indexes, for the
// database (a PostgreSQL schema) that FerretDB keeps at pgURL. It is what IndexIDs is for the
// embedded engine, and `propcredit db tune` runs it.
//
// FerretDB pushes a filter on a field down to PostgreSQL as _jsonb->'field' @> value, but
// builds its unique _id index as a B-tree on _jsonb->'_id', which serves = and not @>: so
// every lookup by _id read the whole table (measured while two servers took ratings: 9,079
// sequential scans read 252 M rows). A GIN index on the same expression serves @>. Its
// jsonb_path_ops class is the smaller one and serves exactly @>. FerretDB's unique index
// stays: it is what refuses a second document with the same _id.
//
// The GIN indexes keep no pending list (fastupdate = off). With it on, PostgreSQL's default,
// new entries wait in an unsorted list that every look-up reads through until a vacuum or 4 MB
// of them moves them into the index: measured with two servers taking ratings, the household
// codes' index had all 3,000 codes pending (they were issued in one go and never changed), the
// ratings' 36,586, and finding one code took PostgreSQL 0.14 ms. Without the list each insert
// updates the index at once, which for one jsonb_path_ops key per document is cheap.
//
// Fields that propcredit filters on besides _id (filters) get the same kind of index. And
// FerretDB runs its queries as prepared statements; after five runs PostgreSQL may switch to
// a generic plan that cannot look inside the value and scans again, so the database is set to
// plan each query for its values (plan_cache_mode = force_custom_plan; new connections, so
// restart FerretDB after the first tune). It is idempotent, and safe beside running servers
// (CREATE INDEX CONCURRENTLY does not block writers).
func TunePostgreSQL(ctx context.Context, pgURL, database string, filters map[string][]string) ([]string, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{database}.Sanitize()
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT _jsonb->>'_id', _jsonb->>'table' FROM %s._ferretdb_database_metadata`, schema))
	if err != nil {
		return nil, fmt.Errorf("read FerretDB's collections of %s (is this FerretDB's PostgreSQL database?): %w", database, err)
	}
	tables := map[string]string{}
	for rows.Next() {
		var collection, table string
		if err := rows.Scan(&collection, &table); err != nil {
			rows.Close()
			return nil, err
		}
		tables[collection] = table
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tables))
	for c := range tables {
		names = append(names, c)
	}
	sort.Strings(names)
	var done []string
	for _, c := range names {
		table := tables[c]
		for _, field := range append([]string{"_id"}, filters[c]...) {
			index := pgx.Identifier{table + "_" + field + "_gin"}.Sanitize()
			for _, q := range []string{
				fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s.%s USING gin ((_jsonb->%s) jsonb_path_ops) WITH (fastupdate = off)`,
					index, schema, pgx.Identifier{table}.Sanitize(), quoteLiteral(field)),
				// An index made by an older tune, with the pending list on.
				fmt.Sprintf(`ALTER INDEX %s.%s SET (fastupdate = off)`, schema, index),
				fmt.Sprintf(`SELECT gin_clean_pending_list(%s::regclass)`, quoteLiteral(schema+"."+index)),
			} {
				if _, err := conn.Exec(ctx, q); err != nil {
					return done, fmt.Errorf("index %s.%s: %w", c, field, err)
				}
			}
			done = append(done, c+"."+field)
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf(`ANALYZE %s.%s`, schema, pgx.Identifier{table}.Sanitize())); err != nil {
			return done, fmt.Errorf("analyze %s: %w", c, err)
		}
	}
	var db string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return done, err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s SET plan_cache_mode = force_custom_plan`, pgx.Identifier{db}.Sanitize())); err != nil {
		return done, fmt.Errorf("set plan_cache_mode: %w", err)
	}
	return done, nil
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
