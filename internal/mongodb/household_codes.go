package mongodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

const (
	colHouseholds   = "households"
	colCodes        = "household_codes"
	colCodeFailures = "household_code_failures"
	// colCodeGenerations holds the codes that re-issues gave, one immutable document per
	// generation (period|estate|flat|generation), so that two re-issues at once each get a
	// generation of their own under the unique _id: the newest is live and every older one
	// void, whichever process wrote it. (Replacing one document in place lost a generation.)
	colCodeGenerations = "household_code_generations"
)

// CodeAlphabet has no 0/O or 1/I/L, so that codes survive being read aloud and typed on a
// phone. 32 symbols give 5 bits each.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// codeLength symbols of CodeAlphabet: 10 × log2(31) ≈ 49.5 bits, above the 40 required.
const codeLength = 10

// Code guessing: after maxCodeFailures wrong codes for one household from one client (an
// address) in a clock hour, that client may not try that household's code again until the
// hour ends. Other clients are not affected, so a neighbour guessing cannot lock a household
// out of its own code: the household's correct code still works from another phone or
// network. A guesser gets 5 tries per household per address per hour against 31^10 ≈ 2^49.5
// codes; rating.Service's per-address and per-estate buckets bound it across addresses.
const (
	maxCodeFailures = 5
	codeLockout     = time.Hour
)

// maxVoidedCodes is how many replaced codes a household's record remembers.
const maxVoidedCodes = 8

type householdDoc struct {
	ID               string `bson:"_id"` // estate|flat
	domain.Household `bson:",inline"`
	CreatedAt        time.Time `bson:"created_at"`
}

// codeDoc is the live code of a household in a period. Only hashes of codes are kept.
type codeDoc struct {
	ID         string `bson:"_id"` // period|estate|flat
	Period     string `bson:"period"`
	Estate     string `bson:"estate"`
	Flat       string `bson:"flat"`
	Hash       string `bson:"hash"`
	Generation int    `bson:"generation"` // bumped by every re-issue
	// Voided holds the hashes of the codes that re-issues replaced, newest first, so that an
	// owner holding an old slip is told it is void rather than wrong.
	Voided   []string  `bson:"voided,omitempty"`
	IssuedAt time.Time `bson:"issued_at"`
	// Flagged says that this document is flagged as Reissued before any re-issue of its code
	// is stored (every document written since this field exists). A flagged document that is
	// not Reissued has no later generation to look for: the check of an owner's code, which
	// every rating does, reads this one document. (Flagging only ever sets true, so a lost
	// concurrent update of this document loses nothing.) Older documents are looked up as
	// before, generation by generation.
	Flagged     bool      `bson:"flagged,omitempty"`
	Reissued    bool      `bson:"reissued,omitempty"`
	Failures    int       `bson:"failures"`
	LockedUntil time.Time `bson:"locked_until"`
	// Lookup is the _id again, on every document written since it exists, and on the
	// lock-outs of the household's code (codeLockDoc): where the engine serves a filter on it
	// from an index (DB.UseFieldLookups), one query finds the code and its lock-outs.
	Lookup string `bson:"lookup,omitempty"`
}

// codeLockDoc locks one client out of a household's code (generation) for one clock hour: it is
// the fifth wrong code's slot (see CheckCodeFrom), kept beside the code so that one query can
// read both. PurgeExpired deletes it after the hour.
type codeLockDoc struct {
	ID     string    `bson:"_id"`
	Lookup string    `bson:"lookup"` // the code's _id
	Lock   bool      `bson:"lock"`
	At     time.Time `bson:"at"`
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

// IssueCodes creates the listed households of an estate if they do not exist, and issues a code
// to every household of the estate that has no live code in the period (all of them with
// reissue). It returns the new codes sorted by flat.
func (db *DB) IssueCodes(ctx context.Context, period, estate string, flats []string, reissue bool) ([]rating.IssuedCode, error) {
	if _, err := db.Period(ctx, period); err != nil {
		return nil, err
	}
	if _, err := db.Estate(ctx, estate); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var households []any
	for _, flat := range flats {
		if !domain.IsIdent(flat) {
			return nil, derrors.Errorf(derrors.Invalid, "flat %q: must be 1-64 characters of letters, digits, '.', '_' or '-'", flat)
		}
		households = append(households, householdDoc{ID: estate + "|" + flat, Household: domain.Household{Estate: estate, Flat: flat}, CreatedAt: now})
	}
	// One commit per thousand rather than per flat: existing households are refused as
	// duplicates, which is what we want.
	for start := 0; start < len(households); start += importBatch {
		if _, err := db.insertMany(ctx, colHouseholds, households[start:min(start+importBatch, len(households))]); err != nil {
			return nil, err
		}
	}
	all, err := db.Households(ctx, estate)
	if err != nil {
		return nil, err
	}
	var issued []rating.IssuedCode
	var fresh []any
	for _, h := range all {
		key := codeKey(period, estate, h.Flat)
		live, err := exists(ctx, db.c(colCodes), key)
		if err != nil {
			return nil, err
		}
		if live && !reissue {
			continue
		}
		code := newCode()
		if !live {
			fresh = append(fresh, codeDoc{ID: key, Period: period, Estate: estate, Flat: h.Flat, Hash: hashCode(key, code), Generation: 1, IssuedAt: now,
				Flagged: true, Lookup: key})
			issued = append(issued, rating.IssuedCode{Household: h.Flat, Code: code})
			continue
		}
		code, err = db.reissueCode(ctx, key, now)
		if err != nil {
			return nil, err
		}
		issued = append(issued, rating.IssuedCode{Household: h.Flat, Code: code})
	}
	refused := map[string]bool{}
	for start := 0; start < len(fresh); start += importBatch {
		batch := fresh[start:min(start+importBatch, len(fresh))]
		dups, err := db.insertMany(ctx, colCodes, batch)
		if err != nil {
			return nil, err
		}
		for _, i := range dups { // issued at the same moment by someone else: theirs stands
			refused[batch[i].(codeDoc).Flat] = true
		}
	}
	out := issued[:0]
	for _, c := range issued {
		if !refused[c.Household] {
			out = append(out, c)
		}
	}
	return out, nil
}

// codeGeneration is one re-issued code of a household.
type codeGeneration struct {
	ID         string    `bson:"_id"` // period|estate|flat|generation
	Hash       string    `bson:"hash"`
	Generation int       `bson:"generation"`
	IssuedAt   time.Time `bson:"issued_at"`
}

func generationID(key string, gen int) string { return key + "|" + strconv.Itoa(gen) }

// liveCode reads a household's code: the first one, and every re-issue after it, newest
// first. It returns the live generation, its hash and the hashes it voided (newest first).
func (db *DB) liveCode(ctx context.Context, key string) (gen int, hash string, voided []string, err error) {
	var doc codeDoc
	err = db.c(colCodes).FindOne(ctx, byID(key)).Decode(&doc)
	if err != nil {
		return 0, "", nil, err
	}
	return db.liveCodeFrom(ctx, doc)
}

// liveCodeFrom is liveCode from the household's code document, read already.
func (db *DB) liveCodeFrom(ctx context.Context, doc codeDoc) (gen int, hash string, voided []string, err error) {
	key := doc.ID
	gen, hash, voided = doc.Generation, doc.Hash, doc.Voided
	if doc.Flagged && !doc.Reissued {
		return gen, hash, voided[:min(len(voided), maxVoidedCodes)], nil
	}
	for {
		var g codeGeneration
		err := db.c(colCodeGenerations).FindOne(ctx, byID(generationID(key, gen+1))).Decode(&g)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return gen, hash, voided[:min(len(voided), maxVoidedCodes)], nil
		}
		if err != nil {
			return 0, "", nil, fmt.Errorf("read code %s: %w", key, err)
		}
		voided = append([]string{hash}, voided...)
		gen, hash = g.Generation, g.Hash
	}
}

// reissueCode gives a household a new code, which it returns: the next generation, inserted
// under its unique _id, so that a re-issue at the same moment elsewhere takes the one after.
func (db *DB) reissueCode(ctx context.Context, key string, now time.Time) (string, error) {
	// The flag goes first: a check of the code that reads the document after a generation
	// is stored must know to look for it.
	if _, err := db.c(colCodes).UpdateOne(ctx, byID(key), bson.D{{Key: "$set", Value: bson.D{{Key: "reissued", Value: true}}}}); err != nil {
		return "", fmt.Errorf("flag code %s as re-issued: %w", key, err)
	}
	for attempt := 0; attempt < 20; attempt++ {
		gen, _, _, err := db.liveCode(ctx, key)
		if err != nil {
			return "", fmt.Errorf("read code %s: %w", key, err)
		}
		code := newCode()
		_, err = db.c(colCodeGenerations).InsertOne(ctx, codeGeneration{ID: generationID(key, gen+1), Hash: hashCode(key, code), Generation: gen + 1, IssuedAt: now})
		if mongo.IsDuplicateKeyError(err) {
			continue // re-issued elsewhere at the same moment: take the next generation
		}
		if err != nil {
			return "", fmt.Errorf("store code %s: %w", key, err)
		}
		return code, nil
	}
	return "", fmt.Errorf("store code %s: re-issued elsewhere too often at once", key)
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
	sort.Slice(out, func(i, j int) bool { return out[i].Flat < out[j].Flat })
	return out, nil
}

// CheckCode is CheckCodeFrom for a client that is not told apart from others (tools, tests).
func (db *DB) CheckCode(ctx context.Context, period, estate, flat, code string, now time.Time) error {
	return db.CheckCodeFrom(ctx, period, estate, flat, code, "", now)
}

// CheckCodeFrom verifies a household's code for a period, typed by client (an opaque id of
// where the request came from, such as a hash of its address). Wrong guesses are counted per
// household, code generation, client and clock hour, with one inserted document each, because
// the embedded engine loses concurrent updates of one document; after the fifth the client
// gets ErrCodeLocked for that household until the hour ends, right code or not. A code that a
// re-issue replaced gives ErrCodeVoided and is not counted as a guess: guessing an old code
// is no easier than guessing the live one, and a household that types its old slip must not
// lock out its new one. Wrong and locked codes are a *CodeRefusal. The fifth guess's slot, the
// lock-out, is kept beside the code (codeLockDoc), so that where the engine allows one query
// reads the code and the lock-outs (readCode): every rating checks a code.
func (db *DB) CheckCodeFrom(ctx context.Context, period, estate, flat, code, client string, now time.Time) error {
	key := codeKey(period, estate, flat)
	gen, hash, voided, locks, err := db.readCode(ctx, key)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return rating.ErrCodeUnknown
	}
	if err != nil {
		return fmt.Errorf("read code %s: %w", key, err)
	}
	hour := now.Unix() / int64(codeLockout/time.Second)
	until := time.Unix((hour+1)*int64(codeLockout/time.Second), 0)
	bucket := fmt.Sprintf("%s|%d|%d|", key, gen, hour)
	if client != "" {
		bucket = fmt.Sprintf("%s|%d|%s|%d|", key, gen, client, hour)
	}
	lock := bucket + fmt.Sprint(maxCodeFailures)
	locked := locks[lock]
	if locks == nil {
		if locked, err = exists(ctx, db.c(colCodes), lock); err != nil {
			return err
		}
	}
	if locked {
		return &rating.CodeRefusal{Reason: rating.ErrCodeLocked, Until: until}
	}
	typed := []byte(hashCode(key, code))
	if subtle.ConstantTimeCompare([]byte(hash), typed) == 1 {
		return nil
	}
	for _, h := range voided {
		if subtle.ConstantTimeCompare([]byte(h), typed) == 1 {
			return rating.ErrCodeVoided
		}
	}
	for n := 1; n <= maxCodeFailures; n++ {
		var err error
		if n == maxCodeFailures {
			_, err = db.c(colCodes).InsertOne(ctx, codeLockDoc{ID: lock, Lookup: key, Lock: true, At: now})
		} else {
			_, err = db.c(colCodeFailures).InsertOne(ctx, bson.D{{Key: "_id", Value: bucket + fmt.Sprint(n)}, {Key: "at", Value: now}})
		}
		if mongo.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("count wrong code %s: %w", key, err)
		}
		if n == maxCodeFailures {
			return &rating.CodeRefusal{Reason: rating.ErrCodeLocked, Until: until}
		}
		return &rating.CodeRefusal{Reason: rating.ErrCodeWrong, Remaining: maxCodeFailures - n}
	}
	return &rating.CodeRefusal{Reason: rating.ErrCodeLocked, Until: until}
}

// readCode reads a household's live code (liveCode) and, where the engine serves a filter on
// lookup from an index (DB.UseFieldLookups), the lock-outs of the code with the same query:
// one query where there were two. locks holds the _ids of the lock-outs, or is nil when they
// were not read (the embedded engine, which pushes down only filters on _id alone, would read
// every code; or a code document written before lookup existed).
func (db *DB) readCode(ctx context.Context, key string) (gen int, hash string, voided []string, locks map[string]bool, err error) {
	if !db.fieldLookups {
		gen, hash, voided, err = db.liveCode(ctx, key)
		return gen, hash, voided, nil, err
	}
	docs, err := findAll[codeDoc](ctx, db.c(colCodes), bson.D{{Key: "lookup", Value: key}})
	if err != nil {
		return 0, "", nil, nil, err
	}
	locks = map[string]bool{}
	var code *codeDoc
	for i, d := range docs {
		if d.ID == key {
			code = &docs[i]
		} else {
			locks[d.ID] = true
		}
	}
	if code == nil {
		gen, hash, voided, err = db.liveCode(ctx, key)
		return gen, hash, voided, nil, err
	}
	gen, hash, voided, err = db.liveCodeFrom(ctx, *code)
	return gen, hash, voided, locks, err
}

// UseFieldLookups makes the check of a household's code read the code and its lock-outs with
// one query on the field lookup, for an engine that serves it from an index: MongoDB (migration
// 4 indexes it) or FerretDB on PostgreSQL after `propcredit db tune`. Not the embedded engine.
func (db *DB) UseFieldLookups(on bool) { db.fieldLookups = on }

func exists(ctx context.Context, c *mongo.Collection, id string) (bool, error) {
	err := c.FindOne(ctx, byID(id)).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s %s: %w", c.Name(), id, err)
	}
	return true, nil
}
