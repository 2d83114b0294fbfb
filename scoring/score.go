package scoring

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Score grades every company that manages at least one estate in the period, following
// SCORING.md §1-§8 under rs. It computes exactly and rounds only what it reports. The Result does
// not depend on the order of any slice in in.
func Score(rs *Ruleset, in Input) (*Result, error) {
	if rs == nil || rs.hash == "" {
		return nil, errors.New("scoring: the ruleset was not loaded with LoadRuleset or Default")
	}
	c, err := newCity(in)
	if err != nil {
		return nil, err
	}
	e := newEngine(rs, c, in.Tallies)

	res := &Result{
		Period:             in.Period.ID,
		Ruleset:            rs.Ref(),
		RulesetHash:        rs.Hash(),
		PeriodEnd:          in.Period.End,
		DisclosureDeadline: in.Period.DisclosureDeadline,
		CityRatings:        e.cityRatings,
		CityMean:           Round(e.mu),
		Grades:             []Grade{},
		Warnings:           []Warning{},
	}
	res.Exact.CityMean = e.mu
	for _, id := range c.graded() {
		res.Grades = append(res.Grades, e.grade(c.companies[id], c.managed[id]))
	}
	rank(res.Grades)
	res.Warnings = e.warnings(res.Grades)
	return res, nil
}

// engine holds what every estate and company of one scoring run shares.
type engine struct {
	rs   *Ruleset
	city *city

	cityRatings int64
	mu          *big.Rat // μ, the city mean of r

	// s_e = (n_e·m_e + K·μ)/(n_e + K) with K = kNum/kDen and μ = muNum/muDen is, multiplied
	// through by 6·kDen·muDen, (Σ_e·kDen·muDen + 6·kNum·muNum) / (6·muDen·(n_e·kDen + kNum)),
	// where Σ_e = 6·n_e·m_e is the estate's sum of all scores. shrinkA, shrinkB and shrinkC hold
	// the parts every estate shares, so that each estate costs a few integer operations and two
	// reductions instead of a chain of rational ones.
	kNum, kDen                *big.Int
	shrinkA, shrinkB, shrinkC *big.Int // kDen·muDen, 6·kNum·muNum, 6·muDen

	// D_e depends only on how many of an estate's disclosures earn each worth, so each of the
	// few possible values is computed once.
	disclosureScores map[[4]int]*big.Rat

	// A filing before onTimeBefore is on time; before graceBefore, within the grace days.
	onTimeBefore, graceBefore time.Time
}

func newEngine(rs *Ruleset, c *city, tallies []Tally) *engine {
	e := &engine{rs: rs, city: c, disclosureScores: make(map[[4]int]*big.Rat)}
	var sum int64
	for _, t := range tallies { // integer sums: the order does not matter
		e.cityRatings += t.Ratings
		for _, s := range t.Sums {
			sum += s
		}
	}
	if e.cityRatings == 0 {
		e.mu = big.NewRat(3, 1) // SCORING.md §1: 3.0 when there are no ratings
	} else {
		// r is the mean of six scores, so μ = Σr/N = (Σ of all scores)/(6·N).
		e.mu = new(big.Rat).SetFrac(big.NewInt(sum), big.NewInt(6*e.cityRatings))
	}
	e.kNum, e.kDen = rs.K.Num(), rs.K.Denom()
	six := big.NewInt(6)
	e.shrinkA = new(big.Int).Mul(e.kDen, e.mu.Denom())
	e.shrinkB = new(big.Int).Mul(six, e.kNum)
	e.shrinkB.Mul(e.shrinkB, e.mu.Num())
	e.shrinkC = new(big.Int).Mul(six, e.mu.Denom())

	// The deadline day ends at the next midnight in the ruleset's zone; the grace days end
	// GraceDays days later, also at midnight.
	deadline := c.period.DisclosureDeadline
	e.onTimeBefore = deadline.AddDays(1).Start(rs.Disclosure.Zone)
	e.graceBefore = deadline.AddDays(1 + rs.Disclosure.GraceDays).Start(rs.Disclosure.Zone)
	return e
}

// estate computes an estate's S_e and D_e (SCORING.md §1, §2).
func (e *engine) estate(est *estateRecords) EstateDetail {
	d := EstateDetail{Estate: est.ID, Name: est.Name, District: est.District, Households: est.Households}

	var scoreSum int64 // Σ_e = 6·n_e·m_e
	if t := est.tally; t != nil {
		d.Ratings = t.Ratings
		for _, s := range t.Sums {
			scoreSum += s
		}
	}
	if d.Ratings == 0 {
		d.Exact.Mean = e.mu // and then s_e = μ: the formula needs no special case
	} else {
		d.Exact.Mean = new(big.Rat).SetFrac64(scoreSum, 6*d.Ratings)
	}
	// s_e = (Σ_e·kDen·muDen + 6·kNum·muNum) / (6·muDen·(n_e·kDen + kNum)); see engine.
	num := new(big.Int).Mul(big.NewInt(scoreSum), e.shrinkA)
	num.Add(num, e.shrinkB)
	den := new(big.Int).Mul(big.NewInt(d.Ratings), e.kDen)
	den.Add(den, e.kNum)
	den.Mul(den, e.shrinkC)
	// S_e = (s_e − 1)/4 × 100 = 25·(num − den)/den
	sat := new(big.Int).Sub(num, den)
	sat.Mul(sat, big.NewInt(25))
	d.Exact.Satisfaction = new(big.Rat).SetFrac(sat, den)
	d.Exact.Shrunk = new(big.Rat).SetFrac(num, den)

	var earned [4]int // how many disclosures are worth on_time, within_grace, late, nothing
	for i, cat := range Categories {
		d.Disclosures[i] = e.worth(cat.ID, est.disclosures[i])
		earned[worthIndex[d.Disclosures[i].Reason]]++
	}
	d.Exact.Disclosure = e.disclosureScore(earned)

	d.Mean = Round(d.Exact.Mean)
	d.Shrunk = Round(d.Exact.Shrunk)
	d.Satisfaction = Round(d.Exact.Satisfaction)
	d.Disclosure = Round(d.Exact.Disclosure)
	return d
}

var worthIndex = map[string]int{ReasonOnTime: 0, ReasonWithinGrace: 1, ReasonLate: 2, ReasonMissing: 3, ReasonRejected: 3}

// disclosureScore returns D_e = the mean of the worths × 100 for an estate whose disclosures
// earn each worth earned[i] times, in the order on_time, within_grace, late, missing_or_rejected.
func (e *engine) disclosureScore(earned [4]int) *big.Rat {
	if score, ok := e.disclosureScores[earned]; ok {
		return score
	}
	w := e.rs.Disclosure.Worths
	score := new(big.Rat)
	for i, worth := range []*big.Rat{w.OnTime, w.WithinGrace, w.Late, w.MissingOrRejected} {
		score.Add(score, new(big.Rat).Mul(worth, big.NewRat(int64(earned[i]), 1)))
	}
	score.Mul(score, big.NewRat(100, int64(len(Categories))))
	e.disclosureScores[earned] = score
	return score
}

// worth says what a disclosure (nil: not filed) is worth and why (SCORING.md §2).
func (e *engine) worth(category string, record *Disclosure) DisclosureWorth {
	w := e.rs.Disclosure.Worths
	if record == nil {
		return DisclosureWorth{Category: category, Reason: ReasonMissing, Worth: w.MissingOrRejected}
	}
	d := DisclosureWorth{Category: category, Status: record.Status, FiledAt: record.FiledAt}
	switch {
	case record.Status == StatusRejected:
		d.Reason, d.Worth = ReasonRejected, w.MissingOrRejected
	case record.FiledAt.Before(e.onTimeBefore):
		d.Reason, d.Worth = ReasonOnTime, w.OnTime
	case record.FiledAt.Before(e.graceBefore):
		d.Reason, d.Worth = ReasonWithinGrace, w.WithinGrace
	default:
		d.Reason, d.Worth = ReasonLate, w.Late
	}
	return d
}

// grade computes a company's components, score, grade and list (SCORING.md §1-§7).
func (e *engine) grade(co *Company, estates []*estateRecords) Grade {
	rs := e.rs
	g := Grade{Company: co.ID, Name: co.Name, Estates: len(estates), EstateDetails: make([]EstateDetail, len(estates))}

	// S and D: means of S_e and D_e weighted by households.
	var sat, disc weightedMean
	for i, est := range estates {
		d := e.estate(est)
		g.EstateDetails[i] = d
		g.Ratings += d.Ratings
		g.Households += int64(d.Households)
		sat.add(int64(d.Households), d.Exact.Satisfaction)
		disc.add(int64(d.Households), d.Exact.Disclosure)
	}
	g.Exact.Satisfaction = sat.mean()
	g.Exact.Disclosure = disc.mean()

	// G: governance points.
	gov := new(big.Rat)
	if rec := e.city.governance[co.ID]; rec != nil {
		g.Governance = GovernanceDetail{Recorded: true, PartyOrg: rec.PartyOrg, PartyInstructor: rec.PartyInstructor, JointMechanism: rec.JointMechanism}
		for _, item := range []struct {
			has    bool
			points *big.Rat
		}{
			{rec.PartyOrg, rs.Governance.PartyOrg},
			{rec.PartyInstructor, rs.Governance.PartyInstructor},
			{rec.JointMechanism, rs.Governance.JointMechanism},
		} {
			if item.has {
				gov.Add(gov, item.points)
			}
		}
	}
	g.Exact.Governance = gov

	// base = wS·S + wD·D + wG·G
	base := new(big.Rat).Mul(rs.Weights.Satisfaction, g.Exact.Satisfaction)
	term := new(big.Rat)
	base.Add(base, term.Mul(rs.Weights.Disclosure, g.Exact.Disclosure))
	base.Add(base, term.Mul(rs.Weights.Governance, g.Exact.Governance))
	g.Exact.Base = base

	// Credit records in force on the period's end.
	good, bad := new(big.Rat), new(big.Rat)
	veto := false
	for _, ev := range e.city.events[co.ID] {
		detail, inForce := rs.InForce(*ev, e.city.period.End)
		if !inForce {
			g.InactiveEvents = append(g.InactiveEvents, detail)
			continue
		}
		g.ActiveEvents = append(g.ActiveEvents, detail)
		if ev.Kind == KindGood {
			good.Add(good, ev.Points)
		} else {
			bad.Add(bad, ev.Points)
			veto = veto || ev.Veto
		}
	}
	if g.ActiveEvents == nil { // JSON [] rather than null
		g.ActiveEvents = []EventDetail{}
	}
	if g.InactiveEvents == nil {
		g.InactiveEvents = []EventDetail{}
	}
	byDate := func(a, b EventDetail) int { return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.ID, b.ID)) }
	slices.SortFunc(g.ActiveEvents, byDate)
	slices.SortFunc(g.InactiveEvents, byDate)
	g.Exact.GoodPoints = good
	g.Exact.Bonus = new(big.Rat).Set(minRat(good, rs.BonusCap))
	g.Exact.Deduction = bad

	// score = min(100, max(0, base + bonus − deduction))
	unclamped := new(big.Rat).Add(base, g.Exact.Bonus)
	unclamped.Sub(unclamped, bad)
	g.Exact.Unclamped = unclamped
	g.Exact.Score = new(big.Rat).Set(minRat(maxRat(unclamped, ratZero), ratHundred))

	g.Score = Round(g.Exact.Score)
	g.Base = Round(base)
	g.Components = Components{
		Satisfaction: Round(g.Exact.Satisfaction),
		Disclosure:   Round(g.Exact.Disclosure),
		Governance:   Round(g.Exact.Governance),
		Bonus:        Round(g.Exact.Bonus),
		Deduction:    Round(g.Exact.Deduction),
	}

	hasBad := bad.Sign() > 0 // every bad record has points > 0
	g.Grade, g.GradeBasis = rs.gradeFor(g.Score, hasBad, veto)
	g.List = rs.listFor(g.Grade, hasBad, g.Exact.Disclosure)
	return g
}

// InForce applies SCORING.md §4 to the credit record ev on the day end: it counts when its
// status is in force (or absent), date ≤ end, end < date + valid_days, and end < repaired_on if
// it was repaired. It returns the record as applied, with its Status, and whether it counts.
func (rs *Ruleset) InForce(ev Event, end Date) (EventDetail, bool) {
	days := ev.ValidDays
	if days == 0 {
		days = rs.DefaultValidDays
	}
	d := EventDetail{
		ID: ev.ID, Kind: ev.Kind, Points: new(big.Rat).Set(ev.Points), Veto: ev.Veto, Date: ev.Date,
		ValidDays: days, RepairedOn: ev.RepairedOn, Description: ev.Description,
	}
	// outOfForce is the first day the record no longer counts.
	outOfForce := ev.Date.AddDays(days)
	d.Status = EventExpired
	if ev.RepairedOn != nil && ev.RepairedOn.Before(outOfForce) {
		outOfForce = *ev.RepairedOn
		d.Status = EventRepaired
	}
	if outOfForce.Before(ev.Date) { // repaired before it was made: never in force
		outOfForce = ev.Date
	}
	d.LastDay = outOfForce.AddDays(-1)
	switch {
	case ev.Status == RecordNotified || ev.Status == RecordWithdrawn:
		d.Status = ev.Status
	case ev.Date.After(end):
		d.Status = EventNotYet
	case end.Before(outOfForce):
		d.Status = EventInForce
	}
	return d, d.Status == EventInForce
}

// gradeFor returns the grade a rounded score earns (SCORING.md §6) and why.
func (rs *Ruleset) gradeFor(score Fixed, hasActiveBad, hasVeto bool) (grade, basis string) {
	if hasVeto {
		return rs.FailGrade, BasisVeto
	}
	for i, b := range rs.Bands {
		if score >= rs.bandFloors[i] {
			return b.Grade, BasisBand
		}
	}
	if hasActiveBad {
		return rs.FailGrade, BasisBelowBandsBad
	}
	// A low score alone, with a clean record, does not put a company among the dishonest.
	return rs.Bands[len(rs.Bands)-1].Grade, BasisBelowBandsClean
}

// listFor returns the list a company is on (SCORING.md §7). disclosure is the exact D: "every
// disclosure worth 1" means D is exactly 100, which a D of 99.999 rounded to 100.00 is not.
func (rs *Ruleset) listFor(grade string, hasActiveBad bool, disclosure *big.Rat) string {
	meets := func(rule ListRule) bool {
		return slices.Contains(rule.Grades, grade) &&
			!(rule.NoActiveBad && hasActiveBad) &&
			(rule.MinDisclosure == nil || disclosure.Cmp(rule.MinDisclosure) >= 0)
	}
	switch {
	case meets(rs.Red):
		return ListRed
	case meets(rs.Black):
		return ListBlack
	}
	return ListNone
}

// rank orders grades by rounded score, then rounded S, both higher first, then company id in
// byte order, and numbers them from 1 (SCORING.md §8).
func rank(grades []Grade) {
	slices.SortFunc(grades, func(a, b Grade) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(b.Components.Satisfaction, a.Components.Satisfaction),
			cmp.Compare(a.Company, b.Company),
		)
	})
	for i := range grades {
		grades[i].Rank = i + 1
	}
}

// warnings lists, estate by estate in id order, what a reviewer should look at.
func (e *engine) warnings(grades []Grade) []Warning {
	var out []Warning
	for _, g := range grades {
		for _, d := range g.EstateDetails {
			if d.Ratings == 0 {
				out = append(out, Warning{
					Code: WarnEstateUnrated, Estate: d.Estate, Company: g.Company,
					Message: fmt.Sprintf("小区 %s（%s）本期没有有效评价，满意度按全市平均分 μ = %s 计算。", d.Estate, d.Name, Round(e.mu)),
				})
			}
			for i, dw := range d.Disclosures {
				if dw.Status == StatusPending {
					out = append(out, Warning{
						Code: WarnDisclosurePending, Estate: d.Estate, Company: g.Company, Category: dw.Category,
						Message: fmt.Sprintf("小区 %s（%s）的“%s”公开尚待审核，已按已提交计分；请在发布结果前完成审核。", d.Estate, d.Name, Categories[i].Label),
					})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(a.Estate, b.Estate) })
	if out == nil {
		out = []Warning{}
	}
	return out
}

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}
