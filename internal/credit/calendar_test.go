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
