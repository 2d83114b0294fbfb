package multiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
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
	root, err := moduleRoot()
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
		pgPort := freePort()
		pgURL = "postgres://postgres@127.0.0.1:" + pgPort + "/ferretdb"
		out, err := exec.Command(script, "start", dir, pgPort, freePort()).Output()
		defer exec.Command(script, "stop", dir).Run()
		if err != nil {
			fmt.Fprintf(os.Stderr, "multiserver: start FerretDB on PostgreSQL: %v\n%s\n", err, errText(err))
			return 1
		}
		dbURI, backend = strings.TrimSpace(string(out)), "FerretDB on PostgreSQL"
	}
	bin, err := os.MkdirTemp("", "propcredit-multiserver-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiserver:", err)
		return 1
	}
	defer os.RemoveAll(bin)
	propcredit = filepath.Join(bin, "propcredit")
	build := exec.Command("go", "build", "-o", propcredit, "./cmd/propcredit")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "multiserver: build propcredit: %v\n%s", err, out)
		return 1
	}
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

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func errText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// freePort returns a loopback port nobody listens on now.
func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// cli runs a propcredit command on the shared database and returns its standard output.
func cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := cliErr(stdin, args...)
	if err != nil {
		t.Fatalf("propcredit %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func cliErr(stdin string, args ...string) (string, error) {
	cmd := exec.Command(propcredit, args...)
	cmd.Env = env()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w\n%s%s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// server is one `propcredit serve` process.
type server struct {
	addr string
	cmd  *exec.Cmd
	log  string // the file its output goes to
	done chan error
}

func startServer(t *testing.T, addr string) *server {
	t.Helper()
	s := &server{addr: addr, log: filepath.Join(t.TempDir(), "serve.log"), done: make(chan error, 1)}
	out, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the process has its own copy
	// Its owners all rate from 127.0.0.1 with one User-Agent, which ballot-stuffing detection
	// would hold; this suite checks storage, and internal/mongodb checks holds across servers.
	s.cmd = exec.Command(propcredit, "serve", "--addr", addr, "--log-format", "text", "--hold-suspect", "off")
	s.cmd.Env = env()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop() })
	return s
}

// ready waits until the server answers /healthz, or fails if it exits.
func (s *server) ready() error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("server %s exited: %v\n%s", s.addr, err, s.output())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("server %s did not answer in 60 s\n%s", s.addr, s.output())
}

func (s *server) output() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// stop ends the server with SIGTERM, as a supervisor does, and waits for it.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// kill ends the server with SIGKILL: no clean-up at all.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func startServers(t *testing.T, n int) []*server {
	t.Helper()
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = startServer(t, "127.0.0.1:"+freePort())
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.ready() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return servers
}

// rawDatabase connects to the servers' database with the plain driver, to see the stored
// documents as they are.
func rawDatabase(t *testing.T) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(dbURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(app.DatabaseName)
}

// freshDatabase drops the database the servers use and returns a connection to it.
func freshDatabase(t *testing.T) *mongodb.DB {
	t.Helper()
	ctx := context.Background()
	if err := rawDatabase(t).Drop(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := mongodb.Connect(ctx, dbURI, app.DatabaseName, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

type household struct{ estate, flat, code string }

// issueCodes registers flats in an estate and returns their codes, as `codes issue` prints them.
func issueCodes(t *testing.T, period, estate string, flats []string, reissue bool) ([]household, error) {
	args := []string{"codes", "issue", "--period", period, "--estate", estate}
	stdin := ""
	if flats != nil {
		args = append(args, "--flats", "-")
		stdin = "flat\n" + strings.Join(flats, "\n") + "\n"
	}
	if reissue {
		args = append(args, "--reissue")
	}
	out, err := cliErr(stdin, args...)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("codes issue output: %w", err)
	}
	var hs []household
	for _, row := range rows[1:] {
		hs = append(hs, household{estate: estate, flat: row[0], code: row[1]})
	}
	return hs, nil
}

// ack is an acknowledged rating.
type ack struct {
	key      string
	receipt  string
	revision int
	scores   domain.Scores
}

type client struct {
	http    *http.Client
	period  string
	servers func() []string // the addresses to try, in order
}

// submit sends one rating with the given idempotency key to addr.
func (c *client) submit(addr string, h household, s domain.Scores, key string) (ack, int, error) {
	body, _ := json.Marshal(map[string]any{"estate": h.estate, "household": h.flat, "code": h.code, "scores": s})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/ratings", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(req)
	if err != nil {
		return ack{}, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return ack{}, resp.StatusCode, fmt.Errorf("%s: status %d: %s", addr, resp.StatusCode, b)
	}
	var answer struct {
		Receipt  string `json:"receipt"`
		Revision int    `json:"revision"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.Receipt == "" {
		return ack{}, resp.StatusCode, fmt.Errorf("%s: bad answer %s", addr, b)
	}
	return ack{key: c.period + "|" + h.estate + "|" + h.flat, receipt: answer.Receipt, revision: answer.Revision, scores: s}, resp.StatusCode, nil
}

// rate submits a rating until a server acknowledges it, as an owner does who is told to
// submit the same form again: the same idempotency key each time, to the next server when one
// does not answer.
func (c *client) rate(h household, s domain.Scores, first int) (ack, error) {
	key := randomKey()
	var last error
	for try := 0; try < 40; try++ {
		addrs := c.servers()
		a, status, err := c.submit(addrs[(first+try)%len(addrs)], h, s, key)
		if err == nil {
			return a, nil
		}
		// 409: the same key is still being stored by another server; try again, as told.
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusConflict {
			return ack{}, err
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return ack{}, fmt.Errorf("never acknowledged: %w", last)
}

func randomKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomScores(r *mrand.Rand) domain.Scores {
	var m [6]int
	for i := range m {
		m[i] = 1 + r.IntN(5)
	}
	return domain.ScoresOf(m)
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
	db := freshDatabase(t)

	// Three servers at once on an empty database: the migrations race.
	t0 := time.Now()
	step := func(what string) { t.Logf("%5.1f s: %s", time.Since(t0).Seconds(), what) }
	servers := startServers(t, 3)
	step("three servers started at once")
	if pgURL != "" { // as an operator does once the collections exist (docs/SCALING.md)
		cli(t, "", "db", "tune", "--postgresql-url", pgURL)
		step("db tune")
	}
	var mu sync.Mutex
	addrs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, s := range servers {
			out = append(out, s.addr)
		}
		return out
	}

	dir := t.TempDir()
	cli(t, "", "demo", "--out", filepath.Join(dir, "city.jsonl"))
	cli(t, "", "import", filepath.Join(dir, "city.jsonl"))
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
	var households []household
	for i := 0; i < 10; i += 2 {
		var wg sync.WaitGroup
		got := make([][]household, 2)
		errs := make([]error, 2)
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var flats []string
				for k := range 30 {
					flats = append(flats, fmt.Sprintf("ms-%03d", k+1))
				}
				got[j], errs[j] = issueCodes(t, period.ID, estates[i+j].ID, flats, false)
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
		if _, err := issueCodes(t, period.ID, estate, flats, false); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		printed := make([][]household, 3)
		errs := make([]error, 3)
		for i := range printed {
			wg.Add(1)
			go func() { defer wg.Done(); printed[i], errs[i] = issueCodes(t, period.ID, estate, nil, true) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		mongodbtest.OnePrintedCodeLive(t, db, period.ID, estate, flats, printed, func(h household) (string, string) { return h.flat, h.code })
	})

	c := &client{period: period.ID, servers: addrs, http: &http.Client{Timeout: 30 * time.Second}}

	// Owners rate for a few seconds; each owner has households of its own and rates them one
	// at a time, so that "the last acknowledged" is well defined. Some requests go to two
	// servers at once with one idempotency key. A third of the way in, server 3 is killed
	// with SIGKILL, and restarted on its address a second later.
	const owners = 12
	var (
		acksMu  sync.Mutex
		acks    = map[string][]ack{} // by household key, in order
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
		victim.kill()
		close(killed)
		time.Sleep(time.Second)
		restarted := startServer(t, victim.addr)
		if err := restarted.ready(); err != nil {
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
			var mine []household
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
				s := randomScores(r)
				if r.IntN(10) == 0 { // the same request to two servers at once
					key := randomKey()
					var pair [2]ack
					var perr [2]error
					var pw sync.WaitGroup
					for k := range 2 {
						pw.Add(1)
						go func() {
							defer pw.Done()
							all := addrs()
							for try := 0; try < 40; try++ {
								var status int
								pair[k], status, perr[k] = c.submit(all[(n+k+try)%len(all)], h, s, key)
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
					if pair[0].receipt != pair[1].receipt || pair[0].revision != pair[1].revision {
						fail(fmt.Errorf("one request sent to two servers got two answers: %+v and %+v", pair[0], pair[1]))
					}
					acksMu.Lock()
					acks[pair[0].key] = append(acks[pair[0].key], pair[0])
					acksMu.Unlock()
					continue
				}
				a, err := c.rate(h, s, n)
				if err != nil {
					fail(err)
					continue
				}
				acksMu.Lock()
				acks[a.key] = append(acks[a.key], a)
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
		if s.cmd.ProcessState == nil && s.ready() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	step("load done")
	checkRatings(t, db, acks)
	step("ratings checked")
	checkTallyAndScores(t, period.ID, dir)
	step("tallies and scores checked")

	t.Run("after every server restarts, the next rating follows the last acknowledged", func(t *testing.T) {
		mu.Lock()
		for _, s := range servers {
			s.stop()
		}
		mu.Unlock()
		restarted := startServers(t, 2)
		c.servers = func() []string { return []string{restarted[0].addr, restarted[1].addr} }
		n := 0
		for _, h := range households[:40] {
			a, err := c.rate(h, domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3}), n)
			n++
			if err != nil {
				t.Fatal(err)
			}
			acks[a.key] = append(acks[a.key], a)
		}
		checkRatings(t, db, acks)
		checkTallyAndScores(t, period.ID, dir)
	})
}

// checkRatings compares the stored versions with the acknowledgements: each acknowledged
// receipt is on exactly the version the server answered, revisions run from 1 without gaps,
// each household's counted (highest) version is the last one acknowledged, and every
// receipt can be looked up.
func checkRatings(t *testing.T, db *mongodb.DB, acks map[string][]ack) {
	t.Helper()
	ctx := context.Background()
	cur, err := rawDatabase(t).Collection("ratings").Find(ctx, bson.D{{Key: "source", Value: rating.SourceAPI}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		Key      string `bson:"key"`
		Revision int    `bson:"revision"`
		Receipt  string `bson:"receipt"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	revisions := map[string][]int{}
	onVersion := map[string]string{}
	receipts := map[string]int{}
	head := map[string]string{}
	top := map[string]int{}
	for _, d := range docs {
		revisions[d.Key] = append(revisions[d.Key], d.Revision)
		onVersion[d.Receipt] = fmt.Sprintf("%s|%d", d.Key, d.Revision)
		receipts[d.Receipt]++
		if d.Revision > top[d.Key] {
			top[d.Key], head[d.Key] = d.Revision, d.Receipt
		}
	}
	var problems []string
	for key, revs := range revisions {
		sort.Ints(revs)
		for i, r := range revs {
			if r != i+1 {
				problems = append(problems, fmt.Sprintf("%s: revisions %v have a gap", key, revs))
				break
			}
		}
	}
	for key, as := range acks {
		for _, a := range as {
			if receipts[a.receipt] != 1 {
				problems = append(problems, fmt.Sprintf("receipt %s is on %d versions", a.receipt, receipts[a.receipt]))
			} else if want := fmt.Sprintf("%s|%d", a.key, a.revision); onVersion[a.receipt] != want {
				problems = append(problems, fmt.Sprintf("receipt %s is on %s, answered as %s", a.receipt, onVersion[a.receipt], want))
			}
		}
		last := as[len(as)-1]
		if head[key] != last.receipt {
			problems = append(problems, fmt.Sprintf("%s: the counted version has receipt %s (revision %d), the last acknowledged is %s (revision %d)",
				key, head[key], top[key], last.receipt, last.revision))
		}
		rc, err := db.ReceiptByNumber(ctx, last.receipt)
		if err != nil || rc.Superseded || rc.Revision != last.revision {
			problems = append(problems, fmt.Sprintf("%s: last receipt %s looked up: %+v, %v", key, last.receipt, rc, err))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "\n"))
	}
}

// checkTallyAndScores runs `tally --verify` on the shared database and compares its scores with
// those of its own export imported into a fresh embedded engine.
func checkTallyAndScores(t *testing.T, period, dir string) {
	t.Helper()
	if out := cli(t, "", "tally", "--verify"); !strings.Contains(out, "tallies agree") {
		t.Fatalf("tally --verify: %s", out)
	}
	shared := cli(t, "", "score", "--period", period, "--format", "json")
	export := filepath.Join(dir, fmt.Sprintf("export-%d.jsonl", time.Now().UnixNano()))
	cli(t, "", "export", "--out", export)
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
