package mongodb_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// Three servers share one database's limits: together they allow a key what one would, for
// failures and for request rates, and the next window starts afresh.
func TestSharedLimitsAcrossServers(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	servers := []*mongodb.SharedLimits{db.SharedLimits(), mongodbtest.Reconnect(t, db).SharedLimits(), mongodbtest.Reconnect(t, db).SharedLimits()}
	now := time.Date(2026, 12, 4, 12, 0, 30, 0, time.UTC)

	// Failures: 5 per 5 minutes, charged by all three servers at once.
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := servers[i%3].Charge(ctx, "code", "1.2.3.4", 5, time.Minute, now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, l := range servers {
		wait, ok, err := l.Allowed(ctx, "code", "1.2.3.4", 5, time.Minute, now)
		if err != nil || ok || wait <= 0 {
			t.Errorf("server %d: after 12 failures allowed=%v wait=%s err=%v; want refused", i, ok, wait, err)
		}
		if _, ok, _ := l.Allowed(ctx, "code", "5.6.7.8", 5, time.Minute, now); !ok {
			t.Errorf("server %d refuses another address", i)
		}
		if _, ok, _ := l.Allowed(ctx, "code", "1.2.3.4", 5, time.Minute, now.Add(5*time.Minute)); !ok {
			t.Errorf("server %d refuses the next window", i)
		}
	}

	// Rates: 100 a minute, asked for 300 times through three servers at once.
	var allowed atomic.Int64
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := servers[i%3].AllowRate(ctx, "9.9.9.9", 100, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n < 100 || n > 100+3*10 {
		t.Errorf("three servers allowed %d of 300 requests; want the allowance of one (100, plus at most a block each)", n)
	}
	if ok, _, _ := servers[0].AllowRate(ctx, "9.9.9.9", 100, now.Add(time.Minute)); !ok {
		t.Error("the next minute is refused")
	}
}
