package disclosure

import (
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// Deadlines follow SCORING.md §2: a disclosure is on time when filed before the end of its
// period's disclosure_deadline day in the bureau's time zone (+08:00), wherever the company's
// clock or server is.

// DeadlineEnd is the first instant after the deadline day: filings at or after it are late.
func DeadlineEnd(p domain.Period) time.Time {
	day, err := time.ParseInLocation(domain.DateLayout, p.DisclosureDeadline, domain.Zone)
	if err != nil {
		return time.Time{} // periods are validated on import; an unreadable deadline makes nothing late
	}
	return day.AddDate(0, 0, 1)
}

// Late reports whether a disclosure filed at filedAt missed its period's deadline.
func Late(p domain.Period, filedAt time.Time) bool {
	end := DeadlineEnd(p)
	return !end.IsZero() && !filedAt.Before(end)
}

// Started reports whether the period has begun at now (in +08:00): companies may file for a
// period from its first day on, and late for a closed one, never for one still to come.
func Started(p domain.Period, now time.Time) bool { return domain.Today(now) >= p.Start }
