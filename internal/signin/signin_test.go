package signin_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/signin"
)

func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   signin.Attempt
		want []domain.ThrottleKey
	}{
		{"a known device counts for itself alone", signin.Attempt{Name: "zhang", Device: "d1", AddressHash: "ip1"},
			[]domain.ThrottleKey{{Key: "login|device|zhang|d1", Rule: signin.DeviceRule, ClearOnSuccess: true}}},
		{"elsewhere: per account and client, per client, per account", signin.Attempt{Name: "zhang", AddressHash: "ip1"},
			[]domain.ThrottleKey{
				{Key: "login|pair|zhang|ip1", Rule: signin.PairRule, ClearOnSuccess: true},
				{Key: "login|ip|ip1", Rule: signin.AddressRule},
				{Key: "login|account|zhang", Rule: signin.AccountRule, ClearOnSuccess: true}}},
		{"names that cannot exist share one key, and no device", signin.Attempt{Name: "a b\x00", Device: "d1", AddressHash: "ip2"},
			[]domain.ThrottleKey{
				{Key: "login|pair|~invalid|ip2", Rule: signin.PairRule, ClearOnSuccess: true},
				{Key: "login|ip|ip2", Rule: signin.AddressRule},
				{Key: "login|account|~invalid", Rule: signin.AccountRule, ClearOnSuccess: true}}},
	} {
		if diff := cmp.Diff(tc.want, signin.Keys(tc.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// Against the embedded engine: guesses from many addresses slow every unknown browser, and the
// account's known device still gets in.
func TestGuessersSlowedKnownDeviceNot(t *testing.T) {
	ctx := context.Background()
	s := signin.New(mongodbtest.NewDB(t))
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var until time.Time
	for i := 0; i < signin.AccountRule.Free+1; i++ {
		a, wait, err := s.Begin(ctx, signin.Attempt{Name: "zhang", AddressHash: string(rune('a' + i))}, now)
		if err != nil || !wait.IsZero() {
			t.Fatalf("guess %d from a fresh address: wait %v, %v", i, wait, err)
		}
		if until, err = s.Failed(ctx, a, now); err != nil {
			t.Fatal(err)
		}
	}
	if !until.After(now) {
		t.Fatalf("after %d failures over many addresses the account has no wait", signin.AccountRule.Free+1)
	}
	if _, wait, err := s.Begin(ctx, signin.Attempt{Name: "zhang", AddressHash: "new"}, now); err != nil || wait.IsZero() {
		t.Errorf("a new browser during the wait: wait %v, %v; want refused", wait, err)
	}
	a, wait, err := s.Begin(ctx, signin.Attempt{Name: "zhang", Device: "phone", AddressHash: "new"}, now)
	if err != nil || !wait.IsZero() {
		t.Fatalf("the account's known device during the wait: wait %v, %v; want let in", wait, err)
	}
	if err := s.Succeeded(ctx, a); err != nil {
		t.Fatal(err)
	}
}
