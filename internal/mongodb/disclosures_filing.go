package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// Filing and reviewing disclosures.
//
// The disclosures collection keeps one record per period, estate and category: the current
// filing, which scoring and export read as a domain.Disclosure. The workflow adds fields to it
// (version, draft, who filed it, the decision), which those readers ignore and an import
// drops. Everything else is insert-only, so that nothing is lost and every write but two is
// an insert:
//
//   - disclosure_submissions: every filing as received, drafts included (_id key|version|draft);
//   - disclosure_versions: each reviewed version, frozen with its decision (_id key|version).
//     Inserting it is the decision's commit point: its unique _id lets exactly one of two
//     reviewers decide a version.
//
// A filing replaces the current record (one write); a decision replaces it again with its
// status (one write). Both address it by _id, which the embedded engine finds without a scan. A filing made before review replaces the draft (the same version, the next draft);
// one made after review starts the next version. A crash between a decision's insert and its
// update leaves a pending record whose version has a decision: readers that repair (the
// review and filing paths) apply it.
const (
	colDisclosureVersions    = "disclosure_versions"
	colDisclosureSubmissions = "disclosure_submissions"
)

func versionKey(key string, version int) string { return fmt.Sprintf("%s|%d", key, version) }

// filingDoc is the shape of the other collections' documents: a Filing under another _id,
// with the current record's key.
type filingDoc struct {
	ID            string `bson:"_id"`
	Key           string `bson:"key"`
	filing.Filing `bson:"filing"`
}

// FileDisclosure stores a company's filing as the current one of its estate, category and
// period, with status pending. The caller has checked the data, the company's right to file
// for the estate, and that the period has started.
func (db *DB) FileDisclosure(ctx context.Context, nf filing.NewFiling) (filing.FileResult, error) {
	key := filing.FilingKey(nf.Period, nf.Estate, nf.Category)
	defer db.locks.lock(colDisclosures, key)()
	for attempt := 0; attempt < 20; attempt++ {
		cur, found, err := db.currentRecord(ctx, key, true)
		if err != nil {
			return filing.FileResult{}, err
		}
		next := filing.Filing{ID: key, Disclosure: domain.Disclosure{
			Period: nf.Period, Estate: nf.Estate, Category: nf.Category,
			FiledAt: nf.At.UTC().Truncate(time.Millisecond), Status: domain.StatusPending, Data: nf.Data,
		}, FiledBy: nf.FiledBy, Source: nf.Source}
		draft := found && cur.Status == domain.StatusPending && cur.Version > 0
		if draft { // unless an import reset a reviewed version's record, or a decision came first
			taken, err := exists(ctx, db.c(colDisclosureVersions), versionKey(key, cur.Version))
			if err != nil {
				return filing.FileResult{}, err
			}
			draft = !taken
		}
		res := filing.FileResult{}
		switch {
		case draft:
			next.Version, next.Draft = cur.Version, cur.Draft+1
			res.ReplacedDraft = true
		case found:
			if next.Version, err = db.freeVersion(ctx, key, cur.Version+1); err != nil {
				return filing.FileResult{}, err
			}
			next.Draft = 1
		default:
			if next.Version, err = db.freeVersion(ctx, key, 1); err != nil {
				return filing.FileResult{}, err
			}
			next.Draft = 1
		}
		// The submission first: should the next write fail, the log still has what was received.
		if err := db.logSubmission(ctx, &next); err != nil {
			return filing.FileResult{}, err
		}
		won, err := db.writeRecord(ctx, cur, found, next)
		if err != nil {
			return filing.FileResult{}, err
		}
		if won {
			res.Filing = next
			return res, nil
		}
		// Another server wrote the record since it was read: file again on top of that.
	}
	return filing.FileResult{}, derrors.Errorf(derrors.Conflict, "disclosure %s is being changed by other requests; try again", key)
}

// The current record of a filing is written only through the writes log, so that two servers
// cannot lose each other's writes: FerretDB replaces a document without comparing it with what
// the writer read, so a version field alone would not help. Every write inserts the new
// record under key|epoch|seq, the successor of the record it read (seq+1); of two writers that
// read the same record, the unique _id lets one win, and the other reads again. The record in
// the disclosures collection is then replaced, and a reader that finds a newer write than the
// record rolls it forward, so that a writer that died in between loses nothing. The epoch
// starts a new sequence when an import rewrote the record: it derives from the record's
// contents, so that writers reading the same imported record compete for the same _id.
const colDisclosureWrites = "disclosure_writes"

type filingRecord struct {
	filing.Filing `bson:",inline"`
	Epoch         string `bson:"epoch,omitempty"`
	Seq           int    `bson:"seq,omitempty"`
}

type filingWrite struct {
	ID     string       `bson:"_id"` // key|epoch|seq
	Record filingRecord `bson:"record"`
}

func writeID(key, epoch string, seq int) string { return fmt.Sprintf("%s|%s|%d", key, epoch, seq) }

// epochOf is the sequence rec belongs to: its own, or one named after its contents when no
// write of this log made it (an import, or no record yet).
func epochOf(rec filingRecord, found bool) string {
	if rec.Seq > 0 {
		return rec.Epoch
	}
	if !found {
		return "new"
	}
	raw, _ := bson.Marshal(rec.Filing)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// readRecord reads the current record of key, rolled forward through the writes log.
func (db *DB) readRecord(ctx context.Context, key string) (filingRecord, bool, error) {
	rec, err := findByID[filingRecord](ctx, db.c(colDisclosures), key, "disclosure")
	found := err == nil
	if err != nil && derrors.Code(err) != derrors.NotFound {
		return filingRecord{}, false, err
	}
	epoch, rolled := epochOf(rec, found), false
	for {
		var w filingWrite
		err := db.c(colDisclosureWrites).FindOne(ctx, byID(writeID(key, epoch, rec.Seq+1))).Decode(&w)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return filingRecord{}, false, fmt.Errorf("read disclosure %s: %w", key, err)
		}
		rec, found, rolled = w.Record, true, true
	}
	if rolled {
		if _, err := db.c(colDisclosures).ReplaceOne(ctx, byID(key), rec, options.Replace().SetUpsert(true)); err != nil && !mongo.IsDuplicateKeyError(err) {
			return filingRecord{}, false, fmt.Errorf("store disclosure %s: %w", key, err)
		}
	}
	return rec, found, nil
}

// writeRecord makes next the current record if cur, as read, still is; it reports whether it
// did. See colDisclosureWrites.
func (db *DB) writeRecord(ctx context.Context, cur filingRecord, found bool, next filing.Filing) (bool, error) {
	rec := filingRecord{Filing: next, Epoch: epochOf(cur, found), Seq: cur.Seq + 1}
	_, err := db.c(colDisclosureWrites).InsertOne(ctx, filingWrite{ID: writeID(next.ID, rec.Epoch, rec.Seq), Record: rec})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store disclosure %s: %w", next.ID, err)
	}
	if _, err := db.c(colDisclosures).ReplaceOne(ctx, byID(next.ID), rec, options.Replace().SetUpsert(true)); err != nil && !mongo.IsDuplicateKeyError(err) {
		return false, fmt.Errorf("store disclosure %s: %w", next.ID, err)
	}
	return true, nil
}

// freeVersion returns the first version number from `from` on that has no reviewed version
// stored. Versions are normally dense; after an import reset a record to version 0, this
// skips past the history already kept.
func (db *DB) freeVersion(ctx context.Context, key string, from int) (int, error) {
	for v := from; ; v++ {
		taken, err := exists(ctx, db.c(colDisclosureVersions), versionKey(key, v))
		if err != nil || !taken {
			return v, err
		}
	}
}

// logSubmission inserts the filing into the submissions log under the first free draft number
// from f.Draft on, and sets f.Draft to it.
func (db *DB) logSubmission(ctx context.Context, f *filing.Filing) error {
	for range 1000 {
		doc := filingDoc{ID: fmt.Sprintf("%s|%d|%d", f.ID, f.Version, f.Draft), Key: f.ID, Filing: *f}
		_, err := db.c(colDisclosureSubmissions).InsertOne(ctx, doc)
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("log disclosure submission %s: %w", doc.ID, err)
		}
		f.Draft++
	}
	return derrors.Errorf(derrors.Conflict, "disclosure %s has too many drafts", f.ID)
}

// currentFiling reads the current record of key (see currentRecord).
func (db *DB) currentFiling(ctx context.Context, key string, repair bool) (filing.Filing, bool, error) {
	rec, found, err := db.currentRecord(ctx, key, repair)
	return rec.Filing, found, err
}

// currentRecord reads the current record of key. With repair, a pending record whose version
// already has a decision on the same draft (a crash came between the decision's two writes)
// gets it applied.
func (db *DB) currentRecord(ctx context.Context, key string, repair bool) (filingRecord, bool, error) {
	for attempt := 0; attempt < 20; attempt++ {
		rec, found, err := db.readRecord(ctx, key)
		if err != nil || !found || !repair || rec.Status != domain.StatusPending {
			return rec, found, err
		}
		v, err := findByID[filingDoc](ctx, db.c(colDisclosureVersions), versionKey(key, rec.Version), "disclosure version")
		switch {
		case derrors.Code(err) == derrors.NotFound:
			return rec, true, nil
		case err != nil:
			return filingRecord{}, false, err
		case v.Filing.Draft != rec.Draft || v.Filing.Review == nil:
			return rec, true, nil
		}
		f := rec.Filing
		f.Status, f.Review = v.Filing.Review.Status, v.Filing.Review
		won, err := db.writeRecord(ctx, rec, true, f)
		if err != nil {
			return filingRecord{}, false, err
		}
		if won {
			return filingRecord{Filing: f, Epoch: epochOf(rec, true), Seq: rec.Seq + 1}, true, nil
		}
	}
	return filingRecord{}, false, derrors.Errorf(derrors.Conflict, "disclosure %s is being changed by other requests; try again", key)
}

// CurrentFiling returns the current filing of a period, estate and category, or a NotFound
// error. It repairs a half-recorded decision (see currentFiling).
func (db *DB) CurrentFiling(ctx context.Context, period, estate, category string) (filing.Filing, error) {
	f, ok, err := db.currentFiling(ctx, filing.FilingKey(period, estate, category), true)
	if err == nil && !ok {
		err = derrors.Errorf(derrors.NotFound, "no %s disclosure of estate %s in period %s", category, estate, period)
	}
	return f, err
}

// EstateFilings returns the current filings of an estate in a period, by category: four reads
// by _id, cheap enough for public pages.
func (db *DB) EstateFilings(ctx context.Context, period, estate string) (map[string]filing.Filing, error) {
	out := map[string]filing.Filing{}
	for _, category := range domain.DisclosureCategories {
		f, ok, err := db.currentFiling(ctx, filing.FilingKey(period, estate, category), false)
		if err != nil {
			return nil, err
		}
		if ok {
			out[category] = f
		}
	}
	return out, nil
}

// Filings returns the current filings of a period, like Disclosures but with the workflow's
// fields. It scans the collection: for reviewers' queues and dashboards, not public pages.
func (db *DB) Filings(ctx context.Context, period string) ([]filing.Filing, error) {
	out, err := findAll[filing.Filing](ctx, db.c(colDisclosures), bson.D{{Key: "period", Value: period}})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// FilingHistory returns the reviewed versions of a filing, oldest first, each with its
// decision. The current filing, if pending, is not among them.
func (db *DB) FilingHistory(ctx context.Context, period, estate, category string) ([]filing.Filing, error) {
	key := filing.FilingKey(period, estate, category)
	var out []filing.Filing
	for v := 0; ; v++ {
		doc, err := findByID[filingDoc](ctx, db.c(colDisclosureVersions), versionKey(key, v), "disclosure version")
		if derrors.Code(err) == derrors.NotFound {
			if v == 0 {
				continue // version 0 is an imported record that was reviewed here; rare
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, doc.Filing)
	}
}

// FilingSubmissions returns every submission of a filing as it was received, drafts included,
// oldest first: the audit trail. It scans the log, so it is for audits, not for pages.
func (db *DB) FilingSubmissions(ctx context.Context, period, estate, category string) ([]filing.Filing, error) {
	docs, err := findAll[filingDoc](ctx, db.c(colDisclosureSubmissions), bson.D{{Key: "key", Value: filing.FilingKey(period, estate, category)}})
	if err != nil {
		return nil, err
	}
	sort.Slice(docs, func(i, j int) bool {
		a, b := docs[i].Filing, docs[j].Filing
		return a.Version < b.Version || a.Version == b.Version && a.Draft < b.Draft
	})
	out := make([]filing.Filing, len(docs))
	for i, d := range docs {
		out[i] = d.Filing
	}
	return out, nil
}

// DecideDisclosure records a reviewer's decision on the current filing, which must still be
// the pending version and draft the reviewer saw. A rejection needs a reason.
func (db *DB) DecideDisclosure(ctx context.Context, rd filing.ReviewDecision) (filing.Filing, error) {
	if err := filing.CheckDecision(&rd); err != nil {
		return filing.Filing{}, err
	}
	key := filing.FilingKey(rd.Period, rd.Estate, rd.Category)
	defer db.locks.lock(colDisclosures, key)()
	rec, ok, err := db.currentRecord(ctx, key, true)
	f := rec.Filing
	switch {
	case err != nil:
		return filing.Filing{}, err
	case !ok:
		return filing.Filing{}, derrors.Errorf(derrors.NotFound, "no %s disclosure of estate %s in period %s", rd.Category, rd.Estate, rd.Period)
	case f.Version != rd.Version || f.Draft != rd.Draft:
		return filing.Filing{}, filing.ErrFilingChanged
	case f.Status != domain.StatusPending:
		return filing.Filing{}, filing.ErrReviewed
	}
	d := filing.Decision{Status: rd.Status, Reason: rd.Reason, By: rd.By, At: rd.At.UTC().Truncate(time.Millisecond)}
	f.Status, f.Review = d.Status, &d
	_, err = db.c(colDisclosureVersions).InsertOne(ctx, filingDoc{ID: versionKey(key, f.Version), Key: key, Filing: f})
	if mongo.IsDuplicateKeyError(err) {
		return filing.Filing{}, filing.ErrReviewed // by another server, between our read and our insert
	}
	if err != nil {
		return filing.Filing{}, fmt.Errorf("store decision on %s: %w", key, err)
	}
	// The decision is committed. Put it on the record, unless a new draft overtook it: that
	// draft then becomes the next version, pending, so that neither write is lost.
	for attempt := 0; attempt < 20; attempt++ {
		won, err := db.writeRecord(ctx, rec, true, f)
		if err != nil || won {
			return f, err
		}
		if rec, _, err = db.readRecord(ctx, key); err != nil {
			return f, err
		}
		switch {
		case rec.Version == f.Version && rec.Draft == f.Draft && rec.Status != domain.StatusPending:
			return f, nil // applied by a reader's repair
		case rec.Version == f.Version && rec.Draft == f.Draft:
		case rec.Version == f.Version && rec.Status == domain.StatusPending:
			later := rec.Filing
			if later.Version, err = db.freeVersion(ctx, key, f.Version+1); err != nil {
				return f, err
			}
			later.Draft = 1
			if err := db.logSubmission(ctx, &later); err != nil {
				return f, err
			}
			won, err := db.writeRecord(ctx, rec, true, later)
			if err != nil || won {
				return f, err
			}
			if rec, _, err = db.readRecord(ctx, key); err != nil {
				return f, err
			}
		default:
			return f, nil // the record moved on past this version
		}
	}
	return f, derrors.Errorf(derrors.Conflict, "disclosure %s is being changed by other requests; the decision is recorded", key)
}

// Objections: an owner with a valid household code objects to a disclosure ("这笔分摊不对"),
// the company answers, a reviewer closes it. All insert-only, in one collection:
//
//	o|<estate>|<period>|<n>          the objection, n = 1, 2, … per estate and period
//	o|<estate>|<period>|<n>|a|<m>    the company's m-th answer
//	o|<estate>|<period>|<n>|c        the reviewer's closing note
//
// so that an estate's objections are read by _id, and a second close is refused by the
// unique _id.
const (
	colObjections     = "disclosure_objections"
	colObjectionSlots = "disclosure_objection_slots"
)

// FileObjection stores an objection to a filed disclosure.
func (db *DB) FileObjection(ctx context.Context, no filing.NewObjection) (filing.Objection, error) {
	if err := filing.CheckText(no.Text, true); err != nil {
		return filing.Objection{}, err
	}
	f, ok, err := db.currentFiling(ctx, filing.FilingKey(no.Period, no.Estate, no.Category), false)
	if err != nil {
		return filing.Objection{}, err
	}
	if !ok {
		return filing.Objection{}, derrors.Errorf(derrors.NotFound, "no %s disclosure of estate %s in period %s", no.Category, no.Estate, no.Period)
	}
	if err := db.takeObjectionSlot(ctx, no); err != nil {
		return filing.Objection{}, err
	}
	o := filing.Objection{Kind: "objection", Period: no.Period, Estate: no.Estate, Category: no.Category, Version: f.Version,
		Household: no.Household, Text: strings.TrimSpace(no.Text), At: no.At.UTC().Truncate(time.Millisecond), IPHash: no.IPHash}
	prefix := "o|" + no.Estate + "|" + no.Period + "|"
	for n := 1; ; n++ {
		o.ID = prefix + fmt.Sprint(n)
		_, err := db.c(colObjections).InsertOne(ctx, o)
		if err == nil {
			return o, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return filing.Objection{}, fmt.Errorf("store objection: %w", err)
		}
	}
}

func (db *DB) takeObjectionSlot(ctx context.Context, no filing.NewObjection) error {
	for k := 1; k <= filing.MaxObjectionsPerHousehold; k++ {
		id := fmt.Sprintf("%s|%s|%s|%d", no.OpenPeriod, no.Estate, no.Household, k)
		_, err := db.c(colObjectionSlots).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: no.At}})
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("count objection: %w", err)
		}
	}
	return filing.ErrTooManyObjections
}

// Objection returns an objection with its answers and closing, or a NotFound error.
func (db *DB) Objection(ctx context.Context, id string) (filing.Objection, error) {
	if !strings.HasPrefix(id, "o|") || strings.Count(id, "|") != 3 {
		return filing.Objection{}, derrors.Errorf(derrors.NotFound, "objection %q not found", id)
	}
	o, err := findByID[filing.Objection](ctx, db.c(colObjections), id, "objection")
	if err != nil {
		return filing.Objection{}, err
	}
	return o, db.loadReplies(ctx, &o)
}

func (db *DB) loadReplies(ctx context.Context, o *filing.Objection) error {
	o.Answers = nil
	for m := 1; ; m++ {
		r, err := findByID[filing.Reply](ctx, db.c(colObjections), fmt.Sprintf("%s|a|%d", o.ID, m), "answer")
		if derrors.Code(err) == derrors.NotFound {
			break
		}
		if err != nil {
			return err
		}
		o.Answers = append(o.Answers, r)
	}
	c, err := findByID[filing.Reply](ctx, db.c(colObjections), o.ID+"|c", "closing")
	switch derrors.Code(err) {
	case "":
		o.Closing = &c
	case derrors.NotFound:
		o.Closing = nil
	default:
		return err
	}
	return nil
}

// EstateObjections returns the objections to an estate's disclosures of a period, oldest
// first, with their replies: reads by _id only, for the public page.
func (db *DB) EstateObjections(ctx context.Context, estate, period string) ([]filing.Objection, error) {
	var out []filing.Objection
	for n := 1; ; n++ {
		o, err := db.Objection(ctx, fmt.Sprintf("o|%s|%s|%d", estate, period, n))
		if derrors.Code(err) == derrors.NotFound {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}

// AllObjections returns every objection with its replies, newest first. It scans the
// collection once: for reviewers' and companies' lists.
func (db *DB) AllObjections(ctx context.Context) ([]filing.Objection, error) {
	cur, err := db.c(colObjections).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read objections: %w", err)
	}
	defer cur.Close(ctx)
	byID := map[string]*filing.Objection{}
	var replies []filing.Reply
	for cur.Next(ctx) {
		var kind struct {
			Kind string `bson:"kind"`
		}
		if err := cur.Decode(&kind); err != nil {
			return nil, fmt.Errorf("decode objection: %w", err)
		}
		if kind.Kind == "objection" {
			var o filing.Objection
			if err := cur.Decode(&o); err != nil {
				return nil, fmt.Errorf("decode objection: %w", err)
			}
			byID[o.ID] = &o
			continue
		}
		var r filing.Reply
		if err := cur.Decode(&r); err != nil {
			return nil, fmt.Errorf("decode objection reply: %w", err)
		}
		replies = append(replies, r)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read objections: %w", err)
	}
	sort.Slice(replies, func(i, j int) bool { return replies[i].At.Before(replies[j].At) })
	for _, r := range replies {
		o := byID[r.Objection]
		switch {
		case o == nil:
		case r.Kind == "close":
			o.Closing = &r
		default:
			o.Answers = append(o.Answers, r)
		}
	}
	out := make([]filing.Objection, 0, len(byID))
	for _, o := range byID {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].At.After(out[j].At) || out[i].At.Equal(out[j].At) && out[i].ID > out[j].ID
	})
	return out, nil
}

// AnswerObjection adds a company's answer to an open objection. The caller has checked that
// the company manages the estate.
func (db *DB) AnswerObjection(ctx context.Context, id, text, by string, at time.Time) (filing.Reply, error) {
	return db.reply(ctx, id, "answer", text, by, at)
}

// CloseObjection records a reviewer's closing of an objection, with an optional note.
func (db *DB) CloseObjection(ctx context.Context, id, note, by string, at time.Time) (filing.Reply, error) {
	return db.reply(ctx, id, "close", note, by, at)
}

func (db *DB) reply(ctx context.Context, id, kind, text, by string, at time.Time) (filing.Reply, error) {
	if err := filing.CheckText(text, kind == "answer"); err != nil {
		return filing.Reply{}, err
	}
	defer db.locks.lock(colObjections, id)()
	o, err := db.Objection(ctx, id)
	if err != nil {
		return filing.Reply{}, err
	}
	if !o.Open() {
		return filing.Reply{}, filing.ErrObjectionClosed
	}
	r := filing.Reply{Kind: kind, Objection: id, Estate: o.Estate, Text: strings.TrimSpace(text), By: by, At: at.UTC().Truncate(time.Millisecond)}
	if kind == "close" {
		r.ID = id + "|c"
	} else {
		r.ID = fmt.Sprintf("%s|a|%d", id, len(o.Answers)+1)
	}
	_, err = db.c(colObjections).InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		if kind == "close" {
			return filing.Reply{}, filing.ErrObjectionClosed
		}
		return filing.Reply{}, derrors.Errorf(derrors.Conflict, "another answer was given at the same moment: look again")
	}
	if err != nil {
		return filing.Reply{}, fmt.Errorf("store %s to objection %s: %w", kind, id, err)
	}
	return r, nil
}
