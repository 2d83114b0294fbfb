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
	bin, err := os.MkdirTemp("", "propcredit-abuse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	defer os.RemoveAll(bin)
	if propcredit, err = servetest.Build(bin); err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	return m.Run()
}

// city is a real server of the demo city on the embedded engine in its own data directory. It
// believes X-Forwarded-For from loopback (--trusted-proxies), so that one machine can play
// many client addresses.
type city struct {
	cli      servetest.CLI
	server   *servetest.Server
	data     string
	db       *mongodb.DB
	raw      *mongo.Database
	period   string
	estates  []domain.Estate
	reviewer string // the demo reviewer's password
}

var serveArgs = []string{"--demo", "--trusted-proxies", "127.0.0.1"}

func startCity(t *testing.T) *city {
	t.Helper()
	c := &city{data: filepath.Join(t.TempDir(), "data")}
	c.cli = servetest.CLI{Bin: propcredit, Env: append(os.Environ(), "PROPCREDIT_DATA="+c.data, "PROPCREDIT_MONGODB_URI=")}
	began := time.Now()
	c.server = c.cli.Start(t, "127.0.0.1:"+servetest.FreePort(), serveArgs...)
	if err := c.server.Ready(); err != nil {
		t.Fatal(err)
	}
	t.Logf("serve --demo ready in %.1f s", time.Since(began).Seconds())
	m := regexp.MustCompile(`name "reviewer", password "([^"]+)"`).FindStringSubmatch(c.server.Output())
	if m == nil {
		t.Fatalf("the demo reviewer's password is not in the log:\n%s", c.server.Output())
	}
	c.reviewer = m[1]
	uri, err := ferretdb.SocketURI(c.data)
	if err != nil {
		t.Fatal(err)
	}
	c.db, c.raw = servetest.Connect(t, uri)
	ctx := context.Background()
	p, ok, err := c.db.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		t.Fatalf("no open period in the demo city: %v", err)
	}
	c.period = p.ID
	if c.estates, err = c.db.Estates(ctx); err != nil || len(c.estates) < 8 {
		t.Fatalf("estates: %d, %v", len(c.estates), err)
	}
	return c
}

// restart starts the server again on the same data directory and address.
func (c *city) restart(t *testing.T) {
	t.Helper()
	c.server = c.cli.Start(t, c.server.Addr, serveArgs...)
	if err := c.server.Ready(); err != nil {
		t.Fatal(err)
	}
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
	if out := c.cli.Must(t, "", "tally", "--verify"); !strings.Contains(out, "tallies agree") {
		t.Fatalf("tally --verify: %s", out)
	}
}
