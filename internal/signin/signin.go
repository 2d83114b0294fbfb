// Package signin is the staff log-in's throttling workflow (issue 15): which attempts count
// against which keys, under which rules, and what a browser that has logged in before (a
// known device) may do. It slows whoever guesses and must never let a guesser lock the staff
// out (OWASP's "device cookies"). internal/web keeps only HTTP: it reads the form, checks the
// device cookie's signature, calls Begin, checks the password, and calls Failed or Succeeded.
package signin

import (
	"context"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// The rules. A known device's attempts at its account are counted for that device alone.
// Attempts from anywhere else are counted per account and client, per client, and per account
// (the last bounds a guess spread over many addresses). Failures past the free ones wait 2 s,
// 4 s, 8 s, ... (1 s, 2 s, ... for the account) before the next try; the Limit-th locks the key
// for 15 minutes. So one client gets at most 10 checked guesses at an account per 30 min, and
// a botnet at most 20 per ~30 min, while the owner's known browser is never refused.
var (
	DeviceRule  = domain.ThrottleRule{Limit: 10, Window: 15 * time.Minute, Lockout: 15 * time.Minute, Free: 3, Backoff: 2 * time.Second}
	PairRule    = domain.ThrottleRule{Limit: 10, Window: 15 * time.Minute, Lockout: 15 * time.Minute, Free: 3, Backoff: 2 * time.Second}
	AddressRule = domain.ThrottleRule{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	AccountRule = domain.ThrottleRule{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute, Free: 10, Backoff: time.Second}
)

// DeviceLife is how long a browser stays known to an account after a log-in.
const DeviceLife = 180 * 24 * time.Hour

// invalidName is the one key of every name that cannot exist, so that random names do not
// fill the database with keys.
const invalidName = "~invalid"

// Attempt is who tries to log in.
type Attempt struct {
	Name string // the account name typed
	// Device is the id of the browser's device cookie, if the cookie is genuine and was made
	// for Name (the web checks its signature); "" otherwise.
	Device string
	// AddressHash is the client's address, hashed with a secret salt.
	AddressHash string
}

// Keys are the throttle keys of an attempt.
func Keys(a Attempt) []domain.ThrottleKey {
	name := a.Name
	if !domain.IsIdent(name) {
		name, a.Device = invalidName, ""
	}
	if a.Device != "" {
		return []domain.ThrottleKey{{Key: domain.LoginDeviceKey(name, a.Device), Rule: DeviceRule, ClearOnSuccess: true}}
	}
	return []domain.ThrottleKey{
		{Key: domain.LoginPairKey(name, a.AddressHash), Rule: PairRule, ClearOnSuccess: true},
		{Key: domain.LoginIPKey(a.AddressHash), Rule: AddressRule},
		{Key: domain.LoginAccountKey(name), Rule: AccountRule, ClearOnSuccess: true},
	}
}

// Store counts attempts: inserts under unique ids, so that every server shares the counts
// (internal/mongodb implements it).
type Store interface {
	CountLoginAttempt(ctx context.Context, now time.Time, keys ...domain.ThrottleKey) (domain.LoginAttempt, time.Time, error)
	LoginFailed(ctx context.Context, a domain.LoginAttempt, now time.Time) (time.Time, error)
	LoginSucceeded(ctx context.Context, a domain.LoginAttempt) error
}

// Service applies the rules.
type Service struct{ store Store }

// New returns the log-in throttle on store.
func New(store Store) *Service { return &Service{store: store} }

// Begin counts an attempt before its password is checked, so that parallel guesses cannot all
// be checked before the lock. A non-zero until refuses it: the password must not be checked,
// and the client may try again then.
func (s *Service) Begin(ctx context.Context, a Attempt, now time.Time) (counted domain.LoginAttempt, until time.Time, err error) {
	return s.store.CountLoginAttempt(ctx, now, Keys(a)...)
}

// Failed settles an attempt whose password was wrong. A non-zero until is when the next
// attempt may be made.
func (s *Service) Failed(ctx context.Context, counted domain.LoginAttempt, now time.Time) (until time.Time, err error) {
	return s.store.LoginFailed(ctx, counted, now)
}

// Succeeded settles an attempt whose password was right: the counts of its keys that a success
// clears start again.
func (s *Service) Succeeded(ctx context.Context, counted domain.LoginAttempt) error {
	return s.store.LoginSucceeded(ctx, counted)
}
