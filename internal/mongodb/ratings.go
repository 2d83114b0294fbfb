package mongodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

const (
	colHouseholds = "households"
	colCodes      = "household_codes"
)

// CodeAlphabet has no 0/O or 1/I/L, so that codes survive being read aloud and typed on a
// phone. 32 symbols give 5 bits each.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// codeLength symbols of CodeAlphabet: 10 × log2(31) ≈ 49.5 bits, above the 40 required.
const codeLength = 10

// Code guessing: after maxCodeFailures wrong codes for one household the code is locked for
// codeLockout. A guesser gets 5 tries an hour against ~2^49 codes.
const (
	maxCodeFailures = 5
	codeLockout     = time.Hour
)

type householdDoc struct {
	ID               string `bson:"_id"` // estate|flat
	domain.Household `bson:",inline"`
	CreatedAt        time.Time `bson:"created_at"`
}

// codeDoc is the live code of a household in a period. Only a hash of the code is kept.
type codeDoc struct {
	ID          string    `bson:"_id"` // period|estate|flat
	Period      string    `bson:"period"`
	Estate      string    `bson:"estate"`
	Flat        string    `bson:"flat"`
	Hash        string    `bson:"hash"`
	Generation  int       `bson:"generation"` // bumped by every re-issue
	IssuedAt    time.Time `bson:"issued_at"`
	Failures    int       `bson:"failures"`
	LockedUntil time.Time `bson:"locked_until"`
}

func codeKey(period, estate, flat string) string { return period + "|" + estate + "|" + flat }

// hashCode binds the code to its household and period, so that equal codes elsewhere hash
// differently and a stolen hash table cannot be matched across households.
func hashCode(key, code string) string {
	sum := sha256.Sum256([]byte(key + "|" + NormalizeCode(code)))
	return hex.EncodeToString(sum[:])
}

// NormalizeCode upper-cases a typed code and drops spaces and dashes, and maps the letters
// people confuse with digits onto the symbols the alphabet has.
func NormalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func newCode() string {
	b := make([]byte, codeLength)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	out := make([]byte, codeLength)
	for i, x := range b {
		// 256 is not a multiple of 31: reject-free modulo bias here is ≤ 1/8 of one symbol's
		// share, which costs well under a bit of the code's strength.
		out[i] = CodeAlphabet[int(x)%len(CodeAlphabet)]
	}
	return string(out[:5]) + "-" + string(out[5:])
}

// IssuedCode is a household's new code, shown once.
type IssuedCode struct {
	Flat string
	Code string
}

// IssueCodes creates the listed households of an estate if they do not exist, and issues a code
// to every household of the estate that has no live code in the period (all of them with
// reissue). It returns the new codes sorted by flat.
func (db *DB) IssueCodes(ctx context.Context, period, estate string, flats []string, reissue bool) ([]IssuedCode, error) {
	if _, err := db.Period(ctx, period); err != nil {
		return nil, err
	}
	if _, err := db.Estate(ctx, estate); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	for _, flat := range flats {
		if !domain.IsIdent(flat) {
			return nil, derrors.Errorf(derrors.Invalid, "flat %q: must be 1-64 characters of letters, digits, '.', '_' or '-'", flat)
		}
		doc := householdDoc{ID: estate + "|" + flat, Household: domain.Household{Estate: estate, Flat: flat}, CreatedAt: now}
		if _, err := db.c(colHouseholds).InsertOne(ctx, doc); err != nil && !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("create household %s: %w", doc.ID, err)
		}
	}
	households, err := db.Households(ctx, estate)
	if err != nil {
		return nil, err
	}
	var issued []IssuedCode
	for _, h := range households {
		key := codeKey(period, estate, h.Flat)
		var old codeDoc
		err := db.c(colCodes).FindOne(ctx, byID(key)).Decode(&old)
		if err == nil && !reissue {
			continue
		}
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("read code %s: %w", key, err)
		}
		code := newCode()
		doc := codeDoc{ID: key, Period: period, Estate: estate, Flat: h.Flat, Hash: hashCode(key, code),
			Generation: old.Generation + 1, IssuedAt: now}
		if _, err := db.c(colCodes).ReplaceOne(ctx, byID(key), doc, options.Replace().SetUpsert(true)); err != nil {
			return nil, fmt.Errorf("store code %s: %w", key, err)
		}
		issued = append(issued, IssuedCode{Flat: h.Flat, Code: code})
	}
	return issued, nil
}

// Households lists the households of an estate, sorted by flat.
func (db *DB) Households(ctx context.Context, estate string) ([]domain.Household, error) {
	docs, err := findAll[householdDoc](ctx, db.c(colHouseholds), bson.D{{Key: "estate", Value: estate}})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Household, len(docs))
	for i, d := range docs {
		out[i] = d.Household
	}
	sortHouseholds(out)
	return out, nil
}

// Reasons a household code is refused. The web layer words them for owners.
var (
	ErrCodeUnknown = derrors.Errorf(derrors.Forbidden, "no live code for this household")
	ErrCodeWrong   = derrors.Errorf(derrors.Forbidden, "wrong code")
	ErrCodeLocked  = derrors.Errorf(derrors.RateLimited, "code locked after repeated wrong guesses")
)

// CheckCode verifies a household's code for a period. Wrong guesses are counted on the
// code's document and lock it after maxCodeFailures.
func (db *DB) CheckCode(ctx context.Context, period, estate, flat, code string, now time.Time) error {
	key := codeKey(period, estate, flat)
	var doc codeDoc
	err := db.c(colCodes).FindOne(ctx, byID(key)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrCodeUnknown
	}
	if err != nil {
		return fmt.Errorf("read code %s: %w", key, err)
	}
	if now.Before(doc.LockedUntil) {
		return ErrCodeLocked
	}
	if subtle.ConstantTimeCompare([]byte(doc.Hash), []byte(hashCode(key, code))) == 1 {
		if doc.Failures > 0 {
			_, _ = db.c(colCodes).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "generation", Value: doc.Generation}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 0}}}})
		}
		return nil
	}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}}
	if doc.Failures+1 >= maxCodeFailures {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 0}, {Key: "locked_until", Value: now.Add(codeLockout)}}}}
	}
	if _, err := db.c(colCodes).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "generation", Value: doc.Generation}}, update); err != nil {
		return fmt.Errorf("count wrong code %s: %w", key, err)
	}
	if doc.Failures+1 >= maxCodeFailures {
		return ErrCodeLocked
	}
	return ErrCodeWrong
}

// Submission is one owner's rating as received.
type Submission struct {
	Rating         domain.Rating // SubmittedAt is set by the server
	Source         string        // SourceWeb or SourceAPI
	IdempotencyKey string        // the same key twice counts once; empty for none
	IPHash         string
	UserAgentHash  string
}

// Receipt is what the owner keeps: proof that the rating is counted.
type Receipt struct {
	Number   string    `bson:"_id"`
	Key      string    `bson:"key"` // period|estate|household
	Period   string    `bson:"period"`
	Estate   string    `bson:"estate"`
	Revision int       `bson:"revision"`
	At       time.Time `bson:"submitted_at"`
}

// versionDoc is one submitted version of a rating; its _id is the receipt number.
type versionDoc struct {
	ID            string `bson:"_id"`
	Key           string `bson:"key"`
	domain.Rating `bson:",inline"`
	Revision      int    `bson:"revision"`
	Source        string `bson:"source"`
	IPHash        string `bson:"ip_hash,omitempty"`
	UserAgentHash string `bson:"ua_hash,omitempty"`
}

// receiptNumber is derived from the idempotency key when there is one, so that a repeated
// request finds the version it already wrote.
func receiptNumber(key, idempotencyKey string) string {
	var raw []byte
	if idempotencyKey != "" {
		sum := sha256.Sum256([]byte(key + "|" + idempotencyKey))
		raw = sum[:10]
	} else {
		raw = make([]byte, 10)
		if _, err := rand.Read(raw); err != nil {
			panic(err)
		}
	}
	var b strings.Builder
	for i, x := range raw[:8] {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// SubmitRating stores a new version of a household's rating and makes it the counted one.
// Without transactions the order of writes matters: the version (keyed by receipt), then the
// counted rating by compare-and-swap on its revision, then the tally. A crash before the swap
// leaves an unacknowledged version that counts for nothing; a crash after it leaves a tally
// that the next start-up rebuilds. The owner sees the receipt only after all three.
func (db *DB) SubmitRating(ctx context.Context, sub Submission) (Receipt, error) {
	r := sub.Rating
	r.SubmittedAt = r.SubmittedAt.Truncate(time.Millisecond)
	key := r.Key()
	number := receiptNumber(key, sub.IdempotencyKey)
	for attempt := 0; attempt < 8; attempt++ {
		if sub.IdempotencyKey != "" {
			// The same request again, or at the same moment: it may be counted already.
			if rc, err := db.ReceiptByNumber(ctx, number); err == nil {
				return rc, nil
			}
		}
		var old ratingDoc
		err := db.c(colRatings).FindOne(ctx, byID(key)).Decode(&old)
		exists := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return Receipt{}, fmt.Errorf("read rating %s: %w", key, err)
		}
		rev := old.Revision + 1
		version := versionDoc{ID: number, Key: key, Rating: r, Revision: rev, Source: sub.Source, IPHash: sub.IPHash, UserAgentHash: sub.UserAgentHash}
		_, err = db.c(colVersions).ReplaceOne(ctx, byID(number), version, options.Replace().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) {
			continue // a concurrent upsert of the same receipt; FerretDB does not retry it
		}
		if err != nil {
			return Receipt{}, fmt.Errorf("store rating version: %w", err)
		}
		doc := ratingDoc{ID: key, Rating: r, Revision: rev, Source: sub.Source, Receipt: number, IPHash: sub.IPHash, UserAgentHash: sub.UserAgentHash}
		swapped, err := db.swapRating(ctx, doc, exists, old.Revision)
		if err != nil {
			return Receipt{}, err
		}
		if !swapped {
			continue // another submission for this household won the race; go again on top of it
		}
		delta := tallyDelta{}
		if exists {
			delta.add(old.Period, old.Estate, old.Scores, -1)
		}
		delta.add(r.Period, r.Estate, r.Scores, 1)
		if err := delta.apply(ctx, db); err != nil {
			return Receipt{}, err
		}
		return Receipt{Number: number, Key: key, Period: r.Period, Estate: r.Estate, Revision: rev, At: r.SubmittedAt}, nil
	}
	return Receipt{}, derrors.Errorf(derrors.Conflict, "too many simultaneous submissions for this household; try again")
}

// swapRating replaces the counted rating if it is still at oldRevision, or inserts it if
// there was none. It reports false when another writer got there first.
func (db *DB) swapRating(ctx context.Context, doc ratingDoc, exists bool, oldRevision int) (bool, error) {
	if !exists {
		_, err := db.c(colRatings).InsertOne(ctx, doc)
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("store rating %s: %w", doc.ID, err)
		}
		return true, nil
	}
	res, err := db.c(colRatings).ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}, {Key: "revision", Value: oldRevision}}, doc)
	if err != nil {
		return false, fmt.Errorf("store rating %s: %w", doc.ID, err)
	}
	return res.MatchedCount == 1, nil
}

// ReceiptByNumber looks a receipt up. Receipts of versions that never became counted (a
// crash, or a lost race) are not found.
func (db *DB) ReceiptByNumber(ctx context.Context, number string) (Receipt, error) {
	var v versionDoc
	if err := db.c(colVersions).FindOne(ctx, byID(strings.ToUpper(strings.TrimSpace(number)))).Decode(&v); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Receipt{}, derrors.Errorf(derrors.NotFound, "receipt not found")
		}
		return Receipt{}, fmt.Errorf("read receipt: %w", err)
	}
	var cur ratingDoc
	if err := db.c(colRatings).FindOne(ctx, byID(v.Key)).Decode(&cur); err != nil || cur.Revision < v.Revision {
		return Receipt{}, derrors.Errorf(derrors.NotFound, "receipt not found")
	}
	return Receipt{Number: v.ID, Key: v.Key, Period: v.Period, Estate: v.Estate, Revision: v.Revision, At: v.SubmittedAt}, nil
}

// CurrentRevision reports which revision of a household's rating counts now (0 for none).
func (db *DB) CurrentRevision(ctx context.Context, key string) (int, error) {
	var cur ratingDoc
	err := db.c(colRatings).FindOne(ctx, byID(key)).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return cur.Revision, err
}

// RatingVersions returns every version of a household's rating, oldest first. It scans the
// versions collection, so it is for audits, not for the hot path.
func (db *DB) RatingVersions(ctx context.Context, key string) ([]domain.Rating, error) {
	docs, err := findAll[versionDoc](ctx, db.c(colVersions), bson.D{{Key: "key", Value: key}})
	if err != nil {
		return nil, err
	}
	sortVersions(docs)
	out := make([]domain.Rating, len(docs))
	for i, d := range docs {
		out[i] = d.Rating
	}
	return out, nil
}
