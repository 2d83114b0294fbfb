package mongodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

// Ratings are stored one document per version, never updated: _id is key|revision, so the
// unique _id decides which of two concurrent writers gets a revision, and the counted rating
// of a household is its highest revision. (On the embedded engine an update or delete scans
// its whole collection while an insert does not; see keyLocks.)
const colReceipts = "rating_receipts"

// maxRevisions bounds how often one household may revise its rating in a period.
const maxRevisions = 50

// ratingDoc is one stored version of a household's rating.
type ratingDoc struct {
	ID            string `bson:"_id"` // key|revision
	Key           string `bson:"key"` // period|estate|household
	domain.Rating `bson:",inline"`
	Revision      int    `bson:"revision"`
	Source        string `bson:"source"`
	Receipt       string `bson:"receipt,omitempty"`
	Journal       string `bson:"journal,omitempty"` // the tally journal that counts it; see journal.go
	// Held marks a version held for review (holds.go): it never counts itself. Released
	// names the held version that a version releases (a copy of it, counted).
	Held          bool   `bson:"held,omitempty"`
	Released      string `bson:"released,omitempty"`
	IPHash        string `bson:"ip_hash,omitempty"`
	UserAgentHash string `bson:"ua_hash,omitempty"`
}

func versionID(key string, revision int) string { return fmt.Sprintf("%s|%d", key, revision) }

// receiptNumber is derived from the idempotency key when there is one, so that a repeated
// request finds the receipt it already got.
func receiptNumber(key, idempotencyKey string) string {
	raw := make([]byte, 10)
	if idempotencyKey != "" {
		sum := sha256.Sum256([]byte(key + "|" + idempotencyKey))
		copy(raw, sum[:])
	} else if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	const alphabet = CodeAlphabet
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return b.String()
}

// ReceiptNumberOf is the receipt number of a household's request with an idempotency key. The
// abuse suite uses it to stage a request that another server is still storing.
func ReceiptNumberOf(key, idempotencyKey string) string { return receiptNumber(key, idempotencyKey) }

// SubmitRating stores a new version of a household's rating, which counts from then on, and
// returns the owner's receipt. Submissions are committed in groups by the rating writer (see
// batch.go); the call returns once its group is in the database.
func (db *DB) SubmitRating(ctx context.Context, sub rating.Submission) (rating.Receipt, error) {
	req := newSubmitRequest(sub)
	w := db.writer()
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		return rating.Receipt{}, errBusy
	}
	select {
	case res := <-req.result:
		return res.receipt, res.err
	case <-ctx.Done():
		// The group may still commit; submitting the same form again counts once.
		return rating.Receipt{}, errBusy
	}
}

func newSubmitRequest(sub rating.Submission) *submitRequest {
	r := sub.Rating
	r.SubmittedAt = r.SubmittedAt.Truncate(time.Millisecond)
	key := r.Key()
	req := &submitRequest{sub: sub, number: receiptNumber(key, sub.IdempotencyKey), result: make(chan submitResult, 1),
		doc: ratingDoc{Key: key, Rating: r, Source: sub.Source, IPHash: sub.IPHash, UserAgentHash: sub.UserAgentHash}}
	req.doc.Receipt = req.number
	return req
}

// errBusy answers a submission that waited too long for its group to commit.
var errBusy = derrors.Errorf(derrors.Unavailable, "the system is busy; submit the same form again, it will be counted once")

func errTooManyRevisions(key string) error {
	return derrors.Errorf(derrors.Conflict, "rating %s was revised %d times already", key, maxRevisions)
}

// insertNextRevision inserts doc as the first free revision from `from` on, setting its ID and
// Revision. The unique _id makes this safe against concurrent writers in other processes.
func (db *DB) insertNextRevision(ctx context.Context, doc *ratingDoc, from int) error {
	for rev := from; rev <= maxRevisions; rev++ {
		doc.Revision = rev
		doc.ID = versionID(doc.Key, rev)
		_, err := db.c(colRatings).InsertOne(ctx, doc)
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store rating %s: %w", doc.ID, err)
		}
	}
	return errTooManyRevisions(doc.Key)
}

// ReceiptByNumber looks a receipt up and says whether a later revision superseded it. A
// receipt is claimed before its version is stored (see commitPeriod), so a receipt whose
// version is not there (yet) is not found.
func (db *DB) ReceiptByNumber(ctx context.Context, number string) (rating.Receipt, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	var rc rating.Receipt
	err := db.c(colReceipts).FindOne(ctx, byID(number)).Decode(&rc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return rating.Receipt{}, derrors.Errorf(derrors.NotFound, "receipt not found")
	}
	if err != nil {
		return rating.Receipt{}, fmt.Errorf("read receipt: %w", err)
	}
	if err := db.receiptState(ctx, &rc); err != nil {
		return rating.Receipt{}, err
	}
	return rc, nil
}

// receiptState finds whether a receipt's version is stored (derrors.NotFound if not),
// whether it is held (rc.Hold) and whether a later revision superseded it.
func (db *DB) receiptState(ctx context.Context, rc *rating.Receipt) error {
	d, holds, err := db.receiptVersion(ctx, *rc)
	if err != nil {
		return err
	}
	if !holds {
		return derrors.Errorf(derrors.NotFound, "receipt not found")
	}
	rc.Revision = d.Revision
	if d.Held {
		rc.Hold, rc.Superseded, err = db.holdState(ctx, d)
		return err
	}
	rc.Superseded, err = exists(ctx, db.c(colRatings), versionID(rc.Key, rc.Revision+1))
	return err
}

// receiptVersion reads the version stored under a receipt, and whether it is there and was
// not refused: its group failed and is being withdrawn (journal.go, abortJournal). The version
// is at the revision the receipt names or, when another server took that revision, above it
// (placeTaken): the receipt names the new revision only once its group is done, so a writer
// that died in between leaves a claim naming the old one. Two missing revisions in a row end
// the search.
func (db *DB) receiptVersion(ctx context.Context, rc rating.Receipt) (ratingDoc, bool, error) {
	for rev, missing := rc.Revision, 0; rev <= maxRevisions && missing < 2; rev++ {
		var d ratingDoc
		err := db.c(colRatings).FindOne(ctx, byID(versionID(rc.Key, rev)), optsOneExclude("ip_hash", "ua_hash")).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			missing++
			continue
		}
		if err != nil {
			return d, false, fmt.Errorf("read rating %s: %w", rc.Key, err)
		}
		missing = 0
		if d.Receipt != rc.Number {
			continue
		}
		if d.Journal == "" {
			return d, true, nil
		}
		aborted, err := exists(ctx, db.c(colTallyJournal), abortID(d.Journal))
		return d, !aborted, err
	}
	return ratingDoc{}, false, nil
}

// rewriteReceipt replaces a claimed receipt whose revision changed while it was stored. Only
// the writer that stored the version does it.
func (db *DB) rewriteReceipt(ctx context.Context, rc rating.Receipt) error {
	if _, err := db.c(colReceipts).ReplaceOne(ctx, byID(rc.Number), rc); err != nil {
		return fmt.Errorf("store receipt: %w", err)
	}
	return nil
}

// CurrentRevision reports which revision of a household's rating counts now (0 for none).
func (db *DB) CurrentRevision(ctx context.Context, key string) (int, error) {
	h, err := db.readHead(ctx, key)
	return h.revision, err
}

// RatingVersions returns every version of a household's rating, oldest first. It filters on a
// field, which scans, so it is for audits, not for the hot path.
func (db *DB) RatingVersions(ctx context.Context, key string) ([]domain.Rating, error) {
	docs, err := findAll[ratingDoc](ctx, db.c(colRatings), bson.D{{Key: "key", Value: key}})
	if err != nil {
		return nil, err
	}
	docs = slices.DeleteFunc(docs, func(d ratingDoc) bool { return d.Source == sourceGap })
	sort.Slice(docs, func(i, j int) bool { return docs[i].Revision < docs[j].Revision })
	out := make([]domain.Rating, len(docs))
	for i, d := range docs {
		out[i] = d.Rating
	}
	return out, nil
}

// counts reports whether a version may be its household's counted one: not held for review
// (holds.go), not a placeholder filling a gap.
func (d *ratingDoc) counts() bool { return !d.Held && d.Source != sourceGap }

// ratingHeads reads every stored version once and keeps each household's counted one (the
// highest revision that counts), by key.
func (db *DB) ratingHeads(ctx context.Context) (map[string]ratingDoc, error) {
	return db.scanRatings(ctx, nil)
}

// versionRef is what VerifyReceipts needs of a rating version, by _id.
type versionRef struct{ key, receipt string }

// scanRatings reads every stored version once and keeps each household's counted one, by key;
// given a map, it also records every version's key and receipt there, for VerifyReceipts.
func (db *DB) scanRatings(ctx context.Context, versions map[string]versionRef) (map[string]ratingDoc, error) {
	db.scans.Add(1)
	exclude := bson.D{{Key: "ip_hash", Value: 0}, {Key: "ua_hash", Value: 0}}
	if versions == nil {
		exclude = append(exclude, bson.E{Key: "receipt", Value: 0})
	}
	cur, err := db.c(colRatings).Find(ctx, bson.D{}, options.Find().SetProjection(exclude))
	if err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	defer cur.Close(ctx)
	heads := map[string]ratingDoc{}
	for cur.Next(ctx) {
		var d ratingDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode rating: %w", err)
		}
		if versions != nil {
			versions[d.ID] = versionRef{key: d.Key, receipt: d.Receipt}
			d.Receipt = ""
		}
		if !d.counts() {
			continue
		}
		if h, ok := heads[d.Key]; !ok || d.Revision > h.Revision {
			heads[d.Key] = d
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	return heads, nil
}
