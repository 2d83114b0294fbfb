package mongodb

import "github.com/propcredit/propcredit/internal/filing"

// The disclosure workflow's types are internal/filing's. Storage's files use these short
// names for them (they are the same types); code outside storage says filing.Filing.
type (
	Decision       = filing.Decision
	Filing         = filing.Filing
	NewFiling      = filing.NewFiling
	FileResult     = filing.FileResult
	ReviewDecision = filing.ReviewDecision
	Objection      = filing.Objection
	Reply          = filing.Reply
	NewObjection   = filing.NewObjection
)

// The workflow's errors and its rule, under the names storage's files use.
var (
	ErrFilingChanged     = filing.ErrFilingChanged
	ErrReviewed          = filing.ErrReviewed
	ErrObjectionClosed   = filing.ErrObjectionClosed
	ErrTooManyObjections = filing.ErrTooManyObjections
)

const MaxObjectionsPerHousehold = filing.MaxObjectionsPerHousehold

// FilingKey is the id of the filing of a period, estate and category.
func FilingKey(period, estate, category string) string {
	return filing.FilingKey(period, estate, category)
}

var _ filing.Store = (*DB)(nil)
