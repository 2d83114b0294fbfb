package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb"
)

// Publish publishes the period's draft. It is the one way to publish: before the publication
// is stored, its leaves (one per company result, and one for the publication's inputs and
// ruleset) are appended to the transparency ledger, so that nothing is published without them.
func Publish(ctx context.Context, db *mongodb.DB, period, by string, now time.Time) (mongodb.Result, error) {
	log := ledger.New(db, nil)
	return db.Publish(ctx, period, by, now, func(ctx context.Context, pub mongodb.Result) error {
		_, err := AppendPublication(ctx, log, pub)
		return err
	})
}

// LedgerPublication describes a stored publication to the ledger.
func LedgerPublication(pub mongodb.Result) ledger.Publication {
	return ledger.Publication{Period: pub.Period, Seq: pub.Seq, Ruleset: pub.Ruleset, RulesetHash: pub.RulesetHash,
		InputsHash: pub.InputsHash, PublishedAt: pub.CreatedAt}
}

// PublicationLeaves makes the ledger leaves of a stored publication (with its detail).
func PublicationLeaves(pub mongodb.Result) ([]ledger.Leaf, error) {
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

// AppendPublication appends a publication's leaves to the ledger and returns their indexes.
func AppendPublication(ctx context.Context, log *ledger.Log, pub mongodb.Result) ([]int64, error) {
	leaves, err := PublicationLeaves(pub)
	if err != nil {
		return nil, err
	}
	return log.Append(ctx, leaves)
}
