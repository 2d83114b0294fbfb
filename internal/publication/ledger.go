package publication

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/propcredit/propcredit/internal/ledger"
)

// Every publication is appended to the transparency ledger (internal/ledger) before it is
// stored: one leaf per company result and one for the publication's inputs and ruleset; its
// final approval is one more leaf (FinalLeaf), appended by Finalize before the mark.
// Publish does it, the one place a publication is saved, so nothing is published without its
// leaves. If the process dies between the two, or another publisher takes the number first,
// the ledger holds leaves of a publication that was never stored; the audit (propcredit
// ledger audit) reports them, and a certificate finds the stored publication's leaf by its
// exact bytes.

// LedgerPublication describes a stored publication to the ledger.
func LedgerPublication(pub Record) ledger.Publication {
	return ledger.Publication{Period: pub.Period, Seq: pub.Seq, Ruleset: pub.Ruleset, RulesetHash: pub.RulesetHash,
		InputsHash: pub.InputsHash, PublishedAt: pub.CreatedAt}
}

// LedgerLeaves makes the ledger leaves of a publication record (with its detail). It decodes
// only the grades' fields the ledger records.
func LedgerLeaves(pub Record) ([]ledger.Leaf, error) {
	detail, err := pub.DetailJSON()
	if err != nil {
		return nil, err
	}
	var res struct {
		Grades []ledger.Grade `json:"grades"`
	}
	if err := json.Unmarshal(detail, &res); err != nil {
		return nil, fmt.Errorf("publication %s: %w", pub.ID, err)
	}
	return ledger.PublicationLeaves(LedgerPublication(pub), res.Grades)
}

// AppendToLedger appends a publication's leaves to the ledger and returns their indexes.
func AppendToLedger(ctx context.Context, log *ledger.Log, pub Record) ([]int64, error) {
	leaves, err := LedgerLeaves(pub)
	if err != nil {
		return nil, err
	}
	return log.Append(ctx, leaves)
}

// FinalLeaf makes the leaf of a publication's final approval (one per publication, whatever
// its number of companies). Finalize appends it before marking the publication final; a leaf
// whose mark was lost to another approver is reported by the audit.
func FinalLeaf(pub Record) (ledger.Leaf, error) {
	return ledger.NewLeaf(ledger.FinalKey(pub.Period, pub.Seq), ledger.FinalLeaf{Type: ledger.TypeFinal, Period: pub.Period,
		Publication: pub.Seq, InputsSHA256: pub.InputsHash, PublishedAt: ledger.Time(pub.CreatedAt),
		FinalAt: ledger.Time(pub.FinalAt), FinalBy: pub.FinalBy})
}
