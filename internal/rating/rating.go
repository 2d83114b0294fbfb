// Package rating is the owners' rating workflow (线上评价): a household proves itself with the
// code the bureau issued to its flat for the period (ProveHousehold, shared with objections),
// submits its marks (Submit), and keeps a receipt (Receipt). It owns the workflow's types and
// rules; internal/mongodb stores them and keeps the mechanics (the group-committing rating
// writer, insert-only versions, per-code failure counts).
package rating

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ratelimit"
)

// Rating sources.
const (
	SourceImport = "import"
	SourceWeb    = "web"
	SourceAPI    = "api"
)

// Submission is one owner's rating as received.
type Submission struct {
	Rating         domain.Rating // SubmittedAt is set by the server
	Source         string        // SourceWeb or SourceAPI
	IdempotencyKey string        // the same key twice counts once; empty for none
	IPHash         string
	UserAgentHash  string
}

// Answers to a repeated Idempotency-Key, as the IETF idempotency-key draft has them: the same
// key with another rating is refused (422: the new marks are not taken), and a repeat while the
// first request is still being stored is told so (409: try again in a moment).
var (
	ErrKeyReused   = derrors.Errorf(derrors.Invalid, "this Idempotency-Key was used for a different rating")
	ErrKeyInFlight = derrors.Errorf(derrors.Conflict, "a request with this Idempotency-Key is still being stored")
)

// Fingerprint identifies what a submission says (its marks and comment), so that a repeated
// Idempotency-Key with a different rating is told apart from a true repeat.
func (s Submission) Fingerprint() string {
	var b strings.Builder
	for _, m := range s.Rating.Scores.Array() {
		b.WriteString(strconv.Itoa(m))
		b.WriteByte(',')
	}
	b.WriteString(s.Rating.Comment)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// Receipt is what the owner keeps: proof that the rating is counted. It names no household.
type Receipt struct {
	Number   string    `bson:"_id"`
	Key      string    `bson:"key"`
	Period   string    `bson:"period"`
	Estate   string    `bson:"estate"`
	Revision int       `bson:"revision"`
	At       time.Time `bson:"submitted_at"`
	// Superseded is set by ReceiptByNumber when the household has revised its rating since.
	Superseded bool `bson:"-"`
	// Hold is the state of a held rating (see holds.go): "held" while a reviewer has not
	// decided (it does not count), or the outcome; "" for a rating that was never held.
	Hold string `bson:"-"`
}

// HoldHeld is Receipt.Hold while the rating awaits review.
const HoldHeld = "held"

// Counted reports whether the receipt's rating counts now: not superseded, and not held or
// rejected.
func (r Receipt) Counted() bool {
	return !r.Superseded && (r.Hold == "" || r.Hold == HoldReleased)
}

// IssuedCode is a household's new code, shown once.
type IssuedCode struct {
	Household string // the flat, as in domain.Rating.Household
	Code      string
}

// Reasons a household code is refused. The web layer words them for owners.
var (
	ErrCodeUnknown = derrors.Errorf(derrors.Forbidden, "no live code for this household")
	ErrCodeWrong   = derrors.Errorf(derrors.Forbidden, "wrong code")
	ErrCodeVoided  = derrors.Errorf(derrors.Forbidden, "code replaced by a re-issued one")
	ErrCodeLocked  = derrors.Errorf(derrors.RateLimited, "code locked after repeated wrong guesses")
)

// CodeRefusal is the error of a wrong code, or of a client locked out of a household's code,
// with what that client may still do. errors.Is matches it to Reason (ErrCodeWrong or
// ErrCodeLocked). The lock-out is per client (address), so that a neighbour guessing cannot
// lock the household out of its own code: the right code works from any other phone or
// network.
type CodeRefusal struct {
	Reason    error
	Remaining int       // wrong codes the client may still send for this household this hour
	Until     time.Time // when the client may try again, for ErrCodeLocked
}

func (r *CodeRefusal) Error() string { return r.Reason.Error() }
func (r *CodeRefusal) Unwrap() error { return r.Reason }

// Failure limits: how many wrong or unknown codes a client address, or all clients together
// for one estate, may send in a burst, and how fast the allowance comes back. They come on top
// of the store's per-code lock-out (five wrong guesses an hour per client address), which
// holds across servers.
var (
	AddressFailures = ratelimit.Rule{Burst: 20, Every: time.Minute}
	EstateFailures  = ratelimit.Rule{Burst: 60, Every: 5 * time.Second}
)

// Store is what the workflow needs from storage. internal/mongodb implements it.
type Store interface {
	// CheckCodeFrom verifies a household's code for a period, typed by client (an address
	// hash): nil, one of the ErrCode errors, or a *CodeRefusal (wrong, or the client locked
	// out of this household's code).
	CheckCodeFrom(ctx context.Context, period, estate, household, code, client string, now time.Time) error
	// SubmitRating stores a rating as the household's next version and returns its receipt.
	SubmitRating(ctx context.Context, sub Submission) (Receipt, error)
	// ReceiptByNumber finds a receipt; derrors.NotFound if none.
	ReceiptByNumber(ctx context.Context, number string) (Receipt, error)
}

// Service runs the workflow on a store. Its failure limits are this process's (see
// ratelimit), or the database's (NewShared); one Service serves every page that asks for a
// household's code.
type Service struct {
	store        Store
	addressLimit ratelimit.Limiter
	estateLimit  ratelimit.Limiter
}

// New returns the workflow on store.
func New(store Store) *Service {
	return NewShared(store, nil)
}

// NewShared returns the workflow on store with its failure limits made by shared: with
// several servers on one database, limits the database keeps (nil: this process's).
func NewShared(store Store, shared ratelimit.Shared) *Service {
	return &Service{store: store, addressLimit: shared.Make("code-address", AddressFailures), estateLimit: shared.Make("code-estate", EstateFailures)}
}

// LimitedError says that the address or the estate failed too often lately: try again after
// Wait.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return "too many failed household codes; wait " + e.Wait.String()
}

// ProveHousehold is the one owner-proof step, for ratings and objections alike: the client at
// address (a hash) shows code for household of estate in period. It returns nil, a
// *LimitedError (the address failed too often lately, and the code was not checked; or the
// code failed while the estate has failed too often lately), one of the ErrCode errors, or a
// store failure.
//
// A failure slows the client that failed, never a client with a valid code: the address's
// allowance is checked before the code, the estate's only after a failed one, so that guesses
// spread over many addresses cannot shut the estate's owners out. Failures are charged after
// the check, so honest owners behind one address never wait for each other; parallel guesses
// can overdraw a bucket by at most the requests in flight, and the store's per-flat, per-address
// lock-out holds regardless.
func (s *Service) ProveHousehold(ctx context.Context, period, estate, household, code, address string, now time.Time) error {
	if wait, ok := s.addressLimit.Allowed(address, now); !ok {
		return &LimitedError{Wait: wait}
	}
	err := s.store.CheckCodeFrom(ctx, period, estate, household, code, address, now)
	if errors.Is(err, ErrCodeUnknown) || errors.Is(err, ErrCodeWrong) || errors.Is(err, ErrCodeVoided) || errors.Is(err, ErrCodeLocked) {
		s.addressLimit.Charge(address, now)
		s.estateLimit.Charge(estate, now)
		if wait, ok := s.estateLimit.Allowed(estate, now); !ok && !errors.Is(err, ErrCodeLocked) {
			return &LimitedError{Wait: wait}
		}
	}
	return err
}

// LockedUntil is when a client locked out at now (ErrCodeLocked) may try again: what err
// says, or the end of the clock hour, when the store's lock-out ends.
func LockedUntil(err error, now time.Time) time.Time {
	var refusal *CodeRefusal
	if errors.As(err, &refusal) && refusal.Until.After(now) {
		return refusal.Until
	}
	return now.Truncate(time.Hour).Add(time.Hour)
}

// Submit stores a proven household's rating and returns its receipt. derrors.Conflict: the
// household has revised its rating as often as allowed.
func (s *Service) Submit(ctx context.Context, sub Submission) (Receipt, error) {
	return s.store.SubmitRating(ctx, sub)
}

// Receipt finds a receipt by its number; derrors.NotFound if there is none.
func (s *Service) Receipt(ctx context.Context, number string) (Receipt, error) {
	return s.store.ReceiptByNumber(ctx, number)
}
