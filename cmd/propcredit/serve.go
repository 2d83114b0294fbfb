package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/rating"
	"github.com/propcredit/propcredit/internal/web"
	"github.com/propcredit/propcredit/scoring"
)

// demoReviewer is the account the demo city comes with.
const demoReviewer = "reviewer"

func (m *Main) serve(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("serve", "serve [--addr :8080] [--data ./data] [--demo] [--mongodb-uri URI]")
	var lf ledgerFlags
	lf.register(fs)
	lf.registerState(fs)
	addr := fs.String("addr", ":8080", "address to listen on")
	withDemo := fs.Bool("demo", false, "load the generated demo city first if the database is empty")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (set when served over HTTPS)")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	sharedLimits := fs.String("shared-limits", "auto", "keep abuse and API limits in the database, shared by every server: on, off, or auto (on with --mongodb-uri)")
	holdSuspect := fs.String("hold-suspect", "on", "hold ratings that look stuffed for review: on (the default thresholds), off, or name=value,... to change thresholds (see rating.ParseStuffingRules)")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed")
	peerURL := fs.String("peer-url", "", "with --mongodb-uri: the URL at which the other servers reach this one (http://10.0.0.11:8080); servers that have one hand each owner's submission to the one that owns its estate (docs/SCALING.md)")
	var sched backupFlags
	sched.register(fs)
	var cf creditFlags
	cf.register(fs)
	publicity := fs.Int("publicity-days", publication.DefaultPublicityDays, "days of publicity (公示) each publication opens before it can be approved as final")
	publicURL := fs.String("public-url", "", "the site's address as owners type it (https://host), printed on household code slips; without it slips are refused (--demo: http://localhost:PORT)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	app.TuneServerGC()
	calendar, err := cf.load()
	if err != nil {
		return err
	}
	switch *logFormat {
	case "json":
		m.Log = slog.New(slog.NewJSONHandler(m.Stderr, nil))
	case "text":
		m.Log = slog.New(slog.NewTextHandler(m.Stderr, nil))
	default:
		return usagef("serve: --log-format must be json or text, not %q", *logFormat)
	}
	stuffing, err := rating.ParseStuffingRules(*holdSuspect)
	if err != nil {
		return usagef("serve: --hold-suspect: %v", err)
	}
	var trusted []string
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		_, perr := netip.ParsePrefix(p)
		if _, aerr := netip.ParseAddr(p); perr != nil && aerr != nil {
			return usagef("serve: --trusted-proxies: %q is neither an address nor a CIDR", p)
		}
		trusted = append(trusted, p)
	}
	if err := sched.check(sf); err != nil {
		return err
	}
	m.addr = *addr
	if *peerURL != "" {
		if err := web.CheckPeerURL(*peerURL); err != nil {
			return usagef("serve: --peer-url: %v", err)
		}
		if sf.mongoURI == "" {
			return usagef("serve: --peer-url needs --mongodb-uri: on the embedded engine one server runs")
		}
		m.peer = *peerURL
	}
	if *publicURL == "" && *withDemo {
		*publicURL = demoPublicURL(*addr)
	}
	if *publicURL != "" {
		if _, err := web.ParsePublicURL(*publicURL); err != nil {
			return usagef("serve: --public-url: %v", err)
		}
	}
	store, err := m.openStore(ctx, sf, "serve")
	if err != nil {
		return err
	}
	if *withDemo {
		if err := m.loadDemo(ctx, store); err != nil {
			return err
		}
	}
	if *publicity < 1 || *publicity > 90 {
		return usagef("serve: --publicity-days must be between 1 and 90, not %d", *publicity)
	}
	store.Publication.SetPublicityDays(*publicity)
	store.DB.SetStuffingRules(stuffing)
	signer, err := lf.signer(ctx, store, sf)
	if err != nil {
		return err
	}
	if mark := lf.mark(sf); mark != nil {
		if err := app.CheckLedgerMark(ctx, store.DB, mark, lf.acceptCommand(sf)); err != nil {
			return err
		}
		signer.OnSign(mark.Record)
	}
	backups, stopBackups := m.startBackups(ctx, sched, sf)
	defer stopBackups()
	cfg := web.Config{DB: store.DB, Publication: store.Publication, Rating: store.Rating, Filing: store.Filing, Log: m.Log, Secure: *secure, TrustedProxies: trusted, LedgerKey: signer, PublicURL: *publicURL,
		Calendar: calendar, ObjectionDays: cf.days, Backups: backups, PeerURL: *peerURL}
	switch *sharedLimits {
	case "on":
		cfg.Limits = store.DB.SharedLimiter
	case "auto":
		if !store.Embedded && sf.mongoURI != "" { // several servers may share the database
			cfg.Limits = store.DB.SharedLimiter
		}
	case "off":
	default:
		return usagef("serve: --shared-limits must be on, off or auto, not %q", *sharedLimits)
	}
	if cfg.Limits != nil {
		cfg.Rating = rating.NewShared(store.DB, cfg.Limits)
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	listenErr := make(chan error, 1)
	go func() { listenErr <- srv.Listen(*addr) }()
	m.Log.Info("listening", "addr", *addr, "embedded", store.Embedded, "data", sf.data)
	select {
	case err := <-listenErr:
		return fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	m.Log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// loadDemo fills an empty database with the demo city and gives the demo reviewer a fresh
// password, printed once.
func (m *Main) loadDemo(ctx context.Context, store *app.Store) error {
	companies, err := store.DB.Companies(ctx)
	if err != nil {
		return err
	}
	if len(companies) == 0 {
		ds := demo.Generate(demo.DefaultSeed, time.Now())
		if _, err := m.importDataset(ctx, store, ds, "demo city"); err != nil {
			return fmt.Errorf("load demo city: %w", err)
		}
		// Publish the periods that have ended, so that the public pages have something to
		// show; the open period is left for a reviewer to score and publish.
		today := domain.Today(time.Now())
		for _, p := range ds.Periods {
			if p.End >= today {
				continue
			}
			if _, err := m.scorePeriod(ctx, store, p.ID, scoring.Default(), "demo"); err != nil {
				return fmt.Errorf("score demo period %s: %w", p.ID, err)
			}
			if _, err := store.Publication.Publish(ctx, p.ID, "", "demo", time.Now()); err != nil {
				return fmt.Errorf("publish demo period %s: %w", p.ID, err)
			}
			fmt.Fprintf(m.Stdout, "Demo period %s scored and published: %s/lists/%s\n", p.ID, siteURL(m.addr), p.ID)
		}
	} else {
		m.Log.Info("database not empty; demo city not loaded again", "companies", len(companies))
	}
	password := auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	action := "account.create"
	err = store.DB.CreateAccount(ctx, domain.Account{Name: demoReviewer, Role: domain.RoleReviewer, PasswordHash: hash, CreatedAt: time.Now().UTC()})
	if derrors.Code(err) == derrors.Conflict {
		var acct domain.Account
		if acct, err = store.DB.AccountByName(ctx, demoReviewer); err == nil {
			action, err = "account.password", store.DB.SetPassword(ctx, acct.ID, hash)
		}
	}
	if err != nil {
		return fmt.Errorf("demo reviewer account: %w", err)
	}
	if err := m.audited(ctx, store, audit.Change{Action: action, Object: "account/" + demoReviewer,
		After: map[string]any{"role": domain.RoleReviewer}, Reason: "serve --demo"}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Demo reviewer log-in (演示审核员账号): name %q, password %q\n", demoReviewer, password)
	return nil
}

// siteURL is the address a person on this machine opens for a listen address like ":8080".
func siteURL(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "http://localhost" + addr
	}
	return "http://" + addr
}

// demoPublicURL is the address a demo on this machine is reached at, for its code slips.
func demoPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "http://localhost"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
