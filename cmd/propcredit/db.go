package main

import (
	"context"
	"fmt"

	"github.com/propcredit/propcredit/internal/app"
)

const dbSynopsis = "db tune [--postgresql-url URL] [--data DIR | --mongodb-uri URI]"

// db runs database maintenance: `db tune` gives the engine the indexes propcredit's queries
// need (see ferretdb.TunePostgreSQL).
func (m *Main) db(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "tune" {
		return usagef("db: the only subcommand is tune; usage: propcredit %s", dbSynopsis)
	}
	fs, sf := m.storeFlagSet("db tune", dbSynopsis)
	pgURL := fs.String("postgresql-url", "", "FerretDB's PostgreSQL database (as FerretDB's --postgresql-url), when FerretDB with PostgreSQL is the database")
	if err := m.parse(fs, args[1:]); err != nil {
		return err
	}
	if *pgURL != "" {
		done, err := app.TunePostgreSQL(ctx, *pgURL)
		if err != nil {
			return fmt.Errorf("db tune: %w", err)
		}
		fmt.Fprintf(m.Stdout, "FerretDB on PostgreSQL: %d GIN indexes in place (%d collections), plan_cache_mode = force_custom_plan; restart FerretDB once so that its connections plan each query\n",
			len(done), countCollections(done))
		return nil
	}
	// The embedded engine gets its indexes when the store opens; MongoDB from the migrations.
	store, err := m.openStore(ctx, sf, "db tune")
	if err != nil {
		return err
	}
	if store.Embedded || sf.mongoURI == "" {
		fmt.Fprintln(m.Stdout, "embedded engine: the _id indexes are in place (they are made at every start)")
	} else {
		fmt.Fprintln(m.Stdout, "external database: its indexes come from the schema migrations, which ran; for FerretDB on PostgreSQL, run again with --postgresql-url")
	}
	return nil
}

func countCollections(indexed []string) int {
	seen := map[string]bool{}
	for _, s := range indexed {
		for i := 0; i < len(s); i++ {
			if s[i] == '.' {
				seen[s[:i]] = true
				break
			}
		}
	}
	return len(seen)
}
