package abuse

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/servetest"
)

var propcredit string // the binary, built once

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	bin, _, remove, err := servetest.BuildTemp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	defer remove()
	propcredit = bin
	return m.Run()
}

// city is a real server of the demo city on the embedded engine in its own data directory. It
// believes X-Forwarded-For from loopback (--trusted-proxies), so that one machine can play
// many client addresses.
type city struct {
	cli      servetest.CLI
	server   *servetest.Server
	args     []string // serve's
	data     string
	db       *mongodb.DB
	raw      *mongo.Database
	period   string
	estates  []domain.Estate
	reviewer string // the demo reviewer's password
}

// startCity serves the demo city (`serve --demo`).
func startCity(t *testing.T) *city {
	t.Helper()
	c := newCity(t)
	began := time.Now()
	c.start(t, "--demo")
	t.Logf("serve --demo ready in %.1f s", time.Since(began).Seconds())
	m := regexp.MustCompile(`name "reviewer", password "([^"]+)"`).FindStringSubmatch(c.server.Output())
	if m == nil {
		t.Fatalf("the demo reviewer's password is not in the log:\n%s", c.server.Output())
	}
	c.reviewer = m[1]
	return c
}

// startEmptyCity serves the demo city without its 23,000 ratings, for tests that read every
// rating more than once.
func startEmptyCity(t *testing.T) *city {
	t.Helper()
	c := newCity(t)
	began := time.Now()
	file := filepath.Join(t.TempDir(), "city.jsonl")
	c.cli.Must(t, "", "demo", "--out", file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `"type":"rating"`) {
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cli.Must(t, "", "import", file)
	c.start(t)
	t.Logf("the demo city without ratings imported and served in %.1f s", time.Since(began).Seconds())
	return c
}

func newCity(t *testing.T) *city {
	c := &city{data: filepath.Join(t.TempDir(), "data")}
	c.cli = servetest.CLI{Bin: propcredit, Env: append(os.Environ(), "PROPCREDIT_DATA="+c.data, "PROPCREDIT_MONGODB_URI=")}
	return c
}

// start starts the server on an ephemeral port and reads the period open today and the estates.
func (c *city) start(t *testing.T, args ...string) {
	t.Helper()
	c.args = append([]string{"--trusted-proxies", "127.0.0.1"}, args...)
	c.server = c.cli.Start(t, "127.0.0.1:"+servetest.FreePort(), c.args...)
	if err := c.server.Ready(); err != nil {
		t.Fatal(err)
	}
	c.connect(t)
	ctx := context.Background()
	p, ok, err := c.db.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		t.Fatalf("no open period in the demo city: %v", err)
	}
	c.period = p.ID
	if c.estates, err = c.db.Estates(ctx); err != nil || len(c.estates) < 8 {
		t.Fatalf("estates: %d, %v", len(c.estates), err)
	}
}

// connect connects to the server's engine, through its socket in the data directory.
func (c *city) connect(t *testing.T) {
	t.Helper()
	uri, err := ferretdb.SocketURI(c.data)
	if err != nil {
		t.Fatal(err)
	}
	c.db, c.raw = servetest.Connect(t, uri)
}

// restart starts the server again on the same data directory and address, and connects to
// its new engine (the engine's cursors do not outlive it).
func (c *city) restart(t *testing.T) {
	t.Helper()
	c.server = c.cli.Start(t, c.server.Addr, c.args...)
	if err := c.server.Ready(); err != nil {
		t.Fatal(err)
	}
	c.connect(t)
}

// codes issues codes to n new flats of the i-th estate, named prefix-1...
func (c *city) codes(t *testing.T, i int, prefix string, n int) []servetest.Household {
	t.Helper()
	var flats []string
	for k := range n {
		flats = append(flats, fmt.Sprintf("%s-%d", prefix, k+1))
	}
	began := time.Now()
	hs, err := c.cli.IssueCodes(c.period, c.estates[i].ID, flats, false)
	t.Logf("codes issue: %d codes in %.1f s", n, time.Since(began).Seconds())
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != n {
		t.Fatalf("%d codes issued, want %d", len(hs), n)
	}
	return hs
}

// client is a phone at a client address.
func (c *city) client(from string) *servetest.Client {
	return &servetest.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, Period: c.period, From: from,
		Servers: func() []string { return []string{c.server.Addr} }}
}

// verify runs `tally --verify` through the server's engine.
func (c *city) verify(t *testing.T) {
	t.Helper()
	began := time.Now()
	if out := c.cli.Must(t, "", "tally", "--verify"); !strings.Contains(out, "tallies agree") {
		t.Fatalf("tally --verify: %s", out)
	}
	t.Logf("tally --verify: the tallies agree (%.1f s)", time.Since(began).Seconds())
}
