package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/web"
)

const codesSynopsis = "codes issue --period P --estate E [--flats FLATS.csv] [--reissue] [--data DIR]"

// codes issues household codes: it registers the listed flats as households of the estate,
// gives a code to every household of the estate without a live one in the period (every
// household with --reissue, which voids the old codes), and prints the new codes as CSV
// flat,code. The database keeps only hashes, so this output is the only copy.
func (m *Main) codes(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stdout, "Usage: propcredit "+codesSynopsis)
			return nil
		}
		return usagef("codes: the only subcommand is 'issue' (propcredit %s)", codesSynopsis)
	}
	fs, sf := m.storeFlagSet("codes issue", codesSynopsis)
	period := fs.String("period", "", "the period the codes are for, such as 2026Q4")
	estate := fs.String("estate", "", "the estate whose households get codes")
	flatsFile := fs.String("flats", "", "file of flats to register first: one per line, optional header 'flat' (- reads standard input)")
	reissue := fs.Bool("reissue", false, "void every code of the estate in the period and issue new ones")
	if err := m.parse(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case *period == "" || *estate == "":
		return usagef("codes issue: --period and --estate are required")
	case fs.NArg() > 0:
		return usagef("codes issue: unexpected argument %q; name the flats file with --flats", fs.Arg(0))
	}

	var flats []string
	if *flatsFile != "" {
		var (
			in   io.Reader = m.Stdin
			name           = "stdin"
		)
		if *flatsFile != "-" {
			f, err := os.Open(*flatsFile)
			if err != nil {
				return usagef("codes issue: %v", err)
			}
			defer f.Close()
			in, name = f, *flatsFile
		}
		var bad []web.FlatError
		flats, bad = web.ReadFlats(in, m.cliLang())
		for _, b := range bad {
			fmt.Fprintf(m.Stderr, "%s:%d: %s\n", name, b.Line, b.Message)
		}
		if len(bad) > 0 {
			fmt.Fprintf(m.Stderr, "propcredit: codes issue: %d bad lines in %s; no codes issued\n", len(bad), name)
			return errSilent
		}
	}

	store, err := m.openStore(ctx, sf, "codes")
	if err != nil {
		return err
	}
	codes, err := store.DB.IssueCodes(ctx, *period, *estate, flats, *reissue)
	if err != nil {
		return fmt.Errorf("codes issue: %w", err)
	}
	if err := m.audited(ctx, store, audit.Change{Action: "codes.issue", Object: "estate/" + *estate, Period: *period,
		After: map[string]any{"count": len(codes), "reissue": *reissue}}); err != nil {
		return err
	}
	if err := web.WriteCodesCSV(m.Stdout, codes); err != nil {
		return err
	}
	if len(codes) == 0 {
		fmt.Fprintf(m.Stderr, "no new codes: every household of estate %s has a live code for %s (use --reissue to replace them)\n", *estate, *period)
		return nil
	}
	fmt.Fprintf(m.Stderr, "issued %d codes for estate %s in period %s; this output is their only copy\n", len(codes), *estate, *period)
	return nil
}
