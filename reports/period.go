// Package reports turns published scoring results into what the public pages, the API and the
// static site show: red and black lists, rankings, company and estate profiles, the city
// overview and its trends, charts (go-echarts, encoded so that no data can break out of them)
// and the rankings as CSV and XLSX.
//
// Everything here works on publications that have been decoded once: a publication never
// changes, so a PublishedPeriod is built from it once and then only read, by any number of goroutines.
// The package does no I/O except writing exports, and knows nothing of HTTP or the database.
package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/propcredit/propcredit/scoring"
)

// Publication describes one publication of a period's results: which data and rules produced
// it and when it was published. It carries no results; a PublishedPeriod does.
type Publication struct {
	ID           string
	Period       string
	Seq          int // 1, 2, … within the period
	Ruleset      string
	RulesetHash  string
	InputsHash   string
	PublishedAt  time.Time
	SupersededAt time.Time // zero while it stands
	// Status is publication.StatusPublicity (公示中) until a second person approves it, then
	// publication.StatusFinal; PublicityEnds is when its publicity ends (zero for
	// publications older than publicity).
	Status        string
	PublicityEnds time.Time
	FinalAt       time.Time // when it was approved as final; zero before, and for publications older than publicity
}

// Superseded reports whether a later publication replaced p.
func (p Publication) Superseded() bool { return !p.SupersededAt.IsZero() }

// PublishedPeriod is one publication of a period, decoded: the engine's result, the inputs it
// was computed from, and indexes for the pages. (It is not a period: the period itself is
// domain.Period, stored, and scoring.Period, the engine's input.) Build it with
// NewPublishedPeriod and treat it as read-only.
type PublishedPeriod struct {
	Pub Publication
	// History lists every publication of the period, oldest first, Pub among them.
	History []Publication

	Result *scoring.Result
	Input  scoring.Input

	grades   map[string]int       // company id → index in Result.Grades
	estates  map[string]estateRef // estate id → where its detail is
	tallies  map[string]scoring.Tally
	company  map[string]string // company id → name, from the inputs
	estateIn map[string]scoring.Estate
	dims     map[string]DimensionMeans // company id → its owners' mean per dimension
	cityDims DimensionMeans
	where    map[string][]string // company id → the districts of its estates, sorted
}

type estateRef struct{ grade, detail int }

// NewPublishedPeriod decodes a publication: detail is the engine's detailed JSON (scoring.MarshalDetail)
// and inputs the canonical input JSON it was scored from (a scoring.Input).
func NewPublishedPeriod(pub Publication, history []Publication, detail, inputs []byte) (*PublishedPeriod, error) {
	p := &PublishedPeriod{Pub: pub, History: slices.Clone(history), Result: new(scoring.Result)}
	if err := json.Unmarshal(detail, p.Result); err != nil {
		return nil, fmt.Errorf("reports: publication %s: decode results: %w", pub.ID, err)
	}
	if err := json.Unmarshal(inputs, &p.Input); err != nil {
		return nil, fmt.Errorf("reports: publication %s: decode inputs: %w", pub.ID, err)
	}
	if p.Result.Period != pub.Period {
		return nil, fmt.Errorf("reports: publication %s holds results of period %q", pub.ID, p.Result.Period)
	}
	p.index()
	return p, nil
}

func (p *PublishedPeriod) index() {
	res, in := p.Result, &p.Input
	p.grades = make(map[string]int, len(res.Grades))
	p.estates = map[string]estateRef{}
	p.where = make(map[string][]string, len(res.Grades))
	for i, g := range res.Grades {
		p.grades[g.Company] = i
		for j, d := range g.EstateDetails {
			p.estates[d.Estate] = estateRef{i, j}
			if !slices.Contains(p.where[g.Company], d.District) {
				p.where[g.Company] = append(p.where[g.Company], d.District)
			}
		}
		slices.Sort(p.where[g.Company])
	}
	p.company = make(map[string]string, len(in.Companies))
	for _, c := range in.Companies {
		p.company[c.ID] = c.Name
	}
	p.estateIn = make(map[string]scoring.Estate, len(in.Estates))
	for _, e := range in.Estates {
		p.estateIn[e.ID] = e
	}
	p.tallies = make(map[string]scoring.Tally, len(in.Tallies))
	for _, t := range in.Tallies {
		p.tallies[t.Estate] = t
	}

	// Dimension means from the tallies: a company's over all its estates' counted ratings,
	// and the city's over every counted rating.
	type acc struct {
		count int64
		sums  [6]int64
	}
	perCompany := map[string]*acc{}
	var city acc
	for _, t := range in.Tallies {
		e, ok := p.estateIn[t.Estate]
		if !ok {
			continue
		}
		a := perCompany[e.Company]
		if a == nil {
			a = &acc{}
			perCompany[e.Company] = a
		}
		a.count += t.Ratings
		city.count += t.Ratings
		for d := range t.Sums {
			a.sums[d] += t.Sums[d]
			city.sums[d] += t.Sums[d]
		}
	}
	p.dims = make(map[string]DimensionMeans, len(perCompany))
	for id, a := range perCompany {
		p.dims[id] = meansOf(a.count, a.sums)
	}
	p.cityDims = meansOf(city.count, city.sums)
}

// DimensionMeans is the mean owners' score (1-5) of each rated dimension, in
// scoring.Dimensions order, over Ratings counted ratings. With no ratings every mean is NaN:
// charts show it as missing.
type DimensionMeans struct {
	Ratings int64
	Mean    [6]float64
}

func meansOf(count int64, sums [6]int64) DimensionMeans {
	m := DimensionMeans{Ratings: count}
	for d, s := range sums {
		m.Mean[d] = ratio(s, count)
	}
	return m
}

// ratio is a/b, or NaN when b is 0.
func ratio[T int | int64](a, b T) float64 {
	if b == 0 {
		return nan
	}
	return float64(a) / float64(b)
}

// ID returns the period's id.
func (p *PublishedPeriod) ID() string { return p.Pub.Period }

// Grade returns the company's grade in the period, or nil if it was not graded.
func (p *PublishedPeriod) Grade(company string) *scoring.Grade {
	i, ok := p.grades[company]
	if !ok {
		return nil
	}
	return &p.Result.Grades[i]
}

// CompanyDistricts returns the districts in which the company manages estates in the period.
func (p *PublishedPeriod) CompanyDistricts(company string) []string { return p.where[company] }

// CompanyName returns the company's name as the publication's inputs had it.
func (p *PublishedPeriod) CompanyName(company string) (string, bool) {
	name, ok := p.company[company]
	return name, ok
}

// CompanyDimensions returns the mean score per dimension of the company's estates' counted ratings.
func (p *PublishedPeriod) CompanyDimensions(company string) DimensionMeans {
	if m, ok := p.dims[company]; ok {
		return m
	}
	return meansOf(0, [6]int64{})
}

// CityDimensions returns the mean score per dimension over every counted rating of the city.
func (p *PublishedPeriod) CityDimensions() DimensionMeans { return p.cityDims }

// Estate is what the period's publication says about one estate.
type Estate struct {
	scoring.EstateDetail
	Company     string
	CompanyName string
	Grade       *scoring.Grade // its company's grade
	Dimensions  DimensionMeans // its own owners' mean per dimension
	// Participation is counted ratings per household (0..1; NaN without households).
	Participation float64
}

// Estate returns the estate's part of the publication, or false if it was not scored in it.
func (p *PublishedPeriod) Estate(id string) (Estate, bool) {
	ref, ok := p.estates[id]
	if !ok {
		return Estate{}, false
	}
	g := &p.Result.Grades[ref.grade]
	d := g.EstateDetails[ref.detail]
	t := p.tallies[id]
	return Estate{
		EstateDetail:  d,
		Company:       g.Company,
		CompanyName:   g.Name,
		Grade:         g,
		Dimensions:    meansOf(t.Ratings, t.Sums),
		Participation: ratio(d.Ratings, int64(d.Households)),
	}, true
}

// Estates returns every scored estate of the period, by id.
func (p *PublishedPeriod) Estates() []Estate {
	out := make([]Estate, 0, len(p.estates))
	for id := range p.estates {
		e, _ := p.Estate(id)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Estate) int { return cmp.Compare(a.EstateDetail.Estate, b.EstateDetail.Estate) })
	return out
}

// BlackReason says why a company is on the black list.
type BlackReason struct {
	// Basis is the grade's basis (scoring.BasisVeto, scoring.BasisBelowBandsBad, or another
	// when a city's rules black-list other grades).
	Basis string
	// Events are the records that put it there: the active veto records for a veto, the
	// active bad records for a low score with bad records.
	Events []scoring.EventDetail
}

// BlackReason returns why g is on the black list.
func BlackReasonOf(g *scoring.Grade) BlackReason {
	r := BlackReason{Basis: g.GradeBasis}
	for _, ev := range g.ActiveEvents {
		switch {
		case g.GradeBasis == scoring.BasisVeto && ev.Veto:
			r.Events = append(r.Events, ev)
		case g.GradeBasis != scoring.BasisVeto && ev.Kind == scoring.KindBad:
			r.Events = append(r.Events, ev)
		}
	}
	return r
}

// gradeOrder lists the default ruleset's grades best first; GradeCounts puts any others after
// them, by name.
var gradeOrder = scoring.Default().Grades()

// GradeCounts counts the period's companies per grade, best grade first; every grade of the
// default ruleset appears, with 0 if nobody has it.
func (p *PublishedPeriod) GradeCounts() []Count {
	n := map[string]int{}
	for _, g := range p.Result.Grades {
		n[g.Grade]++
	}
	var out []Count
	for _, grade := range gradeOrder {
		out = append(out, Count{grade, n[grade]})
		delete(n, grade)
	}
	var rest []string
	for grade := range n {
		rest = append(rest, grade)
	}
	slices.Sort(rest)
	for _, grade := range rest {
		out = append(out, Count{grade, n[grade]})
	}
	return out
}

// Count is a label and how many things have it.
type Count struct {
	Label string
	N     int
}

// DistrictStats summarises one district's estates in the period.
type DistrictStats struct {
	District   string
	Estates    int
	Households int64
	Ratings    int64
	// Participation is ratings per household; Satisfaction and Disclosure the
	// household-weighted means of the estates' S_e and D_e (0-100).
	Participation, Satisfaction, Disclosure float64
	Dimensions                              DimensionMeans
}

// Districts summarises the period by district, in district id order.
func (p *PublishedPeriod) Districts() []DistrictStats {
	type acc struct {
		DistrictStats
		sumS, sumD float64
		sums       [6]int64
	}
	by := map[string]*acc{}
	for _, g := range p.Result.Grades {
		for _, d := range g.EstateDetails {
			a := by[d.District]
			if a == nil {
				a = &acc{DistrictStats: DistrictStats{District: d.District}}
				by[d.District] = a
			}
			h := int64(d.Households)
			a.Estates++
			a.Households += h
			a.Ratings += d.Ratings
			a.sumS += float64(h) * fixed(d.Satisfaction)
			a.sumD += float64(h) * fixed(d.Disclosure)
			t := p.tallies[d.Estate]
			for i := range t.Sums {
				a.sums[i] += t.Sums[i]
			}
		}
	}
	out := make([]DistrictStats, 0, len(by))
	for _, a := range by {
		s := a.DistrictStats
		s.Participation = ratio(s.Ratings, s.Households)
		s.Satisfaction = a.sumS / float64(s.Households)
		s.Disclosure = a.sumD / float64(s.Households)
		s.Dimensions = meansOf(s.Ratings, a.sums)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b DistrictStats) int { return cmp.Compare(a.District, b.District) })
	return out
}

// Reasons a disclosure is worth what it is, in the order reports show them.
var Reasons = []string{scoring.ReasonOnTime, scoring.ReasonWithinGrace, scoring.ReasonLate, scoring.ReasonMissing, scoring.ReasonRejected}

// CategoryCompliance counts, for one disclosure category, how many estates' disclosures were
// on time, within the grace days, late, missing and rejected (in Reasons order).
type CategoryCompliance struct {
	Category string
	Estates  int
	ByReason [5]int
}

// Share returns the fraction (0..1) of the category's estates with reason i of Reasons.
func (c CategoryCompliance) Share(i int) float64 { return ratio(c.ByReason[i], c.Estates) }

// Compliance counts the period's disclosures per category and reason, in scoring.Categories order.
func (p *PublishedPeriod) Compliance() []CategoryCompliance {
	out := make([]CategoryCompliance, len(scoring.Categories))
	for i, c := range scoring.Categories {
		out[i].Category = c.ID
	}
	for _, g := range p.Result.Grades {
		for _, d := range g.EstateDetails {
			for i, w := range d.Disclosures {
				out[i].Estates++
				if j := slices.Index(Reasons, w.Reason); j >= 0 {
					out[i].ByReason[j]++
				}
			}
		}
	}
	return out
}

// Summary is the period's headline numbers, for trends.
type Summary struct {
	Period    string
	Companies int
	Red       int
	Black     int
	Ratings   int64
	// CityMean is the mean r (1-5) of all counted ratings; MeanScore the companies' mean score.
	CityMean, MeanScore float64
	Participation       float64 // counted ratings per household, city-wide
}

// Summary returns the period's headline numbers.
func (p *PublishedPeriod) Summary() Summary {
	res := p.Result
	s := Summary{Period: res.Period, Companies: len(res.Grades), Ratings: res.CityRatings, CityMean: fixed(res.CityMean)}
	var total float64
	var households int64
	for _, g := range res.Grades {
		switch g.List {
		case scoring.ListRed:
			s.Red++
		case scoring.ListBlack:
			s.Black++
		}
		total += fixed(g.Score)
		households += g.Households
	}
	s.MeanScore = ratioF(total, len(res.Grades))
	s.Participation = ratio(res.CityRatings, households)
	return s
}

func ratioF(a float64, b int) float64 {
	if b == 0 {
		return nan
	}
	return a / float64(b)
}

// fixed converts a reported number to float64 for charts; exact to the hundredth shown.
func fixed(f scoring.Fixed) float64 { return float64(f) / 100 }

// Float returns a reported number as float64, for charts and spreadsheets.
func Float(f scoring.Fixed) float64 { return fixed(f) }
