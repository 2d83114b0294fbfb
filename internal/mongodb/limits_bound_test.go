package mongodb

import (
	"fmt"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/ratelimit"
)

// A server remembers the failures of at most maxKnown keys. When full it forgets other
// windows first, then the keys not yet spent, and keeps the spent ones (which it would
// otherwise let through once more).
func TestSharedLimiterForgetsWithinItsBound(t *testing.T) {
	l := &SharedLimiter{rule: ratelimit.Rule{Burst: 5, Every: time.Minute}, taken: map[string]failureCount{}}
	const w = 100
	for i := range maxKnown {
		switch {
		case i < 10_000:
			l.taken[fmt.Sprint("old", i)] = failureCount{window: w - 1, n: 5}
		case i < 70_000:
			l.taken[fmt.Sprint("some", i)] = failureCount{window: w, n: 2}
		default:
			l.taken[fmt.Sprint("spent", i)] = failureCount{window: w, n: 5}
		}
	}
	l.learn("new", w, 1)
	if n := len(l.taken); n > maxKnown/2 {
		t.Errorf("%d keys remembered after forgetting; want at most %d", n, maxKnown/2)
	}
	for i := 70_000; i < maxKnown; i++ {
		if l.known(fmt.Sprint("spent", i), w) != 5 {
			t.Fatalf("spent key %d forgotten", i)
		}
	}
	if l.known("new", w) != 1 {
		t.Error("the new key is not remembered")
	}
	for k, c := range l.taken {
		if c.window != w {
			t.Fatalf("%s of another window is still remembered", k)
		}
	}
}
