package scoring

import (
	"math/big"
	"testing"
	"time"
)

// Helpers shared by the tests. Values are written the way the spec writes them.

var testPeriod = Period{
	ID:                 "2026Q4",
	Start:              MustParseDate("2026-10-01"),
	End:                MustParseDate("2026-12-31"),
	DisclosureDeadline: MustParseDate("2026-10-15"),
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func rat(s string) *big.Rat { return mustRat(s) }

func datePtr(s string) *Date {
	d := MustParseDate(s)
	return &d
}

// onTime returns the estate's four disclosures, verified and filed well before the deadline.
func onTime(estate string) []Disclosure {
	var out []Disclosure
	for _, c := range Categories {
		out = append(out, Disclosure{Estate: estate, Category: c.ID, FiledAt: at("2026-10-10T10:00:00+08:00"), Status: StatusVerified})
	}
	return out
}

// uniform is the tally of n ratings that gave every dimension the same score.
func uniform(estate string, n, score int64) Tally {
	t := Tally{Estate: estate, Ratings: n}
	for d := range t.Sums {
		t.Sums[d] = n * score
	}
	return t
}

func good(id, points, date string) Event {
	return Event{ID: id, Company: "C1", Kind: KindGood, Points: rat(points), Date: MustParseDate(date)}
}

func bad(id, points, date string) Event {
	return Event{ID: id, Company: "C1", Kind: KindBad, Points: rat(points), Date: MustParseDate(date)}
}

// baseInput is one company, C1, managing one estate, E1 (100 households), rated 4 in every
// dimension by 10 households, with all four disclosures on time, no governance record and no
// credit records: μ = 4, s = 4, S = 75, D = 100, G = 0, so score = 0.6·75 + 0.3·100 = 75.
// Table tests change it to put one rule at its boundary.
func baseInput() Input {
	return Input{
		Period:      testPeriod,
		Companies:   []Company{{ID: "C1", Name: "一号物业"}},
		Estates:     []Estate{{ID: "E1", Name: "一号小区", District: "D1", Company: "C1", Households: 100}},
		Tallies:     []Tally{uniform("E1", 10, 4)},
		Disclosures: onTime("E1"),
	}
}

func mustScore(t testing.TB, in Input) *Result {
	t.Helper()
	res, err := Score(Default(), in)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	return res
}

// outcome is what most rule tests check of a company's grade.
type outcome struct {
	Score      Fixed
	Grade      string
	List       string
	Components Components
}

func outcomeOf(t testing.TB, res *Result, company string) outcome {
	t.Helper()
	g := res.Grade(company)
	if g == nil {
		t.Fatalf("company %s was not graded", company)
	}
	return outcome{g.Score, g.Grade, g.List, g.Components}
}

func timeHours(n int) time.Duration { return time.Duration(n) * time.Hour }
