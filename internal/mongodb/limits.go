package mongodb

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// SharedLimits keeps abuse and rate limits in the database, so that N servers behind a load
// balancer give the allowance of one, not N times it. Like everything shared here it only
// inserts under unique _ids (an engine that loses concurrent updates cannot lose a count):
//
//   - Failures (wrong household codes) are counted per key in fixed windows of burst × every:
//     the n-th failure of a window inserts key|window|n, so the burst-th one exists exactly
//     when the window's allowance is spent. A failure costs one insert (a few more when
//     servers charge the same key at once); a check costs one lookup by _id.
//   - Request rates are counted per key in one-minute windows, in blocks: a server claims a
//     block of rateBlock requests by inserting key|window|b, and serves them from memory. So
//     a request costs an insert only once per rateBlock, and N servers together serve at most
//     the window's allowance, plus at most one unfinished block each.
//
// Counts are kept for a day; PurgeExpired drops older ones.
type SharedLimits struct {
	db *DB

	mu     sync.Mutex
	blocks map[string]*rateBlockState // key → this server's claimed block
}

const (
	colLimits  = "limits"
	rateWindow = time.Minute
	rateBlock  = 10
)

type rateBlockState struct {
	window    int64
	claim     sync.Mutex // guards left and nextBlock
	left      int
	nextBlock int // where to look for a free block
}

type limitDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// SharedLimits returns the limits kept in this database.
func (db *DB) SharedLimits() *SharedLimits {
	return &SharedLimits{db: db, blocks: map[string]*rateBlockState{}}
}

func failureWindow(burst int, every time.Duration, now time.Time) (int64, time.Time) {
	length := time.Duration(burst) * every
	w := now.UnixNano() / int64(length)
	return w, time.Unix(0, (w+1)*int64(length))
}

func limitID(name, key string, window int64, n int) string {
	return name + "|" + key + "|" + strconv.FormatInt(window, 10) + "|" + strconv.Itoa(n)
}

// Allowed reports whether key may fail once more under the limit name (burst failures per
// burst × every), or how long until it may.
func (l *SharedLimits) Allowed(ctx context.Context, name, key string, burst int, every time.Duration, now time.Time) (time.Duration, bool, error) {
	w, end := failureWindow(burst, every, now)
	spent, err := exists(ctx, l.db.c(colLimits), limitID(name, key, w, burst))
	if err != nil || !spent {
		return 0, true, err
	}
	return end.Sub(now), false, nil
}

// Charge counts one failure of key under the limit name.
func (l *SharedLimits) Charge(ctx context.Context, name, key string, burst int, every time.Duration, now time.Time) error {
	w, _ := failureWindow(burst, every, now)
	for n := 1; n <= burst; n++ {
		_, err := l.db.c(colLimits).InsertOne(ctx, limitDoc{ID: limitID(name, key, w, n), At: now})
		if err == nil {
			return nil
		}
		if !isDuplicate(err) {
			return fmt.Errorf("count %s: %w", name, err)
		}
	}
	return nil // the window's allowance is spent already
}

// AllowRate takes one request from key's allowance of perMinute requests a minute, or reports
// how long until the next minute.
func (l *SharedLimits) AllowRate(ctx context.Context, key string, perMinute int, now time.Time) (bool, time.Duration, error) {
	w := now.UnixNano() / int64(rateWindow)
	end := time.Unix(0, (w+1)*int64(rateWindow))
	l.mu.Lock()
	b := l.blocks[key]
	if b == nil || b.window != w {
		b = &rateBlockState{window: w}
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
		return true, 0, nil
	}
	blocks := (perMinute + rateBlock - 1) / rateBlock
	for ; b.nextBlock < blocks; b.nextBlock++ {
		_, err := l.db.c(colLimits).InsertOne(ctx, limitDoc{ID: limitID("rate", key, w, b.nextBlock), At: now})
		if isDuplicate(err) {
			continue // another server's
		}
		if err != nil {
			return false, 0, fmt.Errorf("count requests: %w", err)
		}
		b.nextBlock++
		b.left = rateBlock - 1
		return true, 0, nil
	}
	return false, end.Sub(now), nil
}

func isDuplicate(err error) bool { return mongo.IsDuplicateKeyError(err) }
