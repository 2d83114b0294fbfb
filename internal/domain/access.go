package domain

import "time"

// Access: sessions of logged-in people, companies' API tokens and log-in throttles. The store
// keeps them (internal/mongodb) so that several servers share them.

// Session is a logged-in browser. Its _id is the SHA-256 of the token in the browser's cookie,
// so that a copy of the database does not hand out working sessions.
type Session struct {
	ID      string `bson:"_id"`
	Account string `bson:"account"` // account id
	Name    string `bson:"name"`    // account name, for display without another read
	Role    string `bson:"role"`
	Company string `bson:"company,omitempty"`
	// MustChangePassword: the account logged in with a one-time password, and the session
	// may do nothing but choose a new one (or log out).
	MustChangePassword bool `bson:"must_change_password,omitempty"`
	// CSRF is the secret that the session's form tokens are derived from.
	CSRF    string    `bson:"csrf"`
	Created time.Time `bson:"created"`
	// IdleUntil moves forward when the session is used (TouchSession); Expires never moves.
	IdleUntil time.Time `bson:"idle_until"`
	Expires   time.Time `bson:"expires"`
}

// Valid reports whether the session may still be used at now.
func (s *Session) Valid(now time.Time) bool {
	return now.Before(s.Expires) && now.Before(s.IdleUntil)
}

// ThrottleRule says how many failed log-ins a key may collect within one Window. The first Free
// failures cost nothing; each failure after them refuses the key's next attempt for Backoff,
// doubled with every further failure (progressive delays); the Limit-th locks it for Lockout.
type ThrottleRule struct {
	Limit   int
	Window  time.Duration
	Lockout time.Duration
	Free    int
	Backoff time.Duration
}

// DelayAfter is how long a key is refused after the failure that took its slot i (0-based).
func (r ThrottleRule) DelayAfter(i int) time.Duration {
	switch {
	case i >= r.Limit-1:
		return r.Lockout
	case r.Backoff > 0 && i >= r.Free:
		d := r.Backoff
		for range min(i-r.Free, 30) {
			d *= 2
		}
		return min(d, r.Lockout)
	}
	return 0
}

// ThrottleKey is one thing a log-in attempt is counted against, with its rule. ClearOnSuccess
// forgets the key's earlier failures when a log-in succeeds; set it for the account, not for
// the client address (or one valid account would reset its address's count between guesses).
type ThrottleKey struct {
	Key            string
	Rule           ThrottleRule
	ClearOnSuccess bool
}

// Keys of login throttles. The caller hashes client addresses with a secret salt, so that the
// database holds no addresses.
func LoginAccountKey(name string) string        { return "login|account|" + name }
func LoginIPKey(ipHash string) string           { return "login|ip|" + ipHash }
func LoginPairKey(name, ipHash string) string   { return "login|pair|" + name + "|" + ipHash }
func LoginDeviceKey(name, device string) string { return "login|device|" + name + "|" + device }

// LoginAttempt is an attempt counted by CountLoginAttempt, to be settled by LoginFailed or
// LoginSucceeded.
type LoginAttempt struct {
	Slots []ThrottleSlot
}

// ThrottleSlot is one slot an attempt took (the store's bookkeeping).
type ThrottleSlot struct {
	Key    ThrottleKey
	ID     string
	Window time.Time
	Index  int // the slot's number in its window: how many failures came before
}

// TokenPrefix starts every token, so that one found in a log or a repository is recognised.
const TokenPrefix = "pct_"

// APIToken is a company's API token as stored: never the token itself.
type APIToken struct {
	ID        string     `bson:"_id"` // SHA-256 of the token, hex
	Ref       string     `bson:"ref"` // public handle, to list and revoke it: "tok_" + 8 characters
	Company   string     `bson:"company"`
	Name      string     `bson:"name"` // what the company calls it ("财务系统")
	CreatedBy string     `bson:"created_by"`
	CreatedAt time.Time  `bson:"created_at"`
	RevokedBy string     `bson:"revoked_by,omitempty"`
	RevokedAt *time.Time `bson:"revoked_at,omitempty"`
}

// Revoked reports whether the token has been revoked.
func (t *APIToken) Revoked() bool { return t.RevokedAt != nil }
