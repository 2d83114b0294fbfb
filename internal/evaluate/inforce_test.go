package evaluate

import (
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

func at(day string, hour int) time.Time {
	d, err := time.ParseInLocation(domain.DateLayout, day, domain.Zone)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour) * time.Hour)
}

func TestInForce(t *testing.T) {
	q2 := func(seq int, published time.Time) Candidate {
		return Candidate{Period: "2026Q2", PeriodEnd: "2026-06-30", Seq: seq, PublishedAt: published, Final: true}
	}
	q3 := func(seq int, published time.Time) Candidate {
		return Candidate{Period: "2026Q3", PeriodEnd: "2026-09-30", Seq: seq, PublishedAt: published, Final: true}
	}
	cands := []Candidate{
		q2(1, at("2026-07-10", 9)), q2(2, at("2026-08-01", 9)),
		q3(1, at("2026-10-10", 23)), q3(2, at("2026-11-01", 0)),
	}
	provisional := q3(3, at("2026-11-05", 9))
	provisional.Final = false
	expired := q3(4, at("2026-11-06", 9))
	expired.ValidUntil = "2026-11-10"
	cands = append(cands, provisional, expired)
	tests := []struct {
		date   string
		period string
		seq    int
	}{
		{"2026-06-30", "", 0},       // the first period has ended, but nothing is published yet
		{"2026-07-09", "", 0},       // still nothing published
		{"2026-07-10", "2026Q2", 1}, // published that day
		{"2026-07-31", "2026Q2", 1}, // the correction came later: not yet in force
		{"2026-09-30", "2026Q2", 2}, // Q3 ended this day but is not published
		{"2026-10-10", "2026Q3", 1}, // published at 23:00 local time: in force that day
		{"2026-10-31", "2026Q3", 1},
		{"2026-11-01", "2026Q3", 2}, // the correction, published at midnight
		{"2026-11-05", "2026Q3", 2}, // a provisional publication is never in force
		{"2026-11-06", "2026Q3", 4}, // within its ruleset's validity
		{"2026-11-11", "2026Q3", 2}, // its ruleset is no longer valid; the earlier one stands
	}
	for _, tt := range tests {
		got, ok := InForce(cands, tt.date)
		if (tt.period == "") == ok || got.Period != tt.period || got.Seq != tt.seq {
			t.Errorf("InForce(%s) = %s #%d (%v), want %s #%d", tt.date, got.Period, got.Seq, ok, tt.period, tt.seq)
		}
	}
}
