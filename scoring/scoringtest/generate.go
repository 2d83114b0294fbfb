// Package scoringtest makes synthetic cities for benchmarks and end-to-end tests of the scoring
// engine. A city is fully determined by its arguments, so two engineers (or a benchmark and a
// database load) who pass the same ones get the same city.
package scoringtest

import (
	"fmt"
	"iter"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/propcredit/propcredit/scoring"
)

// Period is the period of every generated city.
var Period = scoring.Period{
	ID:                 "2026Q4",
	Start:              scoring.MustParseDate("2026-10-01"),
	End:                scoring.MustParseDate("2026-12-31"),
	DisclosureDeadline: scoring.MustParseDate("2026-11-15"),
}

var cst = time.FixedZone("+08:00", 8*3600)

// GenerateCity makes a city with the given numbers of companies, estates, counted ratings (as
// tallies), disclosure records and credit records. Every company manages at least one estate when
// there are at least as many estates as companies; about 5% of estates have no ratings; disclosures
// fill estates' four categories in turn (more than four per estate are re-filings); every
// company but about one in five has a governance record. Generation uses only integer
// arithmetic, so it is the same on every machine.
func GenerateCity(seed uint64, companies, estates, ratings, disclosures, events int) scoring.Input {
	g := newLayout(seed, companies, estates, ratings)
	in := scoring.Input{
		Period:      Period,
		Companies:   g.companies,
		Estates:     g.estates,
		Tallies:     make([]scoring.Tally, 0, len(g.estates)),
		Disclosures: generateDisclosures(seed, g.estates, disclosures),
		Governance:  generateGovernance(seed, g.companies),
		Events:      generateEvents(seed, g.companies, events),
	}
	for e := range g.estates {
		t := scoring.Tally{Estate: g.estates[e].ID}
		for scores := range g.ratingsOf(e) {
			t.Ratings++
			for d, s := range scores.Scores {
				t.Sums[d] += int64(s)
			}
		}
		if t.Ratings > 0 {
			in.Tallies = append(in.Tallies, t)
		}
	}
	return in
}

// GenerateRatings yields, one by one, the individual ratings behind the tallies of the city that
// GenerateCity makes with the same arguments: scoring.TallyRatings of them equals its Tallies.
// It is for loading the city into a database; generating 2,000,000 ratings takes about half a
// second.
func GenerateRatings(seed uint64, companies, estates, ratings int) iter.Seq[scoring.Rating] {
	return func(yield func(scoring.Rating) bool) {
		g := newLayout(seed, companies, estates, ratings)
		var seq int64
		for e := range g.estates {
			for r := range g.ratingsOf(e) {
				seq++
				r.Seq = seq
				if !yield(r) {
					return
				}
			}
		}
	}
}

// layout is the part of a city that its ratings depend on.
type layout struct {
	seed      uint64
	companies []scoring.Company
	estates   []scoring.Estate
	counts    []int64 // ratings per estate
	quality   []int   // per estate, in tenths of a star: its ratings' scores gather around it
}

func newLayout(seed uint64, companies, estates, ratings int) *layout {
	if estates > 0 && companies < 1 {
		panic("scoringtest: estates need at least one company to manage them")
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	g := &layout{seed: seed}
	for i := range companies {
		g.companies = append(g.companies, scoring.Company{
			ID:   fmt.Sprintf("91370600%010d", i+1), // 18 characters, like a unified social credit code
			Name: fmt.Sprintf("合成物业服务有限公司%05d", i+1),
		})
	}
	weights := make([]int64, estates)
	var total int64
	for i := range estates {
		company := i // the first estates give every company one
		if i >= companies {
			// The smaller of two draws skews the rest towards low-numbered companies, so that
			// some companies manage many estates, as in a real city.
			company = min(rng.IntN(companies), rng.IntN(companies))
		}
		households := 50 + rng.IntN(2950)
		g.estates = append(g.estates, scoring.Estate{
			ID:         fmt.Sprintf("E%07d", i+1),
			Name:       fmt.Sprintf("合成小区%07d", i+1),
			District:   fmt.Sprintf("D%02d", 1+rng.IntN(12)),
			Company:    g.companies[company].ID,
			Households: households,
		})
		g.quality = append(g.quality, 20+rng.IntN(29)) // 2.0 to 4.8 stars
		if rng.IntN(20) != 0 {                         // one estate in twenty has no ratings
			weights[i] = int64(households) * int64(20+rng.IntN(81))
			total += weights[i]
		}
	}
	// Share the ratings out in proportion to the weights, the remainder one by one.
	g.counts = make([]int64, estates)
	left := int64(ratings)
	for i, w := range weights {
		if total > 0 {
			g.counts[i] = int64(ratings) * w / total
			left -= g.counts[i]
		}
	}
	for i := 0; left > 0 && total > 0; i = (i + 1) % estates {
		if weights[i] > 0 {
			g.counts[i]++
			left--
		}
	}
	return g
}

// ratingsOf yields estate e's ratings, one per household, without Seq. Each estate has its own
// random stream, so GenerateCity and GenerateRatings draw the same scores.
func (g *layout) ratingsOf(e int) iter.Seq[scoring.Rating] {
	return func(yield func(scoring.Rating) bool) {
		rng := rand.New(rand.NewPCG(g.seed, uint64(e)+1<<32))
		periodMinutes := int(Period.End.Start(cst).Sub(Period.Start.Start(cst)).Minutes()) + 24*60
		for j := range g.counts[e] {
			var r scoring.Rating
			for d := range r.Scores {
				// quality ± 1 star, rounded to the nearest star, kept within 1-5
				r.Scores[d] = min(5, max(1, (g.quality[e]+rng.IntN(21)-10+5)/10))
			}
			r.Estate = g.estates[e].ID
			r.Household = fmt.Sprintf("%d-%d-%d", j/200+1, j/50%4+1, j%50+101)
			r.SubmittedAt = Period.Start.Start(cst).Add(time.Duration(rng.IntN(periodMinutes)) * time.Minute)
			if !yield(r) {
				return
			}
		}
	}
}

func generateDisclosures(seed uint64, estates []scoring.Estate, n int) []scoring.Disclosure {
	if len(estates) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	deadlineEnd := Period.DisclosureDeadline.AddDays(1).Start(cst)
	out := make([]scoring.Disclosure, 0, n)
	slots := len(estates) * len(scoring.Categories)
	for i := range n {
		slot := i % slots
		var filed time.Time
		switch p := rng.IntN(100); {
		case p < 75: // on time: up to 40 days before the deadline day ends
			filed = deadlineEnd.Add(-time.Duration(1+rng.IntN(40*24*3600)) * time.Second)
		case p < 90: // within the 30 grace days
			filed = deadlineEnd.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second)
		default: // late
			filed = deadlineEnd.Add(time.Duration(30*24*3600+rng.IntN(60*24*3600)) * time.Second)
		}
		if i >= slots { // a re-filing comes after the first
			filed = filed.Add(90 * 24 * time.Hour)
		}
		status := scoring.StatusVerified
		switch p := rng.IntN(100); {
		case p < 7:
			status = scoring.StatusRejected
		case p < 15:
			status = scoring.StatusPending
		}
		out = append(out, scoring.Disclosure{
			Estate:   estates[slot/len(scoring.Categories)].ID,
			Category: scoring.Categories[slot%len(scoring.Categories)].ID,
			FiledAt:  filed,
			Status:   status,
		})
	}
	return out
}

func generateGovernance(seed uint64, companies []scoring.Company) []scoring.Governance {
	rng := rand.New(rand.NewPCG(seed, 3))
	var out []scoring.Governance
	for _, c := range companies {
		if rng.IntN(5) == 0 {
			continue
		}
		out = append(out, scoring.Governance{
			Company:         c.ID,
			PartyOrg:        rng.IntN(10) < 7,
			PartyInstructor: rng.IntN(10) < 5,
			JointMechanism:  rng.IntN(10) < 6,
		})
	}
	return out
}

var pointChoices = []string{"0.5", "1", "1.5", "2", "2.5", "3", "5", "8", "10", "12.25"}

func generateEvents(seed uint64, companies []scoring.Company, n int) []scoring.Event {
	if len(companies) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 4))
	out := make([]scoring.Event, 0, n)
	for i := range n {
		ev := scoring.Event{
			ID:      fmt.Sprintf("EV%07d", i+1),
			Company: companies[rng.IntN(len(companies))].ID,
			Kind:    scoring.KindGood,
			Points:  new(big.Rat),
			// from 500 days before the period's end to 30 days after it
			Date: Period.End.AddDays(30 - rng.IntN(531)),
		}
		ev.Points.SetString(pointChoices[rng.IntN(len(pointChoices))])
		if rng.IntN(2) == 0 {
			ev.Kind = scoring.KindBad
			ev.Veto = rng.IntN(50) == 0
			ev.Description = "合成不良记录"
		} else {
			ev.Description = "合成优良记录"
		}
		if rng.IntN(10) < 3 {
			ev.ValidDays = []int{90, 180, 730}[rng.IntN(3)]
		}
		if rng.IntN(10) == 0 {
			repaired := ev.Date.AddDays(1 + rng.IntN(400))
			ev.RepairedOn = &repaired
		}
		out = append(out, ev)
	}
	return out
}
