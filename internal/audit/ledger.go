package audit

import (
	"time"

	"github.com/propcredit/propcredit/internal/ledger"
)

// digested is what an entry's ledger digest covers: every field, by name, with the time as
// the store keeps it (to the millisecond). A field added to Entry later is not covered until
// it is added here.
type digested struct {
	ID      string `json:"id"`
	At      string `json:"at"`
	Actor   string `json:"actor"`
	Role    string `json:"role"`
	Action  string `json:"action"`
	Object  string `json:"object"`
	Company string `json:"company"`
	Period  string `json:"period"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Reason  string `json:"reason"`
}

// LedgerLeaf makes the ledger leaf of an entry (ledger.AuditLeaf), as Record appends it and
// as the ledger audit recomputes it from the stored entry.
func LedgerLeaf(e Entry) (ledger.Leaf, error) {
	sum, err := ledger.Digest(digested{ID: e.ID, At: e.At.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		Actor: e.Actor, Role: e.Role, Action: e.Action, Object: e.Object, Company: e.Company, Period: e.Period,
		Before: e.Before, After: e.After, Reason: e.Reason})
	if err != nil {
		return ledger.Leaf{}, err
	}
	return ledger.NewLeaf(ledger.AuditKey(e.ID), ledger.AuditLeaf{Type: ledger.TypeAudit, At: ledger.Time(e.At), Actor: e.Actor,
		Role: e.Role, Action: e.Action, Object: e.Object, Company: e.Company, Period: e.Period, EntrySHA256: sum})
}
