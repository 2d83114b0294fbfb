package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/propcredit/propcredit/internal/app"
)

func (m *Main) tally(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("tally", "tally --verify [--fix] [--data DIR]")
	verify := fs.Bool("verify", false, "rebuild the tallies from the ratings and report any drift")
	fix := fs.Bool("fix", false, "with --verify: rewrite the tallies that drifted")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if !*verify {
		return usagef("tally: nothing to do; use --verify (and --fix to repair)")
	}
	access := app.Shared
	if *fix {
		access = app.Private
	}
	store, err := m.openStoreAs(ctx, sf, "tally", access)
	if err != nil {
		return err
	}
	if *fix {
		// A repair computed while ratings arrive would be wrong by them, on any engine.
		live, err := store.DB.LiveServers(ctx)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			var who []string
			for _, s := range live {
				who = append(who, fmt.Sprintf("%s pid %d", s.Host, s.PID))
			}
			return fmt.Errorf("tally --fix: %d server(s) are running on this database (%s); stop them first, "+
				"or run `tally --verify` without --fix, which is safe beside them", len(live), strings.Join(who, ", "))
		}
	}
	drift, err := store.DB.VerifyTallies(ctx, *fix)
	if err != nil {
		return err
	}
	for _, d := range drift {
		fmt.Fprintf(m.Stdout, "%s: stored %d ratings %v, ratings say %d %v\n", d.Key,
			d.Stored.Ratings, d.Stored.Sums.Array(), d.Want.Ratings, d.Want.Sums.Array())
	}
	switch {
	case len(drift) == 0:
		fmt.Fprintln(m.Stdout, "tallies agree with the ratings")
	case *fix:
		fmt.Fprintf(m.Stdout, "repaired %d tallies\n", len(drift))
	default:
		fmt.Fprintf(m.Stdout, "%d tallies drifted; run again with --fix to repair\n", len(drift))
		return errSilent
	}
	return nil
}
