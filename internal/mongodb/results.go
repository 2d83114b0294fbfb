package mongodb

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/publication"
)

// The results collection holds internal/publication's records: drafts and publications.
const colResults = "results"

// SaveDraft replaces the period's draft.
func (db *DB) SaveDraft(ctx context.Context, r publication.Record) error {
	_, err := db.c(colResults).ReplaceOne(ctx, byID(r.ID), r, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two scorings at once; the later write wins
		_, err = db.c(colResults).ReplaceOne(ctx, byID(r.ID), r, options.Replace().SetUpsert(true))
	}
	return err
}

// InsertRecord stores a new record under its unique id: derrors.Conflict if the id is taken,
// which is what numbers publications when two publishers meet.
func (db *DB) InsertRecord(ctx context.Context, r publication.Record) error {
	return insertUnique(ctx, db.c(colResults), r, derrors.Errorf(derrors.Conflict, "result %s exists", r.ID))
}

// MarkSuperseded sets a publication's superseded_at.
func (db *DB) MarkSuperseded(ctx context.Context, id string, at time.Time) error {
	_, err := db.c(colResults).UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{{Key: "superseded_at", Value: at}}}})
	return err
}

// Publications lists a period's publications, by period and then Seq, without their bodies
// (Record fetches one whole). With period "", every period's.
func (db *DB) Publications(ctx context.Context, period string) ([]publication.Record, error) {
	filter := bson.D{{Key: "kind", Value: publication.KindPublication}}
	if period != "" {
		filter = append(filter, bson.E{Key: "period", Value: period})
	}
	cur, err := db.c(colResults).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "detail", Value: 0}, {Key: "inputs", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("list publications: %w", err)
	}
	var out []publication.Record
	err = cur.All(ctx, &out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Period != out[j].Period {
			return out[i].Period < out[j].Period
		}
		return out[i].Seq < out[j].Seq
	})
	return out, err
}

// Record fetches a draft or publication whole, by its id.
func (db *DB) Record(ctx context.Context, id string) (publication.Record, error) {
	return findByID[publication.Record](ctx, db.c(colResults), id, "result")
}

// MarkFinal sets a publication's final_at and final_by if it has no final_at yet; Conflict
// otherwise (another reviewer approved it first).
func (db *DB) MarkFinal(ctx context.Context, id, by string, at time.Time) error {
	defer db.locks.lock(colResults, id)()
	res, err := db.c(colResults).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "final_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "final_at", Value: at}, {Key: "final_by", Value: by}}}})
	if err != nil {
		return fmt.Errorf("approve publication %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return derrors.Errorf(derrors.Conflict, "publication %s is final already", id)
	}
	return nil
}

// Objections to results during publicity (publication.ResultObjection): inserted under their
// unique id, which makes them once per company and publication.
const colResultObjections = "result_objections"

func init() { allCollections = append(allCollections, colResultObjections) }

// InsertResultObjection stores o; Conflict if the company objected to this publication already.
func (db *DB) InsertResultObjection(ctx context.Context, o publication.ResultObjection) error {
	return insertUnique(ctx, db.c(colResultObjections), o, derrors.Errorf(derrors.Conflict, "objection %s exists", o.ID))
}

// AnswerResultObjection sets the answer of objection id if it has none; Conflict otherwise.
func (db *DB) AnswerResultObjection(ctx context.Context, id, answer, by string, at time.Time) error {
	defer db.locks.lock(colResultObjections, id)()
	res, err := db.c(colResultObjections).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "answered_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "answer", Value: answer}, {Key: "answered_by", Value: by}, {Key: "answered_at", Value: at}}}})
	if err != nil {
		return fmt.Errorf("answer objection %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return derrors.Errorf(derrors.Conflict, "objection %s is answered or does not exist", id)
	}
	return nil
}

// ResultObjections lists a period's objections to results, in id order.
func (db *DB) ResultObjections(ctx context.Context, period string) ([]publication.ResultObjection, error) {
	out, err := findAll[publication.ResultObjection](ctx, db.c(colResultObjections), bson.D{{Key: "period", Value: period}})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}
