// Package audit is the audit trail: every action a person (or the command line) takes on the
// bureau's data is appended to a log that is never updated or deleted. An entry says who (the
// account and its role), when, on what object, what changed (before → after) and why.
//
// Entries are inserted under unique ids (the time, then random bytes), so several servers may
// append to one log at once without a lock; nothing in this package can change or remove an
// entry once written. The package knows nothing of HTTP or of the database: Store is the small
// interface storage implements.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
)

// Entry is one action in the trail.
type Entry struct {
	ID      string    `json:"id" bson:"_id"`
	At      time.Time `json:"at" bson:"at"`
	Actor   string    `json:"actor" bson:"actor"` // the account name; "cli" for the command line, "system" for the rules
	Role    string    `json:"role" bson:"role"`   // the account's role, "cli" or "system"
	Action  string    `json:"action" bson:"action"`
	Object  string    `json:"object" bson:"object"` // kind/id, such as "record/CR-20261201-AB12CD"
	Company string    `json:"company,omitempty" bson:"company,omitempty"`
	Period  string    `json:"period,omitempty" bson:"period,omitempty"`
	// Before and After are JSON texts (kept as text: the store takes no keys with dots or
	// dollars, and the values are for people to read, not to query).
	Before string `json:"before,omitempty" bson:"before,omitempty"`
	After  string `json:"after,omitempty" bson:"after,omitempty"`
	Reason string `json:"reason,omitempty" bson:"reason,omitempty"`
}

// Actor is who acts: an account and its role.
type Actor struct {
	Name string
	Role string
}

// CLI is the command line's actor; System is the rules acting by themselves (a window closing).
var (
	CLI    = Actor{Name: "cli", Role: "cli"}
	System = Actor{Name: "system", Role: "system"}
)

// ParseTime reads a bound of a filter: "" (none), a date (its start in +08:00, the bureau's
// zone) or an RFC 3339 time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(domain.DateLayout, s, domain.Zone); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-12-01) nor an RFC 3339 time (2026-12-01T09:00:00+08:00)", s)
	}
	return t, nil
}

// Filter selects entries. Zero fields select everything.
type Filter struct {
	Object  string    // exact object, such as "record/CR-…"
	Actor   string    // account name
	Company string    // company id
	Period  string    // period id
	Since   time.Time // at or after
	Until   time.Time // before
	Limit   int       // at most this many, newest first when set; 0: all, oldest first
}

// Store appends and reads entries. Implementations only insert: an id that exists already is
// an error, never an overwrite. Every entry is also a leaf of the transparency ledger
// (ledger.go), which the store keeps too.
type Store interface {
	AppendAudit(ctx context.Context, e Entry) error
	AuditEntries(ctx context.Context, f Filter) ([]Entry, error)
	ledger.Store
}

// Log writes entries to a Store.
type Log struct {
	store  Store
	ledger *ledger.Log
	now    func() time.Time
}

// New returns a log on store with the clock now (time.Now when nil).
func New(store Store, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{store: store, ledger: ledger.New(store, nil), now: now}
}

// Change is what an action did: the object it acted on and the state before and after.
type Change struct {
	Action  string
	Object  string
	Company string
	Period  string
	Before  any // nil: the object did not exist
	After   any // nil: the object no longer exists (or the action changed no state)
	Reason  string
}

// Record appends one entry for ch by who, now. It is the one place entries are written: the
// entry's leaf goes into the transparency ledger first, so no entry is stored without its leaf
// (a leaf whose entry was never stored, after a crash, is what `propcredit ledger audit`
// reports).
func (l *Log) Record(ctx context.Context, who Actor, ch Change) error {
	e, err := NewEntry(l.now(), who, ch)
	if err != nil {
		return err
	}
	leaf, err := LedgerLeaf(e)
	if err != nil {
		return err
	}
	if _, err := l.ledger.Append(ctx, []ledger.Leaf{leaf}); err != nil {
		return fmt.Errorf("audit: record %s on %s in the ledger: %w", e.Action, e.Object, err)
	}
	return l.store.AppendAudit(ctx, e)
}

// Entries reads the entries f selects.
func (l *Log) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	return l.store.AuditEntries(ctx, f)
}

// NewEntry builds the entry for ch by who at t, with a fresh id that sorts by time.
func NewEntry(t time.Time, who Actor, ch Change) (Entry, error) {
	if who.Name == "" || who.Role == "" {
		return Entry{}, fmt.Errorf("audit: %s on %s has no actor", ch.Action, ch.Object)
	}
	if ch.Action == "" || ch.Object == "" {
		return Entry{}, fmt.Errorf("audit: an entry needs an action and an object")
	}
	e := Entry{ID: newID(t), At: t.UTC(), Actor: who.Name, Role: who.Role, Action: ch.Action,
		Object: ch.Object, Company: ch.Company, Period: ch.Period, Reason: ch.Reason}
	var err error
	if e.Before, err = jsonText(ch.Before); err != nil {
		return Entry{}, err
	}
	if e.After, err = jsonText(ch.After); err != nil {
		return Entry{}, err
	}
	return e, nil
}

func jsonText(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil // already text
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	return string(b), nil
}

// newID is the UTC time to the nanosecond, so that ids sort as the entries were made; then a
// counter of this process, so that entries made within one tick keep their order; then 8
// random bytes, so that two servers never pick the same id.
func newID(t time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("audit: no randomness: " + err.Error())
	}
	return fmt.Sprintf("%s-%010d-%s", t.UTC().Format("20060102T150405.000000000Z"), idSeq.Add(1), hex.EncodeToString(b[:]))
}

var idSeq atomic.Int64
