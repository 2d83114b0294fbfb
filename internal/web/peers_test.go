package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// requests are the access-log lines of path in a server's JSON log.
func requests(log *mongodbtest.Buffer, path string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["path"] == path {
			out = append(out, m)
		}
	}
	return out
}

// peerServer is a server of the rating env's database that listens on loopback with a peer URL,
// announced in the database as serve --peer-url does.
type peerServer struct {
	*Server
	url  string
	log  *mongodbtest.Buffer
	stop func()
}

func (e *rateEnv) peerServer() *peerServer {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	p := &peerServer{url: "http://" + ln.Addr().String(), log: &mongodbtest.Buffer{}}
	p.Server, err = New(Config{DB: e.db, Log: slog.New(slog.NewJSONHandler(p.log, nil)), TrustedProxies: []string{"0.0.0.0"},
		Now: e.clock.Now, PeerURL: p.url})
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = p.app.Listener(ln) }()
	unannounce, err := e.db.Announce(context.Background(), ln.Addr().String(), p.url)
	if err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			_ = p.app.Shutdown()
			_ = unannounce(context.Background())
		})
	}
	e.t.Cleanup(p.stop)
	return p
}

// Two servers with peer URLs: a submission sent to the one that does not own its estate is
// stored by the one that does, with the owner's address as the first server saw it; a forged
// hand-over is not believed; and with the owner gone the first server stores it itself.
func TestSubmissionsHandedToTheEstatesServer(t *testing.T) {
	e := newRateEnv(t)
	a, b := e.peerServer(), e.peerServer()
	for _, p := range []*peerServer{a, b} {
		p.peers.refresh()
	}
	// first gets the owners' requests; owner owns e1.
	first, owner := a, b
	if a.peers.owner("e1") == "" {
		first, owner = b, a
	}
	if got := first.peers.owner("e1"); got != owner.url {
		t.Fatalf("the servers disagree on e1's owner: %q, want %q", got, owner.url)
	}
	const api = "/api/v1/ratings"
	phone := func(s *Server, ip string) *client {
		c := e.clientOf(s)
		c.header.Set("X-Forwarded-For", ip)
		c.header.Set("User-Agent", "Mozilla/5.0 (iPhone) test")
		return c
	}

	// The API, without an idempotency key.
	r := phone(first.Server, "203.0.113.30").apiRate(apiBody("e1", "1-1-101", e.codes["1-1-101"], allFours, ""), nil)
	wantStatus(t, r, http.StatusCreated)
	if rev := decodeAnswer(t, r).Revision; rev != 1 || e.revision("e1", "1-1-101") != 1 {
		t.Fatalf("answered revision %d, stored %d; want 1", rev, e.revision("e1", "1-1-101"))
	}
	handed, took := requests(first.log, api), requests(owner.log, api)
	if len(handed) != 1 || handed[0]["handed_to"] != owner.url {
		t.Errorf("the first server's log: %v; want one request handed to %s", handed, owner.url)
	}
	if len(took) != 1 || took[0]["from_peer"] != true || took[0]["ip"] != "203.0.113.30" || took[0]["status"] != float64(201) {
		t.Errorf("the owner's log: %v; want one request from the peer for 203.0.113.30, stored (201)", took)
	}

	// The form, as a phone fills it in, to the first server.
	c := phone(first.Server, "203.0.113.31")
	r = c.post("/rate/e1", c.ratingForm("e1", "1-1-102", e.codes["1-1-102"], [6]int{5, 5, 5, 5, 5, 5}, ""))
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "评价已提交")
	if rev := e.revision("e1", "1-1-102"); rev != 1 {
		t.Fatalf("the form through the first server: stored revision %d, want 1", rev)
	}
	if took := requests(owner.log, "/rate/e1"); len(took) == 0 || took[len(took)-1]["from_peer"] != true || took[len(took)-1]["ip"] != "203.0.113.31" {
		t.Errorf("the owner's log of the form: %v; want the last from the peer for 203.0.113.31", took)
	}

	// A forged hand-over, sent straight to the owner: its word for the address is not believed.
	now := strconv.FormatInt(e.clock.Now().Unix(), 10)
	for name, h := range map[string]map[string]string{
		"no signature":      {headerPeerClient: "198.51.100.1", headerPeerTime: now, headerPeerSig: "00"},
		"another address":   {headerPeerClient: "198.51.100.2", headerPeerTime: now, headerPeerSig: owner.peers.sign("POST", api, "198.51.100.3", now)},
		"an old signature":  {headerPeerClient: "198.51.100.4", headerPeerTime: "1000000000", headerPeerSig: owner.peers.sign("POST", api, "198.51.100.4", "1000000000")},
		"another path":      {headerPeerClient: "198.51.100.5", headerPeerTime: now, headerPeerSig: owner.peers.sign("POST", "/rate/e1", "198.51.100.5", now)},
		"a valid signature": {headerPeerClient: "198.51.100.6", headerPeerTime: now, headerPeerSig: owner.peers.sign("POST", api, "198.51.100.6", now)},
	} {
		h["Idempotency-Key"] = "forged-" + strings.ReplaceAll(name, " ", "-")
		before := len(requests(owner.log, api))
		r := phone(owner.Server, "203.0.113.32").apiRate(apiBody("e1", "1-1-103", "WRONG-CODE1", allFours, ""), h)
		wantStatus(t, r, http.StatusForbidden)
		lines := requests(owner.log, api)
		if len(lines) != before+1 {
			t.Fatalf("%s: %d new log lines", name, len(lines)-before)
		}
		wantIP := "203.0.113.32"
		if name == "a valid signature" { // what the peer's signature is for
			wantIP = "198.51.100.6"
		}
		if got := lines[len(lines)-1]; got["ip"] != wantIP {
			t.Errorf("%s: the owner took the client for %v; want %s", name, got["ip"], wantIP)
		}
	}

	// The owner is gone (its announcement stays until it is stale): the first server stores
	// the submission itself and does not try the owner again for a while.
	owner.stop()
	if _, err := e.db.Announce(context.Background(), "gone", owner.url); err != nil {
		t.Fatal(err)
	}
	first.peers.refresh()
	for i := range 2 {
		r = phone(first.Server, "203.0.113.33").apiRate(apiBody("e1", "1-1-101", e.codes["1-1-101"], fivesJSON, ""), map[string]string{"Idempotency-Key": "gone-" + strconv.Itoa(i)})
		wantStatus(t, r, http.StatusCreated)
	}
	if rev := e.revision("e1", "1-1-101"); rev != 3 {
		t.Errorf("with the owner gone: stored revision %d, want 3", rev)
	}
	if !strings.Contains(first.log.String(), "hand-over failed; storing it here") {
		t.Error("the failed hand-over is not logged")
	}
	lines := requests(first.log, api)
	if last := lines[len(lines)-1]; last["handed_to"] != nil {
		t.Errorf("the second submission with the owner gone: %v; want it stored here without trying", last)
	}
}

// A hand-over's headers are believed only as signed: whatever a client sends, verify says yes
// only to the signature of exactly that method, path, address and time, and never panics.
func FuzzPeerHeaders(f *testing.F) {
	p := &peers{key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Unix(1_800_000_000, 0)
	f.Add("POST", "/rate/e1", "203.0.113.7", "1800000000", "", false)
	f.Add("POST", "/api/v1/ratings", "::ffff:203.0.113.7", "1799999990", "", true)
	f.Add("GET", "/", "not an address", "18e8", "00", false)
	f.Fuzz(func(t *testing.T, method, uri, client, ts, sig string, signIt bool) {
		if signIt {
			sig = p.sign(method, uri, client, ts)
		}
		got, ok := p.verify(method, uri, client, ts, sig, now)
		if !ok {
			if got != "" {
				t.Fatalf("refused, yet named client %q", got)
			}
			return
		}
		if sig != p.sign(method, uri, client, ts) {
			t.Fatalf("believed a signature that is not the right one: %q %q %q %q %q", method, uri, client, ts, sig)
		}
		at, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || now.Sub(time.Unix(at, 0)).Abs() > peerSkew {
			t.Fatalf("believed a time %q out of range", ts)
		}
		if a, err := netip.ParseAddr(client); err != nil || a.String() != got {
			t.Fatalf("believed client %q as %q", client, got)
		}
	})
}
