package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
)

const auditSynopsis = "audit export [--since T] [--until T] [--object O] [--actor A] [--company ID] [--period P] [--format jsonl|csv|xlsx] [--data DIR]"

// audit reads the audit trail. export writes the entries selected (all by default) to
// standard output, as JSON Lines unless --format says otherwise, oldest first.
func (m *Main) audit(ctx context.Context, args []string) error {
	if _, done, err := m.subcommand("audit", auditSynopsis, args, "export"); done {
		return err
	}
	fs, sf := m.storeFlagSet("audit export", auditSynopsis)
	since := fs.String("since", "", "only entries at or after this time (RFC 3339, or a date in +08:00)")
	until := fs.String("until", "", "only entries before this time (RFC 3339, or a date in +08:00)")
	var f audit.Filter
	fs.StringVar(&f.Object, "object", "", "only entries about this object, such as record/CR-20261201-AB12CD")
	fs.StringVar(&f.Actor, "actor", "", "only entries by this account")
	fs.StringVar(&f.Company, "company", "", "only entries about this company")
	fs.StringVar(&f.Period, "period", "", "only entries about this period")
	format := fs.String("format", audit.FormatJSONL, "jsonl, csv or xlsx")
	if err := m.parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var err error
	if f.Since, err = audit.ParseTime(*since); err != nil {
		return usagef("audit export: --since: %v", err)
	}
	if f.Until, err = audit.ParseTime(*until); err != nil {
		return usagef("audit export: --until: %v", err)
	}
	switch *format {
	case audit.FormatJSONL, audit.FormatCSV, audit.FormatXLSX:
	default:
		return usagef("audit export: --format must be jsonl, csv or xlsx, not %q", *format)
	}
	store, err := m.openStore(ctx, sf, "audit")
	if err != nil {
		return err
	}
	entries, err := audit.New(store.DB, nil).Entries(ctx, f)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	w := bufio.NewWriter(m.Stdout)
	if err := audit.Write(w, *format, entries); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "exported %d audit entries\n", len(entries))
	return nil
}

// cliActor names the person at the command line in the audit trail: the operating system's
// user, as the command line knows no accounts.
func (m *Main) cliActor() audit.Actor {
	name := "cli"
	if u := m.Getenv("USER"); u != "" {
		name = "cli:" + u
	}
	return audit.Actor{Name: name, Role: "cli"}
}

// audited records a command's action in the audit trail.
func (m *Main) audited(ctx context.Context, store *app.Store, ch audit.Change) error {
	if err := audit.New(store.DB, nil).Record(ctx, m.cliActor(), ch); err != nil {
		return fmt.Errorf("the action was done, but its audit entry was not written: %w", err)
	}
	return nil
}
