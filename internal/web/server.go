// Package web is propcredit's HTTP server: pages for owners, companies, bureau staff and bid
// evaluators, and a small JSON API under /api/.
//
// How to add pages (see routes.go for the whole picture):
//
//   - Put the handlers of a feature in a new file, with a registrar method that declares each
//     route and who may use it: s.handle(fiber.MethodGet, "/reports", Roles(domain.RoleReviewer), s.reports).
//     Add one line calling the registrar to (*Server).routes.
//   - Handlers return errors; a *derrors.Error becomes the right status and a friendly page (or
//     JSON under /api/). Never write error pages by hand.
//   - Render pages with s.render(c, "name", data): templates/pages/name.html defines "title" and
//     "content"; the layout fills in the language, the user, the CSRF token and the CSP nonce.
//   - Forms that change state carry {{template "csrf" .}}; the check runs on every POST, PUT,
//     PATCH and DELETE outside /api/, for anonymous and logged-in users alike.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/periods"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/ratelimit"
	"github.com/propcredit/propcredit/internal/rating"
	"github.com/propcredit/propcredit/internal/signin"
)

// Config configures a Server.
type Config struct {
	DB Store
	// Publication is the publishing workflow; nil: one on DB.
	Publication *publication.Service
	// Rating is the owners' rating workflow; nil: one on DB.
	Rating *rating.Service
	// Filing is the disclosure workflow; nil: one on DB.
	Filing *filing.Service
	Log    *slog.Logger
	// Secure marks cookies Secure (and gives them the __Host- prefix) and sends HSTS. Set it
	// whenever browsers reach the server over TLS, directly or through a proxy.
	Secure bool
	// TrustedProxies are the addresses (IP or CIDR) of reverse proxies whose X-Forwarded-For
	// is believed. Empty: the client is the peer of the TCP connection.
	TrustedProxies []string
	// PublicURL is the site's address as owners type it (https://host[:port][/prefix]), printed
	// on household code slips and in their QR codes. It never comes from the request's Host
	// header, which a client chooses. Empty: the server refuses to print slips.
	PublicURL string
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
	// Calendar tells working days for the credit process's objection windows (nil: the
	// calendar the binary ships); ObjectionDays is the window (0: credit.DefaultObjectionDays).
	Calendar      *credit.Calendar
	ObjectionDays int
	// Limits, when set, makes the abuse and API limits shared by every server on the database
	// (mongodb.DB.SharedLimiter); nil keeps them in this process.
	Limits ratelimit.Shared
	// LedgerKey signs the transparency ledger's checkpoints. Without it the ledger's
	// checkpoints, tiles and certificates answer 503.
	LedgerKey *ledger.Signer
	// Backups, when not nil, reports the scheduled backups (serve --backup-dir) on /readyz and
	// /admin/backups.
	Backups func() backup.Status
	// PeerURL, when set, is the URL at which the other servers reach this one: submissions are
	// then handed to the server that owns their estate (peers.go). DB must be a PeerDirectory.
	PeerURL string
}

// Limits and timeouts.
const (
	// BodyLimit is the largest request body accepted, app-wide. Uploads of disclosure
	// attachments are the largest legitimate bodies.
	BodyLimit = 8 << 20

	// A whole request, body included, must arrive within readTimeout: 8 MB over a slow mobile
	// link takes about a minute.
	readTimeout  = 60 * time.Second
	writeTimeout = 60 * time.Second
	idleTimeout  = 60 * time.Second

	// dbTimeout bounds each database call a request makes.
	dbTimeout = 10 * time.Second

	// Sessions end after sessionIdle without use, and sessionLife after log-in in any case.
	sessionIdle = 2 * time.Hour
	sessionLife = 12 * time.Hour
	// touchEvery: a session's idle deadline is pushed forward at most this often, so that a
	// busy user does not cost a database write per page.
	touchEvery = 5 * time.Minute

	purgeEvery = 10 * time.Minute
)

// Server is the web server. Build it with New.
type Server struct {
	app     *fiber.App
	db      Store
	pubs    *publication.Service
	ratings *rating.Service
	filings *filing.Service
	log     *slog.Logger
	secure  bool
	// publicURL is Config.PublicURL, checked, without a trailing slash.
	publicURL string
	now       func() time.Time
	proxies   []netip.Prefix
	val       *domain.Validator
	pages     pages
	audit     *audit.Log       // the audit trail; see audit.go
	credit    *credit.Service  // the credit process; see credit.go
	periods   *periods.Service // periods in the app; see periods.go
	ledger    *ledger.Log

	routeList []Route
	nav       []navItem

	csrfKey []byte // signs anonymous CSRF tokens; shared by all servers through the database
	ipSalt  []byte // salts hashes of client addresses in log-in throttles
	signin  *signin.Service
	limits  ratelimit.Shared

	stopJanitor context.CancelFunc
	backups     func() backup.Status
	peers       *peers // nil: no hand-overs
}

// New builds a server with every route registered. It reads the shared secrets from the
// database, so the database must answer.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("web: Config.DB is nil")
	}
	s := &Server{db: cfg.DB, limits: cfg.Limits, pubs: cfg.Publication, log: cfg.Log, secure: cfg.Secure, now: cfg.Now, val: domain.NewValidator(), backups: cfg.Backups,
		signin: signin.New(cfg.DB)}
	// Without the use cases, build them on DB, if it can serve them (internal/mongodb can).
	if ps, ok := cfg.DB.(publication.Store); s.pubs == nil && ok {
		s.pubs = publication.New(ps)
	}
	if rs, ok := cfg.DB.(rating.Store); cfg.Rating == nil && ok {
		s.ratings = rating.NewShared(rs, cfg.Limits)
	} else {
		s.ratings = cfg.Rating
	}
	if fs, ok := cfg.DB.(filing.Store); cfg.Filing == nil && ok {
		s.filings = filing.New(fs)
	} else {
		s.filings = cfg.Filing
	}
	if s.pubs == nil || s.ratings == nil || s.filings == nil {
		return nil, errors.New("web: a use case in Config is nil, and Config.DB cannot serve it")
	}
	// The ledger, on DB, which internal/mongodb can serve.
	if ls, ok := cfg.DB.(ledger.Store); ok {
		s.ledger = ledger.New(ls, cfg.LedgerKey)
	} else {
		return nil, errors.New("web: Config.DB cannot serve the ledger")
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.setUpCredit(cfg); err != nil {
		return nil, err
	}
	if cfg.PublicURL != "" {
		u, err := ParsePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("web: public URL: %w", err)
		}
		s.publicURL = u
	}
	for _, p := range cfg.TrustedProxies {
		prefix, err := parsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q: %w", p, err)
		}
		s.proxies = append(s.proxies, prefix)
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if s.csrfKey, err = s.db.Secret(ctx, "csrf"); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.ipSalt, err = s.db.Secret(ctx, "ip-salt"); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if cfg.PeerURL != "" {
		dir, ok := cfg.DB.(PeerDirectory)
		if !ok {
			return nil, errors.New("web: Config.DB cannot list peers")
		}
		if err := CheckPeerURL(cfg.PeerURL); err != nil {
			return nil, fmt.Errorf("web: peer URL: %w", err)
		}
		key, err := s.db.Secret(ctx, "peer")
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.peers = newPeers(cfg.PeerURL, key, dir, s.log.Warn)
	}

	s.app = fiber.New(fiber.Config{
		AppName:      "propcredit",
		Immutable:    true, // handlers may keep strings from c.Params, c.FormValue, ...
		BodyLimit:    BodyLimit,
		ReadTimeout:  readTimeout,
		WriteTimeout: writeTimeout,
		IdleTimeout:  idleTimeout,
		ErrorHandler: s.handleRefused, // errors that escape the middleware, such as 413
		// Multipart bodies are parsed when a handler asks, so that a malformed one is refused by
		// the handler's own route (JSON under /api/) rather than by fasthttp before routing.
		DisablePreParseMultipartForm: true,
		DisableStartupMessage:        true,
	})
	// Order matters: recover must see panics from everything after it; the access log must
	// see the final status, so it turns errors into responses itself.
	s.app.Use(
		s.recoverPanic,
		s.requestID,
		s.accessLog,
		s.securityHeaders,
		compress.New(),
		s.language,
		s.loadSession,
		s.mustChangePassword,
	)
	s.routes()
	return s, nil
}

// App returns the Fiber app, for app.Test in tests.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves HTTP on addr until Shutdown.
func (s *Server) Listen(addr string) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopJanitor = cancel
	go s.janitor(ctx)
	return s.app.Listen(addr)
}

// Shutdown stops accepting connections and waits for requests in flight to finish, or for
// ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopJanitor != nil {
		s.stopJanitor()
	}
	return s.app.ShutdownWithContext(ctx)
}

// janitor deletes expired sessions and log-in throttles now and then: the database has no
// TTL indexes. Every server runs one; deleting twice is harmless.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		s.settleCredit(pctx)
		if n, err := s.db.PurgeExpired(pctx, s.now()); err != nil {
			s.log.Warn("purge expired sessions", "err", err)
		} else if n > 0 {
			s.log.Info("purged expired sessions and throttles", "count", n)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dbContext is the context for a request's database calls: cancelled when the client goes
// away (fasthttp does not, but a UserContext set by a test or a middleware may) and bounded
// by dbTimeout.
func (s *Server) dbContext(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), dbTimeout)
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParsePublicURL checks a site address for the code slips: an absolute http or https URL with a
// host and nothing after the path. It returns it without a trailing slash.
func ParsePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: want an http:// or https:// address", raw)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%q: want scheme://host[:port][/path] and nothing else", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
