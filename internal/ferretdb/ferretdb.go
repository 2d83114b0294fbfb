// Package ferretdb runs the embedded MongoDB-compatible engine (FerretDB on SQLite) in-process,
// listening on a Unix socket inside the data directory.
package ferretdb

import (
	"context"
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
	uri    string
	cancel context.CancelFunc
	done   chan error
}

// Start starts the engine on dir/mongo.sock with its SQLite files under dir/sqlite.
// The caller must hold the data directory's lock so that no other process uses the same files.
func Start(ctx context.Context, dir string) (*Engine, error) {
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
		SQLiteURL: "file:" + dbDir + "/",
		Logger:    quiet,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded database: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e := &Engine{cancel: cancel, done: make(chan error, 1)}
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
