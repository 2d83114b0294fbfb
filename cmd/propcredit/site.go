package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/web"
)

const siteSynopsis = "export --site DIR [--period P] [--data DIR]"

// siteRequested reports whether an export's arguments ask for the static site (--site)
// rather than the interchange format.
func siteRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "site" {
			return true
		}
	}
	return false
}

// exportSite writes a period's published results as a static web site (propcredit export
// --site DIR): every public page of the period, its charts and their assets, as files that
// work opened from disk or from any static host. DIR must not exist or be empty.
func (m *Main) exportSite(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("export", siteSynopsis)
	dir := fs.String("site", "", "write the static site into this directory (new or empty)")
	period := fs.String("period", "", "the period to export (default: the latest published one)")
	if err := m.parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("export: --site needs a directory")
	}
	store, err := m.openStore(ctx, sf, "export")
	if err != nil {
		return err
	}
	started := time.Now()
	n, err := web.ExportSite(ctx, store.Publication, store.DB, *dir, *period)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %d files to %s\n", n, *dir)
	m.Log.Info("exported site", "dir", *dir, "files", n, "elapsed", time.Since(started).Round(time.Millisecond).String())
	return nil
}
