package scoring

import (
	"encoding/json"
	"math/big"
	"slices"
	"time"
)

// Result is the grading of one period under one ruleset. Everything in it is reported exactly as
// the rules computed it: the Fixed fields are the rounded numbers that are published, and the
// Exact fields the unrounded rationals they were rounded from. Treat it as read-only.
type Result struct {
	Period      string `json:"period"`       // the period's id
	Ruleset     string `json:"ruleset"`      // name@version
	RulesetHash string `json:"ruleset_hash"` // Ruleset.Hash of the rules used

	// The two days the rules read: credit records count when in force on PeriodEnd, and
	// disclosures are on time when filed by the end of DisclosureDeadline.
	PeriodEnd          Date `json:"period_end"`
	DisclosureDeadline Date `json:"disclosure_deadline"`

	// CityRatings is how many ratings counted in the whole city, and CityMean their mean r (μ),
	// or 3 when there are none.
	CityRatings int64 `json:"city_ratings"`
	CityMean    Fixed `json:"city_mean"`

	Grades   []Grade   `json:"grades"` // in rank order
	Warnings []Warning `json:"warnings"`

	Exact ResultExact `json:"exact"`
}

// ResultExact holds the city-wide numbers before rounding.
type ResultExact struct {
	CityMean *big.Rat `json:"city_mean"`
}

// Grade is one company's grade and everything it was computed from (SCORING.md §9).
type Grade struct {
	Company    string     `json:"company"`
	Name       string     `json:"name"`
	Score      Fixed      `json:"score"`
	Grade      string     `json:"grade"`
	List       string     `json:"list"` // ListRed, ListBlack or ListNone
	Rank       int        `json:"rank"` // 1-based position in the period
	Components Components `json:"components"`
	Estates    int        `json:"estates"`    // estates it manages in the period
	Ratings    int64      `json:"ratings"`    // counted ratings of those estates
	Households int64      `json:"households"` // households of those estates, the weights of S and D

	// Base is 0.6·S + 0.3·D + 0.1·G (with the ruleset's weights), before credit records.
	Base Fixed `json:"base"`
	// GradeBasis says which rule gave the grade: one of the Basis constants.
	GradeBasis string `json:"grade_basis"`
	// Governance is the governance record the G component came from.
	Governance GovernanceDetail `json:"governance"`

	EstateDetails []EstateDetail `json:"estate_details"` // in estate id order
	// ActiveEvents are the company's credit records in force on the period's end, which made
	// its bonus and deduction; InactiveEvents the others it was given, to show why they did not.
	// Both by date, then id.
	ActiveEvents   []EventDetail `json:"active_events"`
	InactiveEvents []EventDetail `json:"inactive_events"`

	Exact GradeExact `json:"exact"`
}

// Components are a grade's rounded components (the export's "components").
type Components struct {
	Satisfaction Fixed `json:"satisfaction"` // S
	Disclosure   Fixed `json:"disclosure"`   // D
	Governance   Fixed `json:"governance"`   // G
	Bonus        Fixed `json:"bonus"`        // after the cap
	Deduction    Fixed `json:"deduction"`
}

// GradeExact holds a grade's numbers before rounding.
type GradeExact struct {
	Satisfaction *big.Rat `json:"satisfaction"`
	Disclosure   *big.Rat `json:"disclosure"`
	Governance   *big.Rat `json:"governance"`
	Base         *big.Rat `json:"base"`
	GoodPoints   *big.Rat `json:"good_points"` // the active good records' points before the cap
	Bonus        *big.Rat `json:"bonus"`
	Deduction    *big.Rat `json:"deduction"`
	Unclamped    *big.Rat `json:"unclamped"` // base + bonus − deduction
	Score        *big.Rat `json:"score"`     // Unclamped kept within 0..100
}

// Lists.
const (
	ListRed   = "red"
	ListBlack = "black"
	ListNone  = "none"
)

// Why a company got its grade.
const (
	BasisBand            = "band"                 // its rounded score reached a band
	BasisBelowBandsClean = "below_bands_clean"    // below every band, but no active bad record
	BasisBelowBandsBad   = "below_bands_with_bad" // below every band with an active bad record
	BasisVeto            = "veto"                 // an active veto record
)

// GovernanceDetail is the governance record a company was scored on.
type GovernanceDetail struct {
	Recorded        bool `json:"recorded"` // false: no record, G = 0
	PartyOrg        bool `json:"party_org"`
	PartyInstructor bool `json:"party_instructor"`
	JointMechanism  bool `json:"joint_mechanism"`
}

// EstateDetail is where an estate's part of its company's S and D came from.
type EstateDetail struct {
	Estate     string `json:"estate"`
	Name       string `json:"name"`
	District   string `json:"district"`
	Households int    `json:"households"`
	Ratings    int64  `json:"ratings"` // n_e, counted ratings

	Mean         Fixed `json:"mean"`         // m_e, or μ when the estate has no ratings
	Shrunk       Fixed `json:"shrunk"`       // s_e = (n_e·m_e + K·μ)/(n_e + K)
	Satisfaction Fixed `json:"satisfaction"` // S_e = (s_e − 1)/4 × 100
	Disclosure   Fixed `json:"disclosure"`   // D_e = mean of the four worths × 100

	Disclosures [len(Categories)]DisclosureWorth `json:"disclosures"` // in Categories order

	Exact EstateExact `json:"exact"`
}

// EstateExact holds an estate's numbers before rounding.
type EstateExact struct {
	Mean         *big.Rat `json:"mean"`
	Shrunk       *big.Rat `json:"shrunk"`
	Satisfaction *big.Rat `json:"satisfaction"`
	Disclosure   *big.Rat `json:"disclosure"`
}

// Why a disclosure is worth what it is.
const (
	ReasonOnTime      = "on_time"      // filed by the end of the deadline day
	ReasonWithinGrace = "within_grace" // filed in the grace days after it
	ReasonLate        = "late"         // filed later
	ReasonMissing     = "missing"      // not filed
	ReasonRejected    = "rejected"     // filed but rejected by a reviewer
)

// DisclosureWorth is what one of an estate's disclosures is worth and why.
type DisclosureWorth struct {
	Category string    `json:"category"`
	Reason   string    `json:"reason"`           // one of the Reason constants
	Status   string    `json:"status,omitempty"` // the record's status; pending ones count as filed
	FiledAt  time.Time `json:"filed_at,omitzero"`
	Worth    *big.Rat  `json:"worth"` // the ruleset's worth itself (shared: do not modify)
}

// Credit record statuses on the period's end.
const (
	EventInForce  = "in_force" // counts
	EventNotYet   = "not_yet"  // made after the period's end
	EventExpired  = "expired"  // its valid days ran out on or before the end
	EventRepaired = "repaired" // credit repair ended it on or before the end
	// A record that is not in force whatever its dates (SCORING.md §4):
	EventNotified  = RecordNotified  // the company's objection window or objection is open
	EventWithdrawn = RecordWithdrawn // withdrawn after an objection
)

// EventDetail is a company's credit record as the rules applied it on the period's end.
type EventDetail struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Points      *big.Rat `json:"points"`
	Veto        bool     `json:"veto"`
	Date        Date     `json:"date"`
	ValidDays   int      `json:"valid_days"` // as applied: the ruleset's default when the record had none
	RepairedOn  *Date    `json:"repaired_on,omitempty"`
	LastDay     Date     `json:"last_day"` // the last day it is in force (the day before Date when repaired before it started)
	Status      string   `json:"status"`   // one of the Event statuses
	Description string   `json:"description,omitempty"`
}

// Warning codes.
const (
	WarnDisclosurePending = "disclosure_pending"
	WarnEstateUnrated     = "estate_unrated"
)

// Warning is something a reviewer should look at before publishing the result.
type Warning struct {
	Code     string `json:"code"`
	Estate   string `json:"estate"`
	Company  string `json:"company"`
	Category string `json:"category,omitempty"`
	Message  string `json:"message"` // zh-CN
}

// Grade returns the grade of the company with the given id, or nil if it was not graded.
func (r *Result) Grade(company string) *Grade {
	for i := range r.Grades {
		if r.Grades[i].Company == company {
			return &r.Grades[i]
		}
	}
	return nil
}

// RedList returns the red list as SCORING.md §7 publishes it: in rank order.
func (r *Result) RedList() []Grade { return r.list(ListRed) }

// BlackList returns the black list as SCORING.md §7 publishes it: in reverse rank order, worst
// first.
func (r *Result) BlackList() []Grade {
	black := r.list(ListBlack)
	slices.Reverse(black)
	return black
}

func (r *Result) list(list string) []Grade {
	out := []Grade{}
	for _, g := range r.Grades {
		if g.List == list {
			out = append(out, g)
		}
	}
	return out
}

// HasVeto reports whether an active veto record made the grade.
func (g *Grade) HasVeto() bool { return g.GradeBasis == BasisVeto }

// ActiveBad returns the company's active bad records.
func (g *Grade) ActiveBad() []EventDetail {
	var bad []EventDetail
	for _, ev := range g.ActiveEvents {
		if ev.Kind == KindBad {
			bad = append(bad, ev)
		}
	}
	return bad
}

// exportedGrade and exportedResult are INTERCHANGE.md's "Exported results", field for field.
type exportedGrade struct {
	Company    string     `json:"company"`
	Name       string     `json:"name"`
	Score      Fixed      `json:"score"`
	Grade      string     `json:"grade"`
	List       string     `json:"list"`
	Rank       int        `json:"rank"`
	Components Components `json:"components"`
	Estates    int        `json:"estates"`
	Ratings    int64      `json:"ratings"`
}

type exportedResult struct {
	Period  string          `json:"period"`
	Ruleset string          `json:"ruleset"`
	Grades  []exportedGrade `json:"grades"`
}

// MarshalExport writes the result as INTERCHANGE.md's exported results, grades in rank order,
// indented by two spaces and ending in a newline. It holds nothing more: MarshalDetail has the rest.
func MarshalExport(res *Result) ([]byte, error) {
	out := exportedResult{Period: res.Period, Ruleset: res.Ruleset, Grades: make([]exportedGrade, len(res.Grades))}
	for i, g := range res.Grades {
		out.Grades[i] = exportedGrade{g.Company, g.Name, g.Score, g.Grade, g.List, g.Rank, g.Components, g.Estates, g.Ratings}
	}
	return marshalIndent(out)
}

// MarshalDetail writes the whole result, with every estate's detail, the active credit records,
// the warnings and the exact values (as "numerator/denominator" strings), in the same layout.
func MarshalDetail(res *Result) ([]byte, error) {
	return marshalIndent(res)
}

func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
