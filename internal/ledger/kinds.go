package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Besides publications, the ledger records every other step that makes a grade. Each kind is
// appended in one place, before the record it logs is written, by the package that owns the
// record (which fills the leaf from its own type):
//
//   - TypeFinal: a publication approved as final (正式发布), by publication.Service.Finalize;
//   - TypeCreditRecord: every write of a credit record (created, notified, objection filed or
//     decided, in force, withdrawn, repair applied for or decided), by internal/credit;
//   - TypeAudit: every audit-trail entry, by audit.Log.Record.
//
// Leaves carry account names but no personal data: free texts (descriptions, objections,
// reasons, before/after states) are only in a SHA-256 digest, so that the audit can check
// them and nobody can read them from the ledger.

// More leaf types.
const (
	TypeFinal        = "final"         // a publication approved as final
	TypeCreditRecord = "credit_record" // a credit record's state after one step of the process
	TypeAudit        = "audit"         // an audit-trail entry
)

// FinalLeaf records a publication's final approval.
type FinalLeaf struct {
	Type         string `json:"type"`
	Period       string `json:"period"`
	Publication  int    `json:"publication"`
	InputsSHA256 string `json:"inputs_sha256"`
	PublishedAt  string `json:"published_at"`
	FinalAt      string `json:"final_at"`
	FinalBy      string `json:"final_by"` // the approving account
}

// FinalKey is the key of a publication's final-approval leaf.
func FinalKey(period string, seq int) string { return fmt.Sprintf("final|%s|%04d", period, seq) }

// CreditRecordLeaf is a credit record's state as one step of the credit process left it: what
// scoring reads of it (kind, points, veto, date, validity, status, repair) and where the
// process stands (notice, objection, decision, repairs). Version is the record's write count.
type CreditRecordLeaf struct {
	Type         string             `json:"type"`
	Record       string             `json:"record"`
	Version      int                `json:"version"`
	Company      string             `json:"company"`
	Estate       string             `json:"estate"`
	Rule         string             `json:"rule"`
	Kind         string             `json:"kind"`
	Points       string             `json:"points"` // exact decimal text, as stored
	Veto         bool               `json:"veto"`
	Date         string             `json:"date"`
	ValidDays    int                `json:"valid_days"`
	Status       string             `json:"status"`
	RepairedOn   string             `json:"repaired_on"`
	Author       string             `json:"author"`
	CreatedAt    string             `json:"created_at"`
	Notice       string             `json:"notice"` // the notice's number, "" before it is issued
	NotifiedAt   string             `json:"notified_at"`
	ObjectionDue string             `json:"objection_due"`
	ObjectedAt   string             `json:"objected_at"`
	Decision     string             `json:"decision"` // the outcome, "" while undecided
	DecidedBy    string             `json:"decided_by"`
	DecidedAt    string             `json:"decided_at"`
	Repairs      []CreditRepairLeaf `json:"repairs"`
	TextsSHA256  string             `json:"texts_sha256"` // Digest of the texts and evidence
}

// CreditRepairLeaf is one repair application in a CreditRecordLeaf.
type CreditRepairLeaf struct {
	AppliedAt string `json:"applied_at"`
	Status    string `json:"status"`
	DecidedBy string `json:"decided_by"`
	DecidedAt string `json:"decided_at"`
}

// CreditRecordKey is the key of a credit record's leaf at a version.
func CreditRecordKey(record string, version int) string {
	return fmt.Sprintf("credit|%s|%06d", record, version)
}

// AuditLeaf records an audit-trail entry: who did what to which object, when; EntrySHA256 is
// the Digest of the whole entry as stored (its id, before and after states and reason
// included). The entry's id is not in the leaf: its random part keeps the digest from being
// guessed.
type AuditLeaf struct {
	Type        string `json:"type"`
	At          string `json:"at"`
	Actor       string `json:"actor"`
	Role        string `json:"role"`
	Action      string `json:"action"`
	Object      string `json:"object"`
	Company     string `json:"company"`
	Period      string `json:"period"`
	EntrySHA256 string `json:"entry_sha256"`
}

// AuditKey is the key of an audit entry's leaf.
func AuditKey(id string) string { return "audit|" + id }

// Time writes a leaf's time: UTC to the second, RFC 3339; "" for the zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Digest is the hex SHA-256 of v's canonical JSON.
func Digest(v any) (string, error) {
	b, err := Canonical(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// NewLeaf encodes a leaf of any kind under key.
func NewLeaf(key string, v any) (Leaf, error) {
	data, err := Canonical(v)
	if err != nil {
		return Leaf{}, fmt.Errorf("ledger leaf %s: %w", key, err)
	}
	return Leaf{Key: key, Data: data}, nil
}
