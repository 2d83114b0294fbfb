package web

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// The public API is rate-limited per client address (ClientIP): a token bucket that holds
// apiBurst requests and refills at apiRate per second. A bid evaluation system looking up the
// companies of one tender stays far below it; a scraper does not.
const (
	apiRate  = 10.0 // requests per second, sustained
	apiBurst = 60.0

	// limiterShards spreads the buckets over locks, so that busy clients do not queue on one.
	limiterShards = 16
	// maxBucketsPerShard bounds memory whatever the number of addresses: past it, buckets
	// idle long enough to be full again are forgotten (forgetting them changes nothing).
	maxBucketsPerShard = 8192
)

type rateLimiter struct {
	rate, burst float64
	now         func() time.Time
	seed        maphash.Seed
	shards      [limiterShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*apiBucket
}

type apiBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate, burst float64, now func() time.Time) *rateLimiter {
	l := &rateLimiter{rate: rate, burst: burst, now: now, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*apiBucket{}
	}
	return l
}

// allow takes a token from key's bucket. When there is none it returns false and how long
// until there is.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		if len(sh.buckets) >= maxBucketsPerShard {
			l.sweep(sh, now)
		}
		b = &apiBucket{tokens: l.burst, last: now}
		sh.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// sweep forgets full buckets; if every bucket is in use, it forgets half of them, which only
// lets their clients start over with a full bucket.
func (l *rateLimiter) sweep(sh *limiterShard, now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range sh.buckets {
		if now.Sub(b.last) >= full {
			delete(sh.buckets, k)
		}
	}
	for k := range sh.buckets {
		if len(sh.buckets) < maxBucketsPerShard/2 {
			break
		}
		delete(sh.buckets, k)
	}
}
