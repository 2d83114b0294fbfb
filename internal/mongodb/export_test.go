package mongodb

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

// CommitGroup stores subs as the rating writer stores one group, so that tests can choose what
// a group holds, and returns each submission's receipt or error.
func (db *DB) CommitGroup(ctx context.Context, subs []rating.Submission) ([]rating.Receipt, []error) {
	w := db.writer()
	reqs := make([]*submitRequest, len(subs))
	for i, sub := range subs {
		reqs[i] = newSubmitRequest(sub)
	}
	w.commit(reqs)
	receipts := make([]rating.Receipt, len(subs))
	errs := make([]error, len(subs))
	for i, r := range reqs {
		res := <-r.result
		receipts[i], errs[i] = res.receipt, res.err
	}
	return receipts, errs
}

// SetJournalGrace changes how long an intent without an entry waits before it is recovered,
// so that tests of recovery need not wait for journalGrace.
func SetJournalGrace(db *DB, d time.Duration) { db.grace = d }

// FailRatingGroups makes the journal entry of every rating group fail after its versions went
// in, and with settle also the withdrawal of those versions, as a full disk does; nil errors
// stop it.
func FailRatingGroups(db *DB, entry, settle error) {
	for _, f := range []struct {
		p   *atomic.Pointer[error]
		err error
	}{{&db.failEntry, entry}, {&db.failSettle, settle}} {
		if f.err == nil {
			f.p.Store(nil)
		} else {
			f.p.Store(&f.err)
		}
	}
}

// RecordHoldDecision stores a decision on a hold without acting on it, as a server that
// stopped between the two would leave it.
func (db *DB) RecordHoldDecision(ctx context.Context, version, period, outcome string) error {
	_, err := db.c(colHoldDecisions).InsertOne(ctx, holdDecisionDoc{ID: version, Period: period, Out: outcome, By: "test", At: time.Now()})
	return err
}

// FailTakenRevisions makes the reads that follow the versions stored again after their
// revision was taken (by another server) fail, as a full disk or a lost connection may; nil
// stops it.
func FailTakenRevisions(db *DB, err error) {
	if err == nil {
		db.failTaken.Store(nil)
	} else {
		db.failTaken.Store(&err)
	}
}

// ForgetCodeFlags makes every household code look as one stored before codes were flagged
// (codeDoc.Flagged) and before codeDoc.Lookup, re-issued or not.
func ForgetCodeFlags(ctx context.Context, db *DB) error {
	_, err := db.c(colCodes).UpdateMany(ctx, bson.D{{Key: "lock", Value: bson.D{{Key: "$ne", Value: true}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "flagged", Value: ""}, {Key: "reissued", Value: ""}, {Key: "lookup", Value: ""}}}})
	return err
}

// InsertApart is insertApart, for its test.
func (db *DB) InsertApart(ctx context.Context, col string, docs []any, apart func(i int) bool) ([]int, error) {
	return db.insertApart(ctx, col, docs, apart)
}

// KnowsHead says whether the rating writer caches a household's head once the group it is
// committing is done: a submission is answered before its group tidies the cache.
func KnowsHead(db *DB, key string) bool {
	w := db.writer()
	w.commitMu.Lock()
	defer w.commitMu.Unlock()
	w.headsMu.RLock()
	defer w.headsMu.RUnlock()
	_, ok := w.heads[key]
	return ok
}

// MaxRevisions is how often one household may revise its rating in a period.
const MaxRevisions = maxRevisions

// InsertLegacyTallyEntry inserts a journal entry whose tallies are an array of documents, as
// servers stored them before tallyList, with its intent; estates are estate, count, sums.
func (db *DB) InsertLegacyTallyEntry(ctx context.Context, period, estate string, count int64, sums [6]int64) error {
	j := newJournalID()
	legacy := bson.A{bson.D{{Key: "estate", Value: estate}, {Key: "count", Value: count}, {Key: "sums", Value: domain.TallySumsOf(sums)}}}
	_, err := db.c(colTallyJournal).InsertMany(ctx, []any{
		journalDoc{ID: intentID(j), Kind: "intent", Journal: j, Period: period, At: time.Now()},
		bson.D{{Key: "_id", Value: entryID(j)}, {Key: "kind", Value: "entry"}, {Key: "journal", Value: j}, {Key: "period", Value: period},
			{Key: "at", Value: time.Now()}, {Key: "tallies", Value: legacy}},
	})
	return err
}

// StoredTallies returns the tallies field of a period's newest base as stored.
func (db *DB) StoredTallies(ctx context.Context, period string) (bson.RawValue, error) {
	var newest bson.Raw
	cur, err := db.c(colTallyBases).Find(ctx, bson.D{{Key: "period", Value: period}})
	if err != nil {
		return bson.RawValue{}, err
	}
	gen := int32(-1)
	for cur.Next(ctx) {
		if g := cur.Current.Lookup("gen").Int32(); g > gen {
			gen, newest = g, slices.Clone(cur.Current)
		}
	}
	return newest.Lookup("tallies"), cur.Err()
}
