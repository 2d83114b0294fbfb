package multiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
	"github.com/propcredit/propcredit/internal/servetest"
)

// The suite runs against, in this order of preference:
//   - PROPCREDIT_TEST_MONGODB_URI: a MongoDB (or FerretDB) whose database "propcredit" the
//     suite may wipe;
//   - FerretDB on PostgreSQL, started here by scripts/ferretdb-pg when PostgreSQL is installed.
//
// Without either it skips, unless PROPCREDIT_TEST_MULTISERVER=1 (set by .ci/run) says the
// machine must have them.
var (
	propcredit string // the binary, built once
	dbURI      string
	backend    string
	pgURL      string // FerretDB's PostgreSQL, when the suite started it
	// ledgerKey is the ledger's signing key file, which every server on the database shares.
	ledgerKey string
)

// env is the environment of every propcredit process on the shared database.
func env() []string {
	return append(os.Environ(), "PROPCREDIT_MONGODB_URI="+dbURI, "PROPCREDIT_LEDGER_KEY="+ledgerKey)
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	root, err := servetest.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiserver:", err)
		return 1
	}
	dbURI, backend = os.Getenv("PROPCREDIT_TEST_MONGODB_URI"), "MongoDB at PROPCREDIT_TEST_MONGODB_URI"
	if dbURI == "" {
		pg, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
		if len(pg) == 0 {
			if os.Getenv("PROPCREDIT_TEST_MULTISERVER") == "1" {
				fmt.Fprintln(os.Stderr, "multiserver: PostgreSQL is not installed (apt-get install postgresql), and PROPCREDIT_TEST_MULTISERVER=1")
				return 1
			}
			fmt.Println("multiserver: skipped: no PROPCREDIT_TEST_MONGODB_URI and no PostgreSQL for FerretDB")
			return 0
		}
		dir, err := os.MkdirTemp("", "propcredit-multiserver-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "multiserver:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		_ = os.Chmod(dir, 0o755) // PostgreSQL runs as its own user
		script := filepath.Join(root, "scripts", "ferretdb-pg")
		pgPort := servetest.FreePort()
		pgURL = "postgres://postgres@127.0.0.1:" + pgPort + "/ferretdb"
		out, err := exec.Command(script, "start", dir, pgPort, servetest.FreePort()).Output()
		defer exec.Command(script, "stop", dir).Run()
		if err != nil {
			fmt.Fprintf(os.Stderr, "multiserver: start FerretDB on PostgreSQL: %v\n%s\n", err, servetest.ErrText(err))
			return 1
		}
		dbURI, backend = strings.TrimSpace(string(out)), "FerretDB on PostgreSQL"
	}
	var bin string
	var remove func()
	propcredit, bin, remove, err = servetest.BuildTemp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiserver:", err)
		return 1
	}
	defer remove()
	// The ledger's signing key, made once with a throwaway embedded engine, so that the
	// servers start at once on an empty database and all sign with it.
	ledgerKey = filepath.Join(bin, "ledger.key")
	keygen := exec.Command(propcredit, "ledger", "key", "--data", filepath.Join(bin, "keydata"), "--ledger-key", ledgerKey)
	keygen.Env = append(os.Environ(), "PROPCREDIT_MONGODB_URI=")
	if out, err := keygen.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "multiserver: make the ledger key: %v\n%s", err, out)
		return 1
	}
	fmt.Printf("multiserver: against %s\n", backend)
	return m.Run()
}

// cli runs propcredit commands on the shared database.
func cli() servetest.CLI { return servetest.CLI{Bin: propcredit, Env: env()} }

// startServer starts one `propcredit serve`. Its owners all rate from 127.0.0.1 with one
// User-Agent, which ballot-stuffing detection would hold; this suite checks storage, and
// internal/mongodb checks holds across servers. The servers hand each submission to the one
// that owns its estate (--peer-url), so that the load below also checks hand-overs, to a
// server killed among them too.
func startServer(t *testing.T, addr string) *servetest.Server {
	return cli().Start(t, addr, "--hold-suspect", "off", "--peer-url", "http://"+addr)
}

func startServers(t *testing.T, n int) []*servetest.Server {
	t.Helper()
	servers := make([]*servetest.Server, n)
	for i := range servers {
		servers[i] = startServer(t, "127.0.0.1:"+servetest.FreePort())
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Ready() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return servers
}

// freshDatabase drops the database the servers use and returns a connection to it.
func freshDatabase(t *testing.T) (*mongodb.DB, *mongo.Database) {
	t.Helper()
	db, raw := servetest.Connect(t, dbURI)
	if err := raw.Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, raw
}

// TestManyServersOneDatabase is the issue's "test it for real": three servers started at once
// on an empty database; owners rating through all of them, repeating requests to two servers
// at once, while one server is killed with SIGKILL and restarted; concurrent code re-issues;
// then every acknowledged rating must be counted exactly once, revisions must have no gaps,
// the last acknowledged rating must be the one counted, also after every server restarts,
// `tally --verify` must be clean, and the scores must equal those of the exported data in a
// fresh embedded engine.
func TestManyServersOneDatabase(t *testing.T) {
	ctx := context.Background()
	db, raw := freshDatabase(t)

	// Three servers at once on an empty database: the migrations race.
	t0 := time.Now()
	step := func(what string) { t.Logf("%5.1f s: %s", time.Since(t0).Seconds(), what) }
	servers := startServers(t, 3)
	step("three servers started at once")
	if pgURL != "" { // as an operator does once the collections exist (docs/SCALING.md)
		cli().Must(t, "", "db", "tune", "--postgresql-url", pgURL)
		step("db tune")
	}
	var mu sync.Mutex
	addrs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, s := range servers {
			out = append(out, s.Addr)
		}
		return out
	}

	dir := t.TempDir()
	cli().Must(t, "", "demo", "--out", filepath.Join(dir, "city.jsonl"))
	cli().Must(t, "", "import", filepath.Join(dir, "city.jsonl"))
	period, ok, err := db.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		t.Fatalf("no open period in the demo city: %v", err)
	}
	step("demo city imported")
	estates, err := db.Estates(ctx)
	if err != nil || len(estates) < 12 {
		t.Fatalf("estates: %d, %v", len(estates), err)
	}

	// Codes for 10 estates × 30 new flats, issued for two estates at a time.
	var households []servetest.Household
	for i := 0; i < 10; i += 2 {
		var wg sync.WaitGroup
		got := make([][]servetest.Household, 2)
		errs := make([]error, 2)
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var flats []string
				for k := range 30 {
					flats = append(flats, fmt.Sprintf("ms-%03d", k+1))
				}
				got[j], errs[j] = cli().IssueCodes(period.ID, estates[i+j].ID, flats, false)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		households = append(households, got[0]...)
		households = append(households, got[1]...)
	}
	if len(households) != 300 {
		t.Fatalf("%d codes issued, want 300", len(households))
	}

	step("codes issued")
	t.Run("concurrent code re-issues lose no generation", func(t *testing.T) {
		estate := estates[11].ID
		var flats []string
		for k := range 20 {
			flats = append(flats, fmt.Sprintf("re-%03d", k+1))
		}
		if _, err := cli().IssueCodes(period.ID, estate, flats, false); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		printed := make([][]servetest.Household, 3)
		errs := make([]error, 3)
		for i := range printed {
			wg.Add(1)
			go func() { defer wg.Done(); printed[i], errs[i] = cli().IssueCodes(period.ID, estate, nil, true) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		mongodbtest.OnePrintedCodeLive(t, db, period.ID, estate, flats, printed, func(h servetest.Household) (string, string) { return h.Flat, h.Code })
	})

	c := &servetest.Client{Period: period.ID, Servers: addrs, HTTP: &http.Client{Timeout: 30 * time.Second}}

	// Owners rate for a few seconds; each owner has households of its own and rates them one
	// at a time, so that "the last acknowledged" is well defined. Some requests go to two
	// servers at once with one idempotency key. A third of the way in, server 3 is killed
	// with SIGKILL, and restarted on its address a second later.
	const owners = 12
	var (
		acksMu  sync.Mutex
		acks    = map[string][]servetest.Ack{} // by household key, in order
		fails   []string
		killed  = make(chan struct{})
		load    = 6 * time.Second
		started = time.Now()
	)
	go func() {
		time.Sleep(load / 3)
		mu.Lock()
		victim := servers[2]
		mu.Unlock()
		victim.Kill()
		close(killed)
		time.Sleep(time.Second)
		restarted := startServer(t, victim.Addr)
		if err := restarted.Ready(); err != nil {
			acksMu.Lock()
			fails = append(fails, "restart after SIGKILL: "+err.Error())
			acksMu.Unlock()
			return
		}
		mu.Lock()
		servers[2] = restarted
		mu.Unlock()
	}()
	var wg sync.WaitGroup
	for o := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(o), 7))
			var mine []servetest.Household
			for i := o; i < len(households); i += owners {
				mine = append(mine, households[i])
			}
			fail := func(err error) {
				acksMu.Lock()
				fails = append(fails, err.Error())
				acksMu.Unlock()
			}
			for n := 0; time.Since(started) < load; n++ {
				h := mine[r.IntN(len(mine))]
				s := servetest.RandomScores(r)
				if r.IntN(10) == 0 { // the same request to two servers at once
					key := servetest.RandomKey()
					var pair [2]servetest.Ack
					var perr [2]error
					var pw sync.WaitGroup
					for k := range 2 {
						pw.Add(1)
						go func() {
							defer pw.Done()
							all := addrs()
							for try := 0; try < 40; try++ {
								var status int
								pair[k], status, perr[k] = c.Submit(all[(n+k+try)%len(all)], h, s, key)
								// 409: the other copy is being stored; ask again, as told.
								if perr[k] == nil || (status >= 400 && status < 500 && status != http.StatusConflict) {
									return
								}
								time.Sleep(50 * time.Millisecond)
							}
						}()
					}
					pw.Wait()
					if perr[0] != nil || perr[1] != nil {
						fail(fmt.Errorf("repeated request: %v / %v", perr[0], perr[1]))
						continue
					}
					if pair[0].Receipt != pair[1].Receipt || pair[0].Revision != pair[1].Revision {
						fail(fmt.Errorf("one request sent to two servers got two answers: %+v and %+v", pair[0], pair[1]))
					}
					acksMu.Lock()
					acks[pair[0].Key] = append(acks[pair[0].Key], pair[0])
					acksMu.Unlock()
					continue
				}
				a, err := c.Rate(h, s, n)
				if err != nil {
					fail(err)
					continue
				}
				acksMu.Lock()
				acks[a.Key] = append(acks[a.Key], a)
				acksMu.Unlock()
			}
		}()
	}
	wg.Wait()
	<-killed
	if len(fails) > 0 {
		t.Fatalf("%d failures during the load, first: %s", len(fails), fails[0])
	}
	total := 0
	for _, as := range acks {
		total += len(as)
	}
	t.Logf("%d ratings acknowledged for %d households by %d servers (one killed and restarted) against %s", total, len(acks), len(servers), backend)
	if total < 300 {
		t.Fatalf("only %d ratings acknowledged; the load did not run", total)
	}
	// Wait for the restarted server to be serving before the checks.
	for i := 0; i < 600; i++ {
		mu.Lock()
		s := servers[2]
		mu.Unlock()
		if s.Running() && s.Ready() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	step("load done")
	handed := 0
	mu.Lock()
	for _, s := range servers {
		handed += strings.Count(s.Output(), " handed_to=")
	}
	mu.Unlock()
	t.Logf("%d submissions handed to the server that owns their estate", handed)
	if handed == 0 {
		t.Error("no submission was handed over, though owners rated through three servers at random")
	}
	servetest.CheckRatings(t, db, raw, acks)
	step("ratings checked")
	checkTallyAndScores(t, period.ID, dir)
	step("tallies and scores checked")

	t.Run("after every server restarts, the next rating follows the last acknowledged", func(t *testing.T) {
		mu.Lock()
		for _, s := range servers {
			s.Stop()
		}
		mu.Unlock()
		restarted := startServers(t, 2)
		c.Servers = func() []string { return []string{restarted[0].Addr, restarted[1].Addr} }
		n := 0
		for _, h := range households[:40] {
			a, err := c.Rate(h, domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3}), n)
			n++
			if err != nil {
				t.Fatal(err)
			}
			acks[a.Key] = append(acks[a.Key], a)
		}
		servetest.CheckRatings(t, db, raw, acks)
		checkTallyAndScores(t, period.ID, dir)
	})

	t.Run("wrong codes through three servers are limited as through one", func(t *testing.T) {
		// serve keeps the limits in the database with --mongodb-uri: three servers allow one
		// address the wrong codes one would (rating.AddressFailures), plus at most one each,
		// which learns from its own charge that the allowance is spent. (The servers trust no
		// proxy, so every request here comes from 127.0.0.1, as the owners' above did: this
		// runs last.) With limits in each process, three servers would allow three times as many.
		three := startServers(t, 3)
		burst := rating.AddressFailures.Burst
		window := func() int64 {
			return time.Now().UnixNano() / int64(time.Duration(burst)*rating.AddressFailures.Every)
		}
		send := func(i int, h servetest.Household) int {
			body, _ := json.Marshal(map[string]any{"estate": h.Estate, "household": h.Flat, "code": h.Code, "scores": domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})})
			_, status, _ := c.Post(three[i%3].Addr, body, "")
			return status
		}
		for attempt := 0; ; attempt++ {
			w := window()
			wrong, limited := 0, map[int]bool{}
			for i := 0; len(limited) < 3 && i < 4*burst; i++ {
				switch status := send(i, servetest.Household{Estate: estates[0].ID, Flat: fmt.Sprintf("lim-%d-%03d", attempt, i), Code: "ABCDE-FGHJK"}); status {
				case http.StatusForbidden:
					wrong++
				case http.StatusTooManyRequests:
					limited[i%3] = true
				default:
					t.Fatalf("wrong code %d: status %d, want 403 or 429", i, status)
				}
			}
			if window() != w && attempt == 0 {
				continue // the window turned during the count: count again in the new one
			}
			if len(limited) < 3 || wrong < burst || wrong > burst+3 {
				t.Fatalf("three servers answered %d wrong codes before refusing (servers refusing: %v); want %d to %d", wrong, limited, burst, burst+3)
			}
			t.Logf("three servers answered %d wrong codes from one address, then all refused (the allowance is %d)", wrong, burst)
			break
		}
		// The address is slowed even with a right code, on every server.
		for i := range 3 {
			if status := send(i, households[i]); status != http.StatusTooManyRequests {
				t.Errorf("a right code from the limited address on server %d: status %d, want 429", i+1, status)
			}
		}
	})
}

// checkTallyAndScores runs `tally --verify` on the shared database and compares its scores with
// those of its own export imported into a fresh embedded engine.
func checkTallyAndScores(t *testing.T, period, dir string) {
	t.Helper()
	if out := cli().Must(t, "", "tally", "--verify"); !strings.Contains(out, "tallies agree") {
		t.Fatalf("tally --verify: %s", out)
	}
	shared := cli().Must(t, "", "score", "--period", period, "--format", "json")
	export := filepath.Join(dir, fmt.Sprintf("export-%d.jsonl", time.Now().UnixNano()))
	cli().Must(t, "", "export", "--out", export)
	data := filepath.Join(dir, fmt.Sprintf("data-%d", time.Now().UnixNano()))
	embedded := func(args ...string) string {
		cmd := exec.Command(propcredit, append([]string{args[0], "--data", data}, args[1:]...)...)
		cmd.Env = append(os.Environ(), "PROPCREDIT_MONGODB_URI=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("propcredit %s (embedded): %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}
	embedded("import", export)
	fresh := embedded("score", "--period", period, "--format", "json")
	if normalize(t, shared) != normalize(t, fresh) {
		t.Fatalf("scores from the shared database differ from those of its export in a fresh embedded engine:\nshared: %.2000s\nfresh:  %.2000s", shared, fresh)
	}
}

// normalize drops what differs between two scorings of the same data: when they ran.
func normalize(t *testing.T, out string) string {
	t.Helper()
	var docs []string
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("score output %.200q: %v", out, err)
		}
		dropTimes(v)
		b, _ := json.Marshal(v)
		docs = append(docs, string(b))
	}
	if len(docs) == 0 {
		t.Fatal("score printed nothing")
	}
	return strings.Join(docs, "\n")
}

func dropTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "_at") || k == "at" {
				delete(x, k)
				continue
			}
			dropTimes(e)
		}
	case []any:
		for _, e := range x {
			dropTimes(e)
		}
	}
}
