package credit

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// Calendar tells working days from rest days in the bureau's time zone (+08:00): Monday to
// Friday work, Saturday and Sunday rest, except the days the calendar file names: public
// holidays (off) and the make-up working days (调休, work) that the State Council announces
// each year. The bureau replaces the file each year (serve --calendar FILE); the binary ships
// the one in calendar_cn.txt.
type Calendar struct {
	off, work map[string]bool // by date, YYYY-MM-DD
	years     map[int]bool    // years the file covers
}

//go:embed calendar_cn.txt
var defaultCalendarFile []byte

// DefaultCalendar returns the calendar the binary ships.
func DefaultCalendar() *Calendar {
	c, err := ParseCalendar(bytes.NewReader(defaultCalendarFile))
	if err != nil {
		panic("credit: the embedded calendar is invalid: " + err.Error())
	}
	return c
}

// ParseCalendar reads a calendar file: one day a line, "YYYY-MM-DD off" or "YYYY-MM-DD work",
// optionally followed by a note; blank lines and lines starting with # are ignored. Every
// problem is reported with its line number.
func ParseCalendar(r io.Reader) (*Calendar, error) {
	c := &Calendar{off: map[string]bool{}, work: map[string]bool{}, years: map[int]bool{}}
	sc := bufio.NewScanner(r)
	var problems []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			problems = append(problems, fmt.Sprintf("line %d: want \"YYYY-MM-DD off|work [note]\"", n))
			continue
		}
		day, err := time.ParseInLocation(domain.DateLayout, fields[0], domain.Zone)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %q is not a date YYYY-MM-DD", n, fields[0]))
			continue
		}
		key := day.Format(domain.DateLayout)
		if c.off[key] || c.work[key] {
			problems = append(problems, fmt.Sprintf("line %d: %s is given twice", n, key))
			continue
		}
		switch fields[1] {
		case "off":
			c.off[key] = true
		case "work":
			c.work[key] = true
		default:
			problems = append(problems, fmt.Sprintf("line %d: the kind must be off or work, not %q", n, fields[1]))
			continue
		}
		c.years[day.Year()] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("calendar: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// Covers reports whether the file names days of year; outside the years it covers, only
// weekends rest.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// IsWorkingDay reports whether the civil day of t, in +08:00, is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(domain.Zone)
	key := t.Format(domain.DateLayout)
	switch {
	case c.work[key]:
		return true
	case c.off[key]:
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// WindowEnd returns the instant a window of n working days opened at t closes: the start
// (00:00 +08:00) of the day after the n-th working day after t's own day. The day of the
// notice does not count, as in administrative practice; n must be at least 1.
func (c *Calendar) WindowEnd(t time.Time, n int) time.Time {
	local := t.In(domain.Zone)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, domain.Zone)
	for counted := 0; counted < n; {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkingDay(day) {
			counted++
		}
	}
	return day.AddDate(0, 0, 1)
}
