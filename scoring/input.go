package scoring

import (
	"cmp"
	"math/big"
	"slices"
	"time"
)

// Period is the scoring period: ratings and disclosures belong to it, and credit records count
// when they are in force on its End day. It is the engine's view of a stored period
// (internal/domain.Period, whose dates are validated strings), with its dates parsed; the
// one conversion is publication.ScoringPeriod.
type Period struct {
	ID                 string `json:"id"`
	Start              Date   `json:"start"`
	End                Date   `json:"end"`
	DisclosureDeadline Date   `json:"disclosure_deadline"`
}

// Company is a property-service company; ID is its unified social credit code.
type Company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Estate is a housing estate (小区) and the company that manages it in the period. Households
// weighs the estate in its company's satisfaction and disclosure means.
type Estate struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	District   string `json:"district"`
	Company    string `json:"company"`
	Households int    `json:"households"`
}

// Dimension is one of the six things owners rate, each scored 1-5.
type Dimension struct {
	ID      string // as in the interchange format
	Label   string // zh-CN, as shown to owners
	LabelEN string // English
}

// Dimensions lists the rated dimensions in the order of Tally.Sums and Rating.Scores. It is
// the project's one list of them (internal/domain shows the same).
var Dimensions = [6]Dimension{
	{"service", "客户服务", "Customer service"},
	{"security", "秩序维护", "Security and order"},
	{"cleaning", "保洁", "Cleaning"},
	{"greening", "绿化", "Greening"},
	{"maintenance", "设施设备维修", "Facility maintenance"},
	{"transparency", "收费与公开", "Fees and transparency"},
}

// Tally is what the engine needs of an estate's ratings in the period: how many Ratings count
// (the latest of each household; n_e, the Estate result's Ratings) and, per dimension in
// Dimensions order, the sum of their scores (the key stays "count" in JSON).
// A rating's r is the mean of its six scores, so the estate's mean m_e = sum(Sums)/(6·Ratings)
// exactly. Callers with raw ratings use TallyRatings; a database can sum in its query.
type Tally struct {
	Estate  string   `json:"estate"`
	Ratings int64    `json:"count"`
	Sums    [6]int64 `json:"sums"`
}

// Rating is one owner's rating of an estate, each score 1-5 in Dimensions order.
// Seq orders ratings submitted at the same instant: the larger is the later import or submission.
type Rating struct {
	Estate      string    `json:"estate"`
	Household   string    `json:"household"`
	SubmittedAt time.Time `json:"submitted_at"`
	Seq         int64     `json:"seq"`
	Scores      [6]int    `json:"scores"`
}

// TallyRatings counts the latest rating of each household of each estate (SCORING.md §1) and
// sums its scores, returning one Tally per rated estate in estate id order.
//
// The latest rating is the one with the latest SubmittedAt (compared as instants), then the
// larger Seq. Should even Seq tie (the same submission given twice), the larger Scores in
// Dimensions order win, so the result never depends on the order of ratings.
func TallyRatings(ratings []Rating) []Tally {
	type household struct{ estate, flat string }
	latest := make(map[household]*Rating, len(ratings))
	for i := range ratings {
		r := &ratings[i]
		key := household{r.Estate, r.Household}
		if kept, ok := latest[key]; !ok || laterRating(r, kept) {
			latest[key] = r
		}
	}
	byEstate := make(map[string]*Tally)
	for _, r := range latest { // order does not matter: integer sums commute
		t := byEstate[r.Estate]
		if t == nil {
			t = &Tally{Estate: r.Estate}
			byEstate[r.Estate] = t
		}
		t.Ratings++
		for d, score := range r.Scores {
			t.Sums[d] += int64(score)
		}
	}
	tallies := make([]Tally, 0, len(byEstate))
	for _, t := range byEstate {
		tallies = append(tallies, *t)
	}
	slices.SortFunc(tallies, func(a, b Tally) int { return cmp.Compare(a.Estate, b.Estate) })
	return tallies
}

// laterRating reports whether a supersedes b as its household's rating.
func laterRating(a, b *Rating) bool {
	if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
		return c > 0
	}
	if a.Seq != b.Seq {
		return a.Seq > b.Seq
	}
	return slices.Compare(a.Scores[:], b.Scores[:]) > 0
}

// Category is one of the four disclosures an estate owes each period.
type Category struct {
	ID    string
	Label string // zh-CN
}

// Categories lists the disclosure categories in the order the engine reports them: the
// project's one list of them (internal/domain shows the same).
var Categories = [4]Category{
	{"utilities", "公共水电分摊"},
	{"fees", "物业服务费"},
	{"maintenance_fund", "专项维修资金"},
	{"parking", "停车场所使用与收益"},
}

// Disclosure statuses (review states; internal/domain shows the same).
const (
	StatusPending  = "pending"
	StatusVerified = "verified"
	StatusRejected = "rejected"
)

// Disclosure is an estate's filing of one category in the period.
//
// The caller normally passes at most one record per estate and category (the interchange format
// keys them so). If it passes several, the one with the latest FiledAt (as an instant) counts;
// on a tie the status decides, rejected before pending before verified, so that contradictory
// records never favour the company and the result never depends on their order. (Two records
// equal in both differ at most in FiledAt's zone; the larger RFC 3339 text wins.)
type Disclosure struct {
	Estate   string    `json:"estate"`
	Category string    `json:"category"`
	FiledAt  time.Time `json:"filed_at"`
	Status   string    `json:"status"`
}

// Governance is a company's party-building record for the period (SCORING.md §3).
// At most one per company; a company without one scores G = 0.
type Governance struct {
	Company         string `json:"company"`
	PartyOrg        bool   `json:"party_org"`
	PartyInstructor bool   `json:"party_instructor"`
	JointMechanism  bool   `json:"joint_mechanism"`
}

// Credit record kinds.
const (
	KindGood = "good"
	KindBad  = "bad"
)

// Record statuses (INTERCHANGE.md `status`): only in_force records count, and "" means in_force.
const (
	RecordInForce   = "in_force"  // decided, or decided outside the system
	RecordNotified  = "notified"  // the company is notified; its objection window or objection is open
	RecordWithdrawn = "withdrawn" // withdrawn after an objection
)

// Event is a credit record (信用记录). It is in force from Date for ValidDays days (the ruleset's
// default_valid_days when 0), or until RepairedOn if that comes first, provided its Status is
// in force; see Ruleset.InForce.
type Event struct {
	ID          string   `json:"id"`
	Company     string   `json:"company"`
	Kind        string   `json:"kind"`   // KindGood or KindBad
	Points      *big.Rat `json:"points"` // > 0: added for good, deducted for bad
	Veto        bool     `json:"veto"`   // only for bad: a one-vote-veto offence
	Date        Date     `json:"date"`
	ValidDays   int      `json:"valid_days,omitempty"`
	RepairedOn  *Date    `json:"repaired_on,omitempty"`
	Status      string   `json:"status,omitempty"` // "" (in force), RecordInForce, RecordNotified or RecordWithdrawn
	Description string   `json:"description,omitempty"`
}

// Input is everything the engine scores one period from. Estates are the estates managed in the
// period; Companies may include companies that manage none (they are not graded). Every slice
// may come in any order.
type Input struct {
	Period      Period       `json:"period"`
	Companies   []Company    `json:"companies"`
	Estates     []Estate     `json:"estates"`
	Tallies     []Tally      `json:"tallies"`
	Disclosures []Disclosure `json:"disclosures"`
	Governance  []Governance `json:"governance"`
	Events      []Event      `json:"events"`
}
