package scoring

import (
	"fmt"
	"time"
)

// Date is a civil date: a day in the calendar with no time of day and no time zone, such as a
// period's end or the day a credit record was made. The rules compare such days ("in force on the
// end date"), so they are kept apart from instants, which only disclosures' filing times are.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date written YYYY-MM-DD, rejecting days that do not exist (2026-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want an existing day written YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MustParseDate is ParseDate for constants in tests and examples; it panics on a bad date.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the day on which t falls in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// IsValid reports whether d names a day that exists (the zero Date does not).
func (d Date) IsValid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d == d.AddDays(0)
}

// AddDays returns the day n days after d (before d when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Compare returns -1 if d is before e, 0 if they are the same day and +1 if d is after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Start returns the instant the day begins (00:00) in loc; the day ends at the next day's Start.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// MarshalText writes the date as YYYY-MM-DD (also in JSON).
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText reads a date written YYYY-MM-DD (also in JSON).
func (d *Date) UnmarshalText(b []byte) error {
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
