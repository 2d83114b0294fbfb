package mongodb

import (
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/rating"
)

// Storage implements the use cases' Store interfaces. The types it keeps are theirs and
// domain's (rating.Receipt, filing.Filing, domain.Session), named so in storage too.
var (
	_ publication.Store = (*DB)(nil)
	_ rating.Store      = (*DB)(nil)
	_ filing.Store      = (*DB)(nil)
)
