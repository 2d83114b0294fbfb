package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Sessions, log-in throttles and server secrets live in the database so that several app
// servers behind one load balancer share them. Every hot lookup is by _id.
//
// The engine has no TTL indexes, so expiry is checked in Go on every read, and PurgeExpired
// removes what has expired; the web server calls it now and then.

// colLoginThrottle holds one document per throttled key (an account name or a client
// address), counting recent failed log-ins.
const colLoginThrottle = "login_throttle"

// SessionKey is the _id of the session whose cookie holds token.
func SessionKey(token string) string {
	return sha256Hex(token)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession stores s under a new random token, which it returns for the cookie. It sets
// s.ID, and s.CSRF when empty. The caller sets the times.
func (db *DB) CreateSession(ctx context.Context, s *domain.Session) (token string, err error) {
	token = randomToken(32)
	s.ID = SessionKey(token)
	if s.CSRF == "" {
		s.CSRF = randomToken(32)
	}
	if _, err := db.c(colSessions).InsertOne(ctx, s); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// errNoSession is what every missing, expired or malformed session looks like to the caller.
var errNoSession = derrors.Errorf(derrors.Unauthorized, "登录已过期，请重新登录")

// SessionByToken returns the session whose cookie holds token, if it is still valid at now.
// Otherwise it returns an Unauthorized error, and deletes the session if it has expired.
func (db *DB) SessionByToken(ctx context.Context, token string, now time.Time) (domain.Session, error) {
	if token == "" || len(token) > 100 {
		return domain.Session{}, errNoSession
	}
	s, err := findByToken[domain.Session](ctx, db.c(colSessions), token, "session", errNoSession)
	if err != nil {
		return domain.Session{}, err
	}
	if !s.Valid(now) {
		if err := db.DeleteSession(ctx, s.ID); err != nil {
			db.log.Warn("delete expired session", "err", err)
		}
		return domain.Session{}, errNoSession
	}
	return s, nil
}

// TouchSession moves the idle deadline of session id to idleUntil (never past its absolute
// expiry, which the caller computes into idleUntil). Call it sparingly: a write per request
// would double the database load of every page.
func (db *DB) TouchSession(ctx context.Context, id string, idleUntil time.Time) error {
	_, err := db.c(colSessions).UpdateOne(ctx, byID(id),
		bson.D{{Key: "$set", Value: bson.D{{Key: "idle_until", Value: idleUntil}}}})
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends session id. Deleting a session that does not exist is not an error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.c(colSessions).DeleteOne(ctx, byID(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsOf ends every session of an account, after a password reset for example. It
// scans the sessions, so it is for rare administrative actions only.
func (db *DB) DeleteSessionsOf(ctx context.Context, accountID string) (int64, error) {
	res, err := db.c(colSessions).DeleteMany(ctx, bson.D{{Key: "account", Value: accountID}})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %q: %w", accountID, err)
	}
	return res.DeletedCount, nil
}

// PurgeExpired deletes the sessions, log-in throttles and shared limit counts that have
// expired by now. It scans
// both collections; run it every few minutes, not per request.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	before := bson.D{{Key: "$lt", Value: now}}
	res, err := db.c(colSessions).DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "expires", Value: before}},
		bson.D{{Key: "idle_until", Value: before}},
	}}})
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	n := res.DeletedCount
	res, err = db.c(colLoginThrottle).DeleteMany(ctx, bson.D{{Key: "expires", Value: before}})
	if err != nil {
		return n, fmt.Errorf("purge log-in throttles: %w", err)
	}
	n += res.DeletedCount
	// Shared limits (limits.go) count in windows of at most a day.
	res, err = db.c(colLimits).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-24 * time.Hour)}}}})
	if err != nil {
		return n, fmt.Errorf("purge shared limits: %w", err)
	}
	n += res.DeletedCount
	// Lock-outs of household codes (household_codes.go) last the clock hour they were made in.
	res, err = db.c(colCodes).DeleteMany(ctx, bson.D{{Key: "lock", Value: true}, {Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-2 * codeLockout)}}}})
	if err != nil {
		return n, fmt.Errorf("purge household code lock-outs: %w", err)
	}
	n += res.DeletedCount
	// Ballot-stuffing signals (holds.go) count within one window; keep them an hour after.
	res, err = db.c(colSignals).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-max(time.Hour, 2*db.stuffing.Window))}}}})
	if err != nil {
		return n, fmt.Errorf("purge rating signals: %w", err)
	}
	return n + res.DeletedCount, nil
}

// How throttles are stored. The embedded engine does not apply updates atomically: measured,
// 20 concurrent $inc of one document added 2 to 11, and a conditional update ("set if n is
// still 0") had 5 winners. Inserts of one _id are atomic (exactly one wins, the others get
// E11000). So an attempt is counted by inserting a document into the first free of Limit
// numbered slots of the current window:
//
//	login|account|zhang|<window start, unix seconds>|<slot>
//
// and a key is full when every slot is taken. Attempts are counted before the password is
// checked, so parallel guesses cannot all slip in before the lock; a successful attempt gives
// its slot back. Windows are fixed (aligned to Window), which lets a burst across a window
// boundary reach at most twice the limit before the lock.

type slotDoc struct {
	ID      string    `bson:"_id"`
	Expires time.Time `bson:"expires"`
}

type lockDoc struct {
	ID      string    `bson:"_id"`
	Until   time.Time `bson:"until"`
	Expires time.Time `bson:"expires"`
}

func lockID(key string) string { return key + "|lock" }

func slotID(key string, window time.Time, i int) string {
	return fmt.Sprintf("%s|%d|%d", key, window.Unix(), i)
}

// CountLoginAttempt counts an attempt against every key before the password is checked. When
// any key is locked, or has no slot left in the current window, the attempt must be refused
// without checking the password: CountLoginAttempt then counts nothing and returns the time
// until which log-ins are refused.
func (db *DB) CountLoginAttempt(ctx context.Context, now time.Time, keys ...domain.ThrottleKey) (domain.LoginAttempt, time.Time, error) {
	if until, err := db.loginLockedUntil(ctx, now, keys); err != nil || !until.IsZero() {
		return domain.LoginAttempt{}, until, err
	}
	var a domain.LoginAttempt
	for _, k := range keys {
		slot, ok, err := db.takeSlot(ctx, k, now)
		if err == nil && !ok {
			// Full: lock the key, and give back the slots taken for the other keys, since no
			// password will be checked.
			until := now.Add(k.Rule.Lockout)
			err = db.lock(ctx, k.Key, until)
			if err == nil {
				return domain.LoginAttempt{}, until, db.release(ctx, a)
			}
		}
		if err != nil {
			_ = db.release(ctx, a)
			return domain.LoginAttempt{}, time.Time{}, err
		}
		a.Slots = append(a.Slots, slot)
	}
	return a, time.Time{}, nil
}

func (db *DB) loginLockedUntil(ctx context.Context, now time.Time, keys []domain.ThrottleKey) (time.Time, error) {
	var until time.Time
	for _, k := range keys {
		d, err := findByID[lockDoc](ctx, db.c(colLoginThrottle), lockID(k.Key), "throttle lock")
		if derrors.Code(err) == derrors.NotFound {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if d.Until.After(now) && d.Until.After(until) {
			until = d.Until
		}
	}
	return until, nil
}

func (db *DB) takeSlot(ctx context.Context, k domain.ThrottleKey, now time.Time) (domain.ThrottleSlot, bool, error) {
	window := now.Truncate(k.Rule.Window)
	for i := range k.Rule.Limit {
		id := slotID(k.Key, window, i)
		_, err := db.c(colLoginThrottle).InsertOne(ctx, slotDoc{ID: id, Expires: window.Add(k.Rule.Window)})
		if mongo.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return domain.ThrottleSlot{}, false, fmt.Errorf("count log-in attempt: %w", err)
		}
		return domain.ThrottleSlot{Key: k, ID: id, Window: window, Index: i}, true, nil
	}
	return domain.ThrottleSlot{}, false, nil
}

func (db *DB) lock(ctx context.Context, key string, until time.Time) error {
	// Two servers locking at once write nearly the same time; either write will do, so the
	// engine's non-atomic upsert is good enough here. E11000 is the race to insert: retry.
	var err error
	for range 3 {
		_, err = db.c(colLoginThrottle).ReplaceOne(ctx, byID(lockID(key)),
			lockDoc{ID: lockID(key), Until: until, Expires: until}, options.Replace().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock log-in for %s: %w", key, err)
	}
	return nil
}

func (db *DB) release(ctx context.Context, a domain.LoginAttempt) error {
	for _, s := range a.Slots {
		if _, err := db.c(colLoginThrottle).DeleteOne(ctx, byID(s.ID)); err != nil {
			return fmt.Errorf("release log-in attempt: %w", err)
		}
	}
	return nil
}

// LoginFailed settles a failed attempt: it stays counted, and each key is refused for as long
// as its rule says after this many failures (ThrottleRule.DelayAfter). It returns the time until
// which log-ins are now refused (zero if they are not).
func (db *DB) LoginFailed(ctx context.Context, a domain.LoginAttempt, now time.Time) (time.Time, error) {
	var until time.Time
	for _, s := range a.Slots {
		d := s.Key.Rule.DelayAfter(s.Index)
		if d == 0 {
			continue
		}
		u := now.Add(d)
		if err := db.lock(ctx, s.Key.Key, u); err != nil {
			return time.Time{}, err
		}
		if u.After(until) {
			until = u
		}
	}
	return until, nil
}

// LoginSucceeded settles a successful attempt: it is no longer counted, and keys marked
// ClearOnSuccess forget their earlier failures in the window.
func (db *DB) LoginSucceeded(ctx context.Context, a domain.LoginAttempt) error {
	if err := db.release(ctx, a); err != nil {
		return err
	}
	for _, s := range a.Slots {
		if !s.Key.ClearOnSuccess {
			continue
		}
		for i := range s.Key.Rule.Limit {
			if _, err := db.c(colLoginThrottle).DeleteOne(ctx, byID(slotID(s.Key.Key, s.Window, i))); err != nil {
				return fmt.Errorf("clear log-in failures: %w", err)
			}
		}
	}
	return nil
}

// Secret returns the server secret called name: 32 random bytes made by whichever server asks
// first and shared by all of them, for signing form tokens and salting address hashes.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	type secretDoc struct {
		ID    string `bson:"_id"`
		Value []byte `bson:"value"`
	}
	id := "secret|" + name
	col := db.c(colMeta)
	for range 3 {
		var d secretDoc
		err := col.FindOne(ctx, byID(id)).Decode(&d)
		if err == nil && len(d.Value) >= 32 {
			return d.Value, nil
		}
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("read secret %s: %w", name, err)
		}
		value := make([]byte, 32)
		_, _ = rand.Read(value)
		_, err = col.InsertOne(ctx, secretDoc{ID: id, Value: value})
		if err == nil {
			return value, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("store secret %s: %w", name, err)
		}
		// Another server made it first: read theirs.
	}
	return nil, fmt.Errorf("secret %s: could not read or create", name)
}
