package mongodb

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
)

const colResults = "results"

// A Result is one scoring of a period: the engine's full output (JSON, with every component
// and estate detail) and the inputs it came from. A period has one draft, replaced by each
// scoring, and any number of publications, of which the latest stands and the others are
// kept as superseded. Bodies are gzipped: a whole city's detail would otherwise approach
// the 16 MB document limit.
type Result struct {
	ID           string    `bson:"_id"` // draft|P or pub|P|0001
	Period       string    `bson:"period"`
	Kind         string    `bson:"kind"` // draft or publication
	Seq          int       `bson:"seq"`  // publications: 1, 2, …
	Ruleset      string    `bson:"ruleset"`
	RulesetHash  string    `bson:"ruleset_hash"`
	InputsHash   string    `bson:"inputs_hash"`
	CreatedAt    time.Time `bson:"created_at"`
	CreatedBy    string    `bson:"created_by"`
	SupersededAt time.Time `bson:"superseded_at,omitempty"`
	Detail       []byte    `bson:"detail"` // gzip of the engine's detailed JSON
	Inputs       []byte    `bson:"inputs"` // gzip of the canonical input JSON
}

// Result kinds.
const (
	KindDraft       = "draft"
	KindPublication = "publication"
)

// Superseded reports whether a later publication replaced this one.
func (r *Result) Superseded() bool { return !r.SupersededAt.IsZero() }

// DetailJSON returns the engine's detailed JSON.
func (r *Result) DetailJSON() ([]byte, error) { return gunzip(r.Detail) }

// InputsJSON returns the inputs' canonical JSON.
func (r *Result) InputsJSON() ([]byte, error) { return gunzip(r.Inputs) }

// SaveDraft replaces the period's draft.
func (db *DB) SaveDraft(ctx context.Context, r Result, detail, inputs []byte) error {
	r.ID = "draft|" + r.Period
	r.Kind = KindDraft
	var err error
	if r.Detail, err = gzipBytes(detail); err != nil {
		return err
	}
	if r.Inputs, err = gzipBytes(inputs); err != nil {
		return err
	}
	_, err = db.c(colResults).ReplaceOne(ctx, byID(r.ID), r, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two scorings at once; the later write wins
		_, err = db.c(colResults).ReplaceOne(ctx, byID(r.ID), r, options.Replace().SetUpsert(true))
	}
	if err != nil {
		return fmt.Errorf("save draft of %s: %w", r.Period, err)
	}
	return nil
}

// Draft returns the period's draft, or NotFound.
func (db *DB) Draft(ctx context.Context, period string) (Result, error) {
	r, err := findByID[Result](ctx, db.c(colResults), "draft|"+period, "draft results of period")
	if derrors.Code(err) == derrors.NotFound {
		return r, derrors.Errorf(derrors.NotFound, "period %s has no draft results; score it first", period)
	}
	return r, err
}

// Publish freezes the period's draft as its next publication and marks the previous one
// superseded. The publication is written first: if the process dies before the old one is
// marked, the newest publication still stands, because readers take the highest Seq.
//
// record is called with the publication before it is stored, and an error from it stops the
// publication: it appends the publication to the transparency ledger (app.Publish), so that
// nothing is published without its leaves. It may run more than once, when another writer
// takes the publication's number first.
func (db *DB) Publish(ctx context.Context, period, by string, now time.Time, record func(context.Context, Result) error) (Result, error) {
	if record == nil {
		return Result{}, errors.New("publish: nothing records the publication in the ledger")
	}
	draft, err := db.Draft(ctx, period)
	if err != nil {
		return Result{}, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		pubs, err := db.Publications(ctx, period)
		if err != nil {
			return Result{}, err
		}
		pub := draft
		pub.Kind = KindPublication
		pub.Seq = len(pubs) + 1
		pub.ID = fmt.Sprintf("pub|%s|%04d", period, pub.Seq)
		pub.CreatedAt = now.UTC()
		pub.CreatedBy = by
		if err := record(ctx, pub); err != nil {
			return Result{}, fmt.Errorf("record publication %s in the ledger: %w", pub.ID, err)
		}
		if _, err := db.c(colResults).InsertOne(ctx, pub); mongo.IsDuplicateKeyError(err) {
			continue // someone published at the same moment; take the next number
		} else if err != nil {
			return Result{}, fmt.Errorf("publish %s: %w", period, err)
		}
		for _, old := range pubs {
			if old.Superseded() {
				continue
			}
			_, err := db.c(colResults).UpdateOne(ctx, byID(old.ID), bson.D{{Key: "$set", Value: bson.D{{Key: "superseded_at", Value: pub.CreatedAt}}}})
			if err != nil {
				return pub, fmt.Errorf("mark publication %s superseded: %w", old.ID, err)
			}
		}
		return pub, nil
	}
	return Result{}, derrors.Errorf(derrors.Conflict, "period %s is being published by someone else; try again", period)
}

// Publications lists a period's publications, oldest first, without their bodies (Result
// fetches one whole). With period "", every period's.
func (db *DB) Publications(ctx context.Context, period string) ([]Result, error) {
	filter := bson.D{{Key: "kind", Value: KindPublication}}
	if period != "" {
		filter = append(filter, bson.E{Key: "period", Value: period})
	}
	cur, err := db.c(colResults).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "detail", Value: 0}, {Key: "inputs", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("list publications: %w", err)
	}
	var out []Result
	err = cur.All(ctx, &out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Period != out[j].Period {
			return out[i].Period < out[j].Period
		}
		return out[i].Seq < out[j].Seq
	})
	return out, err
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("stored result is corrupt: %w", err)
	}
	return io.ReadAll(zr)
}

// Result fetches a draft or publication whole, by its id.
func (db *DB) Result(ctx context.Context, id string) (Result, error) {
	return findByID[Result](ctx, db.c(colResults), id, "result")
}
