package mongodb

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
)

type keyed[T any] struct {
	ID    string `bson:"_id"`
	Value T      `bson:",inline"`
}

// ImportStats counts what an import did.
type ImportStats struct {
	Inserted  int // new records
	Replaced  int // records that replaced a stored one with the same key
	Unchanged int // records identical to the stored one, or ratings older than the stored one
}

func (s *ImportStats) add(o ImportStats) {
	s.Inserted += o.Inserted
	s.Replaced += o.Replaced
	s.Unchanged += o.Unchanged
}

// importBatch is how many documents go to the database in one InsertMany. Larger batches
// gain little on the embedded engine and hold more memory.
const importBatch = 1000

// Import writes a validated dataset whose references hold. Records replace stored records with
// the same key, except that a stored rating submitted later than the imported one stands.
// progress, if not nil, is called with the number of records written so far.
func (db *DB) Import(ctx context.Context, ds *domain.Dataset, progress func(done int)) (ImportStats, error) {
	var stats ImportStats
	done := 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done)
		}
	}
	// Referenced records first, so that a reader never sees a rating of an estate that is not
	// there yet.
	steps := []struct {
		col  string
		docs []any
	}{
		{colDistricts, toAny(ds.Districts, func(d domain.District) string { return d.ID })},
		{colCompanies, toAny(ds.Companies, func(d domain.Company) string { return d.ID })},
		{colPeriods, toAny(ds.Periods, func(d domain.Period) string { return d.ID })},
		{colEstates, toAny(ds.Estates, func(d domain.Estate) string { return d.ID })},
		{colGovernance, toAny(ds.Governance, domain.Governance.Key)},
		{colEvents, toAny(ds.Events, func(d domain.Event) string { return d.ID })},
		{colDisclosures, toAny(ds.Disclosures, func(d domain.Disclosure) string {
			return d.Key()
		})},
	}
	for _, step := range steps {
		for start := 0; start < len(step.docs); start += importBatch {
			batch := step.docs[start:min(start+importBatch, len(step.docs))]
			s, err := db.upsertBatch(ctx, step.col, batch)
			stats.add(s)
			if err != nil {
				return stats, err
			}
			report(len(batch))
		}
	}
	if len(ds.Ratings) == 0 {
		return stats, nil
	}
	marker, err := db.MarkDirty(ctx, "import")
	if err != nil {
		return stats, err
	}
	delta := tallyDelta{}
	var heads map[string]ratingDoc
	for start := 0; start < len(ds.Ratings); start += importBatch {
		batch := ds.Ratings[start:min(start+importBatch, len(ds.Ratings))]
		s, err := db.importRatings(ctx, batch, delta, &heads)
		stats.add(s)
		if err != nil {
			return stats, err // the marker stays: the next start-up repairs the tallies
		}
		report(len(batch))
	}
	if err := delta.apply(ctx, db); err != nil {
		return stats, err
	}
	return stats, db.ClearDirty(ctx, marker)
}

func toAny[T any](records []T, key func(T) string) []any {
	out := make([]any, len(records))
	for i, r := range records {
		out[i] = keyed[T]{ID: key(r), Value: r}
	}
	return out
}

// upsertBatch inserts docs and replaces those whose _id exists already. Inserting first is
// the fast path on an empty database, where a history is loaded.
func (db *DB) upsertBatch(ctx context.Context, col string, docs []any) (ImportStats, error) {
	dups, err := db.insertMany(ctx, col, docs)
	if err != nil {
		return ImportStats{}, err
	}
	stats := ImportStats{Inserted: len(docs) - len(dups)}
	if len(dups) == 0 {
		return stats, nil
	}
	// One replace per command: FerretDB v1.24 keeps every statement's cursor open until the
	// command ends, and an update command of some dozens of changed documents never answers
	// (measured: 50 take 48 ms, 100 hang). TestImportReplacesMoreThanOneHundred guards it.
	for _, idx := range dups {
		id := reflect.ValueOf(docs[idx]).FieldByName("ID").String()
		res, err := db.c(col).ReplaceOne(ctx, byID(id), docs[idx], options.Replace().SetUpsert(true))
		if err != nil {
			return stats, fmt.Errorf("replace %s in %s: %w", id, col, err)
		}
		if res.ModifiedCount+res.UpsertedCount > 0 {
			stats.Replaced++
		} else {
			stats.Unchanged++
		}
	}
	return stats, nil
}

// insertMany inserts docs unordered and returns the indexes of those refused as duplicates.
func (db *DB) insertMany(ctx context.Context, col string, docs []any) ([]int, error) {
	_, err := db.c(col).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, fmt.Errorf("insert into %s: %w", col, err)
	}
	dups := make([]int, 0, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return nil, fmt.Errorf("insert into %s: %w", col, err)
		}
		dups = append(dups, we.Index)
	}
	return dups, nil
}

// importRatings writes a batch of ratings and records in delta how the tallies change. New
// households go in with one InsertMany; a household already rated is compared with its counted
// version, read from heads (loaded with one scan the first time it is needed), and a newer
// rating goes in as its next revision.
func (db *DB) importRatings(ctx context.Context, batch []domain.Rating, delta tallyDelta, heads *map[string]ratingDoc) (ImportStats, error) {
	docs := make([]any, len(batch))
	for i, r := range batch {
		docs[i] = importedRatingDoc(r, 1)
	}
	dups, err := db.insertMany(ctx, colRatings, docs)
	if err != nil {
		return ImportStats{}, err
	}
	isDup := make(map[int]bool, len(dups))
	for _, i := range dups {
		isDup[i] = true
	}
	stats := ImportStats{Inserted: len(batch) - len(dups)}
	for i, r := range batch {
		if !isDup[i] {
			delta.add(r.Period, r.Estate, r.Scores, 1)
		}
	}
	if len(dups) > 0 && *heads == nil {
		if *heads, err = db.ratingHeads(ctx); err != nil {
			return stats, err
		}
	}
	for _, i := range dups {
		r := batch[i]
		old := (*heads)[r.Key()]
		doc := importedRatingDoc(r, old.Revision+1)
		if doc.SubmittedAt.Before(old.SubmittedAt) || sameRating(doc.Rating, old.Rating) {
			stats.Unchanged++
			continue
		}
		unlock := db.locks.lock(colRatings, doc.Key)
		err := db.insertNextRevision(ctx, &doc, doc.Revision)
		unlock()
		if err != nil {
			return stats, err
		}
		(*heads)[doc.Key] = doc
		stats.Replaced++
		delta.add(old.Period, old.Estate, old.Scores, -1)
		delta.add(r.Period, r.Estate, r.Scores, 1)
	}
	return stats, nil
}

func importedRatingDoc(r domain.Rating, revision int) ratingDoc {
	r.SubmittedAt = r.SubmittedAt.Truncate(time.Millisecond) // what the database keeps
	return ratingDoc{ID: versionID(r.Key(), revision), Key: r.Key(), Rating: r, Revision: revision, Source: SourceImport}
}

func sameRating(a, b domain.Rating) bool {
	return a.Period == b.Period && a.Estate == b.Estate && a.Household == b.Household &&
		a.SubmittedAt.Equal(b.SubmittedAt) && a.Scores == b.Scores && a.Comment == b.Comment
}

// Dataset reads everything back, for export.
func (db *DB) Dataset(ctx context.Context) (*domain.Dataset, error) {
	ds := &domain.Dataset{}
	var err error
	if ds.Districts, err = db.Districts(ctx); err != nil {
		return nil, err
	}
	if ds.Companies, err = db.Companies(ctx); err != nil {
		return nil, err
	}
	if ds.Estates, err = db.Estates(ctx); err != nil {
		return nil, err
	}
	if ds.Periods, err = db.Periods(ctx); err != nil {
		return nil, err
	}
	if ds.Events, err = db.Events(ctx); err != nil {
		return nil, err
	}
	if ds.Governance, err = findAll[domain.Governance](ctx, db.c(colGovernance), bson.D{}); err != nil {
		return nil, err
	}
	if ds.Disclosures, err = findAll[domain.Disclosure](ctx, db.c(colDisclosures), bson.D{}); err != nil {
		return nil, err
	}
	heads, err := db.ratingHeads(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		ds.Ratings = append(ds.Ratings, h.Rating)
	}
	sort.Slice(ds.Ratings, func(i, j int) bool { return ds.Ratings[i].Key() < ds.Ratings[j].Key() })
	return ds, nil
}
