// Command import measures `propcredit import` end to end on the embedded engine. It writes a
// generated city as JSON Lines, then reads, checks and writes it into a fresh data directory
// the way the import command does (interchange.Decode into a Set, CheckRefs against the stored
// ids, DB.Import on an engine started with deferred syncing, Store.Sync), then imports the same file again, unchanged, and checks that the tallies
// agree with the ratings. See bench/README.md, "Import".
//
//	go run ./bench/import -lines 200000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/propcredit/propcredit/bench/import/city"
	"github.com/propcredit/propcredit/bench/internal/load"
	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/interchange"
)

func main() {
	lines := flag.Int("lines", 200_000, "about how many lines the generated file has")
	dir := flag.String("dir", "", "work directory for the file and the database (default: a new temporary one, removed afterwards)")
	reimport := flag.Bool("reimport", true, "import the same file a second time")
	verify := flag.Bool("verify", true, "afterwards, check every tally against the ratings (untimed; reads every rating)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the imports to this file")
	deferSync := flag.Bool("defersync", true, "run the engine as the import command does, syncing at the end (false: a sync per commit, as the server)")
	flag.Parse()
	load.ExitOnError("import benchmark", run(context.Background(), os.Stdout, *lines, *dir, *reimport, *verify, *deferSync, *cpuprofile))
}

func run(ctx context.Context, out io.Writer, lines int, dir string, reimport, verify, deferSync bool, cpuprofile string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "propcredit-import-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(dir, "city.jsonl")
	size := city.OfLines(lines)
	written, bytes, err := writeCity(file, size)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "city: %d lines (%d ratings, %d companies, %d estates, %d disclosures, %d credit records), %.1f MB\n",
		written, size.Ratings, size.Companies, size.Estates, size.Disclosures, size.Events, float64(bytes)/1e6)

	store, err := app.OpenStore(ctx, app.StoreConfig{DataDir: filepath.Join(dir, "data"), Log: load.Quiet, DeferSync: deferSync}, app.Private, "import")
	if err != nil {
		return err
	}
	defer store.Close(ctx)

	stopProfile, err := load.StartCPUProfile(cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Fprintf(out, "%-13s %9s %9s %9s %9s %9s %10s %9s   %s\n", "", "parse", "refs", "write", "sync", "total", "lines/s", "cpu", "records")
	runs := []string{"first import"}
	if reimport {
		runs = append(runs, "re-import")
	}
	for _, name := range runs {
		cpu := cpuTime()
		t, err := importFile(ctx, store, file)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cpu = cpuTime() - cpu
		total := t.parse + t.refs + t.write + t.sync
		fmt.Fprintf(out, "%-13s %9s %9s %9s %9s %9s %10.0f %9s   %d new, %d replaced, %d unchanged\n", name,
			round(t.parse), round(t.refs), round(t.write), round(t.sync), round(total), float64(t.lines)/total.Seconds(), round(cpu),
			t.stats.Inserted, t.stats.Replaced, t.stats.Unchanged)
	}
	stopProfile()
	if !verify {
		fmt.Fprintf(out, "peak memory %d MB\n", peakRSS()>>20)
		return nil
	}

	started := time.Now()
	drift, err := store.DB.VerifyTallies(ctx, false)
	if err != nil {
		return err
	}
	if len(drift) > 0 {
		return fmt.Errorf("%d tallies disagree with the ratings, first %+v", len(drift), drift[0])
	}
	fmt.Fprintf(out, "tallies verified against every rating: no drift (%s, not timed above); peak memory %d MB\n",
		round(time.Since(started)), peakRSS()>>20)
	return nil
}

// writeCity writes the city as JSON Lines and returns how many lines and bytes it wrote.
func writeCity(path string, size city.Size) (lines, bytes int64, err error) {
	ds := size.Dataset(true)
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	if err := interchange.Encode(f, ds); err != nil {
		f.Close()
		return 0, 0, err
	}
	if err := f.Close(); err != nil {
		return 0, 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return int64(ds.Len()), st.Size(), nil
}

type timing struct {
	lines                    int64
	parse, refs, write, sync time.Duration
	stats                    domain.ImportStats
}

// importFile does what `propcredit import FILE` does once the store is open, up to making the
// data durable (sync) before it would report.
func importFile(ctx context.Context, store *app.Store, path string) (timing, error) {
	db := store.DB
	var t timing
	started := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	set := interchange.NewSet(domain.LangEN)
	bad := interchange.Decode(f, path, set, domain.NewValidator(), domain.LangEN, func(lines, _ int64) { t.lines = lines })
	t.parse = time.Since(started)

	started = time.Now()
	known, err := db.Known(ctx)
	if err != nil {
		return t, err
	}
	bad = append(bad, set.CheckRefs(known)...)
	if len(bad) > 0 {
		return t, fmt.Errorf("%d bad lines, first %v", len(bad), bad[0])
	}
	ds := set.Dataset()
	t.refs = time.Since(started)

	started = time.Now()
	t.stats, err = db.Import(ctx, ds, nil)
	t.write = time.Since(started)
	if err == nil && t.stats.Inserted+t.stats.Replaced+t.stats.Unchanged != ds.Len() {
		err = errors.New("import stats do not add up to the records")
	}
	if err != nil {
		return t, err
	}
	started = time.Now()
	err = store.Sync(ctx)
	t.sync = time.Since(started)
	return t, err
}

// cpuTime is the processor time this process (engine included) has used, on every core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the most memory this process (engine included) has held, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // Linux reports kilobytes
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
