package mongodb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Credit records made in the app (internal/credit) are stored in the events collection, one
// document each: the interchange fields, which scoring and export read as domain.Event, and the
// process's own fields beside them (rule, notice, objection, decision, repairs, version). Every
// change replaces the document on the condition that its version is the one read, so two
// reviewers (or servers) cannot both decide one objection; the per-document lock only stops the
// embedded engine from losing one of two concurrent writes inside this process.
//
// Evidence files are stored in chunks: the chunks first, under ids file|n, then the file's
// document. A crash in between leaves chunks no document names, which nothing reads.
const (
	colCreditFiles   = "credit_files"
	colCreditChunks  = "credit_file_chunks"
	colNoticeNumbers = "credit_notice_numbers" // one document per notice number taken: year-n
)

func init() {
	allCollections = append(allCollections, colCreditFiles, colCreditChunks, colNoticeNumbers)
}

// InsertCreditRecord stores a new credit record; an existing id is a Conflict.
func (db *DB) InsertCreditRecord(ctx context.Context, r credit.Record) error {
	_, err := db.c(colEvents).InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		return derrors.Errorf(derrors.Conflict, "credit.err.changed")
	}
	if err != nil {
		return fmt.Errorf("insert credit record %s: %w", r.ID, err)
	}
	return nil
}

// ReplaceCreditRecord writes r if the stored record's version is r.Version-1; otherwise Conflict.
func (db *DB) ReplaceCreditRecord(ctx context.Context, r credit.Record) error {
	return db.replaceNextVersion(ctx, colEvents, r.ID, r.Version, r, "credit record")
}

// CreditRecord returns the credit record id, made in the app; NotFound otherwise (imported
// records are not the process's).
func (db *DB) CreditRecord(ctx context.Context, id string) (credit.Record, error) {
	r, err := findByID[credit.Record](ctx, db.c(colEvents), id, "credit record")
	if err == nil && r.Rule == "" {
		return credit.Record{}, derrors.Errorf(derrors.NotFound, "credit record %q not found", id)
	}
	return r, err
}

// CreditRecords returns the records made in the app that f selects, in id order.
func (db *DB) CreditRecords(ctx context.Context, f credit.Filter) ([]credit.Record, error) {
	filter := bson.D{{Key: "rule", Value: bson.D{{Key: "$exists", Value: true}}}}
	if f.Company != "" {
		filter = append(filter, bson.E{Key: "company", Value: f.Company})
	}
	if f.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: f.Status})
	}
	return findAll[credit.Record](ctx, db.c(colEvents), filter)
}

// ClaimNoticeNumber takes notice number n of year for record.
func (db *DB) ClaimNoticeNumber(ctx context.Context, year, n int, record string) error {
	return insertUnique(ctx, db.c(colNoticeNumbers), bson.D{
		{Key: "_id", Value: fmt.Sprintf("%d-%06d", year, n)}, {Key: "year", Value: year}, {Key: "record", Value: record}},
		derrors.Errorf(derrors.Conflict, "notice number %d-%d is taken", year, n))
}

// CountNoticeNumbers counts the notice numbers of year taken.
func (db *DB) CountNoticeNumbers(ctx context.Context, year int) (int, error) {
	n, err := db.c(colNoticeNumbers).CountDocuments(ctx, bson.D{{Key: "year", Value: year}})
	return int(n), err
}

type fileChunk struct {
	ID   string `bson:"_id"`
	Data []byte `bson:"data"`
}

// PutFile stores f's data in chunks, then f.
func (db *DB) PutFile(ctx context.Context, f credit.File, data []byte) error {
	for i := 0; i < f.Chunks; i++ {
		end := min(len(data), (i+1)*credit.FileChunkBytes)
		chunk := fileChunk{ID: fmt.Sprintf("%s|%d", f.ID, i), Data: data[i*credit.FileChunkBytes : end]}
		if _, err := db.c(colCreditChunks).InsertOne(ctx, chunk); err != nil {
			return fmt.Errorf("store chunk %d of file %s: %w", i, f.ID, err)
		}
	}
	if _, err := db.c(colCreditFiles).InsertOne(ctx, f); err != nil {
		return fmt.Errorf("store file %s: %w", f.ID, err)
	}
	return nil
}

// FileInfo returns the file id's document.
func (db *DB) FileInfo(ctx context.Context, id string) (credit.File, error) {
	return findByID[credit.File](ctx, db.c(colCreditFiles), id, "file")
}

// FileData reads f's chunks back, each by _id.
func (db *DB) FileData(ctx context.Context, f credit.File) ([]byte, error) {
	out := make([]byte, 0, f.Size)
	for i := 0; i < f.Chunks; i++ {
		c, err := findByID[fileChunk](ctx, db.c(colCreditChunks), fmt.Sprintf("%s|%d", f.ID, i), "file chunk")
		if err != nil {
			return nil, err
		}
		out = append(out, c.Data...)
	}
	return out, nil
}

var _ credit.Store = (*DB)(nil)

// Governance declarations (credit.Claim), one document per period and company.
const colGovernanceClaims = "governance_claims"

func init() { allCollections = append(allCollections, colGovernanceClaims) }

// SaveClaim inserts c when its version is 1, and otherwise replaces the stored claim whose
// version is c.Version-1; a Conflict when someone wrote it in the meantime.
func (db *DB) SaveClaim(ctx context.Context, c credit.Claim) error {
	if c.Version == 1 {
		_, err := db.c(colGovernanceClaims).InsertOne(ctx, c)
		if mongo.IsDuplicateKeyError(err) {
			return &derrors.Error{Code: derrors.Conflict, Message: "credit.err.changed"}
		}
		return err
	}
	return db.replaceNextVersion(ctx, colGovernanceClaims, c.ID, c.Version, c, "governance claim")
}

// Claim returns the governance declaration id (period|company).
func (db *DB) Claim(ctx context.Context, id string) (credit.Claim, error) {
	return findByID[credit.Claim](ctx, db.c(colGovernanceClaims), id, "governance declaration")
}

// Claims returns the declarations of period ("" for every period), in id order.
func (db *DB) Claims(ctx context.Context, period string) ([]credit.Claim, error) {
	filter := bson.D{}
	if period != "" {
		filter = bson.D{{Key: "period", Value: period}}
	}
	return allByID(ctx, db.c(colGovernanceClaims), filter, func(c credit.Claim) string { return c.ID })
}

// PutGovernance writes the governance record of g's period and company, as import keys it.
func (db *DB) PutGovernance(ctx context.Context, g domain.Governance) error {
	_, err := db.c(colGovernance).ReplaceOne(ctx, byID(g.Key()), keyed[domain.Governance]{ID: g.Key(), Value: g}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write governance %s: %w", g.Key(), err)
	}
	return nil
}

// InsertPeriod stores a new period; an existing id is a Conflict.
func (db *DB) InsertPeriod(ctx context.Context, p domain.Period) error {
	return insertUnique(ctx, db.c(colPeriods), p, derrors.Errorf(derrors.Conflict, "period %q exists already", p.ID))
}

// ReplacePeriod writes p if the stored period still equals old; a Conflict otherwise.
func (db *DB) ReplacePeriod(ctx context.Context, old, p domain.Period) error {
	defer db.locks.lock(colPeriods, p.ID)()
	res, err := db.c(colPeriods).ReplaceOne(ctx, bson.D{{Key: "_id", Value: old.ID}, {Key: "start", Value: old.Start},
		{Key: "end", Value: old.End}, {Key: "disclosure_deadline", Value: old.DisclosureDeadline}}, p)
	if err != nil {
		return fmt.Errorf("replace period %s: %w", p.ID, err)
	}
	if res.MatchedCount == 0 {
		return derrors.Errorf(derrors.Conflict, "period %q was changed meanwhile", p.ID)
	}
	return nil
}
