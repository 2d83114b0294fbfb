package mongodb

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/ratelimit"
)

// SharedLimiter is a ratelimit.Limiter kept in the database, so that N servers behind a load
// balancer allow what one would, not N times it. Like everything shared here it only inserts
// under unique _ids (an engine that loses concurrent updates cannot lose a count). A rule of
// Burst tokens, one back every Every, becomes Burst per fixed window of Burst × Every:
//
//   - Charge (a failure, such as a wrong household code) inserts key|window|n for the first
//     free n, so the Burst-th exists exactly when the window's allowance is spent. What the
//     inserts found (the highest n taken) is remembered for the window; Allowed answers from
//     it, without asking the database, so an honest client that never failed costs nothing.
//     A server thus learns that the allowance is spent from its own next charge: after the
//     servers together spent it, each lets through at most the failures it had in flight,
//     and then refuses until the window ends (a database read per check would still let
//     through those in flight at the moment it is spent, and cost every rating a round trip;
//     bench/README.md measured that at 17 % of the rate of two servers).
//   - Take (a request, such as a call of the public API) serves tokens from a block this
//     server claimed by inserting key|window|b; a request costs an insert once per block, and
//     the servers together serve at most the window's allowance plus one unfinished block each.
//
// Counts are never taken back within a window, so what a server remembers is never more than
// the database holds: it never refuses a client the database would allow, and allows one the
// database would refuse only until its own next charge, as said above. A database error lets
// the request through and is logged: limits must not take the site down with the database
// (which the request itself needs anyway). Counts are kept a day; PurgeExpired drops older
// ones.
type SharedLimiter struct {
	db   *DB
	name string
	rule ratelimit.Rule

	mu     sync.Mutex
	blocks map[string]*rateBlock   // key → this server's claimed block
	taken  map[string]failureCount // key → the failures counted in the window, as far as known
}

// failureCount is how many of a window's failures of a key this server knows were counted.
type failureCount struct {
	window int64
	n      int
}

const (
	colLimits = "limits"
	// maxBlock is how many tokens a server claims at once for Take.
	maxBlock = 10
	// maxKnown bounds the keys whose failures a server remembers.
	maxKnown = 100_000
	// limitTimeout bounds each database call of a limit.
	limitTimeout = 5 * time.Second
)

type rateBlock struct {
	window    int64
	claim     sync.Mutex // guards left and next
	left      int
	next      int // where to look for a free block
	blockSize int
}

type limitDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// SharedLimiter returns the rule's limiter under name, kept in this database.
func (db *DB) SharedLimiter(name string, rule ratelimit.Rule) ratelimit.Limiter {
	return &SharedLimiter{db: db, name: name, rule: rule, blocks: map[string]*rateBlock{}, taken: map[string]failureCount{}}
}

func (l *SharedLimiter) window(now time.Time) (int64, time.Time) {
	length := time.Duration(l.rule.Burst) * l.rule.Every
	w := now.UnixNano() / int64(length)
	return w, time.Unix(0, (w+1)*int64(length))
}

func (l *SharedLimiter) id(key string, window int64, n int) string {
	return l.name + "|" + key + "|" + strconv.FormatInt(window, 10) + "|" + strconv.Itoa(n)
}

// Allowed reports whether key may fail once more, or how long until it may: as far as this
// server's charges have found.
func (l *SharedLimiter) Allowed(key string, now time.Time) (time.Duration, bool) {
	w, end := l.window(now)
	if l.known(key, w) < l.rule.Burst {
		return 0, true
	}
	return end.Sub(now), false
}

// Charge counts one failure of key.
func (l *SharedLimiter) Charge(key string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	w, _ := l.window(now)
	n := l.known(key, w) + 1
	for ; n <= l.rule.Burst; n++ {
		_, err := l.db.c(colLimits).InsertOne(ctx, limitDoc{ID: l.id(key, w, n), At: now})
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			l.db.log.Error("shared limit", "limit", l.name, "err", err)
			return
		}
	}
	// n is the count this failure took, or past Burst: the window's allowance was spent.
	l.learn(key, w, min(n, l.rule.Burst))
}

// known is the count of key's failures in window w that this server has seen taken.
func (l *SharedLimiter) known(key string, w int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.taken[key]; c.window == w {
		return c.n
	}
	return 0
}

// learn records that key's failures in window w have reached n.
func (l *SharedLimiter) learn(key string, w int64, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.taken[key]; c.window == w && c.n >= n {
		return
	}
	if len(l.taken) >= maxKnown {
		l.forget(w)
	}
	l.taken[key] = failureCount{window: w, n: n}
}

// Take takes one of key's tokens, or reports how long until the next window.
func (l *SharedLimiter) Take(key string, now time.Time) (time.Duration, bool) {
	w, end := l.window(now)
	l.mu.Lock()
	b := l.blocks[key]
	if b == nil || b.window != w {
		b = &rateBlock{window: w, blockSize: max(1, min(maxBlock, l.rule.Burst))}
		l.blocks[key] = b
		if len(l.blocks) > 100_000 { // forget other windows' keys
			for k, o := range l.blocks {
				if o.window != w {
					delete(l.blocks, k)
				}
			}
		}
	}
	l.mu.Unlock()
	// One claim at a time per key: requests that wait for it take from the block it claims.
	b.claim.Lock()
	defer b.claim.Unlock()
	if b.left > 0 {
		b.left--
		return 0, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	blocks := (l.rule.Burst + b.blockSize - 1) / b.blockSize
	for ; b.next < blocks; b.next++ {
		_, err := l.db.c(colLimits).InsertOne(ctx, limitDoc{ID: l.id(key, w, -1-b.next), At: now})
		if mongo.IsDuplicateKeyError(err) {
			continue // another server's
		}
		if err != nil {
			l.db.log.Error("shared limit", "limit", l.name, "err", err)
			return 0, true
		}
		b.next++
		b.left = b.blockSize - 1
		return 0, true
	}
	return end.Sub(now), false
}

// forget makes room in taken: other windows' keys go first, then keys not yet spent (whose
// next charge starts again from the first count), then whatever is left over the bound
// (each such key gets one more failure through here before its charge finds it spent).
// The caller holds l.mu.
func (l *SharedLimiter) forget(w int64) {
	for k, c := range l.taken {
		if c.window != w {
			delete(l.taken, k)
		}
	}
	for k, c := range l.taken {
		if len(l.taken) < maxKnown/2 {
			return
		}
		if c.n < l.rule.Burst {
			delete(l.taken, k)
		}
	}
	for k := range l.taken {
		if len(l.taken) < maxKnown/2 {
			return
		}
		delete(l.taken, k)
	}
}
