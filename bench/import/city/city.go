// Package city turns the synthetic city of scoring/scoringtest into propcredit's domain records,
// so that the import and scoring benchmarks load the same city the scoring engine's benchmark
// scores. Like scoringtest, it is fully determined by its arguments.
package city

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/scoring"
	"github.com/propcredit/propcredit/scoring/scoringtest"
)

// Seed is the seed of every benchmark city, the one scoring's BenchmarkScoreLargeCity uses.
const Seed = 2026

// Period is the one period of the city.
var Period = domain.Period{
	ID:                 scoringtest.Period.ID,
	Start:              scoringtest.Period.Start.String(),
	End:                scoringtest.Period.End.String(),
	DisclosureDeadline: scoringtest.Period.DisclosureDeadline.String(),
}

// Size is how big a city is.
type Size struct {
	Companies, Estates, Ratings, Disclosures, Events int
}

// Issue is the city of the performance targets: 5,000 companies, 20,000 estates, 2,000,000
// counted ratings, 80,000 disclosures and 10,000 credit records.
var Issue = Size{Companies: 5000, Estates: 20000, Ratings: 2_000_000, Disclosures: 80_000, Events: 10_000}

// OfLines returns a city in the proportions of Issue with about lines records in all (one
// interchange line each).
func OfLines(lines int) Size {
	// Per 2,000,000 ratings Issue has 115,000 other records and about 4,000 governance records.
	ratings := int(int64(lines) * 2_000_000 / 2_119_000)
	return Size{
		Companies:   max(1, ratings/400),
		Estates:     max(1, ratings/100),
		Ratings:     ratings,
		Disclosures: max(1, ratings/100) * 4, // each estate files its four categories once
		Events:      ratings / 200,
	}
}

// Input is the city as the scoring engine's input: tallies rather than ratings.
func (s Size) Input() scoring.Input {
	return scoringtest.GenerateCity(Seed, s.Companies, s.Estates, s.Ratings, s.Disclosures, s.Events)
}

// Dataset is the city as records, ratings included when withRatings is set.
func (s Size) Dataset(withRatings bool) *domain.Dataset {
	in := s.Input()
	ds := &domain.Dataset{Periods: []domain.Period{Period}}
	districts := map[string]bool{}
	for _, e := range in.Estates {
		if !districts[e.District] {
			districts[e.District] = true
			ds.Districts = append(ds.Districts, domain.District{ID: e.District, Name: "合成区" + e.District})
		}
	}
	for _, c := range in.Companies {
		ds.Companies = append(ds.Companies, domain.Company{ID: c.ID, Name: c.Name})
	}
	for i, e := range in.Estates {
		ds.Estates = append(ds.Estates, domain.Estate{ID: e.ID, Name: e.Name, District: e.District,
			Company: e.Company, Households: e.Households, Category: domain.EstateCategories[i%len(domain.EstateCategories)]})
	}
	for i, d := range in.Disclosures {
		ds.Disclosures = append(ds.Disclosures, domain.Disclosure{Period: Period.ID, Estate: d.Estate,
			Category: d.Category, FiledAt: d.FiledAt, Status: d.Status, Data: disclosureData(i)})
	}
	for _, g := range in.Governance {
		ds.Governance = append(ds.Governance, domain.Governance{Period: Period.ID, Company: g.Company,
			PartyOrg: g.PartyOrg, PartyInstructor: g.PartyInstructor, JointMechanism: g.JointMechanism})
	}
	for _, ev := range in.Events {
		de := domain.Event{ID: ev.ID, Company: ev.Company, Kind: ev.Kind, Points: decimal(ev.Points),
			Veto: ev.Veto, Date: ev.Date.String(), ValidDays: ev.ValidDays, Description: ev.Description}
		if ev.RepairedOn != nil {
			de.RepairedOn = ev.RepairedOn.String()
		}
		ds.Events = append(ds.Events, de)
	}
	if withRatings {
		ds.Ratings = make([]domain.Rating, 0, s.Ratings)
		for r := range scoringtest.GenerateRatings(Seed, s.Companies, s.Estates, s.Ratings) {
			ds.Ratings = append(ds.Ratings, Rating(r))
		}
	}
	return ds
}

// Rating converts one of scoringtest's ratings. About one in fifteen has a comment, as in the
// demo city, so that documents have a realistic size.
func Rating(r scoring.Rating) domain.Rating {
	out := domain.Rating{Period: Period.ID, Estate: r.Estate, Household: r.Household,
		SubmittedAt: r.SubmittedAt, Scores: domain.ScoresOf(r.Scores)}
	if r.Seq%15 == 0 {
		out.Comment = "电梯维修不及时，楼道灯坏了两周才修"
	}
	return out
}

// disclosureData is a small figures object of the size the demo city files.
func disclosureData(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"standard_fen_per_m2":%d,"area_m2":%d,"receivable_fen":%d,"collected_fen":%d,"spent_fen":%d}`,
		150+i%200, 10000+i%50000, 9000000+i, 8500000+i, 7300000+i))
}

// decimal writes an exact number of points as the interchange format's decimal ("12.25", "2").
func decimal(r *big.Rat) string {
	s := r.FloatString(2)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
