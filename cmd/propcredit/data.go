package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/interchange"
	"github.com/propcredit/propcredit/internal/progress"
)

// cliLang is the language of command-line messages: Chinese on a Chinese system, else English.
func (m *Main) cliLang() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := m.Getenv(v); s != "" {
			if strings.HasPrefix(s, "zh") {
				return domain.LangZH
			}
			return domain.LangEN
		}
	}
	return domain.LangEN
}

func (m *Main) importFiles(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("import", "import [--atomic] [--data DIR] FILE...")
	atomic := fs.Bool("atomic", false, "write nothing if any line is bad")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("import: name at least one file (JSON Lines, see INTERCHANGE.md)")
	}
	lang := m.cliLang()
	var totalBytes int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return usagef("import: %v", err)
		}
		totalBytes += st.Size()
	}
	set := interchange.NewSet(lang)
	val := domain.NewValidator()
	read := progress.New("read", totalBytes, m.Stderr, m.Log)
	var lineErrs []interchange.LineError
	var readBefore int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		lineErrs = append(lineErrs, interchange.Decode(f, name, set, val, lang, func(lines, bytes int64) {
			read.Set(readBefore + bytes)
		})...)
		f.Close()
		st, _ := os.Stat(name)
		readBefore += st.Size()
	}
	read.Finish()

	// The import owns the data directory (Private) and runs the engine without a sync per
	// commit (DeferSync): it says nothing of success, and exits non-zero, unless store.Sync
	// below made everything durable. A crash before that may lose the latest writes, never
	// earlier ones, and the dirty marker of DB.Import makes the next start repair the tallies;
	// importing again (idempotent) completes the data.
	store, err := app.OpenStore(ctx, app.StoreConfig{DataDir: sf.data, MongoURI: sf.mongoURI, Log: m.Log, DeferSync: true}, app.Private, "import")
	if err != nil {
		return err
	}
	m.store = store
	known, err := store.DB.Known(ctx)
	if err != nil {
		return err
	}
	lineErrs = append(lineErrs, set.CheckRefs(known)...)
	sort.SliceStable(lineErrs, func(i, j int) bool {
		if lineErrs[i].File != lineErrs[j].File {
			return lineErrs[i].File < lineErrs[j].File
		}
		return lineErrs[i].Line < lineErrs[j].Line
	})
	for _, e := range lineErrs {
		fmt.Fprintln(m.Stderr, e.Error())
	}
	if len(lineErrs) > 0 && *atomic {
		fmt.Fprintf(m.Stderr, "%d bad lines; nothing imported (--atomic)\n", len(lineErrs))
		return errSilent
	}
	stats, err := m.importDataset(ctx, store, set.Dataset(), "import")
	if err != nil {
		return err
	}
	if err := m.audited(ctx, store, audit.Change{Action: "data.import", Object: "import/" + strings.Join(files, ","),
		After: map[string]any{"new": stats.Inserted, "replaced": stats.Replaced, "unchanged": stats.Unchanged, "bad_lines": len(lineErrs)}}); err != nil {
		return err
	}
	if err := store.Sync(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "imported %d records: %d new, %d replaced, %d unchanged\n",
		stats.Inserted+stats.Replaced+stats.Unchanged, stats.Inserted, stats.Replaced, stats.Unchanged)
	if len(lineErrs) > 0 {
		fmt.Fprintf(m.Stderr, "%d bad lines were not imported\n", len(lineErrs))
		return errSilent
	}
	return nil
}

// importDataset writes ds with progress on the terminal or in the log.
func (m *Main) importDataset(ctx context.Context, store *app.Store, ds *domain.Dataset, job string) (domain.ImportStats, error) {
	p := progress.New(job, int64(ds.Len()), m.Stderr, m.Log)
	stats, err := store.DB.Import(ctx, ds, func(done int) { p.Set(int64(done)) })
	p.Finish()
	return stats, err
}

func (m *Main) export(ctx context.Context, args []string) error {
	if siteRequested(args) {
		return m.exportSite(ctx, args)
	}
	fs, sf := m.storeFlagSet("export", "export --format jsonl [--out FILE] [--data DIR]")
	format := fs.String("format", "jsonl", "output format: jsonl (INTERCHANGE.md)")
	out := fs.String("out", "", "write to FILE instead of standard output")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *format != "jsonl" {
		return usagef("export: --format must be jsonl, not %q", *format)
	}
	store, err := m.openStore(ctx, sf, "export")
	if err != nil {
		return err
	}
	started := time.Now()
	// Records whose objection windows have closed are exported as in force, as they are.
	if _, err := credit.New(credit.Config{Store: store.DB, Audit: audit.New(store.DB, nil)}).Settle(ctx); err != nil {
		return err
	}
	ds, err := store.DB.Dataset(ctx)
	if err != nil {
		return err
	}
	if err := writeOutput(*out, m.Stdout, func(w io.Writer) error { return interchange.Encode(w, ds) }); err != nil {
		return err
	}
	m.Log.Info("exported", "records", ds.Len(), "elapsed", time.Since(started).Round(time.Millisecond).String())
	return nil
}

func (m *Main) demo(ctx context.Context, args []string) error {
	fs := m.flagSet("demo", "demo [--out FILE] [--seed N] [--today YYYY-MM-DD]")
	out := fs.String("out", "", "write to FILE instead of standard output")
	seed := fs.Int64("seed", demo.DefaultSeed, "random seed; the same seed and day give the same city")
	today := fs.String("today", "", "generate as if it were this day (default: today)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	day := time.Now()
	if *today != "" {
		t, err := time.ParseInLocation(domain.DateLayout, *today, domain.Zone)
		if err != nil {
			return usagef("demo: --today must be a date YYYY-MM-DD, not %q", *today)
		}
		day = t
	}
	ds := demo.Generate(*seed, day)
	return writeOutput(*out, m.Stdout, func(w io.Writer) error { return interchange.Encode(w, ds) })
}

// writeOutput writes to path through a temporary file renamed into place, so that a failed
// export never leaves a truncated file that looks complete; or to stdout when path is empty.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
