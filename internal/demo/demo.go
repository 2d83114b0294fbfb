// Package demo generates a plausible, fictional city for demonstrations and tests: districts,
// property companies, estates, two quarterly periods with owners' ratings, cost disclosures,
// party-building governance and credit records.
//
// The city is built so that scoring it is interesting: each company has a latent quality that
// drives everything about it, so some companies are clearly good (red list) and some clearly
// bad (black list, one of them for a one-vote-veto offence).
//
// Generate is deterministic in (seed, today's civil date). Every part draws from its own
// random stream, named after what it generates, so that the city itself (districts,
// companies, estates) is the same on every day, and the closed period's ratings and
// disclosures are the same on every day of the quarter that follows it.
//
// With DefaultSeed on 2026-11-23: 5 districts, 40 companies, 150 estates, periods 2026Q3
// (closed) and 2026Q4 (open), 21,571 ratings, 1,142 disclosures, 80 governance records and
// 60 credit records. Generate takes about 40 ms.
package demo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
)

// DefaultSeed is the seed the demo city is built from unless told otherwise.
const DefaultSeed = 42

const (
	companyCount = 40
	estateCount  = 150
	maxEstates   = 10 // a company manages 1 to maxEstates estates

	// disclosureDeadlineDay is the day of a period's first month by which its disclosures are
	// due: the bureau's usual practice is to disclose within the first half-month, so
	// 2026Q4's deadline is 2026-10-15 (the end of the 15th day, counting the start as day 1).
	disclosureDeadlineDay = 15

	// maxRatings keeps the demo quick to load. With the participation below the city
	// produces 15,000-25,000 ratings in most of a quarter (fewer in its first weeks); near a
	// quarter's end the open period's counts are scaled down to stay under the cap.
	maxRatings = 25000

	goodEventCount      = 32
	randomBadEventCount = 24 // besides the two vetoes and one in-force record per bad company
)

// tier is a company's quality class; the quality itself is a number within the tier's range.
type tier int

const (
	excellent tier = iota
	average
	poor
	bad
)

var tierQuality = [...][2]float64{excellent: {0.9, 1}, average: {0.45, 0.8}, poor: {0.2, 0.4}, bad: {0, 0.15}}

// tierCounts says how many companies of each tier the city has; the rest are average.
var tierCounts = [...]int{excellent: 7, poor: 8, bad: 4}

// company is what the generator knows about a company beyond its record.
type company struct {
	tier    tier
	quality float64    // 0 (bad) .. 1 (excellent)
	bias    [6]float64 // how owners rate each dimension relative to the company's mean
	home    int        // the district most of its estates are in
	estates []int      // indexes into generator.estates
}

// estate is what the generator knows about an estate beyond its record.
type estate struct {
	company       int
	meanScore     float64    // the latent mean of its owners' dimension scores
	participation [2]float64 // share of households that rate, per period
	layout        layout
	flatArea      int   // m² per flat
	feeStandard   int   // property fee, fen per m² per month
	fund          int64 // maintenance fund balance in fen, carried from period to period
	parkingSpaces int
}

// layout describes an estate's buildings, from which household codes like 3-2-1201 follow.
type layout struct{ units, floors, flatsPerFloor int }

// household returns the code of the i-th flat: building-unit-floor and flat number.
func (l layout) household(i int) string {
	perFloor := l.flatsPerFloor
	perUnit := l.floors * perFloor
	perBuilding := l.units * perUnit
	building, rest := i/perBuilding+1, i%perBuilding
	unit, rest := rest/perUnit+1, rest%perUnit
	floor, flat := rest/perFloor+1, rest%perFloor+1
	return fmt.Sprintf("%d-%d-%d%02d", building, unit, floor, flat)
}

// period is a domain.Period with its dates as times (midnight in domain.Zone).
type period struct {
	domain.Period
	start, end time.Time
	days       int // length in days
	openDays   int // days on which records can have been made: all, or those before today
}

type generator struct {
	seed       int64
	todayStart time.Time // midnight starting today's civil date in domain.Zone
	periods    [2]period // the closed one, then the open one that contains today
	companies  []company
	estates    []estate
	ds         *domain.Dataset
}

// Generate builds the demo city for seed, as of today's civil date in domain.Zone: the
// quarter containing today is open for ratings, the one before is closed. Records are
// dated before today (midnight starting it), so none is in the future at any time of day.
func Generate(seed int64, today time.Time) *domain.Dataset {
	g := &generator{seed: seed, ds: &domain.Dataset{}}
	local := today.In(domain.Zone)
	g.todayStart = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, domain.Zone)
	g.makePeriods()
	g.makeCity()
	g.makeRatings()
	g.makeDisclosures()
	g.makeGovernance()
	g.makeEvents()
	return g.ds
}

// stream returns a random source for one named part of the city, so that parts do not
// shift each other when one of them changes.
func (g *generator) stream(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(g.seed), h.Sum64()))
}

func (g *generator) makePeriods() {
	local := g.todayStart
	current := time.Date(local.Year(), (local.Month()-1)/3*3+1, 1, 0, 0, 0, 0, domain.Zone)
	previous := current.AddDate(0, -3, 0)
	for i, start := range []time.Time{previous, current} {
		end := start.AddDate(0, 3, -1)
		deadline := start.AddDate(0, 0, disclosureDeadlineDay-1)
		p := period{
			Period: domain.Period{
				ID:                 fmt.Sprintf("%dQ%d", start.Year(), (int(start.Month())-1)/3+1),
				Start:              start.Format(domain.DateLayout),
				End:                end.Format(domain.DateLayout),
				DisclosureDeadline: deadline.Format(domain.DateLayout),
			},
			start: start,
			end:   end,
			days:  daysBetween(start, end) + 1,
		}
		p.openDays = min(p.days, daysBetween(start, g.todayStart))
		g.periods[i] = p
		g.ds.Periods = append(g.ds.Periods, p.Period)
	}
}

// makeCity makes the districts, companies and estates, which depend on the seed alone.
func (g *generator) makeCity() {
	r := g.stream("city")
	for i, name := range districtNames {
		g.ds.Districts = append(g.ds.Districts, domain.District{ID: fmt.Sprintf("d%02d", i+1), Name: name})
	}

	tiers := make([]tier, 0, companyCount)
	for t, n := range tierCounts {
		tiers = append(tiers, slices.Repeat([]tier{tier(t)}, n)...)
	}
	for len(tiers) < companyCount {
		tiers = append(tiers, average)
	}
	r.Shuffle(len(tiers), func(i, j int) { tiers[i], tiers[j] = tiers[j], tiers[i] })

	brands := slices.Clone(companyBrands)
	r.Shuffle(len(brands), func(i, j int) { brands[i], brands[j] = brands[j], brands[i] })
	escaping := r.IntN(companyCount)
	usedIDs := map[string]bool{}
	for i := range companyCount {
		c := company{tier: tiers[i], home: r.IntN(len(districtNames))}
		q := tierQuality[c.tier]
		c.quality = q[0] + (q[1]-q[0])*r.Float64()
		for d := range c.bias {
			c.bias[d] = 0.2 * r.NormFloat64()
		}
		c.bias[5] -= 0.5 * (1 - c.quality) // poor companies are least open about money
		name := fmt.Sprintf(pick(r, companyNameFormats), City, districtNames[c.home], brands[i], cityShort)
		if i == escaping {
			name = escapingCompanyName
		}
		id := newUSCC(r)
		for usedIDs[id] {
			id = newUSCC(r)
		}
		usedIDs[id] = true
		g.companies = append(g.companies, c)
		g.ds.Companies = append(g.ds.Companies, domain.Company{ID: id, Name: name})
	}

	usedNames := map[string]bool{}
	for i, ci := range estateManagers(r) {
		c := &g.companies[ci]
		district := c.home
		if r.Float64() < 0.4 {
			district = r.IntN(len(districtNames))
		}
		category := pickWeighted(r, domain.EstateCategories, []float64{70, 10, 12, 8})
		name := estateName(r, category)
		for usedNames[name] {
			name = estateName(r, category)
		}
		usedNames[name] = true
		e, households := newEstate(r, category)
		e.company = ci
		e.meanScore = 1.7 + 3*c.quality + 0.2*r.NormFloat64()
		if category == "old" || category == "urban_village" {
			e.meanScore -= 0.25 // worn-out buildings drag every mark down a little
		}
		c.estates = append(c.estates, i)
		g.estates = append(g.estates, e)
		g.ds.Estates = append(g.ds.Estates, domain.Estate{
			ID:         fmt.Sprintf("e%03d", i+1),
			Name:       name,
			District:   g.ds.Districts[district].ID,
			Company:    g.ds.Companies[ci].ID,
			Households: households,
			Category:   category,
		})
	}
}

// estateManagers returns the managing company of each estate: every company manages at least
// one, and the rest go mostly to a few large companies (a Zipf-like share, capped).
func estateManagers(r *rand.Rand) []int {
	counts := make([]int, companyCount)
	weights := make([]float64, companyCount)
	for i, rank := range r.Perm(companyCount) {
		counts[i] = 1
		weights[i] = 1 / float64(rank+1)
	}
	companies := seq(companyCount)
	for range estateCount - companyCount {
		for {
			i := pickWeighted(r, companies, weights)
			if counts[i] < maxEstates {
				counts[i]++
				break
			}
		}
	}
	var managers []int
	for i, n := range counts {
		for range n {
			managers = append(managers, i)
		}
	}
	r.Shuffle(len(managers), func(i, j int) { managers[i], managers[j] = managers[j], managers[i] })
	return managers
}

func estateName(r *rand.Rand, category string) string {
	switch category {
	case "unit":
		return pick(r, unitOrgs) + pick(r, unitSuffixes)
	case "old":
		return pick(r, oldPrefixes) + pick(r, oldSuffixes)
	case "urban_village":
		return pick(r, villages) + pick(r, villageSuffixes)
	default:
		return pick(r, commodityPrefixes) + pick(r, commoditySuffixes)
	}
}

// estateShape is how the estates of a category are drawn: each a range [lo, hi], drawn
// uniformly (households log-skewed by skew when it is not 0); a range with lo == hi is that
// value, and draws nothing.
type estateShape struct {
	households                   [2]int
	skew                         float64
	units, floors, flatsPerFloor [2]int
	flatArea, feeStandard        [2]int
	fundPerM2, parkingPercent    [2]int // the fund per m² of floor area; parking spaces per 100 households
}

// estateShapes differ a lot between a new commodity estate and a factory's old staff quarters.
var estateShapes = map[string]estateShape{
	"commodity": {households: [2]int{120, 3000}, skew: 1.5, units: [2]int{1, 2}, floors: [2]int{11, 33}, flatsPerFloor: [2]int{2, 4},
		flatArea: [2]int{75, 130}, feeStandard: [2]int{150, 450}, fundPerM2: [2]int{3000, 8000}, parkingPercent: [2]int{40, 120}},
	"unit": {households: [2]int{80, 400}, units: [2]int{2, 3}, floors: [2]int{5, 7}, flatsPerFloor: [2]int{2, 2},
		flatArea: [2]int{55, 80}, feeStandard: [2]int{60, 150}, fundPerM2: [2]int{500, 2000}, parkingPercent: [2]int{10, 30}},
	"old": {households: [2]int{80, 600}, units: [2]int{1, 3}, floors: [2]int{6, 7}, flatsPerFloor: [2]int{2, 2},
		flatArea: [2]int{45, 70}, feeStandard: [2]int{30, 80}, fundPerM2: [2]int{0, 500}, parkingPercent: [2]int{0, 15}},
	// Urban villages: dense hand-shake buildings, mostly rented out.
	"urban_village": {households: [2]int{150, 1200}, units: [2]int{1, 1}, floors: [2]int{6, 9}, flatsPerFloor: [2]int{4, 6},
		flatArea: [2]int{30, 60}, feeStandard: [2]int{50, 120}, fundPerM2: [2]int{0, 300}, parkingPercent: [2]int{5, 20}},
}

// draw draws from the range [lo, hi] of an estateShape.
func draw(r *rand.Rand, span [2]int) int {
	if span[0] == span[1] {
		return span[0]
	}
	return between(r, span[0], span[1])
}

// newEstate draws an estate's size and buildings, fees, maintenance fund and parking by the
// shape of its category (an unknown one is an urban village).
func newEstate(r *rand.Rand, category string) (estate, int) {
	shape, ok := estateShapes[category]
	if !ok {
		shape = estateShapes["urban_village"]
	}
	var e estate
	var households int
	if shape.skew != 0 {
		households = skewedLog(r, shape.households[0], shape.households[1], shape.skew)
	} else {
		households = draw(r, shape.households)
	}
	e.layout = layout{units: draw(r, shape.units), floors: draw(r, shape.floors), flatsPerFloor: draw(r, shape.flatsPerFloor)}
	e.flatArea = draw(r, shape.flatArea)
	e.feeStandard = draw(r, shape.feeStandard)
	e.fund = int64(households*e.flatArea) * int64(draw(r, shape.fundPerM2))
	e.parkingSpaces = households * draw(r, shape.parkingPercent) / 100
	for p := range e.participation {
		u := r.Float64()
		e.participation[p] = 0.05 + 0.35*u*u*u // 5-40%, most estates at the low end
	}
	return e, households
}

// makeRatings makes each estate's ratings in each period: a share of its households, spread
// over the days of the period that have passed.
func (g *generator) makeRatings() {
	budget := maxRatings
	for p, per := range g.periods {
		counts := make([]int, len(g.estates))
		total := 0
		for i, e := range g.estates {
			share := e.participation[p] * float64(per.openDays) / float64(per.days)
			counts[i] = int(math.Round(float64(g.ds.Estates[i].Households) * share))
			total += counts[i]
		}
		// The cap falls on the open period first, so the closed one stays the same all quarter.
		if total > budget {
			for i := range counts {
				counts[i] = counts[i] * budget / total
			}
		}
		for i, e := range g.estates {
			g.rateEstate(per, i, e, counts[i])
			budget -= counts[i]
		}
	}
}

// rateEstate makes n ratings of estate i in period per, by distinct households.
func (g *generator) rateEstate(per period, i int, e estate, n int) {
	rec := g.ds.Estates[i]
	r := g.stream("ratings|" + per.ID + "|" + rec.ID)
	flats := r.Perm(rec.Households)[:n]
	times := make([]time.Time, n)
	for k := range times {
		times[k] = randomTime(r, per.start, per.openDays, 7, 23)
	}
	slices.SortFunc(times, time.Time.Compare)
	bias := g.companies[e.company].bias
	for k := range n {
		scores := rateScores(r, e.meanScore, bias)
		g.ds.Ratings = append(g.ds.Ratings, domain.Rating{
			Period:      per.ID,
			Estate:      rec.ID,
			Household:   e.layout.household(flats[k]),
			SubmittedAt: times[k],
			Scores:      scores,
			Comment:     comment(r, scores),
		})
	}
}

// rateScores draws one owner's six marks: the estate's mean, the company's strengths and
// weaknesses, the owner's mood (shared by all six) and some noise.
func rateScores(r *rand.Rand, mean float64, bias [6]float64) domain.Scores {
	mood := 0.5 * r.NormFloat64()
	var s [6]int
	for d := range s {
		v := math.Round(mean + bias[d] + mood + 0.55*r.NormFloat64())
		s[d] = int(min(5, max(1, v)))
	}
	return domain.Scores{Service: s[0], Security: s[1], Cleaning: s[2], Greening: s[3], Maintenance: s[4], Transparency: s[5]}
}

// comment returns a comment for about one rating in fourteen, in the tone of its scores.
func comment(r *rand.Rand, s domain.Scores) string {
	if r.Float64() >= 0.07 {
		return ""
	}
	sum := 0
	for _, v := range s.Array() {
		sum += v
	}
	switch {
	case sum >= 24: // a mean of 4 or more
		return pick(r, positiveComments)
	case sum <= 15: // a mean of 2.5 or less
		return pick(r, negativeComments)
	default:
		return pick(r, neutralComments)
	}
}

// makeDisclosures makes each estate's four disclosures in each period. A company's quality
// decides how often it files late, not at all, or gets rejected. Periods go in order because
// the maintenance fund's balance carries over.
func (g *generator) makeDisclosures() {
	for p, per := range g.periods {
		open := p == len(g.periods)-1
		// Reviewers finish nearly everything before a period closes, leaving a few pending
		// disclosures for the engine to warn about.
		stillPending := 0.01
		if open {
			stillPending = 0.15
		}
		for i := range g.estates {
			e := &g.estates[i]
			rec := g.ds.Estates[i]
			r := g.stream("disclosures|" + per.ID + "|" + rec.ID)
			slack := 1 - g.companies[e.company].quality
			data := e.disclosureData(r, rec.Households, slack)
			for _, category := range domain.DisclosureCategories {
				filedAt, ok := fileDate(r, per, slack)
				if !ok || !filedAt.Before(g.todayStart) {
					continue // missing, or not filed yet
				}
				status := domain.StatusVerified
				switch u := r.Float64(); {
				case open && filedAt.After(g.todayStart.AddDate(0, 0, -10)):
					status = domain.StatusPending // reviewers have not got to it yet
				case u < 0.1*slack*slack:
					status = domain.StatusRejected
				case u < 0.1*slack*slack+stillPending:
					status = domain.StatusPending
				}
				g.ds.Disclosures = append(g.ds.Disclosures, domain.Disclosure{
					Period:   per.ID,
					Estate:   rec.ID,
					Category: category,
					FiledAt:  filedAt,
					Status:   status,
					Data:     data[category],
				})
			}
		}
	}
}

// fileDate draws when a disclosure was filed: on time, within 30 days after the deadline,
// later, or never (false). slack (0 = the best company) makes the bad outcomes likelier.
func fileDate(r *rand.Rand, per period, slack float64) (time.Time, bool) {
	u := r.Float64()
	missing, veryLate, late := 0.12*slack*slack, 0.1*slack, 0.25*slack
	lastDay := per.days - 1
	var day int // days after the period's start
	switch {
	case u < missing:
		return time.Time{}, false
	case u < missing+veryLate:
		day = between(r, disclosureDeadlineDay+30, lastDay)
	case u < missing+veryLate+late:
		day = between(r, disclosureDeadlineDay, disclosureDeadlineDay+29)
	default:
		day = between(r, 0, disclosureDeadlineDay-1)
	}
	return randomTime(r, per.start.AddDate(0, 0, day), 1, 9, 18), true
}

// disclosureData draws one period's figures for the estate, in the form that companies file
// (package disclosure), and moves its fund balance on. A sloppy company sometimes charges
// owners more for shared utilities than the meters' bills, or files spending that does not
// add up: the reviewers' checks point these out.
func (e *estate) disclosureData(r *rand.Rand, households int, slack float64) map[string]json.RawMessage {
	hh := int64(households)
	fen := func(x int64) disclosure.Fen { return disclosure.Fen(x) }
	sloppy := func(p float64) bool { return r.Float64() < p*slack }

	utilities := &disclosure.UtilitiesData{}
	for _, kind := range []string{disclosure.Water, disclosure.Electricity} {
		perHousehold := between(r, 300, 900)
		if kind == disclosure.Electricity {
			perHousehold = between(r, 800, 2500)
		}
		bill := hh * int64(perHousehold)
		utilities.Bills = append(utilities.Bills, disclosure.Bill{Kind: kind, Name: billNames[kind], AmountFen: fen(bill)})
		allocated := bill
		if sloppy(0.15) {
			allocated += bill * int64(between(r, 1, 8)) / 100
		}
		// Split among the buildings, the last taking what is left.
		buildings := min(max(households/120, 2), 6)
		left := allocated
		for b := 1; b <= buildings; b++ {
			part := left
			if b < buildings {
				part = allocated / int64(buildings)
			}
			left -= part
			utilities.Allocations = append(utilities.Allocations, disclosure.Allocation{Kind: kind, Group: fmt.Sprintf("%d号楼", b), AmountFen: fen(part)})
		}
	}

	area := households * e.flatArea
	collected := int64(area) * int64(e.feeStandard) * 3 * int64(between(r, 75, 98)) / 100
	spent := collected * int64(between(r, 85, 105)) / 100
	fees := &disclosure.FeesData{StandardFen: fen(int64(e.feeStandard)), CollectedFen: fen(collected), SpentFen: fen(spent),
		Spending: splitLines(r, spent, feePurposes)}
	if sloppy(0.3) {
		fees.Spending = fees.Spending[:len(fees.Spending)-1] // a purpose left out: the lines fall short
	}

	fund := &disclosure.FundData{OpeningFen: fen(e.fund), DepositsFen: fen(int64(area) * int64(between(r, 0, 40))), Withdrawals: []disclosure.Line{}}
	if r.Float64() < 0.3 {
		w := r.Int64N(e.fund/10 + 1)
		fund.WithdrawalsFen = fen(w)
		if w > 0 {
			fund.Withdrawals = splitLines(r, w, fundPurposes[:between(r, 1, len(fundPurposes))])
		}
	}
	fund.InterestFen = fen(e.fund * 35 / 10000) // about 1.4% a year
	fund.ClosingFen = fund.OpeningFen + fund.DepositsFen - fund.WithdrawalsFen + fund.InterestFen
	e.fund = int64(fund.ClosingFen)

	spaces := e.parkingSpaces
	rented := spaces * between(r, 60, 95) / 100
	parking := &disclosure.ParkingData{Spaces: disclosure.Spaces{Total: spaces, Rented: rented, Temporary: spaces - rented}}
	for _, in := range []struct {
		source string
		fen    int64
	}{
		{"车位租金", int64(rented) * int64(between(r, 150, 400)) * 100 * 3},
		{"临时停车费", int64(spaces) * int64(between(r, 2000, 8000))},
		{"充电桩服务费", int64(spaces) * int64(between(r, 0, 1500))},
	} {
		if in.fen > 0 {
			parking.Income = append(parking.Income, disclosure.IncomeLine{Source: in.source, AmountFen: fen(in.fen)})
			parking.IncomeFen += fen(in.fen)
		}
	}
	income := int64(parking.IncomeFen)
	expense := income * int64(between(r, 30, 60)) / 100
	parking.Uses = []disclosure.Use{
		{Kind: disclosure.Expense, Purpose: "停车场管理与保洁", AmountFen: fen(expense)},
		{Kind: disclosure.OwnersShare, Purpose: "存入业主共有资金账户", AmountFen: fen(income - expense)},
	}
	if sloppy(0.3) {
		parking.Uses = parking.Uses[:1] // the owners' share goes unreported
	}

	return map[string]json.RawMessage{
		disclosure.Utilities:       disclosure.Marshal(utilities),
		disclosure.Fees:            disclosure.Marshal(fees),
		disclosure.MaintenanceFund: disclosure.Marshal(fund),
		disclosure.Parking:         disclosure.Marshal(parking),
	}
}

var (
	billNames    = map[string]string{disclosure.Water: "公共区域总水表", disclosure.Electricity: "公共区域总电表"}
	feePurposes  = []string{"人员工资及福利", "公共区域清洁", "绿化养护", "秩序维护", "共用设施设备日常运行维护", "办公及管理费用"}
	fundPurposes = []string{"电梯维修更换", "屋面防水维修", "消防设施维修", "外墙维修"}
)

// splitLines divides total fen among purposes in random shares that add up to it exactly.
func splitLines(r *rand.Rand, total int64, purposes []string) []disclosure.Line {
	weights := make([]int64, len(purposes))
	var sum int64
	for i := range weights {
		weights[i] = int64(between(r, 1, 10))
		sum += weights[i]
	}
	lines := make([]disclosure.Line, len(purposes))
	left := total
	for i, p := range purposes {
		part := total * weights[i] / sum
		if i == len(purposes)-1 {
			part = left
		}
		left -= part
		lines[i] = disclosure.Line{Purpose: p, AmountFen: disclosure.Fen(part)}
	}
	return lines
}

// makeGovernance records each company's party building in both periods; better companies
// have more of it, and a company that had something keeps it.
func (g *generator) makeGovernance() {
	r := g.stream("governance")
	for i, c := range g.companies {
		q := c.quality
		has := [3]bool{r.Float64() < 0.2+0.75*q, r.Float64() < 0.1+0.8*q, r.Float64() < 0.2+0.7*q}
		for _, per := range g.periods {
			g.ds.Governance = append(g.ds.Governance, domain.Governance{
				Period:          per.ID,
				Company:         g.ds.Companies[i].ID,
				PartyOrg:        has[0],
				PartyInstructor: has[1],
				JointMechanism:  has[2],
			})
			for k := range has {
				has[k] = has[k] || r.Float64() < 0.15 // some improve in the next period
			}
		}
	}
}

// makeEvents makes about 60 credit records over the two years before today. Every bad
// company has a bad record in force in both periods, two of them for a veto offence, so the
// black list has entries; excellent companies' bad records are all repaired, so the red list
// has entries too.
func (g *generator) makeEvents() {
	r := g.stream("events")
	closedEnd := g.periods[0].end
	var events []domain.Event
	add := func(ci int, kind, points, description string, date time.Time) *domain.Event {
		c := g.companies[ci]
		estate := g.ds.Estates[c.estates[r.IntN(len(c.estates))]]
		events = append(events, domain.Event{
			Company:     g.ds.Companies[ci].ID,
			Kind:        kind,
			Points:      points,
			Date:        date.Format(domain.DateLayout),
			Description: estate.Name + "：" + description,
		})
		return &events[len(events)-1] // for the caller to finish, before the next add
	}

	// In force at both periods' ends: dated in or before the closed period, and valid for
	// longer than from that date to the open period's end.
	vetoes := 0
	for ci, c := range g.companies {
		if c.tier != bad {
			continue
		}
		if vetoes < len(vetoEventDescriptions) {
			date, validDays := closedEnd.AddDate(0, 0, -between(r, 0, 200)), 0
			if vetoes == 1 { // older, and a severe offence counts for three years
				date, validDays = closedEnd.AddDate(0, 0, -between(r, 300, 500)), 1095
			}
			ev := add(ci, "bad", "10", vetoEventDescriptions[vetoes], date)
			ev.Veto, ev.ValidDays = true, validDays
			vetoes++
			continue
		}
		add(ci, "bad", pick(r, []string{"5", "8", "10"}), pick(r, badEventDescriptions), closedEnd.AddDate(0, 0, -between(r, 0, 200)))
	}

	companies := seq(companyCount)
	weightsBy := func(w [4]float64) []float64 {
		ws := make([]float64, companyCount)
		for i, c := range g.companies {
			ws[i] = w[c.tier]
		}
		return ws
	}
	goodWeights := weightsBy([4]float64{excellent: 5, average: 2, poor: 0.5, bad: 0})
	for range goodEventCount {
		ci := pickWeighted(r, companies, goodWeights)
		ev := add(ci, "good", pick(r, goodPoints), pick(r, goodEventDescriptions), g.daysAgo(between(r, 1, 730)))
		if r.Float64() < 0.25 {
			ev.ValidDays = 730 // a city-level award counts for two years
		}
	}
	badWeights := weightsBy([4]float64{excellent: 0.5, average: 1, poor: 3, bad: 4})
	for range randomBadEventCount {
		ci := pickWeighted(r, companies, badWeights)
		repaired := g.companies[ci].tier == excellent || r.Float64() < 0.25
		date := g.daysAgo(between(r, 1, 730))
		if repaired { // old enough to have been repaired before the closed period ended
			date = g.daysAgo(between(r, 250, 700))
		}
		ev := add(ci, "bad", pick(r, badPoints), pick(r, badEventDescriptions), date)
		switch u := r.Float64(); {
		case u < 0.15:
			ev.ValidDays = 180
		case u < 0.3:
			ev.ValidDays = 730
		}
		if repaired {
			ev.RepairedOn = date.AddDate(0, 0, between(r, 30, 120)).Format(domain.DateLayout)
		}
	}

	slices.SortStableFunc(events, func(a, b domain.Event) int { return strings.Compare(a.Date, b.Date) })
	for i := range events {
		events[i].ID = fmt.Sprintf("ev%04d", i+1)
	}
	g.ds.Events = events
}

func (g *generator) daysAgo(n int) time.Time { return g.todayStart.AddDate(0, 0, -n) }

// newUSCC makes a valid unified social credit code of an enterprise registered in the city:
// 9 (market regulation) 1 (enterprise), the division code, an organisation code with its own
// check character (older firms have numeric ones; since 2015 they start with MA), and the
// check character.
func newUSCC(r *rand.Rand) string {
	body := make([]byte, 8)
	if r.Float64() < 0.3 {
		for i := range body {
			body[i] = byte('0' + r.IntN(10))
		}
	} else {
		copy(body, "MA")
		for i := 2; i < 8; i++ {
			body[i] = usccAlphabet[r.IntN(len(usccAlphabet))]
		}
	}
	first17 := "91" + cityDivisionCode + string(body) + string(orgCodeCheck(string(body)))
	check, _ := usccCheck(first17)
	return first17 + string(check)
}

// randomTime returns a time on one of the days days from start, between the hours from and to.
func randomTime(r *rand.Rand, start time.Time, days, from, to int) time.Time {
	day := start.AddDate(0, 0, r.IntN(days))
	return day.Add(time.Duration(from)*time.Hour + time.Duration(r.IntN((to-from)*3600))*time.Second)
}

func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// skewedLog draws an integer in [lo, hi] whose logarithm leans towards lo as skew grows
// (1: log-uniform): many small estates, a few very large ones.
func skewedLog(r *rand.Rand, lo, hi int, skew float64) int {
	return int(math.Round(float64(lo) * math.Pow(float64(hi)/float64(lo), math.Pow(r.Float64(), skew))))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickWeighted[T any](r *rand.Rand, xs []T, weights []float64) T {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := r.Float64() * total
	for i, w := range weights {
		if u < w {
			return xs[i]
		}
		u -= w
	}
	return xs[len(xs)-1]
}

func seq(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}
