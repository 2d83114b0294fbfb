package mongodb

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

type keyed[T any] struct {
	ID    string `bson:"_id"`
	Value T      `bson:",inline"`
}

func addStats(s *domain.ImportStats, o domain.ImportStats) {
	s.Inserted += o.Inserted
	s.Replaced += o.Replaced
	s.Unchanged += o.Unchanged
}

// How an import feeds the database (measured with bench/import on the embedded engine; see
// bench/README.md): InsertMany commands of importBatch documents, importInFlight at a time,
// after a first one of importProbe alone (see insertNew). The engine writes 100 documents per
// transaction whatever the command's size.
const (
	importBatch    = 1000
	importProbe    = 100
	importInFlight = 2
)

// Import writes a validated dataset whose references hold. Records replace stored records with
// the same key, except that a stored rating submitted later than the imported one stands.
// progress, if not nil, is called with the number of records written so far.
//
// Every write is an insert in batches unless the record exists already, because the embedded
// engine commits each update or replace on its own (and, without the index of
// ferretdb.IndexIDs, finds its document by scanning the collection). So a history loads into
// an empty database at the engine's insert speed, and importing the same file again reads and
// compares but writes nothing.
func (db *DB) Import(ctx context.Context, ds *domain.Dataset, progress func(done int)) (domain.ImportStats, error) {
	var stats domain.ImportStats
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
		col string
		records
	}{
		{colDistricts, keyedRecords(ds.Districts, func(d domain.District) string { return d.ID })},
		{colCompanies, keyedRecords(ds.Companies, func(d domain.Company) string { return d.ID })},
		{colPeriods, keyedRecords(ds.Periods, func(d domain.Period) string { return d.ID })},
		{colEstates, keyedRecords(ds.Estates, func(d domain.Estate) string { return d.ID })},
		{colGovernance, keyedRecords(ds.Governance, domain.Governance.Key)},
		{colEvents, keyedRecords(ds.Events, func(d domain.Event) string { return d.ID })},
		{colDisclosures, keyedRecords(ds.Disclosures, domain.Disclosure.Key)},
	}
	for _, step := range steps {
		s, err := db.upsertAll(ctx, step.col, step.records, report)
		addStats(&stats, s)
		if err != nil {
			return stats, err
		}
	}
	if len(ds.Ratings) == 0 {
		return stats, nil
	}
	// One tally journal per period (journal.go): its intent before any version, its entry
	// after all. Should the import stop half-way, the intents are recovered later.
	journals := map[string]string{}
	for _, r := range ds.Ratings {
		if journals[r.Period] == "" {
			j, err := db.beginJournal(ctx, r.Period)
			if err != nil {
				return stats, err
			}
			journals[r.Period] = j
		}
	}
	delta := tallyDelta{}
	s, err := db.importRatings(ctx, ds.Ratings, journals, delta, report)
	addStats(&stats, s)
	if err != nil {
		return stats, err
	}
	for p, j := range journals {
		if err := db.endJournal(ctx, j, p, delta); err != nil {
			return stats, err
		}
	}
	return stats, db.CompactTallies(ctx)
}

// records are the documents of one collection, with their _ids.
type records struct {
	ids  []string
	docs []any
}

func keyedRecords[T any](items []T, key func(T) string) records {
	r := records{ids: make([]string, len(items)), docs: make([]any, len(items))}
	for i, item := range items {
		r.ids[i] = key(item)
		r.docs[i] = keyed[T]{ID: r.ids[i], Value: item}
	}
	return r
}

// upsertAll inserts new records and replaces those stored with different contents. A record
// equal to the stored one, byte for byte as BSON, is left alone.
func (db *DB) upsertAll(ctx context.Context, col string, recs records, done func(n int)) (domain.ImportStats, error) {
	var stored map[string]bson.Raw
	readStored := func() (func(i int) bool, error) {
		var err error
		stored, err = db.rawByID(ctx, col)
		return func(i int) bool { _, ok := stored[recs.ids[i]]; return ok }, err
	}
	existing, err := db.insertNew(ctx, col, len(recs.docs), func(i int) any { return recs.docs[i] }, readStored, done)
	if err != nil {
		return domain.ImportStats{}, err
	}
	stats := domain.ImportStats{Inserted: len(recs.docs) - len(existing)}
	for _, i := range existing {
		id := recs.ids[i]
		doc, err := bson.Marshal(recs.docs[i])
		if err != nil {
			return stats, fmt.Errorf("encode %s in %s: %w", id, col, err)
		}
		if bytes.Equal(stored[id], doc) {
			stats.Unchanged++
			done(1)
			continue
		}
		// One replace per command: FerretDB v1.24 keeps every statement's cursor open until the
		// command ends, and an update command of some dozens of changed documents never answers
		// (measured: 50 take 48 ms, 100 hang). TestImportReplacesMoreThanOneHundred guards it.
		res, err := db.c(col).ReplaceOne(ctx, byID(id), bson.Raw(doc), options.Replace().SetUpsert(true))
		if err != nil {
			return stats, fmt.Errorf("replace %s in %s: %w", id, col, err)
		}
		if res.ModifiedCount+res.UpsertedCount > 0 {
			stats.Replaced++
		} else {
			stats.Unchanged++
		}
		done(1)
	}
	return stats, nil
}

// rawByID reads every document of a collection, by _id.
func (db *DB) rawByID(ctx context.Context, col string) (map[string]bson.Raw, error) {
	cur, err := db.c(col).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", col, err)
	}
	defer cur.Close(ctx)
	out := map[string]bson.Raw{}
	for cur.Next(ctx) {
		doc := bson.Raw(bytes.Clone(cur.Current))
		out[doc.Lookup("_id").StringValue()] = doc
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", col, err)
	}
	return out, nil
}

// insertNew inserts the n documents that doc makes, in InsertMany commands of importBatch, and
// returns, in increasing order, the indexes of those it did not insert because they exist.
// done hears how many went in after each command.
//
// It lets the unique _id refuse what exists, because reading first would cost a scan of the
// collection even when it holds none of these records. But a refused document costs the
// embedded engine a transaction of its own, so the first command is a small probe, and after
// the first refusal insertNew calls readExisting (unless nil) once and from then on inserts only
// what that says does not exist. The refusals stay the authority: readExisting may run while a
// command is in flight and only spares later commands documents that would be refused.
//
// After the probe, importInFlight commands are in flight at a time, so that the engine's work
// outside its write lock (decoding a command, encoding its documents for SQLite) and the
// driver's encoding overlap with the other command's writes. Measured with bench/import on the
// embedded engine started with ferretdb.OnSync: see bench/README.md.
func (db *DB) insertNew(ctx context.Context, col string, n int, doc func(i int) any,
	readExisting func() (exists func(i int) bool, err error), done func(n int)) ([]int, error) {
	type result struct {
		index   []int // index[j] is the index of the command's j-th document
		refused []int
		err     error
	}
	results := make(chan result, importInFlight)
	inFlight := 0
	var existing []int
	var exists func(i int) bool
	var firstErr error
	// collect waits for a command to answer and takes in its result.
	collect := func() {
		r := <-results
		inFlight--
		if r.err != nil || firstErr != nil {
			firstErr = cmp.Or(firstErr, r.err)
			return
		}
		for _, j := range r.refused {
			existing = append(existing, r.index[j])
		}
		if done != nil {
			done(len(r.index) - len(r.refused))
		}
		if len(r.refused) > 0 && exists == nil && readExisting != nil {
			exists, firstErr = readExisting()
		}
	}
	for start, end := 0, 0; start < n && firstErr == nil; start = end {
		end = min(start+importBatch, n)
		if start == 0 {
			end = min(importProbe, n)
		}
		var batch []any
		var index []int
		for i := start; i < end; i++ {
			if exists != nil && exists(i) {
				existing = append(existing, i)
				continue
			}
			batch = append(batch, doc(i))
			index = append(index, i)
		}
		if len(batch) == 0 {
			continue
		}
		inFlight++
		go func() {
			refused, err := db.insertMany(ctx, col, batch)
			results <- result{index: index, refused: refused, err: err}
		}()
		// The probe answers before anything else is sent.
		for inFlight == importInFlight || (start == 0 && inFlight > 0) {
			collect()
		}
	}
	for inFlight > 0 {
		collect()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	sort.Ints(existing)
	return existing, nil
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

// importRatings writes ratings and records in delta how the tallies change. A rating of a
// household not rated yet goes in as its first version. The others are compared with their
// household's counted version, read with the heads of every stored rating (one scan, only when
// some household is rated already), and go in as the next revision if they are newer.
func (db *DB) importRatings(ctx context.Context, ratings []domain.Rating, journals map[string]string, delta tallyDelta, done func(n int)) (domain.ImportStats, error) {
	var heads map[string]ratingDoc
	readHeads := func() (func(i int) bool, error) {
		var err error
		heads, err = db.ratingHeads(ctx)
		return func(i int) bool { _, ok := heads[ratings[i].Key()]; return ok }, err
	}
	existing, err := db.insertNew(ctx, colRatings, len(ratings), func(i int) any { return importedRatingDoc(ratings[i], 1, journals) }, readHeads, done)
	if err != nil {
		return domain.ImportStats{}, err
	}
	stats := domain.ImportStats{Inserted: len(ratings) - len(existing)}
	next := 0 // the next index in existing
	for i, r := range ratings {
		if next < len(existing) && existing[next] == i {
			next++
			continue
		}
		delta.add(r.Period, r.Estate, r.Scores, 1)
	}
	for _, i := range existing {
		r := ratings[i]
		old, ok := heads[r.Key()]
		if !ok { // rated by someone else since the heads were read
			if old, err = db.ratingHead(ctx, r.Key()); err != nil {
				return stats, err
			}
		}
		doc := importedRatingDoc(r, old.Revision+1, journals)
		if doc.SubmittedAt.Before(old.SubmittedAt) || sameRating(doc.Rating, old.Rating) {
			stats.Unchanged++
			done(1)
			continue
		}
		unlock := db.locks.lock(colRatings, doc.Key)
		err := db.insertNextRevision(ctx, &doc, doc.Revision)
		unlock()
		if err != nil {
			return stats, err
		}
		heads[doc.Key] = doc
		stats.Replaced++
		if old.ID != "" {
			delta.add(old.Period, old.Estate, old.Scores, -1)
		}
		delta.add(r.Period, r.Estate, r.Scores, 1)
		done(1)
	}
	return stats, nil
}

// ratingHead reads the counted version of one household's rating (zero if none counts, when
// its only versions are held for review).
func (db *DB) ratingHead(ctx context.Context, key string) (ratingDoc, error) {
	h, err := db.readHead(ctx, key)
	return h.rating, err
}

func importedRatingDoc(r domain.Rating, revision int, journals map[string]string) ratingDoc {
	r.SubmittedAt = r.SubmittedAt.Truncate(time.Millisecond) // what the database keeps
	return ratingDoc{ID: versionID(r.Key(), revision), Key: r.Key(), Rating: r, Revision: revision, Source: rating.SourceImport, Journal: journals[r.Period]}
}

func sameRating(a, b domain.Rating) bool {
	return a.Period == b.Period && a.Estate == b.Estate && a.Household == b.Household &&
		a.SubmittedAt.Equal(b.SubmittedAt) && a.Scores == b.Scores && a.Comment == b.Comment
}

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
