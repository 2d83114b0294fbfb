package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Hand-overs between servers (serve --peer-url). Several servers may take ratings for one
// estate at once, and then claim the same ballot-stuffing ordinals and find each other's
// households' heads stale, which leaves them a third to half of their rate (bench/README.md).
// A load balancer that hashes the estate in the path avoids it (docs/SCALING.md); for one that
// does not, a server that has a peer URL hands an owner's submission to the live server that
// owns its estate (by rendezvous hashing over the servers announced in the database) and
// relays the answer. Nothing depends on it: every server can store any rating, and one that
// cannot reach the owner stores the submission itself.
//
//   - The owner believes the handing server's word for the owner's address (for limits and
//     ballot-stuffing signals) only when it is signed with the key the servers share in the
//     database, for this method and path, within peerSkew.
//   - A submission is handed over only with an idempotency key (the form's, or one added to an
//     API request that has none), so that a hand-over that fails half-way is stored here under
//     the same key: the receipt, claimed before the version, makes it count once.
//   - A submission that came from a peer is never handed on.

const (
	headerPeerClient = "X-Propcredit-Peer-Client"
	headerPeerTime   = "X-Propcredit-Peer-Time"
	headerPeerSig    = "X-Propcredit-Peer-Sig"
	// peerSkew bounds how old (or early) a signed hand-over may be.
	peerSkew = time.Minute
	// peersEvery: the list of live servers is read again at most this often.
	peersEvery = 5 * time.Second
	// peerDownFor: a server that refused a connection is not handed anything for this long.
	peerDownFor = 5 * time.Second
	// peerTimeout bounds a hand-over; the owner's own database calls are bounded by dbTimeout.
	peerTimeout = 3 * dbTimeout
)

// PeerDirectory lists the URLs of the live servers that take hand-overs (internal/mongodb
// serves it from the servers' announcements).
type PeerDirectory interface {
	PeerURLs(ctx context.Context) ([]string, error)
}

// CheckPeerURL checks a server's peer URL: http or https, a host, and nothing after it.
func CheckPeerURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want http:// or https://", s)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: want scheme://host:port and nothing more", s)
	}
	return nil
}

// peers is this server's view of the others.
type peers struct {
	self   string
	key    []byte
	dir    PeerDirectory
	log    func(msg string, args ...any)
	client *fasthttp.Client

	refreshing atomic.Bool
	mu         sync.Mutex
	urls       []string
	readAt     time.Time
	down       map[string]time.Time
}

func newPeers(self string, key []byte, dir PeerDirectory, log func(string, ...any)) *peers {
	return &peers{self: strings.TrimRight(self, "/"), key: key, dir: dir, log: log, down: map[string]time.Time{},
		client: &fasthttp.Client{
			Name:                     "propcredit-peer",
			MaxConnsPerHost:          512,
			MaxIdleConnDuration:      idleTimeout / 2, // before the peer's own idle timeout closes it
			ReadTimeout:              peerTimeout,
			WriteTimeout:             peerTimeout,
			NoDefaultUserAgentHeader: true,
			Dial: func(addr string) (net.Conn, error) {
				return fasthttp.DialTimeout(addr, time.Second)
			},
			// Never send a submission twice on a connection's failure: the hand-over
			// falls back to this server, under the same key.
			RetryIf: func(*fasthttp.Request) bool { return false },
		}}
}

// owner is the server that owns estate: this one ("" too) or another's URL.
func (p *peers) owner(estate string) string {
	p.mu.Lock()
	if time.Since(p.readAt) >= peersEvery && p.refreshing.CompareAndSwap(false, true) {
		go p.refresh()
	}
	best, bestHash := "", uint64(0)
	for _, u := range p.urls {
		if until, ok := p.down[u]; ok && time.Now().Before(until) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(estate))
		h.Write([]byte{0})
		h.Write([]byte(u))
		if sum := h.Sum64(); best == "" || sum > bestHash {
			best, bestHash = u, sum
		}
	}
	p.mu.Unlock()
	if best == p.self {
		return ""
	}
	return best
}

// refresh reads the live servers again.
func (p *peers) refresh() {
	defer p.refreshing.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	urls, err := p.dir.PeerURLs(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readAt = time.Now()
	if err != nil {
		p.log("list peers", "err", err)
		return
	}
	p.urls = p.urls[:0]
	for _, u := range urls {
		p.urls = append(p.urls, strings.TrimRight(u, "/"))
	}
}

// sign is the signature of a hand-over of method path for client at unix time ts.
func (p *peers) sign(method, path, client, ts string) string {
	m := hmac.New(sha256.New, p.key)
	for _, s := range []string{method, path, client, ts} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// from tells whether the request is a hand-over signed by a peer, and for which client.
func (p *peers) from(c *fiber.Ctx, now time.Time) (string, bool) {
	return p.verify(c.Method(), string(c.Request().URI().RequestURI()), c.Get(headerPeerClient), c.Get(headerPeerTime), c.Get(headerPeerSig), now)
}

// verify checks a hand-over's headers: client is an address, ts a unix time within peerSkew
// of now, and sig their signature for method and uri.
func (p *peers) verify(method, uri, client, ts, sig string, now time.Time) (string, bool) {
	if client == "" || ts == "" || sig == "" {
		return "", false
	}
	at, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(at, 0)).Abs() > peerSkew {
		return "", false
	}
	addr, err := netip.ParseAddr(client)
	if err != nil {
		return "", false
	}
	if !hmac.Equal([]byte(sig), []byte(p.sign(method, uri, client, ts))) {
		return "", false
	}
	return addr.String(), true
}

// handOver sends the request to the server at owner and copies its answer into c's response.
// false: it could not (the caller stores the submission itself).
func (p *peers) handOver(c *fiber.Ctx, owner, client string, now time.Time) bool {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	c.Request().CopyTo(req)
	path := string(c.Request().URI().RequestURI())
	req.SetRequestURI(owner + path)
	req.Header.Del(fiber.HeaderConnection)
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(headerPeerClient, client)
	req.Header.Set(headerPeerTime, ts)
	req.Header.Set(headerPeerSig, p.sign(c.Method(), path, client, ts))
	if err := p.client.DoTimeout(req, resp, peerTimeout); err != nil {
		var op *net.OpError
		if errors.Is(err, fasthttp.ErrDialTimeout) || (errors.As(err, &op) && op.Op == "dial") {
			p.mu.Lock()
			p.down[owner] = time.Now().Add(peerDownFor)
			p.mu.Unlock()
		}
		p.log("hand-over failed; storing it here", "peer", owner, "err", err)
		return false
	}
	resp.Header.Del(fiber.HeaderConnection)
	resp.CopyTo(c.Response())
	return true
}

// byEstate hands a submission for the estate that estate names to the server that owns it,
// if that is another; next stores it here. A request that came from a peer, or that has no
// idempotency key (withKey adds one where it can), stays here.
func (s *Server) byEstate(estate func(*fiber.Ctx) string, withKey func(*fiber.Ctx) bool, next fiber.Handler) fiber.Handler {
	if s.peers == nil {
		return next
	}
	return func(c *fiber.Ctx) error {
		if c.Locals(localFromPeer) != nil {
			return next(c)
		}
		e := estate(c)
		if e == "" {
			return next(c) // refused here
		}
		owner := s.peers.owner(e)
		if owner == "" || !withKey(c) {
			return next(c)
		}
		c.Locals(localHandedTo, owner)
		if s.peers.handOver(c, owner, ClientIP(c), s.now()) {
			return nil
		}
		c.Locals(localHandedTo, nil)
		return next(c)
	}
}

// submittedEstate is the estate a submission is for: the path's, or the one a JSON body names
// ("" if none: the handler refuses it).
func submittedEstate(c *fiber.Ctx) string {
	if e := c.Params("estate"); e != "" {
		return e
	}
	if len(c.Body()) > maxAPIBody {
		return "" // refused here, as too large, without reading it
	}
	var a struct {
		Estate string `json:"estate"`
	}
	_ = json.Unmarshal(c.Body(), &a)
	return a.Estate
}

// apiKey gives an API request an idempotency key if it has none.
func apiKey(c *fiber.Ctx) bool {
	if c.Get("Idempotency-Key") == "" {
		c.Request().Header.Set("Idempotency-Key", "peer-"+randomString(18))
	}
	return true
}

// formKey tells whether a rating form carries its idempotency key.
func formKey(c *fiber.Ctx) bool {
	return formKeyPattern.MatchString(c.FormValue("key"))
}
