package mongodb

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Servers announce themselves in the database, so that a maintenance command on any engine
// can tell whether servers are taking ratings beside it, and refuse what is only safe alone.
// Each server writes only its own document, so no update can be lost.

const colServers = "servers"

const (
	heartbeatEvery = 10 * time.Second
	// A server whose heartbeat is older than serverTimeout is taken for dead.
	serverTimeout = 3 * heartbeatEvery
)

// ServerInfo is one running server as it announced itself.
type ServerInfo struct {
	ID   string `bson:"_id"`
	Host string `bson:"host"`
	PID  int    `bson:"pid"`
	Addr string `bson:"addr"`
	// Peer is the URL at which the other servers reach this one, if it takes hand-overs
	// (serve --peer-url).
	Peer  string    `bson:"peer,omitempty"`
	Since time.Time `bson:"since"`
	Seen  time.Time `bson:"seen"`
}

// Announce records this process as a running server until stop is called, refreshing the
// record every heartbeatEvery; peer is the URL at which the others reach it, or "".
func (db *DB) Announce(ctx context.Context, addr, peer string) (stop func(context.Context) error, err error) {
	host, _ := os.Hostname()
	now := time.Now()
	info := ServerInfo{ID: newJournalID(), Host: host, PID: os.Getpid(), Addr: addr, Peer: peer, Since: now, Seen: now}
	// A server announced on this host and address is dead: the address is ours now. What it
	// left half-way may be recovered at once (see recoverable).
	if _, err := db.c(colServers).DeleteMany(ctx, bson.D{{Key: "host", Value: host}, {Key: "addr", Value: addr}}); err != nil {
		return nil, fmt.Errorf("forget the server this one replaces: %w", err)
	}
	if _, err := db.c(colServers).InsertOne(ctx, info); err != nil {
		return nil, fmt.Errorf("announce server: %w", err)
	}
	db.serverID = info.ID
	done := make(chan struct{})
	finished := make(chan struct{})
	go every(heartbeatEvery, done, finished, func() {
		ctx, cancel := context.WithTimeout(context.Background(), heartbeatEvery)
		_, err := db.c(colServers).UpdateOne(ctx, byID(info.ID),
			bson.D{{Key: "$set", Value: bson.D{{Key: "seen", Value: time.Now()}}}}, options.UpdateOne().SetUpsert(true))
		cancel()
		if err != nil {
			db.log.Warn("server heartbeat", "err", err)
		}
	})
	return func(ctx context.Context) error {
		close(done)
		<-finished
		_, err := db.c(colServers).DeleteOne(ctx, byID(info.ID))
		return err
	}, nil
}

// serverGone tells whether a server stopped: cleanly (it removed its record) or replaced by a
// restart on its host and address. A server that merely stopped answering is not gone.
func (db *DB) serverGone(ctx context.Context, id string) (bool, error) {
	ok, err := exists(ctx, db.c(colServers), id)
	return !ok, err
}

// LiveServers lists the servers whose heartbeat is recent, and forgets the dead ones.
func (db *DB) LiveServers(ctx context.Context) ([]ServerInfo, error) {
	live, dead, err := db.announced(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range dead {
		if _, err := db.c(colServers).DeleteOne(ctx, byID(s.ID)); err != nil {
			return nil, fmt.Errorf("forget dead server: %w", err)
		}
	}
	return live, nil
}

// PeerURLs lists the URLs of the live servers that take hand-overs, this one's included. It
// only reads (LiveServers also forgets dead servers, which recovers their unfinished work).
func (db *DB) PeerURLs(ctx context.Context) ([]string, error) {
	live, _, err := db.announced(ctx)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, s := range live {
		if s.Peer != "" {
			urls = append(urls, s.Peer)
		}
	}
	return urls, nil
}

// announced reads the servers' records: those whose heartbeat is recent, and the others.
func (db *DB) announced(ctx context.Context) (live, dead []ServerInfo, err error) {
	all, err := findAll[ServerInfo](ctx, db.c(colServers), bson.D{})
	if err != nil {
		return nil, nil, err
	}
	for _, s := range all {
		if time.Since(s.Seen) < serverTimeout {
			live = append(live, s)
		} else {
			dead = append(dead, s)
		}
	}
	return live, dead, nil
}
