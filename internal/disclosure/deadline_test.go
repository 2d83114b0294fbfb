package disclosure

import (
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// The deadline day ends at midnight in +08:00, whatever zone the filing time is written in.
func TestLateAcrossTimeZones(t *testing.T) {
	p := domain.Period{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"}
	utc := time.UTC
	newYork := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		at   time.Time
		late bool
	}{
		{time.Date(2026, 10, 15, 23, 59, 59, 999_000_000, domain.Zone), false},
		{time.Date(2026, 10, 16, 0, 0, 0, 0, domain.Zone), true},
		{time.Date(2026, 10, 15, 15, 59, 59, 0, utc), false}, // 23:59:59 in +08:00
		{time.Date(2026, 10, 15, 16, 0, 0, 0, utc), true},    // already the 16th in +08:00
		{time.Date(2026, 10, 15, 10, 59, 59, 0, newYork), false},
		{time.Date(2026, 10, 15, 11, 0, 0, 0, newYork), true}, // still the 15th in New York
		{time.Date(2026, 9, 30, 12, 0, 0, 0, utc), false},     // before the period: on time
	} {
		if got := Late(p, tc.at); got != tc.late {
			t.Errorf("Late(%s) = %v, want %v", tc.at.Format(time.RFC3339Nano), got, tc.late)
		}
	}
	for _, tc := range []struct {
		now     time.Time
		started bool
	}{
		{time.Date(2026, 9, 30, 15, 59, 59, 0, utc), false}, // 23:59:59 on the 30th in +08:00
		{time.Date(2026, 9, 30, 16, 0, 0, 0, utc), true},    // the 1st in +08:00
		{time.Date(2027, 3, 1, 0, 0, 0, 0, utc), true},      // closed periods stay open to late filing
	} {
		if got := Started(p, tc.now); got != tc.started {
			t.Errorf("Started(%s) = %v, want %v", tc.now.Format(time.RFC3339), got, tc.started)
		}
	}
}
