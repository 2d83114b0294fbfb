// Package domain holds propcredit's core types and the rules about their values. It knows
// nothing of HTTP or of the database; adapters convert to and from these types.
package domain

import (
	"encoding/json"
	"time"

	"github.com/propcredit/propcredit/scoring"
)

// Roles of accounts. Owners have no account: they prove residence with a household code.
const (
	RoleAdmin     = "admin"
	RoleReviewer  = "reviewer"  // housing bureau staff
	RoleCompany   = "company"   // a property-service company, tied to one company
	RoleEvaluator = "evaluator" // bid evaluation
)

// Roles lists every role, for flag help and validation.
var Roles = []string{RoleAdmin, RoleReviewer, RoleCompany, RoleEvaluator}

// Estate categories (INTERCHANGE.md).
var EstateCategories = []string{"commodity", "unit", "old", "urban_village"}

// EstateCategoryLabels gives the zh-CN name of each estate category.
var EstateCategoryLabels = map[string]string{
	"commodity": "商品房", "unit": "单位型", "old": "无人管理老旧小区", "urban_village": "城中村",
}

// Disclosure categories, in the order reports show them: the scoring engine's
// (scoring.Categories).
var DisclosureCategories = func() []string {
	var out []string
	for _, c := range scoring.Categories {
		out = append(out, c.ID)
	}
	return out
}()

// Disclosure review states: the scoring engine's.
const (
	StatusPending  = scoring.StatusPending
	StatusVerified = scoring.StatusVerified
	StatusRejected = scoring.StatusRejected
)

type District struct {
	ID   string `json:"id" bson:"_id" validate:"required,ident"`
	Name string `json:"name" bson:"name" validate:"required,line,max=100"`
}

type Company struct {
	ID   string `json:"id" bson:"_id" validate:"required,uscc"`
	Name string `json:"name" bson:"name" validate:"required,line,max=200"`
}

type Estate struct {
	ID         string `json:"id" bson:"_id" validate:"required,ident"`
	Name       string `json:"name" bson:"name" validate:"required,line,max=200"`
	District   string `json:"district" bson:"district" validate:"required,ident"`
	Company    string `json:"company" bson:"company" validate:"required,uscc"`
	Households int    `json:"households" bson:"households" validate:"min=1,max=1000000"`
	Category   string `json:"category" bson:"category" validate:"required,oneof=commodity unit old urban_village"`
}

// Period is a rating and disclosure period, as stored and validated. Dates are civil dates,
// YYYY-MM-DD, inclusive. The scoring engine takes the same period as a scoring.Period (dates
// parsed), made from this one by publication.ScoringPeriod only.
type Period struct {
	ID                 string `json:"id" bson:"_id" validate:"required,ident"`
	Start              string `json:"start" bson:"start" validate:"required,date"`
	End                string `json:"end" bson:"end" validate:"required,date,datefrom=Start"`
	DisclosureDeadline string `json:"disclosure_deadline" bson:"disclosure_deadline" validate:"required,date"`
}

// Contains reports whether the civil date day (YYYY-MM-DD) falls within the period.
func (p Period) Contains(day string) bool { return p.Start <= day && day <= p.End }

// PeriodsOn is the one open-period rule: the period open on day is the one whose dates
// contain it. When none is, last is the one that ended most recently before day and next the
// one that starts soonest after it; each is nil if there is none.
func PeriodsOn(periods []Period, day string) (open, last, next *Period) {
	for i := range periods {
		p := &periods[i]
		switch {
		case p.Contains(day):
			return p, nil, nil
		case p.End < day && (last == nil || p.End > last.End):
			last = p
		case p.Start > day && (next == nil || p.Start < next.Start):
			next = p
		}
	}
	return nil, last, next
}

// Scores are one owner's marks for the six dimensions, each 1-5.
type Scores struct {
	Service      int `json:"service" bson:"service" validate:"min=1,max=5"`
	Security     int `json:"security" bson:"security" validate:"min=1,max=5"`
	Cleaning     int `json:"cleaning" bson:"cleaning" validate:"min=1,max=5"`
	Greening     int `json:"greening" bson:"greening" validate:"min=1,max=5"`
	Maintenance  int `json:"maintenance" bson:"maintenance" validate:"min=1,max=5"`
	Transparency int `json:"transparency" bson:"transparency" validate:"min=1,max=5"`
}

// Array returns the scores in the canonical dimension order.
func (s Scores) Array() [6]int {
	return [6]int{s.Service, s.Security, s.Cleaning, s.Greening, s.Maintenance, s.Transparency}
}

// Dimension describes one rating dimension.
type Dimension = scoring.Dimension

// Dimensions in canonical order, the order of Scores.Array: the scoring engine's.
var Dimensions = scoring.Dimensions[:]

// A Tally is the running sum of the counted ratings of one estate in one period, so that
// scoring reads a few documents per period instead of every rating. The store keeps it in an
// insert-only journal beside the ratings, right with any number of servers and after a crash.
type Tally struct {
	Period  string    `bson:"period"`
	Estate  string    `bson:"estate"`
	Ratings int64     `bson:"count"`
	Sums    TallySums `bson:"sums"`
}

// TallySums are per-dimension sums of Scores; the bson names are the Dimensions' IDs.
type TallySums struct {
	Service      int64 `bson:"service"`
	Security     int64 `bson:"security"`
	Cleaning     int64 `bson:"cleaning"`
	Greening     int64 `bson:"greening"`
	Maintenance  int64 `bson:"maintenance"`
	Transparency int64 `bson:"transparency"`
}

// fields are the sums in the canonical dimension order: the one place they are listed.
func (s *TallySums) fields() [6]*int64 {
	return [...]*int64{&s.Service, &s.Security, &s.Cleaning, &s.Greening, &s.Maintenance, &s.Transparency}
}

// Array returns the sums in the canonical dimension order.
func (s TallySums) Array() [6]int64 {
	var out [6]int64
	for i, f := range s.fields() {
		out[i] = *f
	}
	return out
}

// TallySumsOf returns the sums given in the canonical dimension order (the inverse of Array).
func TallySumsOf(a [6]int64) TallySums {
	var s TallySums
	for i, f := range s.fields() {
		*f = a[i]
	}
	return s
}

// Add adds o's count and sums to t.
func (t *Tally) Add(o *Tally) {
	t.Ratings += o.Ratings
	for i, v := range o.Sums.Array() {
		*t.Sums.fields()[i] += v
	}
}

// AddRating counts one rating's scores in t, or takes one out (sign -1).
func (t *Tally) AddRating(s Scores, sign int64) {
	t.Ratings += sign
	for i, v := range s.Array() {
		*t.Sums.fields()[i] += sign * int64(v)
	}
}

// Rating is the counted rating of one household in one period (the latest version).
type Rating struct {
	Period      string    `json:"period" bson:"period" validate:"required,ident"`
	Estate      string    `json:"estate" bson:"estate" validate:"required,ident"`
	Household   string    `json:"household" bson:"household" validate:"required,ident"`
	SubmittedAt time.Time `json:"submitted_at" bson:"submitted_at" validate:"required"`
	Scores      Scores    `json:"scores" bson:"scores" validate:"required"`
	Comment     string    `json:"comment,omitempty" bson:"comment,omitempty" validate:"text,max=500"`
}

// Key is the rating's identity: one counted rating per household and period.
func (r Rating) Key() string { return r.Period + "|" + r.Estate + "|" + r.Household }

type Disclosure struct {
	Period   string          `json:"period" bson:"period" validate:"required,ident"`
	Estate   string          `json:"estate" bson:"estate" validate:"required,ident"`
	Category string          `json:"category" bson:"category" validate:"required,oneof=utilities fees maintenance_fund parking"`
	FiledAt  time.Time       `json:"filed_at" bson:"filed_at" validate:"required"`
	Status   string          `json:"status" bson:"status" validate:"required,oneof=pending verified rejected"`
	Data     json.RawMessage `json:"data,omitempty" bson:"data,omitempty"` // compact JSON object, kept as written
}

func (d Disclosure) Key() string { return d.Period + "|" + d.Estate + "|" + d.Category }

type Governance struct {
	Period          string `json:"period" bson:"period" validate:"required,ident"`
	Company         string `json:"company" bson:"company" validate:"required,uscc"`
	PartyOrg        bool   `json:"party_org" bson:"party_org"`
	PartyInstructor bool   `json:"party_instructor" bson:"party_instructor"`
	JointMechanism  bool   `json:"joint_mechanism" bson:"joint_mechanism"`
}

func (g Governance) Key() string { return g.Period + "|" + g.Company }

// Event is a credit record (信用记录) kept by reviewers. Points is an exact decimal string
// such as "2.5"; it is never converted to float64.
type Event struct {
	ID         string `json:"id" bson:"_id" validate:"required,ident"`
	Company    string `json:"company" bson:"company" validate:"required,uscc"`
	Kind       string `json:"kind" bson:"kind" validate:"required,oneof=good bad"`
	Points     string `json:"points" bson:"points" validate:"required,points"`
	Veto       bool   `json:"veto" bson:"veto"`
	Date       string `json:"date" bson:"date" validate:"required,date"`
	ValidDays  int    `json:"valid_days,omitempty" bson:"valid_days,omitempty" validate:"omitempty,min=1,max=36500"`
	RepairedOn string `json:"repaired_on,omitempty" bson:"repaired_on,omitempty" validate:"omitempty,date"`
	// Status is in_force (also when empty: records decided outside the system), notified or
	// withdrawn; only in_force records count (SCORING.md §4). Records reviewers are still
	// drafting are stored with EventDraft and are not records yet: no export, no scoring.
	Status      string `json:"status,omitempty" bson:"status,omitempty" validate:"omitempty,oneof=in_force notified withdrawn"`
	Description string `json:"description" bson:"description" validate:"text,max=2000"`
}

// Credit record statuses (INTERCHANGE.md `event.status`), and the draft state before a record
// is one.
const (
	EventDraft     = "draft"
	EventNotified  = "notified"
	EventInForce   = "in_force"
	EventWithdrawn = "withdrawn"
)

// Account is a log-in for bureau staff, companies and bid evaluators.
type Account struct {
	ID           string `json:"id" bson:"_id"`
	Name         string `json:"name" bson:"name" validate:"required,ident"`
	Role         string `json:"role" bson:"role" validate:"required,oneof=admin reviewer company evaluator"`
	Company      string `json:"company,omitempty" bson:"company,omitempty" validate:"required_if=Role company,omitempty,uscc"`
	PasswordHash string `json:"-" bson:"password_hash"`
	// MustChangePassword is set while the password is a one-time password someone else
	// knows (from account administration or `propcredit user add`): the first log-in must
	// choose a new one before doing anything else.
	MustChangePassword bool      `json:"must_change_password,omitempty" bson:"must_change_password,omitempty"`
	CreatedAt          time.Time `json:"created_at" bson:"created_at"`
	// Disabled accounts cannot log in, and their sessions end when they are disabled.
	Disabled bool `json:"disabled,omitempty" bson:"disabled,omitempty"`
}

// Household is a flat of an estate. Owners prove they live there with its code.
type Household struct {
	Estate string `json:"estate" bson:"estate" validate:"required,ident"`
	Flat   string `json:"flat" bson:"flat" validate:"required,ident"`
}

// Today returns the civil date in the bureau's time zone (+08:00), which decides which
// period is open.
func Today(now time.Time) string { return now.In(Zone).Format(DateLayout) }

// Zone is the bureau's time zone, China Standard Time (no daylight saving).
var Zone = time.FixedZone("CST", 8*3600)

// DateLayout is the civil date format used everywhere.
const DateLayout = "2006-01-02"

// ImportStats counts what an import of a Dataset did.
type ImportStats struct {
	Inserted  int // new records
	Replaced  int // records that replaced a stored one with the same key
	Unchanged int // records identical to the stored one, or ratings older than the stored one
}

// Dataset is a set of records of every kind: what an import brings, what an export writes,
// what the demo city generates.
type Dataset struct {
	Districts   []District
	Companies   []Company
	Estates     []Estate
	Periods     []Period
	Ratings     []Rating
	Disclosures []Disclosure
	Governance  []Governance
	Events      []Event
}

// Len is the number of records in the dataset.
func (d *Dataset) Len() int {
	return len(d.Districts) + len(d.Companies) + len(d.Estates) + len(d.Periods) +
		len(d.Ratings) + len(d.Disclosures) + len(d.Governance) + len(d.Events)
}

// ScoresOf builds Scores from marks in the canonical dimension order.
func ScoresOf(m [6]int) Scores {
	return Scores{Service: m[0], Security: m[1], Cleaning: m[2], Greening: m[3], Maintenance: m[4], Transparency: m[5]}
}
