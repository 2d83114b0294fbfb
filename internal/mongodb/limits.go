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
//     free n, so the Burst-th exists exactly when the window's allowance is spent; Allowed
//     looks that one up by _id.
//   - Take (a request, such as a call of the public API) serves tokens from a block this
//     server claimed by inserting key|window|b; a request costs an insert once per block, and
//     the servers together serve at most the window's allowance plus one unfinished block each.
//
// A database error lets the request through and is logged: limits must not take the site
// down with the database (which the request itself needs anyway). Counts are kept a day;
// PurgeExpired drops older ones.
type SharedLimiter struct {
	db   *DB
	name string
	rule ratelimit.Rule

	mu     sync.Mutex
	blocks map[string]*rateBlock // key → this server's claimed block
}

const (
	colLimits = "limits"
	// maxBlock is how many tokens a server claims at once for Take.
	maxBlock = 10
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
	return &SharedLimiter{db: db, name: name, rule: rule, blocks: map[string]*rateBlock{}}
}

func (l *SharedLimiter) window(now time.Time) (int64, time.Time) {
	length := time.Duration(l.rule.Burst) * l.rule.Every
	w := now.UnixNano() / int64(length)
	return w, time.Unix(0, (w+1)*int64(length))
}

func (l *SharedLimiter) id(key string, window int64, n int) string {
	return l.name + "|" + key + "|" + strconv.FormatInt(window, 10) + "|" + strconv.Itoa(n)
}

// Allowed reports whether key may fail once more, or how long until it may.
func (l *SharedLimiter) Allowed(key string, now time.Time) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	w, end := l.window(now)
	spent, err := exists(ctx, l.db.c(colLimits), l.id(key, w, l.rule.Burst))
	if err != nil {
		l.db.log.Error("shared limit", "limit", l.name, "err", err)
		return 0, true
	}
	if !spent {
		return 0, true
	}
	return end.Sub(now), false
}

// Charge counts one failure of key.
func (l *SharedLimiter) Charge(key string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	w, _ := l.window(now)
	for n := 1; n <= l.rule.Burst; n++ {
		_, err := l.db.c(colLimits).InsertOne(ctx, limitDoc{ID: l.id(key, w, n), At: now})
		if err == nil {
			return
		}
		if !mongo.IsDuplicateKeyError(err) {
			l.db.log.Error("shared limit", "limit", l.name, "err", err)
			return
		}
	}
	// The window's allowance is spent already.
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
