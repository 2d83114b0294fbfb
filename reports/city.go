package reports

import (
	"cmp"
	"slices"
	"strings"

	"github.com/propcredit/propcredit/scoring"
)

// City is every published period, each as its latest publication, and the district names.
// It answers the questions that span periods: a company's history, the city's trends, search.
type City struct {
	periods   []*PublishedPeriod // oldest first
	byID      map[string]*PublishedPeriod
	districts map[string]string // id → name
}

// NewCity gathers periods (in any order) and the districts' names.
func NewCity(periods []*PublishedPeriod, districtNames map[string]string) *City {
	c := &City{byID: map[string]*PublishedPeriod{}, districts: districtNames}
	for _, p := range periods {
		c.periods = append(c.periods, p)
		c.byID[p.ID()] = p
	}
	slices.SortFunc(c.periods, func(a, b *PublishedPeriod) int { return comparePeriods(a.ID(), b.ID()) })
	return c
}

// comparePeriods orders period ids as their names sort: 2026Q3 before 2026Q4.
func comparePeriods(a, b string) int { return cmp.Compare(a, b) }

// Periods returns the published periods, oldest first.
func (c *City) Periods() []*PublishedPeriod { return slices.Clone(c.periods) }

// Period returns the period's latest publication, or nil if it has none.
func (c *City) Period(id string) *PublishedPeriod { return c.byID[id] }

// Latest returns the most recent published period, or nil if nothing is published.
func (c *City) Latest() *PublishedPeriod {
	if len(c.periods) == 0 {
		return nil
	}
	return c.periods[len(c.periods)-1]
}

// DistrictName returns the district's name, or its id when the name is unknown.
func (c *City) DistrictName(id string) string {
	if n, ok := c.districts[id]; ok && n != "" {
		return n
	}
	return id
}

// DistrictIDs returns the ids of every district that has a name, sorted.
func (c *City) DistrictIDs() []string {
	ids := make([]string, 0, len(c.districts))
	for id := range c.districts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// HistoryEntry is a company's grade in one published period.
type HistoryEntry struct {
	Period *PublishedPeriod
	Grade  *scoring.Grade
}

// CompanyHistory returns the company's grade in every published period that graded it,
// oldest first.
func (c *City) CompanyHistory(company string) []HistoryEntry {
	var out []HistoryEntry
	for _, p := range c.periods {
		if g := p.Grade(company); g != nil {
			out = append(out, HistoryEntry{p, g})
		}
	}
	return out
}

// CompanyName returns the company's name as the latest publication that knows it has it.
func (c *City) CompanyName(company string) (string, bool) {
	for i := len(c.periods) - 1; i >= 0; i-- {
		if name, ok := c.periods[i].CompanyName(company); ok {
			return name, true
		}
	}
	return "", false
}

// EstatePeriods returns the published periods that scored the estate, oldest first.
func (c *City) EstatePeriods(estate string) []*PublishedPeriod {
	var out []*PublishedPeriod
	for _, p := range c.periods {
		if _, ok := p.estates[estate]; ok {
			out = append(out, p)
		}
	}
	return out
}

// Trends returns every published period's headline numbers, oldest first.
func (c *City) Trends() []Summary {
	out := make([]Summary, len(c.periods))
	for i, p := range c.periods {
		out[i] = p.Summary()
	}
	return out
}

// CompanyMatch is a company found by Search.
type CompanyMatch struct {
	ID, Name string
	Latest   *HistoryEntry // its grade in the latest period that graded it; nil if none
}

// Search finds companies of any publication whose name contains q or whose credit code starts
// with q (ignoring case), by id; at most limit of them. An empty q finds nothing.
func (c *City) Search(q string, limit int) []CompanyMatch {
	q = strings.TrimSpace(q)
	if q == "" || limit <= 0 {
		return nil
	}
	upper := strings.ToUpper(q)
	var ids []string
	for _, co := range newest(c.periods, func(p *PublishedPeriod) []scoring.Company { return p.Input.Companies },
		func(co scoring.Company) string { return co.ID }) {
		if strings.HasPrefix(co.ID, upper) || strings.Contains(strings.ToUpper(co.Name), upper) {
			ids = append(ids, co.ID)
		}
	}
	slices.Sort(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]CompanyMatch, len(ids))
	for i, id := range ids {
		name, _ := c.CompanyName(id)
		out[i] = CompanyMatch{ID: id, Name: name}
		if h := c.CompanyHistory(id); len(h) > 0 {
			out[i].Latest = &h[len(h)-1]
		}
	}
	return out
}

// EstateMatch is an estate found by SearchEstates, as the latest publication that scored it
// has it.
type EstateMatch struct {
	ID, Name, District, Company, CompanyName string
}

// SearchEstates finds estates of any publication whose name contains q (ignoring case), the
// newest publication's record of each, sorted by name; at most limit of them. An empty q
// finds nothing.
func (c *City) SearchEstates(q string, limit int) []EstateMatch {
	q = strings.ToUpper(strings.TrimSpace(q))
	if q == "" || limit <= 0 {
		return nil
	}
	var out []EstateMatch
	for _, e := range newest(c.periods, func(p *PublishedPeriod) []scoring.Estate { return p.Input.Estates },
		func(e scoring.Estate) string { return e.ID }) {
		if strings.Contains(strings.ToUpper(e.Name), q) {
			name, _ := c.CompanyName(e.Company)
			out = append(out, EstateMatch{ID: e.ID, Name: e.Name, District: c.DistrictName(e.District), Company: e.Company, CompanyName: name})
		}
	}
	slices.SortFunc(out, func(a, b EstateMatch) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out[:min(len(out), limit)]
}

// newest lists each thing the publications list (by id) once, as the newest publication that
// lists it has it.
func newest[T any](periods []*PublishedPeriod, list func(*PublishedPeriod) []T, id func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for i := len(periods) - 1; i >= 0; i-- {
		for _, x := range list(periods[i]) {
			if !seen[id(x)] {
				seen[id(x)] = true
				out = append(out, x)
			}
		}
	}
	return out
}
