package web

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

// With shared limits, two servers on one database allow one address the wrong codes one
// server would (plus at most one each), not twice as many; and the public API's rate limit is
// shared too.
func TestSharedLimitsTwoServers(t *testing.T) {
	e := newRateEnv(t)
	servers := make([]*Server, 2)
	for i := range servers {
		db := e.db
		if i == 1 {
			db = mongodbtest.Reconnect(t, e.db)
		}
		s, err := New(Config{DB: db, Log: mongodbtest.Quiet(), TrustedProxies: []string{"0.0.0.0"}, Now: e.clock.Now, Limits: db.SharedLimiter})
		if err != nil {
			t.Fatal(err)
		}
		servers[i] = s
	}
	owner := func(i int) *client {
		c := e.clientOf(servers[i%2])
		c.header.Set("X-Forwarded-For", "198.51.100.70")
		return c
	}
	var last *response
	for i := 0; i < rating.AddressFailures.Burst; i++ {
		last = owner(i).apiRate(apiBody("e1", fmt.Sprintf("8-8-%03d", i), "ABCDE-FGHJK", allFours, ""), nil)
		if last.StatusCode != http.StatusForbidden {
			t.Fatalf("wrong code %d: status %d, want 403: %s", i+1, last.StatusCode, last.body)
		}
	}
	// A server learns that the allowance is spent from its own next failure: each lets at
	// most one more wrong code through, then both refuse.
	for i := range 2 {
		for try := 0; ; try++ {
			r := owner(i).apiRate(apiBody("e1", "8-8-999", "ABCDE-FGHJK", allFours, ""), nil)
			if r.StatusCode == http.StatusTooManyRequests {
				break
			}
			if try == 1 || r.StatusCode != http.StatusForbidden {
				t.Fatalf("server %d, %d more wrong codes after the allowance was spent: status %d, want 429: %s", i, try+1, r.StatusCode, r.body)
			}
		}
	}
	for i := range 2 {
		wantStatus(t, owner(i).apiRate(apiBody("e1", "8-8-998", "ABCDE-FGHJK", allFours, ""), nil), http.StatusTooManyRequests)
	}

	// The API: at one moment, two servers together allow one burst (plus a block each).
	allowed := 0
	for i := 0; i < 3*apiLimit.Burst; i++ {
		c := e.clientOf(servers[i%2])
		c.header.Set("X-Forwarded-For", "198.51.100.71")
		if r := c.get("/api/v1/periods"); r.StatusCode == http.StatusOK {
			allowed++
		}
	}
	if allowed < apiLimit.Burst || allowed > apiLimit.Burst+2*10 {
		t.Errorf("two servers allowed %d API requests at once; want %d to %d", allowed, apiLimit.Burst, apiLimit.Burst+2*10)
	}
}
