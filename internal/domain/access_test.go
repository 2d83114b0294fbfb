package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestThrottleDelays(t *testing.T) {
	r := ThrottleRule{Limit: 10, Window: 15 * time.Minute, Lockout: 15 * time.Minute, Free: 3, Backoff: 2 * time.Second}
	var got []time.Duration
	for i := range 10 {
		got = append(got, r.DelayAfter(i))
	}
	want := []time.Duration{0, 0, 0, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 15 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if d := (ThrottleRule{Limit: 200, Lockout: time.Hour, Backoff: time.Second}).DelayAfter(150); d != time.Hour {
		t.Errorf("a long run of failures waits %v, want the lockout", d)
	}
	if d := (ThrottleRule{Limit: 5, Lockout: time.Hour}).DelayAfter(2); d != 0 {
		t.Errorf("no backoff: %v", d)
	}
}
