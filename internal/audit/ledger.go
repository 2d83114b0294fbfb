package audit

import (
	"time"

	"github.com/propcredit/propcredit/internal/ledger"
)

// digested is what an entry's ledger digest covers: its leaf's fields (with the time as the
// store keeps it, to the millisecond), its id, and its texts. A field added to Entry later is
// not covered until it is added here.
type digested struct {
	ID string `json:"id"`
	ledger.AuditLeaf
	Before string `json:"before"`
	After  string `json:"after"`
	Reason string `json:"reason"`
}

// LedgerLeaf makes the ledger leaf of an entry (ledger.AuditLeaf), as Record appends it and
// as the ledger audit recomputes it from the stored entry.
func LedgerLeaf(e Entry) (ledger.Leaf, error) {
	leaf := ledger.AuditLeaf{Type: ledger.TypeAudit, At: ledger.Time(e.At), Actor: e.Actor, Role: e.Role, Action: e.Action,
		Object: e.Object, Company: e.Company, Period: e.Period}
	d := digested{ID: e.ID, AuditLeaf: leaf, Before: e.Before, After: e.After, Reason: e.Reason}
	d.At = e.At.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	sum, err := ledger.Digest(d)
	if err != nil {
		return ledger.Leaf{}, err
	}
	leaf.EntrySHA256 = sum
	return ledger.NewLeaf(ledger.AuditKey(e.ID), leaf)
}
