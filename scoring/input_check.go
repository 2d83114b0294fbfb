package scoring

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// city is the Input checked and indexed by id. Building it is the only place where the input's
// order is seen; everything after reads it through ids in sorted order.
type city struct {
	period     Period
	companies  map[string]*Company
	managed    map[string][]*estateRecords // by company id, each list in estate id order
	governance map[string]*Governance
	events     map[string][]*Event // by company id
}

// estateRecords is an estate with the records that count for it.
type estateRecords struct {
	*Estate
	tally       *Tally                       // nil: no ratings
	disclosures [len(Categories)]*Disclosure // in Categories order; nil: missing
}

// Limits that keep every sum far inside int64 and every rounded number inside a Fixed. Ratings
// are one per household, and no estate has ten million households.
const (
	maxRatingsPerEstate = 10_000_000
	maxEventPoints      = 1_000_000
)

var (
	categoryIndex = func() map[string]int {
		m := make(map[string]int)
		for i, c := range Categories {
			m[c.ID] = i
		}
		return m
	}()
	statusPrecedence = map[string]int{StatusVerified: 0, StatusPending: 1, StatusRejected: 2}
	maxPoints        = big.NewRat(maxEventPoints, 1)
)

// problems collects what is wrong with an Input, to report it all at once.
type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// err returns the problems sorted (so the error does not depend on input order), at most 20.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	slices.Sort(p)
	p = slices.Compact(p)
	const shown = 20
	more := ""
	if len(p) > shown {
		more = fmt.Sprintf("\n… and %d more", len(p)-shown)
		p = p[:shown]
	}
	return errors.New("scoring: invalid input:\n" + strings.Join(p, "\n") + more)
}

// newCity checks every record of in and indexes it. References to estates or companies that are
// not in the input are errors: silently dropping them would hide lost data.
func newCity(in Input) (*city, error) {
	var bad problems
	c := &city{
		period:     in.Period,
		companies:  make(map[string]*Company, len(in.Companies)),
		managed:    make(map[string][]*estateRecords),
		governance: make(map[string]*Governance, len(in.Governance)),
		events:     make(map[string][]*Event),
	}

	p := in.Period
	if p.ID == "" {
		bad.add("period: id is empty")
	}
	for _, d := range []struct {
		name string
		date Date
	}{{"start", p.Start}, {"end", p.End}, {"disclosure_deadline", p.DisclosureDeadline}} {
		if !d.date.IsValid() {
			bad.add("period %s: %s %s is not a valid date", p.ID, d.name, d.date)
		}
	}
	if p.Start.After(p.End) {
		bad.add("period %s: start %s is after end %s", p.ID, p.Start, p.End)
	}

	for i := range in.Companies {
		co := &in.Companies[i]
		switch {
		case co.ID == "":
			bad.add("company %q: id is empty", co.Name)
		case c.companies[co.ID] != nil:
			bad.add("company %s: given twice", co.ID)
		default:
			c.companies[co.ID] = co
		}
	}

	estates := make(map[string]*estateRecords, len(in.Estates))
	for i := range in.Estates {
		est := &in.Estates[i]
		switch {
		case est.ID == "":
			bad.add("estate %q: id is empty", est.Name)
			continue
		case estates[est.ID] != nil:
			bad.add("estate %s: given twice", est.ID)
			continue
		case c.companies[est.Company] == nil:
			bad.add("estate %s: unknown company %q", est.ID, est.Company)
		case est.Households < 1:
			bad.add("estate %s: households must be at least 1, it is %d", est.ID, est.Households)
		}
		records := &estateRecords{Estate: est}
		estates[est.ID] = records
		c.managed[est.Company] = append(c.managed[est.Company], records)
	}
	for _, list := range c.managed {
		slices.SortFunc(list, func(a, b *estateRecords) int { return cmp.Compare(a.ID, b.ID) })
	}

	for i := range in.Tallies {
		t := &in.Tallies[i]
		records := estates[t.Estate]
		switch {
		case records == nil:
			bad.add("tally: unknown estate %q", t.Estate)
		case records.tally != nil:
			bad.add("tally for estate %s: given twice", t.Estate)
		case t.Ratings < 0 || t.Ratings > maxRatingsPerEstate:
			bad.add("tally for estate %s: count %d is out of range", t.Estate, t.Ratings)
		default:
			// Each score is 1-5, so each dimension's sum lies between Ratings and 5·Ratings.
			for d, sum := range t.Sums {
				if sum < t.Ratings || sum > 5*t.Ratings {
					bad.add("tally for estate %s: %s sum %d is not between %d and %d (scores are 1-5)",
						t.Estate, Dimensions[d].ID, sum, t.Ratings, 5*t.Ratings)
				}
			}
			records.tally = t
		}
	}

	for i := range in.Disclosures {
		d := &in.Disclosures[i]
		cat, known := categoryIndex[d.Category]
		_, knownStatus := statusPrecedence[d.Status]
		records := estates[d.Estate]
		switch {
		case records == nil:
			bad.add("disclosure: unknown estate %q", d.Estate)
		case !known:
			bad.add("disclosure for estate %s: unknown category %q", d.Estate, d.Category)
		case !knownStatus:
			bad.add("disclosure for estate %s, %s: unknown status %q", d.Estate, d.Category, d.Status)
		case d.FiledAt.IsZero():
			bad.add("disclosure for estate %s, %s: filed_at is missing", d.Estate, d.Category)
		default:
			if kept := records.disclosures[cat]; kept == nil || supersedes(d, kept) {
				records.disclosures[cat] = d
			}
		}
	}

	for i := range in.Governance {
		g := &in.Governance[i]
		switch {
		case c.companies[g.Company] == nil:
			bad.add("governance: unknown company %q", g.Company)
		case c.governance[g.Company] != nil:
			bad.add("governance for company %s: given twice", g.Company)
		default:
			c.governance[g.Company] = g
		}
	}

	eventIDs := make(map[string]bool, len(in.Events))
	for i := range in.Events {
		ev := &in.Events[i]
		if ev.ID == "" {
			bad.add("event of company %s on %s: id is empty", ev.Company, ev.Date)
			continue
		}
		if eventIDs[ev.ID] {
			bad.add("event %s: given twice", ev.ID)
			continue
		}
		eventIDs[ev.ID] = true
		if problem := eventProblem(ev, c.companies); problem != "" {
			bad.add("event %s: %s", ev.ID, problem)
			continue
		}
		c.events[ev.Company] = append(c.events[ev.Company], ev)
	}

	if err := bad.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// eventProblem returns what is wrong with a credit record, or "".
func eventProblem(ev *Event, companies map[string]*Company) string {
	switch {
	case companies[ev.Company] == nil:
		return fmt.Sprintf("unknown company %q", ev.Company)
	case ev.Kind != KindGood && ev.Kind != KindBad:
		return fmt.Sprintf("kind must be good or bad, not %q", ev.Kind)
	case ev.Points == nil || ev.Points.Sign() <= 0 || ev.Points.Cmp(maxPoints) > 0:
		return fmt.Sprintf("points must be greater than 0 and at most %d", maxEventPoints)
	case ev.Veto && ev.Kind != KindBad:
		return "only a bad record can be a veto"
	case !ev.Date.IsValid():
		return fmt.Sprintf("date %s is not a valid date", ev.Date)
	case ev.ValidDays < 0:
		return fmt.Sprintf("valid_days must be at least 1 (or 0 for the ruleset's default), it is %d", ev.ValidDays)
	case ev.RepairedOn != nil && !ev.RepairedOn.IsValid():
		return "repaired_on is not a valid date"
	case ev.Status != "" && ev.Status != RecordInForce && ev.Status != RecordNotified && ev.Status != RecordWithdrawn:
		return fmt.Sprintf("status must be in_force, notified or withdrawn, not %q", ev.Status)
	}
	return ""
}

// supersedes reports whether disclosure a replaces b as the record of its estate and category:
// see Disclosure.
func supersedes(a, b *Disclosure) bool {
	if c := a.FiledAt.Compare(b.FiledAt); c != 0 {
		return c > 0
	}
	if a.Status != b.Status {
		return statusPrecedence[a.Status] > statusPrecedence[b.Status]
	}
	// The same instant and status written in two zones: any fixed choice will do.
	return a.FiledAt.Format(time.RFC3339Nano) > b.FiledAt.Format(time.RFC3339Nano)
}

// graded returns the ids of the companies that manage at least one estate, in id order.
func (c *city) graded() []string {
	ids := make([]string, 0, len(c.managed))
	for id := range c.managed {
		if c.companies[id] != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
