// Package ratelimit is propcredit's one limiter: token buckets by key (a client address, an
// estate), in memory. It serves abuse limits (failed household codes per address and per
// estate: check with Allowed, Charge a failure) and request rates (the API per address: Take).
//
// A process's buckets are its own. They bound what one server lets through; no correctness
// rests on them (the store's per-code lock-out and unique keys hold across servers).
package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// Rule is a token bucket: Burst tokens at most, one more every Every. A key that has never
// been charged has a full bucket.
type Rule struct {
	Burst int
	Every time.Duration
}

const (
	// shards spreads the buckets over locks, so that busy clients do not queue on one.
	shards = 16
	// MaxPerShard bounds memory whatever the number of keys: past it, full buckets are
	// forgotten (which changes nothing), and then half of the rest (whose clients start over).
	MaxPerShard = 8192
	// sweepEvery: full buckets are forgotten at least this often.
	sweepEvery = time.Minute
)

// Buckets are token buckets by key under one Rule. Safe for concurrent use.
type Buckets struct {
	rule   Rule
	seed   maphash.Seed
	shards [shards]shard
}

type shard struct {
	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns empty buckets under rule.
func New(rule Rule) *Buckets {
	b := &Buckets{rule: rule, seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].m = map[string]*bucket{}
	}
	return b
}

func (b *Buckets) shard(key string) *shard { return &b.shards[maphash.String(b.seed, key)%shards] }

// refill brings key's bucket up to now, if it has one; the caller holds the shard's lock.
func (b *Buckets) refill(sh *shard, key string, now time.Time) *bucket {
	k := sh.m[key]
	if k == nil {
		return nil
	}
	if now.After(k.at) {
		k.tokens = min(float64(b.rule.Burst), k.tokens+float64(now.Sub(k.at))/float64(b.rule.Every))
		k.at = now
	}
	return k
}

// wait is how long until a bucket with tokens has one.
func (b *Buckets) wait(tokens float64) time.Duration {
	return time.Duration((1 - tokens) * float64(b.rule.Every))
}

// Limiter is what the limits' users need: Buckets in this process's memory, or limits shared
// by every server through the database (mongodb.DB.SharedLimiter, docs/SCALING.md).
type Limiter interface {
	Allowed(key string, now time.Time) (time.Duration, bool)
	Charge(key string, now time.Time)
	Take(key string, now time.Time) (time.Duration, bool)
}

// Shared makes the Limiter of a rule under a name; nil means in memory (New).
type Shared func(name string, rule Rule) Limiter

// Make returns shared's limiter for the rule, or Buckets in memory when shared is nil.
func (shared Shared) Make(name string, rule Rule) Limiter {
	if shared == nil {
		return New(rule)
	}
	return shared(name, rule)
}

var _ Limiter = (*Buckets)(nil)

// Allowed reports whether key has a token, or how long until it has one, without taking it.
func (b *Buckets) Allowed(key string, now time.Time) (time.Duration, bool) {
	sh := b.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := b.refill(sh, key, now)
	if k == nil || k.tokens >= 1 {
		return 0, true
	}
	return b.wait(k.tokens), false
}

// Charge takes a token from key's bucket, whether or not it has one: a bucket overdrawn by
// parallel requests goes below zero, down to minus Burst, and so takes that much longer to
// refill.
func (b *Buckets) Charge(key string, now time.Time) {
	sh := b.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := b.get(sh, key, now)
	k.tokens = max(k.tokens-1, -float64(b.rule.Burst))
}

// Take takes a token from key's bucket if it has one; if not, it reports how long until it
// has.
func (b *Buckets) Take(key string, now time.Time) (time.Duration, bool) {
	sh := b.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := b.get(sh, key, now)
	if k.tokens < 1 {
		return b.wait(k.tokens), false
	}
	k.tokens--
	return 0, true
}

// Len returns the number of buckets kept, for tests of the memory bound.
func (b *Buckets) Len() (total, largestShard int) {
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		total += len(sh.m)
		largestShard = max(largestShard, len(sh.m))
		sh.mu.Unlock()
	}
	return total, largestShard
}

// get returns key's bucket, refilled, making a full one if it has none; the caller holds the
// shard's lock.
func (b *Buckets) get(sh *shard, key string, now time.Time) *bucket {
	if k := b.refill(sh, key, now); k != nil {
		return k
	}
	if len(sh.m) >= MaxPerShard || now.Sub(sh.lastSweep) >= sweepEvery {
		b.sweep(sh, now)
	}
	k := &bucket{tokens: float64(b.rule.Burst), at: now}
	sh.m[key] = k
	return k
}

// sweep forgets full buckets; if the shard is still at its bound, it forgets half of the
// rest. The caller holds the shard's lock.
func (b *Buckets) sweep(sh *shard, now time.Time) {
	sh.lastSweep = now
	for key := range sh.m {
		if k := b.refill(sh, key, now); k.tokens >= float64(b.rule.Burst) {
			delete(sh.m, key)
		}
	}
	for key := range sh.m {
		if len(sh.m) < MaxPerShard/2 {
			break
		}
		delete(sh.m, key)
	}
}
