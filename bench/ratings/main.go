// Command ratings measures owners' online ratings end to end: many owners at once submit
// through HTTP (POST /api/v1/ratings on a real loopback listener) to the web server, which
// checks each household code and stores each rating in the embedded engine, with the demo
// city imported and codes issued. It reports sustained ratings per second and latency
// percentiles, compares them with plain driver InsertOne calls of similar documents into the
// same engine in the same run, and then checks that every acknowledged rating is stored
// exactly once and that the tallies agree. See bench/README.md, "Owners' ratings".
//
//	go run ./bench/ratings -duration 15s -owners 32
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/bench/internal/load"
	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/rating"
	"github.com/propcredit/propcredit/internal/web"
)

// Targets (issue 3).
const (
	targetRate  = 1000 // ratings per second, sustained, on 2 cores
	targetP99   = 100 * time.Millisecond
	targetRatio = 0.5 // of plain InsertOne's rate
)

// database is the benchmark's database; with -processes, the one `propcredit serve` uses.
var database = "bench"

type config struct {
	duration, baseline time.Duration
	owners, flats      int
	revise             float64
	cpuprofile         string
	mongoURI, pgURL    string
	servers            int
	byEstate           bool
	sharedLimits       bool
	handOver           bool
	holdSuspect        string
	processes          bool
	bin                string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 15*time.Second, "how long owners submit ratings")
	flag.DurationVar(&cfg.baseline, "baseline", 5*time.Second, "how long the InsertOne baseline runs")
	flag.IntVar(&cfg.owners, "owners", 32, "owners submitting at the same time (concurrent HTTP clients)")
	flag.IntVar(&cfg.flats, "flats", 120, "households given a code in each of the demo city's estates")
	flag.Float64Var(&cfg.revise, "revise", 0.1, "share of submissions that revise an earlier rating of the same flat")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of the load phase to this file")
	flag.StringVar(&cfg.mongoURI, "mongodb-uri", "", "an external MongoDB or FerretDB instead of the embedded engine (its database \"bench\" is dropped)")
	flag.StringVar(&cfg.pgURL, "postgresql-url", "", "with a FerretDB-PostgreSQL --mongodb-uri: its PostgreSQL, to run `db tune` on (ferretdb.TunePostgreSQL)")
	flag.IntVar(&cfg.servers, "servers", 1, "web servers, each with its own connection and rating writer, that owners' requests are spread over")
	flag.BoolVar(&cfg.byEstate, "by-estate", false, "send each estate's owners to one server, as a load balancer that hashes the path /api/v1/estates/<estate>/ratings would (default: each request to /api/v1/ratings of a server at random)")
	flag.BoolVar(&cfg.sharedLimits, "shared-limits", false, "keep the abuse limits in the database (serve --shared-limits)")
	flag.BoolVar(&cfg.handOver, "hand-over", false, "with -processes and -mongodb-uri: give each server a --peer-url, so that servers hand each submission to the one that owns its estate")
	flag.StringVar(&cfg.holdSuspect, "hold-suspect", "on", "ballot-stuffing thresholds, as serve --hold-suspect takes them (on, off, name=value,...)")
	flag.BoolVar(&cfg.processes, "processes", false, "run the servers as separate `propcredit serve` processes (on the embedded engine only one: it owns the data directory); the database is then \"propcredit\", which an external one has dropped")
	flag.StringVar(&cfg.bin, "bin", "", "with -processes: the propcredit binary (default: go build ./cmd/propcredit once)")
	flag.Parse()
	app.TuneServerGC() // as serve does: the in-process servers, and their engine, run here
	load.ExitOnError("ratings benchmark", run(context.Background(), os.Stdout, cfg))
}

// household is a flat with its code, as printed on its slip.
type household struct {
	estate, flat, code string
}

// ack is a submission the server acknowledged with 201.
type ack struct {
	key      string // period|estate|flat
	receipt  string
	revision int
	held     bool // answered "under_review" (ballot-stuffing detection)
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	stuffing, err := rating.ParseStuffingRules(cfg.holdSuspect)
	if err != nil {
		return fmt.Errorf("-hold-suspect: %w", err)
	}
	uri, engineName := cfg.mongoURI, "external "+cfg.mongoURI
	if cfg.handOver && (!cfg.processes || uri == "") {
		return errors.New("-hand-over: with -processes and -mongodb-uri only")
	}
	if cfg.processes {
		if uri == "" && cfg.servers != 1 {
			return errors.New("-processes on the embedded engine: one server only (it owns the data directory)")
		}
		database = app.DatabaseName
	}
	var (
		dir    string           // the embedded engine's data directory
		engine *ferretdb.Engine // the embedded engine while the benchmark holds it
	)
	if uri == "" {
		var err error
		if dir, err = os.MkdirTemp("", "propcredit-ratings-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if engine, err = ferretdb.Start(ctx, dir); err != nil {
			return err
		}
		defer func() {
			if engine != nil {
				engine.Close()
			}
		}()
		uri, engineName = engine.URI(), "embedded engine"
		db, err := mongodb.Connect(ctx, uri, database, load.Quiet)
		if err != nil {
			return err
		}
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		// As app.OpenStore does for the server: without it every lookup by _id scans.
		if _, err := ferretdb.IndexIDs(ctx, dir, database); err != nil {
			return err
		}
		db.Close(ctx)
	} else {
		db, err := mongodb.Connect(ctx, uri, database, load.Quiet)
		if err != nil {
			return err
		}
		if err := db.Drop(ctx); err != nil {
			return err
		}
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		db.Close(ctx)
		if cfg.pgURL != "" {
			if _, err := ferretdb.TunePostgreSQL(ctx, cfg.pgURL, database, mongodb.FilteredFields()); err != nil {
				return err
			}
			engineName += " (db tune applied)"
		}
	}
	db, err := mongodb.Connect(ctx, uri, database, load.Quiet)
	if err != nil {
		return err
	}
	defer func() { db.Close(ctx) }()
	fmt.Fprintln(out, load.Machine())
	spread := "each request to a server at random"
	if cfg.byEstate {
		spread = "each estate's owners to one server (-by-estate)"
	}
	if cfg.handOver {
		spread += ", handed to the server that owns the estate (-hand-over)"
	}
	fmt.Fprintf(out, "database: %s; %d server(s), %s\n", engineName, cfg.servers, spread)

	// The demo city, and codes for cfg.flats new flats of every estate.
	start := time.Now()
	ds := demo.Generate(demo.DefaultSeed, time.Now())
	if _, err := db.Import(ctx, ds, nil); err != nil {
		return fmt.Errorf("import the demo city: %w", err)
	}
	period, ok, err := db.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		return fmt.Errorf("no open period in the demo city (%v)", err)
	}
	households, err := issueCodes(ctx, db, period.ID, ds.Estates, cfg.flats)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "setup: demo city (%d estates, %d ratings) imported, %d codes issued for %s, in %.1f s\n",
		len(ds.Estates), len(ds.Ratings), len(households), period.ID, time.Since(start).Seconds())

	raw, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer func() { raw.Disconnect(ctx) }()

	base, err := baseline(ctx, raw.Database(database).Collection("baseline_ratings"), cfg.owners, cfg.baseline, period.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "baseline: driver InsertOne of similar documents, %d writers: %d in %.1f s = %.0f docs/s, p50 %s, p99 %s\n",
		cfg.owners, base.N(), base.Elapsed.Seconds(), base.Rate(), load.MS(base.P(0.50)), load.MS(base.P(0.99)))

	var urls []string
	if cfg.processes {
		// The servers are `propcredit serve` processes. On the embedded engine the server
		// owns the data directory: the benchmark lets go of its engine and reaches the
		// server's through its socket, as `propcredit verify-data` does.
		if engine != nil {
			db.Close(ctx)
			raw.Disconnect(ctx)
			engine.Close()
			engine = nil
		}
		servers, stop, err := startServers(ctx, cfg, dir, uri)
		defer stop()
		if err != nil {
			return err
		}
		urls = servers
		if dir != "" {
			if uri, err = ferretdb.SocketURI(dir); err != nil {
				return err
			}
			if db, err = mongodb.Connect(ctx, uri, database, load.Quiet); err != nil {
				return err
			}
			if raw, err = mongo.Connect(options.Client().ApplyURI(uri)); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "servers: %d `propcredit serve` processes\n", len(urls))
	} else {
		// Each server has its own connection and rating writer, as separate processes would.
		for i := 0; i < cfg.servers; i++ {
			sdb := db
			if i > 0 {
				if sdb, err = mongodb.Connect(ctx, uri, database, load.Quiet); err != nil {
					return err
				}
				defer sdb.Close(ctx)
			}
			// As serve does: ballot-stuffing detection on, and owners' addresses from the
			// loopback proxy's X-Forwarded-For.
			sdb.SetStuffingRules(stuffing)
			wc := web.Config{DB: sdb, Log: load.Quiet, TrustedProxies: []string{"127.0.0.1"}}
			if cfg.sharedLimits {
				wc.Limits = sdb.SharedLimiter
			}
			url, shutdown, err := load.Serve(wc)
			if err != nil {
				return err
			}
			defer shutdown()
			urls = append(urls, url)
		}
	}
	stopProfile, err := load.StartCPUProfile(cfg.cpuprofile)
	if err != nil {
		return err
	}
	sent, acks, failures := submit(urls, period.ID, households, cfg)
	stopProfile()
	fmt.Fprintf(out, "ratings: %d owners over HTTP: %d acknowledged in %.1f s = %.0f ratings/s, p50 %s, p90 %s, p99 %s, max %s; %d failed\n",
		cfg.owners, sent.N(), sent.Elapsed.Seconds(), sent.Rate(), load.MS(sent.P(0.50)), load.MS(sent.P(0.90)), load.MS(sent.P(0.99)), load.MS(sent.P(1)), len(failures))
	for i, f := range failures {
		if i == 5 {
			fmt.Fprintf(out, "  ... and %d more\n", len(failures)-5)
			break
		}
		fmt.Fprintf(out, "  failure: %s\n", f)
	}
	held := 0
	for _, a := range acks {
		if a.held {
			held++
		}
	}
	fmt.Fprintf(out, "held for review (ballot-stuffing signals, -hold-suspect %s): %d of %d acknowledged\n", cfg.holdSuspect, held, len(acks))
	ratio := sent.Rate() / base.Rate()
	fmt.Fprintf(out, "ratio to InsertOne: %.2f\n", ratio)

	if err := verify(ctx, db, raw.Database(database).Collection("ratings"), acks); err != nil {
		return err
	}
	fmt.Fprintf(out, "verified: every acknowledged rating is stored exactly once (%d versions), the tallies agree\n", len(acks))

	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintf(out, "targets: >= %d ratings/s %s; p99 < %s %s; ratio >= %.1f %s\n",
		targetRate, verdict(sent.Rate() >= targetRate), load.MS(targetP99), verdict(sent.P(0.99) < targetP99), targetRatio, verdict(ratio >= targetRatio))
	if len(failures) > 0 {
		return fmt.Errorf("%d submissions failed", len(failures))
	}
	return nil
}

// issueCodes gives flats q-0001.. of every estate a code, four estates at a time.
func issueCodes(ctx context.Context, db *mongodb.DB, period string, estates []domain.Estate, perEstate int) ([]household, error) {
	var (
		mu  sync.Mutex
		out []household
		wg  sync.WaitGroup
		sem = make(chan struct{}, 4)
	)
	errs := make([]error, len(estates))
	for i, e := range estates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			flats := make([]string, perEstate)
			for k := range flats {
				flats[k] = fmt.Sprintf("q-%04d", k+1)
			}
			codes, err := db.IssueCodes(ctx, period, e.ID, flats, false)
			if err != nil {
				errs[i] = fmt.Errorf("issue codes for %s: %w", e.ID, err)
				return
			}
			mu.Lock()
			for _, c := range codes {
				out = append(out, household{estate: e.ID, flat: c.Household, code: c.Code})
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Owners come in any order.
	r := mrand.New(mrand.NewPCG(1, 2))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// baseline inserts rating-like documents with the plain driver: the engine's own speed for
// one small insert, the floor under anything the server does per rating.
func baseline(ctx context.Context, col *mongo.Collection, writers int, d time.Duration, period string) (load.Stats, error) {
	var seq atomic.Int64
	st, failures := load.Phase(writers, d, func(int) (bool, error) {
		i := seq.Add(1)
		key := fmt.Sprintf("%s|e%03d|q-%06d", period, i%150, i)
		_, err := col.InsertOne(ctx, bson.D{
			{Key: "_id", Value: key + "|1"}, {Key: "key", Value: key},
			{Key: "period", Value: period}, {Key: "estate", Value: fmt.Sprintf("e%03d", i%150)}, {Key: "household", Value: fmt.Sprintf("q-%06d", i)},
			{Key: "submitted_at", Value: time.Now()},
			{Key: "scores", Value: bson.D{{Key: "service", Value: 4}, {Key: "security", Value: 3}, {Key: "cleaning", Value: 5},
				{Key: "greening", Value: 4}, {Key: "maintenance", Value: 2}, {Key: "transparency", Value: 4}}},
			{Key: "comment", Value: "保洁很及时，电梯维修慢"}, {Key: "revision", Value: 1}, {Key: "source", Value: "api"},
			{Key: "receipt", Value: "ABCD-EFGH-JK"}, {Key: "ip_hash", Value: "0123456789abcdef0123456789abcdef"},
			{Key: "ua_hash", Value: "0123456789abcdef0123456789abcdef"},
		})
		return true, err
	})
	if len(failures) > 0 {
		return st, fmt.Errorf("baseline: %d inserts failed, first: %s", len(failures), failures[0])
	}
	return st, nil
}

// submit lets cfg.owners owners rate until cfg.duration is over. Most rate once; a share
// revise an earlier rating of their flat, as owners who change their mind do.
func submit(urls []string, period string, households []household, cfg config) (load.Stats, []ack, []string) {
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: cfg.owners, MaxIdleConnsPerHost: cfg.owners,
			MaxConnsPerHost: cfg.owners, IdleConnTimeout: time.Minute},
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		acks  []ack
		rated []household // households that have rated, to revise
	)
	st, failures := load.Phase(cfg.owners, cfg.duration, func(w int) (bool, error) {
		r := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		var h household
		mu.Lock()
		if len(rated) > 0 && r.Float64() < cfg.revise {
			h = rated[r.IntN(len(rated))]
		} else if i := int(next.Add(1)) - 1; i < len(households) {
			h = households[i]
		} else if len(rated) > 0 {
			h = rated[r.IntN(len(rated))]
		}
		mu.Unlock()
		if h.code == "" {
			return false, errors.New("no household left to rate")
		}
		var marks [6]int
		for i := range marks {
			marks[i] = 1 + r.IntN(5)
		}
		comment := ""
		if r.IntN(14) == 0 { // about one owner in fourteen writes a comment, as in the demo city
			comment = fmt.Sprintf("保洁很及时，电梯维修慢（%d）", r.IntN(1_000_000))
		}
		fields := map[string]any{"household": h.flat, "code": h.code, "scores": domain.ScoresOf(marks), "comment": comment}
		target := urls[r.IntN(len(urls))]
		if cfg.byEstate {
			// As the load balancer of docs/SCALING.md does: the estate is in the path, and a
			// hash of it picks the server.
			path := "/api/v1/estates/" + url.PathEscape(h.estate) + "/ratings"
			target = strings.TrimSuffix(urls[crc32.ChecksumIEEE([]byte(path))%uint32(len(urls))], "/api/v1/ratings") + path
		} else {
			fields["estate"] = h.estate
		}
		body, _ := json.Marshal(fields)
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", load.RandomKey())
		req.Header.Set("User-Agent", "propcredit-bench")
		// Each owner on a phone of their own: 65,536 addresses, so that the per-address
		// limits and the stuffing signals see owners, not one client.
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)))
		resp, err := client.Do(req)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return true, fmt.Errorf("%s/%s: status %d: %s", h.estate, h.flat, resp.StatusCode, b)
		}
		var answer struct {
			Receipt  string `json:"receipt"`
			Revision int    `json:"revision"`
			Status   string `json:"status"`
		}
		if err := json.Unmarshal(b, &answer); err != nil || answer.Receipt == "" {
			return true, fmt.Errorf("%s/%s: bad answer %s", h.estate, h.flat, b)
		}
		mu.Lock()
		acks = append(acks, ack{key: period + "|" + h.estate + "|" + h.flat, receipt: answer.Receipt, revision: answer.Revision, held: answer.Status == "under_review"})
		if answer.Revision == 1 {
			rated = append(rated, h)
		}
		mu.Unlock()
		return true, nil
	})
	return st, acks, failures
}

// verify checks the database against the acknowledgements: each acknowledged receipt is on
// exactly one stored version, at the revision the server answered; the API stored nothing it
// did not acknowledge; the tallies agree with the ratings.
func verify(ctx context.Context, db *mongodb.DB, ratings *mongo.Collection, acks []ack) error {
	cur, err := ratings.Find(ctx, bson.D{{Key: "source", Value: rating.SourceAPI}},
		options.Find().SetProjection(bson.D{{Key: "key", Value: 1}, {Key: "revision", Value: 1}, {Key: "receipt", Value: 1}}))
	if err != nil {
		return err
	}
	var docs []struct {
		Key      string `bson:"key"`
		Revision int    `bson:"revision"`
		Receipt  string `bson:"receipt"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	stored := map[string]int{}
	revisionOf := map[string]string{}
	for _, d := range docs {
		stored[d.Receipt]++
		revisionOf[d.Receipt] = fmt.Sprintf("%s|%d", d.Key, d.Revision)
	}
	var problems []string
	for _, a := range acks {
		switch n := stored[a.receipt]; {
		case n != 1:
			problems = append(problems, fmt.Sprintf("receipt %s stored %d times", a.receipt, n))
		case revisionOf[a.receipt] != fmt.Sprintf("%s|%d", a.key, a.revision):
			problems = append(problems, fmt.Sprintf("receipt %s is on %s, answered as %s|%d", a.receipt, revisionOf[a.receipt], a.key, a.revision))
		}
	}
	if len(docs) != len(acks) {
		problems = append(problems, fmt.Sprintf("%d versions stored from the API, %d acknowledged", len(docs), len(acks)))
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("%d problems, first: %s", len(problems), problems[0])
	}
	drift, err := db.VerifyTallies(ctx, false)
	if err != nil {
		return err
	}
	if len(drift) > 0 {
		return fmt.Errorf("%d tallies drifted, first %+v", len(drift), drift[0])
	}
	return nil
}
