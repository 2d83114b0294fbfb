package mongodb

import (
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/rating"
)

// Storage implements the use cases' Store interfaces.
var (
	_ publication.Store = (*DB)(nil)
	_ rating.Store      = (*DB)(nil)
	_ filing.Store      = (*DB)(nil)
)

// The types storage keeps are the use cases' and domain's. Storage's files use these short
// names for them (they are the same types); code outside storage says rating.Receipt,
// filing.Filing, domain.Session.
type (
	Submission     = rating.Submission
	Receipt        = rating.Receipt
	IssuedCode     = rating.IssuedCode
	Decision       = filing.Decision
	Filing         = filing.Filing
	NewFiling      = filing.NewFiling
	FileResult     = filing.FileResult
	ReviewDecision = filing.ReviewDecision
	Objection      = filing.Objection
	Reply          = filing.Reply
	NewObjection   = filing.NewObjection
	Session        = domain.Session
	ThrottleRule   = domain.ThrottleRule
	ThrottleKey    = domain.ThrottleKey
	LoginAttempt   = domain.LoginAttempt
	takenSlot      = domain.ThrottleSlot
	APIToken       = domain.APIToken
	CodeRefusal    = rating.CodeRefusal
)

// Their constants and errors, under the same short names.
const (
	SourceImport              = rating.SourceImport
	SourceWeb                 = rating.SourceWeb
	SourceAPI                 = rating.SourceAPI
	MaxObjectionsPerHousehold = filing.MaxObjectionsPerHousehold
	TokenPrefix               = domain.TokenPrefix
)

var (
	ErrCodeUnknown       = rating.ErrCodeUnknown
	ErrCodeWrong         = rating.ErrCodeWrong
	ErrCodeVoided        = rating.ErrCodeVoided
	ErrCodeLocked        = rating.ErrCodeLocked
	ErrKeyReused         = rating.ErrKeyReused
	ErrKeyInFlight       = rating.ErrKeyInFlight
	ErrFilingChanged     = filing.ErrFilingChanged
	ErrReviewed          = filing.ErrReviewed
	ErrObjectionClosed   = filing.ErrObjectionClosed
	ErrTooManyObjections = filing.ErrTooManyObjections
)

// FilingKey is the id of the filing of a period, estate and category.
func FilingKey(period, estate, category string) string {
	return filing.FilingKey(period, estate, category)
}

func LoginAccountKey(name string) string { return domain.LoginAccountKey(name) }
func LoginIPKey(ipHash string) string    { return domain.LoginIPKey(ipHash) }
