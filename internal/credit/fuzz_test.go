package credit

import (
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// FuzzParseCalendar: any file either parses or is refused with an error, and a parsed
// calendar gives a window end after the day it starts from.
func FuzzParseCalendar(f *testing.F) {
	f.Add(string(defaultCalendarFile))
	f.Add("2027-01-01 off\n2027-01-09 work 调休\n")
	f.Add("# only a comment\n\n")
	f.Add("2027-02-30 off\n2027-01-01 holiday\n")
	f.Fuzz(func(t *testing.T, file string) {
		c, err := ParseCalendar(strings.NewReader(file))
		if err != nil {
			return
		}
		from := time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Zone)
		end := c.WindowEnd(from, 5)
		if !end.After(from.AddDate(0, 0, 5)) {
			t.Errorf("5 working days from %s end at %s", from, end)
		}
	})
}
