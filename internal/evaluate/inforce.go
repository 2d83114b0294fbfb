// Package evaluate holds the rules bid evaluators rely on: which grade is in force on a date.
// It is pure: no storage, no web.
package evaluate

import (
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// A Candidate is a publication as the rule sees it.
type Candidate struct {
	Period      string
	PeriodEnd   string // the period's last day, YYYY-MM-DD
	Seq         int    // the period's publication number, 1, 2, …
	PublishedAt time.Time
	// Final: the publication was approved as final (正式发布) after its publicity (公示), at
	// FinalAt. Publications made before publicity existed are final, and FinalAt is zero: they
	// count as final from PublishedAt.
	Final   bool
	FinalAt time.Time
	// ValidUntil is the last day its ruleset is valid, YYYY-MM-DD; "" when the ruleset sets no
	// end (no ruleset does yet).
	ValidUntil string
}

// finalOn is the day (in the bureau's time zone) from which c is final.
func (c Candidate) finalOn() string {
	at := c.FinalAt
	if at.IsZero() {
		at = c.PublishedAt
	}
	return at.In(domain.Zone).Format(domain.DateLayout)
}

// InForce returns the publication whose grades are in force on date (YYYY-MM-DD, in the
// bureau's time zone): of the publications that had been approved as final by the end of that
// day, whose period ended on or before it, and whose ruleset was still valid on it, the one
// of the latest period; of that period's publications, the latest. A publication made, or
// approved, after the date does not change what was in force on it, and one still in publicity
// is never in force. ok is false when none qualifies.
//
// This is the one definition of "grade in force"; README.md states it for people.
func InForce(cands []Candidate, date string) (best Candidate, ok bool) {
	for _, c := range cands {
		if !c.Final || c.finalOn() > date || c.PeriodEnd > date || c.PublishedAt.In(domain.Zone).Format(domain.DateLayout) > date ||
			(c.ValidUntil != "" && c.ValidUntil < date) {
			continue
		}
		if !ok || c.PeriodEnd > best.PeriodEnd || (c.PeriodEnd == best.PeriodEnd && c.Seq > best.Seq) {
			best, ok = c, true
		}
	}
	return best, ok
}
