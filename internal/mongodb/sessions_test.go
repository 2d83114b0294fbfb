package mongodb_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func newSession(db *mongodb.DB, t *testing.T, account string, idle, life time.Duration) (string, domain.Session) {
	t.Helper()
	s := domain.Session{Account: account, Name: account, Role: domain.RoleReviewer,
		Created: t0, IdleUntil: t0.Add(idle), Expires: t0.Add(life)}
	token, err := db.CreateSession(context.Background(), &s)
	if err != nil {
		t.Fatal(err)
	}
	return token, s
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	token, s := newSession(db, t, "zhang", time.Hour, 8*time.Hour)
	if s.ID == token || s.ID != mongodb.SessionKey(token) || strings.Contains(s.ID, token) {
		t.Fatalf("session id %q must be the hash of the token, not the token", s.ID)
	}
	if s.CSRF == "" || s.CSRF == token {
		t.Errorf("CSRF secret %q must be set and differ from the token", s.CSRF)
	}

	got, err := db.SessionByToken(ctx, token, t0.Add(time.Minute))
	if err != nil || got.Account != "zhang" || got.CSRF != s.CSRF {
		t.Fatalf("SessionByToken = %+v, %v", got, err)
	}
	// The stored id is the hash: looking up by the hash itself, as if it were a token, fails.
	if _, err := db.SessionByToken(ctx, s.ID, t0); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("lookup by stored id: err = %v, want unauthorized", err)
	}
	if _, err := db.SessionByToken(ctx, "", t0); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("empty token: err = %v, want unauthorized", err)
	}

	// Idle timeout, moved by TouchSession.
	if err := db.TouchSession(ctx, s.ID, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, token, t0.Add(80*time.Minute)); err != nil {
		t.Errorf("after touch, session expired early: %v", err)
	}
	if _, err := db.SessionByToken(ctx, token, t0.Add(95*time.Minute)); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("past idle deadline: err = %v, want unauthorized", err)
	}
	// The expired session was deleted, so even an earlier clock no longer finds it.
	if _, err := db.SessionByToken(ctx, token, t0.Add(time.Minute)); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("expired session still stored: err = %v", err)
	}
}

func TestSessionAbsoluteExpiryAndDelete(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	token, s := newSession(db, t, "zhang", 24*time.Hour, 2*time.Hour)
	if _, err := db.SessionByToken(ctx, token, t0.Add(3*time.Hour)); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("past absolute expiry: err = %v, want unauthorized", err)
	}
	token, s = newSession(db, t, "zhang", time.Hour, 2*time.Hour)
	if err := db.DeleteSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, token, t0); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("deleted session: err = %v, want unauthorized", err)
	}
	if err := db.DeleteSession(ctx, s.ID); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestDeleteSessionsOfAndPurge(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	a1, _ := newSession(db, t, "a", time.Hour, 2*time.Hour)
	a2, _ := newSession(db, t, "a", time.Hour, 2*time.Hour)
	b, _ := newSession(db, t, "b", time.Hour, 2*time.Hour)
	short, _ := newSession(db, t, "c", time.Minute, 2*time.Hour)
	if n, err := db.DeleteSessionsOf(ctx, "a"); err != nil || n != 2 {
		t.Errorf("DeleteSessionsOf = %d, %v; want 2", n, err)
	}
	for _, tok := range []string{a1, a2} {
		if _, err := db.SessionByToken(ctx, tok, t0); err == nil {
			t.Error("a session of the account survived DeleteSessionsOf")
		}
	}
	key := domain.ThrottleKey{Key: domain.LoginAccountKey("x"), Rule: accountRule}
	a, _, err := db.CountLoginAttempt(ctx, t0, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoginFailed(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	// At t0+30m: c's session is idle, the attempt's window is over; b's session lives on.
	n, err := db.PurgeExpired(ctx, t0.Add(30*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PurgeExpired = %d, %v; want 2 (one session, one attempt)", n, err)
	}
	if _, err := db.SessionByToken(ctx, b, t0.Add(30*time.Minute)); err != nil {
		t.Errorf("live session purged: %v", err)
	}
	if _, err := db.SessionByToken(ctx, short, t0); err == nil {
		t.Error("idle session survived PurgeExpired")
	}
}

var accountRule = domain.ThrottleRule{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// fail counts an attempt and settles it as failed, returning the lock time from whichever
// step reported one.
func fail(t *testing.T, db *mongodb.DB, now time.Time, keys ...domain.ThrottleKey) time.Time {
	t.Helper()
	ctx := context.Background()
	a, until, err := db.CountLoginAttempt(ctx, now, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if !until.IsZero() {
		return until
	}
	until, err = db.LoginFailed(ctx, a, now)
	if err != nil {
		t.Fatal(err)
	}
	return until
}

func TestLoginThrottle(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	// t0 is 09:00, so the 15-minute windows start at 09:00, 09:15, ...
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	acct := domain.ThrottleKey{Key: domain.LoginAccountKey("zhang"), Rule: accountRule, ClearOnSuccess: true}
	ip := domain.ThrottleKey{Key: domain.LoginIPKey("h1"),
		Rule: domain.ThrottleRule{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}}

	for i := range 4 {
		if until := fail(t, db, at(i), acct, ip); !until.IsZero() {
			t.Fatalf("failure %d locked until %v", i+1, until)
		}
	}
	if until := fail(t, db, at(4), acct, ip); !until.Equal(at(19)) {
		t.Fatalf("fifth failure: locked until %v, want %v", until, at(19))
	}
	// Locked: refused before the password is checked, and not counted against the address.
	for _, m := range []int{5, 18} {
		_, until, err := db.CountLoginAttempt(ctx, at(m), acct, ip)
		if err != nil || !until.Equal(at(19)) {
			t.Errorf("attempt at +%dm: locked until %v, %v; want %v", m, until, err, at(19))
		}
	}
	// After the lockout a new window has begun: counting starts again.
	a, until, err := db.CountLoginAttempt(ctx, at(19), acct, ip)
	if err != nil || !until.IsZero() {
		t.Fatalf("after lockout: locked until %v, %v", until, err)
	}
	// A success clears the account's failures (but not the address's).
	if err := db.LoginSucceeded(ctx, a); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		fail(t, db, at(20+i), acct, ip)
	}
	a, _, _ = db.CountLoginAttempt(ctx, at(23), acct, ip)
	if err := db.LoginSucceeded(ctx, a); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if until := fail(t, db, at(24+i), acct, ip); !until.IsZero() {
			t.Fatalf("failure %d after a success locked the account", i+1)
		}
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	db := mongodbtest.NewDB(t)
	ip := domain.ThrottleKey{Key: domain.LoginIPKey("h1"),
		Rule: domain.ThrottleRule{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}}
	for i := range 20 {
		acct := domain.ThrottleKey{Key: domain.LoginAccountKey(fmt.Sprint("user", i)), Rule: accountRule}
		until := fail(t, db, t0, acct, ip)
		if (i < 19) != until.IsZero() {
			t.Fatalf("failure %d from one address: locked until %v", i+1, until)
		}
	}
	other := domain.ThrottleKey{Key: domain.LoginIPKey("h2"), Rule: ip.Rule}
	if until := fail(t, db, t0, domain.ThrottleKey{Key: domain.LoginAccountKey("new"), Rule: accountRule}, other); !until.IsZero() {
		t.Errorf("another address was locked too")
	}
}

// Parallel guesses must all be counted before any password is checked: otherwise an attacker
// sends a hundred at once and all of them are tried before the lock.
func TestLoginThrottleConcurrent(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	key := domain.ThrottleKey{Key: domain.LoginAccountKey("zhang"), Rule: accountRule}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 16 {
		wg.Go(func() {
			_, until, err := db.CountLoginAttempt(ctx, t0, key)
			if err != nil {
				t.Error(err)
				return
			}
			if until.IsZero() {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != accountRule.Limit {
		t.Errorf("%d of 16 parallel attempts were let through, want exactly %d", allowed, accountRule.Limit)
	}
	if _, until, _ := db.CountLoginAttempt(ctx, t0, key); until.IsZero() {
		t.Error("not locked after the slots ran out")
	}
}

func TestSecretIsSharedAndStable(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	var wg sync.WaitGroup
	got := make([][]byte, 6)
	for i := range got {
		wg.Go(func() {
			s, err := db.Secret(ctx, "csrf")
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("concurrent Secret calls disagree: %x vs %x", got[i], got[0])
		}
	}
	other, _ := db.Secret(ctx, "ip-salt")
	if bytes.Equal(other, got[0]) {
		t.Error("two secrets are equal")
	}
}
