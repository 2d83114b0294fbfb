package credit

import (
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, domain.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowEnd(t *testing.T) {
	cal := DefaultCalendar()
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-12-01 09:00", 5, "2026-12-09 00:00"}, // Tue: Wed Thu Fri Mon Tue
		{"2026-12-04 23:59", 1, "2026-12-08 00:00"}, // Fri night: Monday is the one day
		{"2026-12-05 10:00", 5, "2026-12-12 00:00"}, // Saturday: Mon..Fri
		{"2026-09-30 10:00", 5, "2026-10-14 00:00"}, // National Day; 10-10 is a make-up working Saturday
		{"2026-02-12 10:00", 3, "2026-02-25 00:00"}, // 02-13 Fri, 02-14 make-up Sat, holidays to 02-23, 02-24 Tue
		{"2026-12-31 10:00", 2, "2027-01-05 00:00"}, // 2027 is not in the file: weekends only (01-01 Fri, 01-04 Mon)
		// The day is read in +08:00: 2026-12-04T17:00Z is Saturday 01:00 in Beijing.
		{"2026-12-05 01:00", 1, "2026-12-08 00:00"},
	} {
		if got := cal.WindowEnd(day(tc.from), tc.n); !got.Equal(day(tc.want)) {
			t.Errorf("WindowEnd(%s, %d) = %s, want %s", tc.from, tc.n, got.In(domain.Zone), tc.want)
		}
	}
	// The same instant given in UTC.
	if got := cal.WindowEnd(day("2026-12-05 01:00").UTC(), 1); !got.Equal(day("2026-12-08 00:00")) {
		t.Errorf("UTC instant: %s", got)
	}
	if !cal.Covers(2026) || cal.Covers(2027) {
		t.Error("Covers")
	}
}

func TestParseCalendar(t *testing.T) {
	c, err := ParseCalendar(strings.NewReader("# 2027\n\n2027-01-01 off 元旦\n2027-01-09 work 调休\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkingDay(day("2027-01-01 12:00")) || !c.IsWorkingDay(day("2027-01-09 12:00")) || c.IsWorkingDay(day("2027-01-10 12:00")) {
		t.Error("replacement calendar not applied")
	}
	_, err = ParseCalendar(strings.NewReader("2027-01-01 off\n2027-02-30 off\n2027-01-01 work\n2027-03-01 holiday\n2027-03-02\n"))
	for _, want := range []string{`line 2: "2027-02-30" is not a date`, "line 3: 2027-01-01 is given twice", `line 4: the kind must be off or work, not "holiday"`, "line 5: want"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestCalendar2026 checks the shipped calendar against the State Council's notice for 2026
// (see the top of calendar_cn.txt), through the working-day count a window uses.
func TestCalendar2026(t *testing.T) {
	cal := DefaultCalendar()
	for _, tc := range []struct {
		date    string
		working bool
	}{
		{"2026-01-02", false}, // Friday, 元旦
		{"2026-01-04", true},  // Sunday, 元旦调休
		{"2026-02-14", true},  // Saturday, 春节调休
		{"2026-02-23", false}, // Monday, last day of 春节
		{"2026-02-28", true},  // Saturday, 春节调休
		{"2026-04-06", false}, // Monday, 清明节
		{"2026-05-05", false}, // Tuesday, 劳动节
		{"2026-05-09", true},  // Saturday, 劳动节调休
		{"2026-06-19", false}, // Friday, 端午节
		{"2026-09-20", true},  // Sunday, 国庆节调休
		{"2026-09-25", false}, // Friday, 中秋节
		{"2026-10-07", false}, // Wednesday, 国庆节
		{"2026-10-10", true},  // Saturday, 国庆节调休
	} {
		if got := cal.IsWorkingDay(day(tc.date + " 12:00")); got != tc.working {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", tc.date, got, tc.working)
		}
	}
	// Windows of one working day opened the day before each make-up day and each holiday's
	// first day: the make-up day is the one day counted; a holiday is skipped.
	for _, tc := range []struct{ from, want string }{
		{"2026-01-03 10:00", "2026-01-05 00:00"}, // 01-04 Sunday works
		{"2026-02-13 10:00", "2026-02-15 00:00"}, // 02-14 Saturday works
		{"2026-02-14 10:00", "2026-02-25 00:00"}, // 02-15..23 off, 02-24 Tuesday
		{"2026-02-27 10:00", "2026-03-01 00:00"}, // 02-28 Saturday works
		{"2026-04-30 10:00", "2026-05-07 00:00"}, // 05-01..05 off, 05-06 Wednesday
		{"2026-05-08 10:00", "2026-05-10 00:00"}, // 05-09 Saturday works
		{"2026-09-19 10:00", "2026-09-21 00:00"}, // 09-20 Sunday works
		{"2026-09-24 10:00", "2026-09-29 00:00"}, // 09-25..27 off, 09-28 Monday
		{"2026-10-09 10:00", "2026-10-11 00:00"}, // 10-10 Saturday works
	} {
		if got := cal.WindowEnd(day(tc.from), 1); !got.Equal(day(tc.want)) {
			t.Errorf("WindowEnd(%s, 1) = %s, want %s", tc.from, got.In(domain.Zone), tc.want)
		}
	}
	// Five working days from the eve of the Spring Festival: 02-13 is not counted (the
	// notice's own day), 02-14 is, 02-15..23 are not, then 02-24..27.
	if got := cal.WindowEnd(day("2026-02-13 10:00"), 5); !got.Equal(day("2026-02-28 00:00")) {
		t.Errorf("WindowEnd(2026-02-13, 5) = %s, want 2026-02-28 00:00", got.In(domain.Zone))
	}
}
