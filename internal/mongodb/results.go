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
	_, err := db.c(colResults).InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		return derrors.Errorf(derrors.Conflict, "result %s exists", r.ID)
	}
	return err
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
