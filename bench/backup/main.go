// Command backup measures `propcredit backup` on a serving system: it serves a data directory
// (the demo city, or one that bench/import built) with the real web server in this process,
// lets owners rate through POST /api/v1/ratings, and while they do runs the real binary's
// `propcredit backup` as a separate process. It reports how long the backup took, its size, and
// the owners' rating latency before and during it. See bench/README.md, "Backups".
//
//	go run ./bench/backup                                   # the demo city
//	go run ./bench/import -lines 1070000 -reimport=false -verify=false -dir /tmp/big
//	go run ./bench/backup -data /tmp/big/data               # about 1,000,000 ratings
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/propcredit/propcredit/bench/internal/load"
	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/web"
)

// Targets (issue 16).
const (
	targetBackup = time.Minute
	targetP99    = 200 * time.Millisecond
)

func main() {
	data := flag.String("data", "", "data directory to serve and back up (default: a new one with the demo city); it gains codes and ratings")
	owners := flag.Int("owners", 32, "owners rating at the same time")
	estates := flag.Int("estates", 100, "estates whose households get codes")
	flats := flag.Int("flats", 100, "households given a code in each of those estates")
	before := flag.Duration("before", 5*time.Second, "how long owners rate before the backup starts (measured)")
	bin := flag.String("bin", "", "the propcredit binary (default: go build ./cmd/propcredit)")
	flag.Parse()
	load.ExitOnError("backup benchmark", run(context.Background(), os.Stdout, *data, *bin, *owners, *estates, *flats, *before))
}

type household struct{ estate, flat, code string }

// sample is one acknowledged rating: when it was sent and how long it took.
type sample struct {
	at  time.Time
	lat time.Duration
}

func run(ctx context.Context, out io.Writer, data, bin string, owners, nEstates, nFlats int, before time.Duration) error {
	work, err := os.MkdirTemp("", "propcredit-backup-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if bin == "" {
		bin = filepath.Join(work, "propcredit")
		if b, err := exec.Command("go", "build", "-o", bin, "./cmd/propcredit").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, b)
		}
	}
	if data == "" {
		data = filepath.Join(work, "data")
	} else if _, err := os.Stat(filepath.Join(data, "sqlite")); err != nil {
		// A mistyped -data would otherwise become a new demo city and measure the wrong thing.
		return fmt.Errorf("-data %s: not a data directory (%v)", data, err)
	}
	store, err := app.OpenStore(ctx, app.StoreConfig{DataDir: data, Log: load.Quiet}, app.Exclusive, "serve")
	if err != nil {
		return err
	}
	defer store.Close(ctx)
	db := store.DB
	fmt.Fprintln(out, load.Machine())
	if cs, err := db.Companies(ctx); err == nil && len(cs) == 0 {
		if _, err := db.Import(ctx, demo.Generate(demo.DefaultSeed, time.Now()), nil); err != nil {
			return fmt.Errorf("import the demo city: %w", err)
		}
	}
	period, ok, err := db.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		return fmt.Errorf("no open period today (%v)", err)
	}
	all, err := db.Estates(ctx)
	if err != nil {
		return err
	}
	tag := fmt.Sprintf("bb%d", time.Now().Unix()%100000) // new flats each run
	var households []household
	for _, e := range all[:min(nEstates, len(all))] {
		fl := make([]string, nFlats)
		for i := range fl {
			fl[i] = fmt.Sprintf("%s-%04d", tag, i)
		}
		codes, err := db.IssueCodes(ctx, period.ID, e.ID, fl, false)
		if err != nil {
			return err
		}
		for _, c := range codes {
			households = append(households, household{e.ID, c.Household, c.Code})
		}
	}
	mrand.New(mrand.NewPCG(1, 2)).Shuffle(len(households), func(i, j int) { households[i], households[j] = households[j], households[i] })
	st, _ := os.Stat(filepath.Join(data, "sqlite", app.DatabaseName+".sqlite"))
	fmt.Fprintf(out, "data: %d estates, database file %.0f MB; %d codes issued for %s\n",
		len(all), float64(st.Size())/1e6, len(households), period.ID)

	url, shutdown, err := load.Serve(web.Config{DB: db, Log: load.Quiet, TrustedProxies: []string{"127.0.0.1"}})
	if err != nil {
		return err
	}
	defer shutdown()

	var (
		stop     atomic.Bool
		next     atomic.Int64
		mu       sync.Mutex
		samples  []sample
		failures []string
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: owners, MaxConnsPerHost: owners}}
	for w := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(households) {
					mu.Lock()
					failures = append(failures, "ran out of households: give more -estates or -flats")
					mu.Unlock()
					return
				}
				h := households[i]
				var marks [6]int
				for k := range marks {
					marks[k] = 1 + r.IntN(5)
				}
				body, _ := json.Marshal(map[string]any{"estate": h.estate, "household": h.flat, "code": h.code, "scores": domain.ScoresOf(marks)})
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", load.RandomKey())
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w, r.IntN(256), r.IntN(256)))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					samples = append(samples, sample{t0, time.Since(t0)})
				}
				mu.Unlock()
			}
		}()
	}

	time.Sleep(2 * time.Second) // warm-up, not measured
	measureFrom := time.Now()
	time.Sleep(before)
	file := filepath.Join(work, "b.pcbackup")
	cmd := exec.Command(bin, "backup", "--data", data, "--out", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	berr := cmd.Run()
	ended := time.Now()
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()
	if berr != nil {
		return fmt.Errorf("propcredit backup: %v: %s", berr, stderr.String())
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	took := ended.Sub(began)
	fmt.Fprint(out, stdout.String())
	fmt.Fprintf(out, "backup: %.1f s (the propcredit backup process, start to exit), %.1f MB written\n", took.Seconds(), float64(fi.Size())/1e6)
	pre := window(samples, measureFrom, began)
	during := window(samples, began, ended)
	for _, w := range []struct {
		name string
		s    load.Stats
	}{{"ratings before the backup", pre}, {"ratings during the backup", during}} {
		fmt.Fprintf(out, "%s: %d in %.1f s = %.0f/s, p50 %s, p90 %s, p99 %s, max %s\n", w.name, w.s.N(), w.s.Elapsed.Seconds(), w.s.Rate(),
			load.MS(w.s.P(0.5)), load.MS(w.s.P(0.9)), load.MS(w.s.P(0.99)), load.MS(w.s.P(1)))
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d submissions failed, first: %s", len(failures), failures[0])
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	okBackup, okP99 := took < targetBackup, during.P(0.99) < targetP99 && during.N() > 0
	fmt.Fprintf(out, "targets: backup < %s %s; rating p99 during the backup < %s %s\n", targetBackup, verdict(okBackup), load.MS(targetP99), verdict(okP99))
	if !okBackup || !okP99 {
		return errors.New("a target was missed")
	}
	return nil
}

// window is the latencies of the ratings sent between from and to.
func window(samples []sample, from, to time.Time) load.Stats {
	var lat []time.Duration
	for _, s := range samples {
		if !s.at.Before(from) && s.at.Before(to) {
			lat = append(lat, s.lat)
		}
	}
	return load.NewStats(to.Sub(from), lat)
}
