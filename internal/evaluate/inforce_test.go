package evaluate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	// Publications older than publicity are final from publication (FinalAt zero); newer ones
	// from their approval.
	q2 := func(seq int, published time.Time) Candidate {
		return Candidate{Period: "2026Q2", PeriodEnd: "2026-06-30", Seq: seq, PublishedAt: published, Final: true}
	}
	q3 := func(seq int, published time.Time) Candidate {
		return Candidate{Period: "2026Q3", PeriodEnd: "2026-09-30", Seq: seq, PublishedAt: published, Final: true}
	}
	q4 := func(seq int, published, final time.Time) Candidate {
		return Candidate{Period: "2026Q4", PeriodEnd: "2026-12-31", Seq: seq, PublishedAt: published, Final: !final.IsZero(), FinalAt: final}
	}
	cands := []Candidate{
		q2(1, at("2026-07-10", 9)), q2(2, at("2026-08-01", 9)),
		q3(1, at("2026-10-10", 23)), q3(2, at("2026-11-01", 0)),
		q4(1, at("2027-01-05", 9), at("2027-01-13", 10)), // in publicity until its approval on 01-13
		q4(2, at("2027-01-20", 9), time.Time{}),          // a correction, still in publicity
	}
	provisional := q3(3, at("2026-11-05", 9))
	provisional.Final = false
	expired := q3(4, at("2026-11-06", 9))
	expired.ValidUntil = "2026-11-10"
	cands = append(cands, provisional, expired)
	type pick struct {
		Period string
		Seq    int
	}
	tests := []struct {
		date string
		want pick
	}{
		{"2026-06-30", pick{}},            // the first period has ended, but nothing is published yet
		{"2026-07-09", pick{}},            // still nothing published
		{"2026-07-10", pick{"2026Q2", 1}}, // published that day
		{"2026-07-31", pick{"2026Q2", 1}}, // the correction came later: not yet in force
		{"2026-09-30", pick{"2026Q2", 2}}, // Q3 ended this day but is not published
		{"2026-10-10", pick{"2026Q3", 1}}, // published at 23:00 local time: in force that day
		{"2026-10-31", pick{"2026Q3", 1}},
		{"2026-11-01", pick{"2026Q3", 2}}, // the correction, published at midnight
		{"2026-11-05", pick{"2026Q3", 2}}, // a provisional publication is never in force
		{"2026-11-06", pick{"2026Q3", 4}}, // within its ruleset's validity
		{"2026-11-11", pick{"2026Q3", 2}}, // its ruleset is no longer valid; the earlier one stands
		{"2027-01-05", pick{"2026Q3", 2}}, // Q4 is published but in publicity: Q3 stands
		{"2027-01-12", pick{"2026Q3", 2}}, // publicity over, but not yet approved
		{"2027-01-13", pick{"2026Q4", 1}}, // approved as final that day
		{"2027-01-25", pick{"2026Q4", 1}}, // the correction is in publicity: the final one stands
	}
	// Each row: the date and what is in force on it.
	type row struct {
		Date, Period string
		Seq          int
	}
	var got, want []row
	for _, tt := range tests {
		c, ok := InForce(cands, tt.date)
		if ok != (tt.want != pick{}) {
			t.Errorf("InForce(%s): ok %v", tt.date, ok)
		}
		got = append(got, row{tt.date, c.Period, c.Seq})
		want = append(want, row{tt.date, tt.want.Period, tt.want.Seq})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("in force (-want +got):\n%s", diff)
	}
}
