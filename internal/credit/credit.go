// Package credit is the bureau's credit process (信用记录管理): reviewers record good and bad
// credit records from the ruleset's catalogue, with evidence; a bad record is notified to its
// company with a numbered notice (记分告知单); the company may object once, within a window of
// working days; a reviewer other than the record's author decides; the company may apply for
// credit repair (信用修复) after rectification. Every step is a conditional write on one
// document (no transactions, several servers), and every step by a person is audited.
//
// The package holds the rules of the process. It knows nothing of HTTP or of the database:
// Store is what storage implements (internal/mongodb), and the web and the command line call
// Service.
package credit

import (
	"context"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/scoring"
)

// Record is a credit record as the process keeps it: the interchange record (domain.Event,
// whose Status is domain.EventDraft until the company is notified) and the steps that led to
// its status. It is stored as one document, so each step is one conditional write.
type Record struct {
	domain.Event `bson:",inline"`
	Rule         string     `bson:"rule"` // catalogue code
	Estate       string     `bson:"estate,omitempty"`
	Author       string     `bson:"author"`
	CreatedAt    time.Time  `bson:"created_at"`
	Evidence     []FileRef  `bson:"evidence,omitempty"`
	Notice       *Notice    `bson:"notice,omitempty"`
	Objection    *Objection `bson:"objection,omitempty"`
	Decision     *Decision  `bson:"decision,omitempty"`
	Repairs      []Repair   `bson:"repairs,omitempty"`
	// Version counts the record's writes; every write is conditional on the version read.
	Version int `bson:"version"`
}

// FileRef names an uploaded file in a record.
type FileRef struct {
	ID   string `bson:"id"`
	Name string `bson:"name"`
	Type string `bson:"type"`
	Size int64  `bson:"size"`
}

// Notice is the 记分告知单: issued when the record is notified.
type Notice struct {
	Number       string     `bson:"number"` // such as 信告〔2026〕000012号
	IssuedAt     time.Time  `bson:"issued_at"`
	IssuedBy     string     `bson:"issued_by"`
	ObjectionDue time.Time  `bson:"objection_due"` // objections are accepted before this instant
	ReadAt       *time.Time `bson:"read_at,omitempty"`
}

// Objection is the company's one objection (异议) to a record.
type Objection struct {
	Text     string    `bson:"text"`
	Evidence []FileRef `bson:"evidence,omitempty"`
	By       string    `bson:"by"`
	At       time.Time `bson:"at"`
}

// Decision outcomes.
const (
	Upheld       = "upheld"   // the objection stands: the record is withdrawn
	PartlyUpheld = "partly"   // the record stands changed (points or type)
	Rejected     = "rejected" // the record stands as it was
)

// Decision is a reviewer's answer to an objection. Reason is shown to the company.
type Decision struct {
	Outcome string    `bson:"outcome"`
	Reason  string    `bson:"reason"`
	By      string    `bson:"by"`
	At      time.Time `bson:"at"`
	// For PartlyUpheld: what the record was before.
	FromRule   string `bson:"from_rule,omitempty"`
	FromPoints string `bson:"from_points,omitempty"`
}

// Repair states.
const (
	RepairPending  = "pending"
	RepairApproved = "approved"
	RepairRefused  = "refused"
)

// Repair is one application for credit repair and its answer.
type Repair struct {
	Text      string    `bson:"text"`
	Evidence  []FileRef `bson:"evidence,omitempty"`
	By        string    `bson:"by"`
	At        time.Time `bson:"at"`
	Status    string    `bson:"status"`
	Reason    string    `bson:"reason,omitempty"`
	DecidedBy string    `bson:"decided_by,omitempty"`
	DecidedAt time.Time `bson:"decided_at,omitempty"`
}

// PendingRepair returns the application waiting for an answer, if any.
func (r *Record) PendingRepair() *Repair {
	for i := range r.Repairs {
		if r.Repairs[i].Status == RepairPending {
			return &r.Repairs[i]
		}
	}
	return nil
}

// HasPendingRepair reports whether a repair application waits for an answer.
func (r Record) HasPendingRepair() bool { return r.PendingRepair() != nil }

// ObjectionOpen reports whether the company may still object at now.
func (r Record) ObjectionOpen(now time.Time) bool {
	return r.Status == domain.EventNotified && r.Objection == nil && r.Notice != nil && now.Before(r.Notice.ObjectionDue)
}

// Awaiting reports whether a reviewer has something to do: an objection to decide or a
// repair to answer.
func (r Record) Awaiting() bool {
	return r.Objection != nil && r.Decision == nil || r.HasPendingRepair()
}

// Object is the record's name in the audit trail.
func (r Record) Object() string { return "record/" + r.ID }

// Filter selects records.
type Filter struct {
	Company string // "" for every company
	Status  string // "" for every status
}

// Store is what the process needs of storage. Every write is conditional: InsertCreditRecord fails
// with a Conflict when the id exists, ReplaceCreditRecord when the stored version is not
// r.Version-1.
type Store interface {
	InsertCreditRecord(ctx context.Context, r Record) error
	ReplaceCreditRecord(ctx context.Context, r Record) error
	CreditRecord(ctx context.Context, id string) (Record, error)
	CreditRecords(ctx context.Context, f Filter) ([]Record, error)
	// ClaimNoticeNumber inserts number n of year for record, or fails with a Conflict when it
	// is taken; CountNoticeNumbers says how many of year are taken.
	ClaimNoticeNumber(ctx context.Context, year, n int, record string) error
	CountNoticeNumbers(ctx context.Context, year int) (int, error)

	PutFile(ctx context.Context, f File, data []byte) error
	FileInfo(ctx context.Context, id string) (File, error)
	FileData(ctx context.Context, f File) ([]byte, error)

	Company(ctx context.Context, id string) (domain.Company, error)
	Estate(ctx context.Context, id string) (domain.Estate, error)

	ClaimStore

	// The transparency ledger, which every write of a record is appended to (ledger.go).
	ledger.Store
}

// Config configures a Service.
type Config struct {
	Store    Store
	Audit    *audit.Log
	Ruleset  *scoring.Ruleset // nil: scoring.Default()
	Calendar *Calendar        // nil: DefaultCalendar()
	// ObjectionDays is the objection window in working days; 0: DefaultObjectionDays.
	ObjectionDays int
	Now           func() time.Time // nil: time.Now
}

// DefaultObjectionDays is the objection window of provincial practice: 5 working days.
const DefaultObjectionDays = 5

// Service runs the process.
type Service struct {
	store Store
	audit *audit.Log
	rules *scoring.Ruleset
	cal   *Calendar
	days  int
	now   func() time.Time
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, audit: cfg.Audit, rules: cfg.Ruleset, cal: cfg.Calendar, days: cfg.ObjectionDays, now: cfg.Now}
	if s.rules == nil {
		s.rules = scoring.Default()
	}
	if s.cal == nil {
		s.cal = DefaultCalendar()
	}
	if s.days <= 0 {
		s.days = DefaultObjectionDays
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Catalogue returns the record types reviewers may record.
func (s *Service) Catalogue() []scoring.RecordType { return s.rules.Catalogue }

// ObjectionDays is the objection window in working days.
func (s *Service) ObjectionDays() int { return s.days }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Actor is who acts, with the company of a company account.
type Actor struct {
	Name    string
	Role    string
	Company string
}

func (a Actor) audit() audit.Actor { return audit.Actor{Name: a.Name, Role: a.Role} }

func (a Actor) isStaff() bool { return a.Role == domain.RoleReviewer || a.Role == domain.RoleAdmin }

// Errors carry message keys (credit.err.*) that the adapters translate; Fields map a form
// field to its key.
func invalid(field, key string) error {
	return &derrors.Error{Code: derrors.Invalid, Message: "credit.err.invalid", Fields: map[string]string{field: key}}
}

func fail(code, key string) error { return &derrors.Error{Code: code, Message: key} }
