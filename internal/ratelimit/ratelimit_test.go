package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// TestChargeFailures is the abuse-limit use: check, and charge only failures.
func TestChargeFailures(t *testing.T) {
	bs := New(Rule{Burst: 2, Every: time.Minute})
	now := t0
	for i, want := range []bool{true, true, false} {
		if _, ok := bs.Allowed("k", now); ok != want {
			t.Errorf("attempt %d allowed = %v, want %v", i, ok, want)
		}
		bs.Charge("k", now)
	}
	if wait, _ := bs.Allowed("k", now); wait != 2*time.Minute {
		t.Errorf("wait %v after three failures with two tokens, want two minutes", wait)
	}
	if _, ok := bs.Allowed("k", now.Add(2*time.Minute)); !ok {
		t.Error("no token after two minutes")
	}
	if _, ok := bs.Allowed("other", now); !ok {
		t.Error("a key that never failed is refused")
	}
	for range 10 {
		bs.Charge("k", now)
	}
	if wait, _ := bs.Allowed("k", now); wait != 3*time.Minute {
		t.Errorf("wait %v when overdrawn, want three minutes (down to minus Burst)", wait)
	}
	// New keys an hour later sweep, shard by shard, the buckets that are full again.
	for i := range 1000 {
		bs.Charge("later"+strconv.Itoa(i), now.Add(time.Hour))
	}
	if n, _ := bs.Len(); n != 1000 {
		t.Errorf("%d buckets kept after the sweeps, want only the 1000 new ones", n)
	}
}

// TestTake is the request-rate use: every request takes a token.
func TestTake(t *testing.T) {
	bs := New(Rule{Burst: 3, Every: 100 * time.Millisecond})
	for i, want := range []bool{true, true, true, false} {
		if wait, ok := bs.Take("a", t0); ok != want || (!ok && wait != 100*time.Millisecond) {
			t.Errorf("request %d: ok %v wait %v, want ok %v", i, ok, wait, want)
		}
	}
	if _, ok := bs.Take("b", t0); !ok {
		t.Error("another key is limited")
	}
	if _, ok := bs.Take("a", t0.Add(100*time.Millisecond)); !ok {
		t.Error("no token after one interval")
	}
	if _, ok := bs.Take("a", t0.Add(100*time.Millisecond)); ok {
		t.Error("two tokens after one interval")
	}
}

func TestForgetsIdleKeys(t *testing.T) {
	bs := New(Rule{Burst: 2, Every: 100 * time.Millisecond})
	for i := range shards * MaxPerShard * 2 {
		if _, ok := bs.Take(strconv.Itoa(i), t0); !ok {
			t.Fatalf("client %d refused", i)
		}
	}
	if _, largest := bs.Len(); largest > MaxPerShard {
		t.Errorf("a shard holds %d buckets", largest)
	}
}
