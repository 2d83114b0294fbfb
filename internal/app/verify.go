package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb"
)

// Verification is what VerifyData found.
type Verification struct {
	Counts   map[string]int64 // documents per collection, when counted
	Drift    []mongodb.TallyDrift
	Receipts mongodb.ReceiptCheck
}

// OK reports whether the data is consistent: every tally agrees with the ratings and no rating
// version carries another household's receipt.
func (v Verification) OK() bool { return len(v.Drift) == 0 && len(v.Receipts.Broken) == 0 }

// Problems lists what is wrong, one line each.
func (v Verification) Problems() []string {
	var out []string
	for _, d := range v.Drift {
		out = append(out, fmt.Sprintf("tally %s: stored %d ratings %v, the ratings say %d %v",
			d.Key, d.Stored.Ratings, d.Stored.Sums.Array(), d.Want.Ratings, d.Want.Sums.Array()))
	}
	return append(out, v.Receipts.Broken...)
}

// Summary is one line for an operator.
func (v Verification) Summary() string {
	names := make([]string, 0, len(v.Counts))
	for n := range v.Counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", n, v.Counts[n])
	}
	s := fmt.Sprintf("%d rating versions, %d receipts (%d held, %d unconfirmed claims), %d versions never answered, %d tallies drifted, %d receipts broken",
		v.Receipts.Versions, v.Receipts.Receipts, v.Receipts.Held, v.Receipts.Claims, v.Receipts.Unanswered, len(v.Drift), len(v.Receipts.Broken))
	if len(names) > 0 {
		s += "; documents: " + b.String()
	}
	return s
}

// VerifyData checks a database of any engine: it rebuilds every tally from the ratings and
// compares, and checks the receipts against the rating versions, reading the ratings once for
// both (mongodb.VerifyAll). It only reads. shared says that a server in another process may be
// writing: a drift is then checked again twice, the tallies alone, before it is reported.
func VerifyData(ctx context.Context, db *mongodb.DB, shared bool) (Verification, error) {
	var v Verification
	var err error
	if v.Drift, v.Receipts, err = db.VerifyAll(ctx); err != nil {
		return v, fmt.Errorf("verify tallies and receipts: %w", err)
	}
	for attempt := 1; len(v.Drift) > 0 && shared && attempt <= 2; attempt++ {
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(tallyLag):
		}
		if v.Drift, err = db.VerifyTallies(ctx, false); err != nil {
			return v, fmt.Errorf("verify tallies: %w", err)
		}
	}
	return v, nil
}

// tallyLag is how long a server may hold tally changes in memory before they reach the
// database, with a margin (the rating writer flushes every 5 s).
const tallyLag = 6 * time.Second
