package mongodb_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/ratelimit"
)

// Three servers share one database's limits: together they allow a key what one would, for
// failures and for requests, and the next window starts afresh.
func TestSharedLimitsAcrossServers(t *testing.T) {
	db := mongodbtest.NewDB(t)
	dbs := []interface {
		SharedLimiter(string, ratelimit.Rule) ratelimit.Limiter
	}{db, mongodbtest.Reconnect(t, db), mongodbtest.Reconnect(t, db)}
	now := time.Date(2026, 12, 4, 12, 0, 30, 0, time.UTC)

	// Failures: 5 per 5 minutes, charged by all three servers at once, 12 times.
	failures := ratelimit.Rule{Burst: 5, Every: time.Minute}
	limiters := make([]ratelimit.Limiter, 3)
	for i, d := range dbs {
		limiters[i] = d.SharedLimiter("code", failures)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() { defer wg.Done(); limiters[i%3].Charge("1.2.3.4", now) }()
	}
	wg.Wait()
	// Each server, and a fourth that has charged nothing yet, lets at most one more failure
	// through: its charge finds the window spent, and it refuses from then on.
	late := append(limiters, mongodbtest.Reconnect(t, db).SharedLimiter("code", failures))
	through := 0
	for i, l := range late {
		for try := 0; ; try++ {
			wait, ok := l.Allowed("1.2.3.4", now)
			if !ok {
				if wait <= 0 || wait > 5*time.Minute {
					t.Errorf("server %d refuses for %s; want until the window ends", i, wait)
				}
				break
			}
			if try == 1 {
				t.Fatalf("server %d allowed a second failure after the window was spent", i)
			}
			through++
			l.Charge("1.2.3.4", now)
		}
		if _, ok := l.Allowed("5.6.7.8", now); !ok {
			t.Errorf("server %d refuses another address", i)
		}
		if _, ok := l.Allowed("1.2.3.4", now.Add(5*time.Minute)); !ok {
			t.Errorf("server %d refuses the next window", i)
		}
	}
	if through < 1 || through > 3 {
		// The fourth server has surely not seen the window spent; at least one of the
		// three that charged has (the one whose charge took the fifth count).
		t.Errorf("%d of 4 servers let one more failure through; want 1 to 3", through)
	}
	n, err := rawDB(t, db).Collection("limits").CountDocuments(context.Background(), map[string]any{})
	if err != nil || n != int64(failures.Burst) {
		t.Errorf("the window holds %d counts (%v); want %d", n, err, failures.Burst)
	}

	// Requests: 100 per 10 s, asked for 300 times through three servers at once.
	requests := ratelimit.Rule{Burst: 100, Every: 100 * time.Millisecond}
	limiters = []ratelimit.Limiter{dbs[0].SharedLimiter("api", requests), dbs[1].SharedLimiter("api", requests), dbs[2].SharedLimiter("api", requests)}
	var allowed atomic.Int64
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := limiters[i%3].Take("9.9.9.9", now); ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n < 100 || n > 100+3*10 {
		t.Errorf("three servers allowed %d of 300 requests; want the allowance of one (100, plus at most a block each)", n)
	}
	if _, ok := limiters[0].Take("9.9.9.9", now.Add(10*time.Second)); !ok {
		t.Error("the next window is refused")
	}
}
