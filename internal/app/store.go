// Package app wires propcredit together: it opens the store (the embedded engine or an
// external MongoDB), and gives the commands what they share.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/propcredit/propcredit/internal/datadir"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/rating"
)

// DatabaseName is the database propcredit uses on the server.
const DatabaseName = "propcredit"

// StoreConfig says where the data is.
type StoreConfig struct {
	DataDir  string // used when MongoURI is empty
	MongoURI string // an external MongoDB; empty means the embedded engine
	Log      *slog.Logger
	// DeferSync runs the embedded engine, when this process starts it, with ferretdb.OnSync:
	// commits are not synced one by one, and Store.Sync makes them durable. Only for a batch
	// job with Private access that reports success only after Sync (import). OpenStore refuses
	// it with any other access, so the server, and commands that go through it, never
	// acknowledge a write that is not on the disk.
	DeferSync bool
	// ServeAddr is the address a server listens on; with the host, it names the server in the
	// database (mongodb.DB.Announce), so that its restart there shows it dead.
	ServeAddr string
	// PeerURL is the URL at which the other servers reach this one (serve --peer-url), or "".
	PeerURL string
}

// Access says how a command uses the data directory.
type Access int

const (
	// Exclusive is for serve: it must own the directory, and refuses if another process does.
	Exclusive Access = iota
	// Shared is for commands that only read or insert: they go through a running server's
	// engine, or start their own when no process holds the directory.
	Shared
	// Private is for commands that rewrite documents a server also writes (import, tally
	// repair). The embedded engine loses concurrent updates of one document, and only the
	// process that runs it serialises them, so these refuse while a server holds the directory.
	Private
)

// Store is an open database and whatever had to be started for it.
type Store struct {
	DB *mongodb.DB
	// The use cases, on DB.
	Publication *publication.Service
	Rating      *rating.Service
	Filing      *filing.Service

	Embedded bool // this process runs the engine on the data directory
	engine   *ferretdb.Engine
	lock     *datadir.Lock
	// unannounce removes the server's record (see mongodb.DB.Announce).
	unannounce func(context.Context) error
}

// OpenStore connects to the database, starting the embedded engine when needed, and runs
// the schema migrations.
func OpenStore(ctx context.Context, cfg StoreConfig, access Access, purpose string) (*Store, error) {
	if cfg.DeferSync && access != Private {
		return nil, fmt.Errorf("open store for %s: deferred sync is only for a private batch job", purpose)
	}
	s := &Store{}
	uri := cfg.MongoURI
	if uri == "" {
		lock, err := datadir.Acquire(cfg.DataDir, purpose)
		var held *datadir.HeldError
		switch {
		case err == nil:
			s.lock = lock
			durability := ferretdb.EachCommit
			if cfg.DeferSync {
				durability = ferretdb.OnSync
			}
			s.engine, err = ferretdb.StartWith(ctx, cfg.DataDir, durability)
			if err != nil {
				s.Close(ctx)
				return nil, err
			}
			s.Embedded = true
			uri = s.engine.URI()
		case errors.As(err, &held) && access == Shared && held.Serving():
			if uri, err = ferretdb.SocketURI(cfg.DataDir); err != nil {
				return nil, err
			}
			cfg.Log.Info("using the engine of the running server", "data", cfg.DataDir, "holder", held.Holder)
		case errors.As(err, &held) && access == Exclusive:
			return nil, fmt.Errorf("%w; stop it first, or use another --data directory", err)
		case errors.As(err, &held) && access == Private && held.Serving():
			return nil, fmt.Errorf("%w; %s rewrites data the server is writing: stop the server first (or use an external MongoDB)", err, purpose)
		case errors.As(err, &held):
			return nil, fmt.Errorf("%w; wait for it to finish", err)
		default:
			return nil, err
		}
	}
	db, err := mongodb.Connect(ctx, uri, DatabaseName, cfg.Log)
	if err != nil {
		s.Close(ctx)
		return nil, err
	}
	s.DB = db
	// An external engine serves filters on the code lookup field from an index (MongoDB, or
	// FerretDB on PostgreSQL after db tune); the embedded one pushes down only _id.
	db.UseFieldLookups(cfg.MongoURI != "")
	s.Publication = publication.New(db)
	s.Rating = rating.New(db)
	s.Filing = filing.New(db)
	if err := db.Migrate(ctx); err != nil {
		s.Close(ctx)
		return nil, err
	}
	if s.Embedded {
		if _, err := ferretdb.IndexIDs(ctx, cfg.DataDir, DatabaseName); err != nil {
			s.Close(ctx)
			return nil, err
		}
	}
	if purpose == "serve" {
		// Maintenance commands that are only safe alone look for running servers.
		if s.unannounce, err = db.Announce(ctx, cfg.ServeAddr, cfg.PeerURL); err != nil {
			s.Close(ctx)
			return nil, err
		}
	}
	return s, nil
}

// SyncDeferred reports whether this store's writes wait for Sync to be durable: it runs the
// embedded engine with ferretdb.OnSync.
func (s *Store) SyncDeferred() bool {
	return s.engine != nil && s.engine.Durability() == ferretdb.OnSync
}

// Sync makes every write so far durable. A job that opened the store with DeferSync calls it,
// once its writes are done, before it reports success. It syncs the embedded engine's files
// whatever its durability; an external MongoDB acknowledged each write with a majority write
// concern, so there is nothing to do.
func (s *Store) Sync(ctx context.Context) error {
	if s.engine == nil {
		return nil
	}
	if err := s.engine.Sync(ctx); err != nil {
		return fmt.Errorf("make the data durable: %w", err)
	}
	return nil
}

// Close disconnects, stops the engine and releases the directory, in that order.
func (s *Store) Close(ctx context.Context) error {
	var errs []error
	if s.DB != nil {
		if s.unannounce != nil {
			errs = append(errs, s.unannounce(ctx))
		}
		errs = append(errs, s.DB.Close(ctx))
	}
	if s.engine != nil {
		errs = append(errs, s.engine.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Release())
	}
	return errors.Join(errs...)
}

// TunePostgreSQL gives a FerretDB-PostgreSQL backend at pgURL the indexes propcredit's queries
// need (ferretdb.TunePostgreSQL; `propcredit db tune`), and returns what it indexed.
func TunePostgreSQL(ctx context.Context, pgURL string) ([]string, error) {
	return ferretdb.TunePostgreSQL(ctx, pgURL, DatabaseName, mongodb.FilteredFields())
}
