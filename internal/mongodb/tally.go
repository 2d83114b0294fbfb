package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
)

// Tally is the running sum of one estate's counted ratings in one period.
type Tally = domain.Tally

func tallyKey(period, estate string) string { return period + "|" + estate }

type tallyDoc struct {
	ID    string `bson:"_id"`
	Tally `bson:",inline"`
}

// tallyDelta accumulates changes to tallies in memory before they are written.
type tallyDelta map[string]*Tally

func (d tallyDelta) add(period, estate string, s domain.Scores, sign int64) {
	key := tallyKey(period, estate)
	t := d[key]
	if t == nil {
		t = &Tally{Period: period, Estate: estate}
		d[key] = t
	}
	t.AddRating(s, sign)
}

func incUpdate(t *Tally) bson.D {
	inc := bson.D{{Key: "count", Value: t.Count}}
	for i, v := range t.Sums.Array() {
		inc = append(inc, bson.E{Key: "sums." + domain.Dimensions[i].ID, Value: v})
	}
	return bson.D{
		{Key: "$set", Value: bson.D{{Key: "period", Value: t.Period}, {Key: "estate", Value: t.Estate}}},
		{Key: "$inc", Value: inc},
	}
}

// apply adds the deltas to the stored tallies.
func (d tallyDelta) apply(ctx context.Context, db *DB) error {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := db.incTally(ctx, d[k]); err != nil {
			return err
		}
	}
	return nil
}

// incTally adds t to the stored tally. Concurrent upserts of a new _id can race to insert and
// fail with E11000; the loser retries and then finds the document.
func (db *DB) incTally(ctx context.Context, t *Tally) error {
	defer db.locks.lock(colTallies, tallyKey(t.Period, t.Estate))()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		_, err = db.c(colTallies).UpdateOne(ctx, byID(tallyKey(t.Period, t.Estate)), incUpdate(t),
			options.UpdateOne().SetUpsert(true))
		if err == nil || !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("update tally %s|%s: %w", t.Period, t.Estate, err)
	}
	return nil
}

// Tallies returns the stored tallies of a period, sorted by estate. It only reads: ratings this
// process acknowledged since the last flush are in them after FlushTallies.
func (db *DB) Tallies(ctx context.Context, period string) ([]Tally, error) {
	docs, err := findAll[tallyDoc](ctx, db.c(colTallies), bson.D{{Key: "period", Value: period}})
	if err != nil {
		return nil, err
	}
	out := make([]Tally, len(docs))
	for i, d := range docs {
		out[i] = d.Tally
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Estate < out[j].Estate })
	return out, nil
}

// MarkDirty leaves a marker saying that some writer is changing ratings and tallies together and has not
// finished; ClearDirty removes it. One left behind means a crash: the tallies must be rebuilt.
func (db *DB) MarkDirty(ctx context.Context, who string) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := "dirty|" + hex.EncodeToString(b)
	_, err := db.c(colMeta).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "who", Value: who}, {Key: "since", Value: time.Now()}})
	if err != nil {
		return "", fmt.Errorf("mark tallies dirty: %w", err)
	}
	return id, nil
}

func (db *DB) ClearDirty(ctx context.Context, id string) error {
	_, err := db.c(colMeta).DeleteOne(ctx, byID(id))
	return err
}

// DirtyMarkers lists markers left by writers that did not finish.
func (db *DB) DirtyMarkers(ctx context.Context) ([]string, error) {
	type marker struct {
		ID string `bson:"_id"`
	}
	docs, err := findAll[marker](ctx, db.c(colMeta), bson.D{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range docs {
		if len(d.ID) > 6 && d.ID[:6] == "dirty|" {
			out = append(out, d.ID)
		}
	}
	return out, nil
}

// TallyDrift is a stored tally that disagrees with the ratings.
type TallyDrift struct {
	Key          string
	Stored, Want Tally
}

// VerifyTallies recomputes every tally from the ratings and reports those that differ. With
// fix, it rewrites them. It reads every rating, so it is for repair, not for the hot path.
func (db *DB) VerifyTallies(ctx context.Context, fix bool) ([]TallyDrift, error) {
	if err := db.FlushTallies(ctx); err != nil {
		return nil, err
	}
	heads, err := db.ratingHeads(ctx)
	if err != nil {
		return nil, err
	}
	want := tallyDelta{}
	for _, h := range heads {
		want.add(h.Period, h.Estate, h.Scores, 1)
	}
	stored, err := findAll[tallyDoc](ctx, db.c(colTallies), bson.D{})
	if err != nil {
		return nil, err
	}
	var drift []TallyDrift
	seen := map[string]bool{}
	for _, s := range stored {
		seen[s.ID] = true
		w, ok := want[s.ID]
		if !ok {
			w = &Tally{Period: s.Period, Estate: s.Estate}
		}
		if *w != s.Tally {
			drift = append(drift, TallyDrift{Key: s.ID, Stored: s.Tally, Want: *w})
		}
	}
	for k, w := range want {
		if !seen[k] {
			drift = append(drift, TallyDrift{Key: k, Stored: Tally{Period: w.Period, Estate: w.Estate}, Want: *w})
		}
	}
	sort.Slice(drift, func(i, j int) bool { return drift[i].Key < drift[j].Key })
	if !fix {
		return drift, nil
	}
	for _, d := range drift {
		unlock := db.locks.lock(colTallies, d.Key)
		_, err := db.c(colTallies).ReplaceOne(ctx, byID(d.Key), tallyDoc{ID: d.Key, Tally: d.Want}, options.Replace().SetUpsert(true))
		unlock()
		if err != nil {
			return drift, fmt.Errorf("repair tally %s: %w", d.Key, err)
		}
	}
	return drift, nil
}
