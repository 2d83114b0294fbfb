// Package servetest runs the real propcredit binary for the suites that test it from outside
// (internal/multiserver, internal/abuse): it builds the binary, starts `serve` processes, stops
// or kills them, sends owners' ratings through the JSON API as a phone does, and checks what
// was stored against what was acknowledged. It is for tests only.
package servetest

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
	"github.com/propcredit/propcredit/internal/rating"
)

// ModuleRoot is the directory of the module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Build builds ./cmd/propcredit into dir and returns the binary's path.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "propcredit")
	build := exec.Command("go", "build", "-o", bin, "./cmd/propcredit")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build propcredit: %v\n%s", err, out)
	}
	return bin, nil
}

// BuildTemp builds the binary into a new temporary directory, which remove removes.
func BuildTemp() (bin, dir string, remove func(), err error) {
	if dir, err = os.MkdirTemp("", "propcredit-bin-"); err != nil {
		return "", "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	if bin, err = Build(dir); err != nil {
		remove()
		return "", "", nil, err
	}
	return bin, dir, remove, nil
}

// ErrText is the standard error of a command that failed, if it kept it.
func ErrText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// FreePort returns a loopback port nobody listens on now.
func FreePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// CLI runs the binary with an environment (the database: PROPCREDIT_MONGODB_URI, or
// PROPCREDIT_DATA for the embedded engine).
type CLI struct {
	Bin string
	Env []string
}

// Run runs a command and returns its standard output.
func (c CLI) Run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = c.Env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("propcredit %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// Must runs a command and fails the test if it fails.
func (c CLI) Must(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := c.Run(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Server is one `propcredit serve` process.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	log  string // the file its output goes to
	done chan error
}

// Start starts `serve --addr addr --log-format text` with the CLI's environment and more
// arguments. The test's clean-up stops it.
func (c CLI) Start(t testing.TB, addr string, args ...string) *Server {
	t.Helper()
	s := &Server{Addr: addr, log: filepath.Join(t.TempDir(), "serve.log"), done: make(chan error, 1)}
	out, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the process has its own copy
	s.cmd = exec.Command(c.Bin, append([]string{"serve", "--addr", addr, "--log-format", "text"}, args...)...)
	s.cmd.Env = c.Env
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.Stop() })
	return s
}

// Ready waits until the server answers /healthz, or fails if it exits.
func (s *Server) Ready() error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("server %s exited: %v\n%s", s.Addr, err, s.Output())
		default:
		}
		resp, err := http.Get("http://" + s.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("server %s did not answer in 60 s\n%s", s.Addr, s.Output())
}

// Running says whether the process has not exited.
func (s *Server) Running() bool { return s.cmd.ProcessState == nil }

// Output is what the server logged so far.
func (s *Server) Output() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Stop ends the server with SIGTERM, as a supervisor does, and waits for it.
func (s *Server) Stop() {
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

// Kill ends the server with SIGKILL: no clean-up at all.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Connect opens the database at uri as the servers see it: through the store, and as raw
// documents.
func Connect(t testing.TB, uri string) (*mongodb.DB, *mongo.Database) {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := mongodb.Connect(ctx, uri, app.DatabaseName, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db, client.Database(app.DatabaseName)
}

// Household is a flat with its code.
type Household struct{ Estate, Flat, Code string }

// IssueCodes registers flats in an estate and returns their codes, as `codes issue` prints
// them; flats nil re-issues every flat's code with reissue.
func (c CLI) IssueCodes(period, estate string, flats []string, reissue bool) ([]Household, error) {
	args := []string{"codes", "issue", "--period", period, "--estate", estate}
	stdin := ""
	if flats != nil {
		args = append(args, "--flats", "-")
		stdin = "flat\n" + strings.Join(flats, "\n") + "\n"
	}
	if reissue {
		args = append(args, "--reissue")
	}
	out, err := c.Run(stdin, args...)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("codes issue output: %w", err)
	}
	var hs []Household
	for _, row := range rows[1:] {
		hs = append(hs, Household{Estate: estate, Flat: strings.TrimPrefix(row[0], "'"), Code: row[1]})
	}
	return hs, nil
}

// Ack is an acknowledged rating.
type Ack struct {
	Key      string // period|estate|household
	Receipt  string
	Revision int
	Scores   domain.Scores
	// Status is the answer's "status": "counted", or "under_review" for a rating held by
	// ballot-stuffing detection.
	Status string
	// RetryAfter is the Retry-After of an answer that was not an acknowledgement.
	RetryAfter string
}

// Client is owners' phones sending ratings to the JSON API.
type Client struct {
	HTTP    *http.Client
	Period  string
	Servers func() []string // the addresses to try, in order
	// From, if set, is the X-Forwarded-For of each request (the server must trust loopback).
	From string
	// Patience, if set, makes Rate an owner who sends a rating again for up to Patience, but
	// only while no server answers (killed, restarting) or one says to send it again (409,
	// 503): any other answer, 429 and 500 included, is Rate's error, for suites in which an
	// honest owner must never get one. Without it Rate tries 40 times and also sends again
	// after a 429 or any 5xx.
	Patience time.Duration
	// SentAgain, if set, is called for each request Rate sends again.
	SentAgain func()
}

// Submit sends one rating with the given idempotency key to addr, and returns the answer's
// status and body for anything but 201.
func (c *Client) Submit(addr string, h Household, s domain.Scores, key string) (Ack, int, error) {
	body, _ := json.Marshal(map[string]any{"estate": h.Estate, "household": h.Flat, "code": h.Code, "scores": s})
	a, status, err := c.Post(addr, body, key)
	a.Key, a.Scores = c.Period+"|"+h.Estate+"|"+h.Flat, s
	return a, status, err
}

// Post sends a rating's JSON body with the given idempotency key (none if "") to addr, and
// returns the receipt and revision of a 201, or the status and body of another answer.
func (c *Client) Post(addr string, body []byte, key string) (Ack, int, error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/ratings", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if c.From != "" {
		req.Header.Set("X-Forwarded-For", c.From)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Ack{}, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return Ack{RetryAfter: resp.Header.Get("Retry-After")}, resp.StatusCode, fmt.Errorf("%s: status %d: %s", addr, resp.StatusCode, b)
	}
	var answer struct {
		Receipt  string `json:"receipt"`
		Revision int    `json:"revision"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.Receipt == "" {
		return Ack{}, resp.StatusCode, fmt.Errorf("%s: bad answer %s", addr, b)
	}
	return Ack{Receipt: answer.Receipt, Revision: answer.Revision, Status: answer.Status}, resp.StatusCode, nil
}

// Rate submits a rating until a server acknowledges it, as an owner does who is told to
// submit the same form again: the same idempotency key each time, 50 ms apart, to the next
// server when one does not answer (see Patience).
func (c *Client) Rate(h Household, s domain.Scores, first int) (Ack, error) {
	key := RandomKey()
	deadline := time.Now().Add(c.Patience)
	for try := 0; ; try++ {
		addrs := c.Servers()
		a, status, err := c.Submit(addrs[(first+try)%len(addrs)], h, s, key)
		if err == nil {
			return a, nil
		}
		if !c.sendAgain(status) {
			return Ack{}, err
		}
		if c.Patience > 0 && time.Now().After(deadline) || c.Patience == 0 && try == 39 {
			return Ack{}, fmt.Errorf("never acknowledged: %w", err)
		}
		if c.SentAgain != nil {
			c.SentAgain()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendAgain says whether an answer of status (0: none) tells the owner to send the rating
// again: no answer, 409 (the same key is still being stored by another server) and 503 always
// do; without Patience, so do 429, any 5xx and an answer that is no acknowledgement.
func (c *Client) sendAgain(status int) bool {
	switch {
	case status == 0, status == http.StatusConflict, status == http.StatusServiceUnavailable:
		return true
	case c.Patience > 0:
		return false
	}
	return status < 400 || status >= 500 || status == http.StatusTooManyRequests
}

// RandomKey is a fresh idempotency key.
func RandomKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RandomScores are marks of 1 to 5.
func RandomScores(r *mrand.Rand) domain.Scores {
	var m [6]int
	for i := range m {
		m[i] = 1 + r.IntN(5)
	}
	return domain.ScoresOf(m)
}

// Acks collects acknowledgements from many goroutines, by household, in order.
type Acks struct {
	mu     sync.Mutex
	ByKey  map[string][]Ack
	Failed []string
}

// Add records an acknowledgement.
func (a *Acks) Add(ack Ack) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ByKey == nil {
		a.ByKey = map[string][]Ack{}
	}
	a.ByKey[ack.Key] = append(a.ByKey[ack.Key], ack)
}

// Fail records a failure.
func (a *Acks) Fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Failed = append(a.Failed, err.Error())
}

// Total is the number of acknowledgements.
func (a *Acks) Total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, as := range a.ByKey {
		n += len(as)
	}
	return n
}

// CheckRatings compares the stored versions with the acknowledgements: each acknowledged
// receipt is on exactly the version the server answered, revisions run from 1 without gaps,
// each household's counted (highest) version is the last one acknowledged, and every
// receipt can be looked up.
func CheckRatings(t testing.TB, db *mongodb.DB, raw *mongo.Database, acks map[string][]Ack) {
	t.Helper()
	ctx := context.Background()
	cur, err := raw.Collection("ratings").Find(ctx, bson.D{{Key: "source", Value: rating.SourceAPI}})
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
			if receipts[a.Receipt] != 1 {
				problems = append(problems, fmt.Sprintf("receipt %s is on %d versions", a.Receipt, receipts[a.Receipt]))
			} else if want := fmt.Sprintf("%s|%d", a.Key, a.Revision); onVersion[a.Receipt] != want {
				problems = append(problems, fmt.Sprintf("receipt %s is on %s, answered as %s", a.Receipt, onVersion[a.Receipt], want))
			}
		}
		last := as[len(as)-1]
		if head[key] != last.Receipt {
			problems = append(problems, fmt.Sprintf("%s: the counted version has receipt %s (revision %d), the last acknowledged is %s (revision %d)",
				key, head[key], top[key], last.Receipt, last.Revision))
		}
	}
	fail(t, append(problems, lastReceipts(db, acks)...))
}

// CheckLastReceipts looks up each household's last acknowledged receipt: it is found, at the
// revision it was answered with, and not superseded. It reads by _id only, so it is cheap
// beside CheckRatings, which reads every version.
func CheckLastReceipts(t testing.TB, db *mongodb.DB, acks map[string][]Ack) {
	t.Helper()
	fail(t, lastReceipts(db, acks))
}

func lastReceipts(db *mongodb.DB, acks map[string][]Ack) []string {
	var problems []string
	for key, as := range acks {
		last := as[len(as)-1]
		rc, err := db.ReceiptByNumber(context.Background(), last.Receipt)
		if err != nil || rc.Superseded || rc.Revision != last.Revision {
			problems = append(problems, fmt.Sprintf("%s: last receipt %s looked up: %+v, %v", key, last.Receipt, rc, err))
		}
	}
	return problems
}

func fail(t testing.TB, problems []string) {
	t.Helper()
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "\n"))
	}
}
