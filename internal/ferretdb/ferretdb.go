// Package ferretdb runs the embedded MongoDB-compatible engine (FerretDB on SQLite) in-process,
// listening on a Unix socket inside the data directory.
package ferretdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// SocketName is the engine's socket, relative to the data directory. Other commands that find a
// server holding the directory connect through it.
const SocketName = "mongo.sock"

// Engine is a running embedded FerretDB.
type Engine struct {
	dir        string
	durability Durability
	uri        string
	cancel     context.CancelFunc
	done       chan error
}

// Durability says when the engine's commits reach the disk.
type Durability int

const (
	// EachCommit syncs every commit to the disk (SQLite's synchronous=FULL): whatever the engine
	// has acknowledged survives a crash of the machine. Everything that acknowledges writes to
	// people or programs runs the engine so.
	EachCommit Durability = iota
	// OnSync leaves commits in the operating system's cache until Engine.Sync (synchronous=NORMAL;
	// the journal stays a write-ahead log, so the database is consistent after every commit).
	// A crash of the process loses nothing; a crash of the machine may roll back the latest
	// commits, always the latest ones, in order. Only for a batch job that owns the data
	// directory, reports success only after Sync returned, and may simply be run again (import).
	OnSync
)

// sqliteURL is the SQLite URL for FerretDB: a directory, with one database file per database.
// FerretDB adds its defaults to the query (busy_timeout(10000), journal_mode(wal),
// auto_vacuum(none)) and passes it on to every database it opens. SQLite's synchronous default in
// WAL mode, in the build FerretDB uses, is FULL (TestDurabilityPragmas).
func sqliteURL(dbDir string, d Durability) string {
	u := "file:" + dbDir + "/"
	if d == OnSync {
		u += "?_pragma=synchronous(normal)"
	}
	return u
}

// Start starts the engine on dir/mongo.sock with its SQLite files under dir/sqlite, syncing
// every commit (EachCommit). The caller must hold the data directory's lock so that no other
// process uses the same files.
func Start(ctx context.Context, dir string) (*Engine, error) {
	return StartWith(ctx, dir, EachCommit)
}

// StartWith is Start with the given durability.
func StartWith(ctx context.Context, dir string, durability Durability) (*Engine, error) {
	dbDir := filepath.Join(dir, "sqlite")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	sock := filepath.Join(dir, SocketName)
	// A stale socket from a crashed run would make the listener fail; the lock proves it is stale.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	// A discarding handler, not a filtering one: FerretDB calls Logger.With on every SQL
	// statement, and a TextHandler formats those attributes whatever its level (measured: a
	// 1,000,000-line import took 1 min 55 s with one, 1 min 30 s with this).
	quiet := slog.New(slog.DiscardHandler)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL(dbDir, durability),
		Logger:    quiet,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded database: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e := &Engine{dir: dir, durability: durability, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- f.Run(runCtx) }()

	// MongoDBURI blocks until the listener is up; wait for the socket instead so a failing Run
	// surfaces as an error rather than a hang.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case err := <-e.done:
			cancel()
			return nil, fmt.Errorf("embedded database stopped at start-up: %v", err)
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, errors.New("embedded database did not open its socket within 30s")
		}
	}
	e.uri = f.MongoDBURI()
	return e, nil
}

// Durability is how the engine was started.
func (e *Engine) Durability() Durability { return e.durability }

// Sync makes every commit so far durable, whatever the engine's durability. For each database
// file it runs PRAGMA wal_checkpoint(TRUNCATE) on a connection of its own with
// synchronous=FULL: SQLite syncs the write-ahead log, copies every committed page into the
// database file, syncs that and empties the log, or reports that a reader kept it from
// finishing, which Sync returns as an error. Then it syncs the directories, so that files
// created since (a new database) are found after a crash.
//
// Call it when no command of the engine is still running (a write that commits during the
// checkpoint may not be covered).
func (e *Engine) Sync(ctx context.Context) error {
	dbDir := filepath.Join(e.dir, "sqlite")
	files, err := filepath.Glob(filepath.Join(dbDir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := checkpoint(ctx, f); err != nil {
			return err
		}
	}
	for _, d := range []string{dbDir, e.dir} {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}
	return nil
}

func checkpoint(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_pragma=synchronous(full)")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var busy, logPages, checkpointed int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &checkpointed); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	switch {
	case logPages < 0: // -1: not in WAL mode, which OnSync relies on
		return fmt.Errorf("checkpoint %s: the database is not in WAL mode", path)
	case busy != 0 || checkpointed != logPages:
		return fmt.Errorf("checkpoint %s: blocked by a reader or writer (%d of %d pages copied)", path, checkpointed, logPages)
	}
	return db.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// URI is the connection string of the running engine.
func (e *Engine) URI() string { return e.uri }

// Close stops the engine and waits for it to release its files.
func (e *Engine) Close() error {
	e.cancel()
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		return errors.New("embedded database did not stop within 30s")
	}
	return nil
}

// SocketURI is the connection string for an engine that another process runs on dir.
func SocketURI(dir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dir, SocketName))
	if err != nil {
		return "", err
	}
	return "mongodb://" + urlPathEscape(abs) + "/", nil
}

func urlPathEscape(p string) string {
	out := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, "%2F"...)
		} else {
			out = append(out, p[i])
		}
	}
	return string(out)
}
