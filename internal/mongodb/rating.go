package mongodb

import "github.com/propcredit/propcredit/internal/rating"

// The rating workflow's types are internal/rating's. Storage's files use these short names
// for them (they are the same types); code outside storage says rating.Receipt.
type (
	Submission = rating.Submission
	Receipt    = rating.Receipt
	IssuedCode = rating.IssuedCode
)

// Rating sources.
const (
	SourceImport = rating.SourceImport
	SourceWeb    = rating.SourceWeb
	SourceAPI    = rating.SourceAPI
)

// Reasons a household code is refused.
var (
	ErrCodeUnknown = rating.ErrCodeUnknown
	ErrCodeWrong   = rating.ErrCodeWrong
	ErrCodeVoided  = rating.ErrCodeVoided
	ErrCodeLocked  = rating.ErrCodeLocked
)

var _ rating.Store = (*DB)(nil)
