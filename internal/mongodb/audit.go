package mongodb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/audit"
)

// The audit trail is insert-only: entries are inserted under their unique ids and this file
// has no update and no delete. Two servers appending at once insert different ids, so no lock
// is needed; an id that exists already (which random bytes make practically impossible) is an
// error rather than an overwrite.
const colAudit = "audit"

func init() { allCollections = append(allCollections, colAudit) }

// AppendAudit inserts e.
func (db *DB) AppendAudit(ctx context.Context, e audit.Entry) error {
	if _, err := db.c(colAudit).InsertOne(ctx, e); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("audit entry %s exists already; entries are never overwritten", e.ID)
		}
		return fmt.Errorf("append audit entry %s: %w", e.ID, err)
	}
	return nil
}

// AuditEntries returns the entries f selects: oldest first, or the newest f.Limit newest
// first. The engine sorts in memory anyway, so the sort is done here, on the id (time first).
func (db *DB) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	filter := bson.D{}
	for _, kv := range []struct{ key, value string }{
		{"object", f.Object}, {"actor", f.Actor}, {"company", f.Company}, {"period", f.Period},
	} {
		if kv.value != "" {
			filter = append(filter, bson.E{Key: kv.key, Value: kv.value})
		}
	}
	at := bson.D{}
	if !f.Since.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: f.Since.UTC()})
	}
	if !f.Until.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: f.Until.UTC()})
	}
	if len(at) > 0 {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	out, err := findAll[audit.Entry](ctx, db.c(colAudit), filter)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if f.Limit > 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		if len(out) > f.Limit {
			out = out[:f.Limit]
		}
	}
	return out, nil
}

var _ audit.Store = (*DB)(nil)
