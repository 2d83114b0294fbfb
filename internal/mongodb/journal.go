package mongodb

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/domain"
)

// The tally journal keeps tallies right with any number of writers, on any engine.
//
// FerretDB (on SQLite and on PostgreSQL) applies an update by reading the document and writing
// it back whole, so concurrent updates of one document lose all but one: measured, 20
// concurrent $inc on one document through FerretDB-PostgreSQL kept 1–2. Only two things are
// atomic on every engine: an insert under a unique _id, and a delete. So no tally document is
// ever updated. Instead:
//
//   - A writer inserts an intent ("i|J") before it inserts rating versions, and marks each
//     version with the journal id J. After the versions, it inserts the entry ("d|J"): the sum
//     of what its versions changed in the tallies of one period (a version adds its scores and
//     takes away those of the revision it replaces). Only then are the owners answered.
//   - A base (period|generation) is an immutable snapshot of a period's tallies with the ids of
//     the entries folded into it. The tally of an estate is the newest base plus every entry of
//     the period not folded into it. Readers fold; they write nothing.
//   - Compaction (any process, any time) reads the period, deletes the intents and entries the
//     newest base g folded, and inserts base g+1 with the entries it read. Two compactors race
//     for the unique _id of g+1 and one loses harmlessly. A reader checks, after reading the
//     entries, that no g+1 appeared meanwhile (only a compaction of g+2 could have deleted
//     entries it needed), and reads again if one did.
//   - A writer that died between its intent and its entry leaves an intent without an entry.
//     After journalGrace, or once its server is known to be gone (recoverable), anyone may
//     recover it: the entry is recomputed from the versions that
//     carry its journal id (one scan of the ratings, so only after a crash). It is safe because
//     the entry is checked missing before the intent is checked present, and compaction deletes
//     an intent before its entry.
//   - A group that fails after its versions went in (a full disk) tells its owners it failed, so
//     those versions must never count: the writer inserts an abort marker ("a|J"), withdraws
//     (deletes) them and ends the journal with what still counts (settleJournal). Should that
//     fail too, recovery does it later: it withdraws a version of an aborted journal, or one
//     whose receipt claim was freed, and repairs (counts) the others, saying which in the log.
//     A version whose household has a later revision always counts: that revision's entry
//     took it away already.
//
// So a crash never needs a repair at start-up, and no process needs to know about another.

const (
	colTallyBases   = "tally_bases"
	colTallyJournal = "tally_journal"
)

// journalGrace is how old an intent without an entry must be before it is recovered: well above
// the 30 s a group commit may take, so that its writer is surely gone.
const journalGrace = 2 * time.Minute

// estateTally is one estate's tally inside a base or an entry.
type estateTally struct {
	Estate  string           `bson:"estate"`
	Ratings int64            `bson:"count"`
	Sums    domain.TallySums `bson:"sums"`
}

type journalDoc struct {
	ID      string    `bson:"_id"` // i|J (intent) or d|J (entry)
	Kind    string    `bson:"kind"`
	Journal string    `bson:"journal"`
	Owner   string    `bson:"owner,omitempty"` // the server that wrote the intent (Announce)
	Period  string    `bson:"period"`
	At      time.Time `bson:"at"`
	Tallies tallyList `bson:"tallies,omitempty"`
}

type baseDoc struct {
	ID      string    `bson:"_id"` // period|generation
	Period  string    `bson:"period"`
	Gen     int       `bson:"gen"`
	At      time.Time `bson:"at"`
	Tallies tallyList `bson:"tallies"`
	Folded  []string  `bson:"folded"` // journal ids whose entries this base includes
}

func baseID(period string, gen int) string { return period + "|" + strconv.Itoa(gen) }
func intentID(journal string) string       { return "i|" + journal }
func entryID(journal string) string        { return "d|" + journal }
func abortID(journal string) string        { return "a|" + journal }

func newJournalID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// beginJournal inserts the intent of a journal for one period and returns its id.
func (db *DB) beginJournal(ctx context.Context, period string) (string, error) {
	id := newJournalID()
	_, err := db.c(colTallyJournal).InsertOne(ctx, journalDoc{ID: intentID(id), Kind: "intent", Journal: id, Owner: db.serverID, Period: period, At: time.Now()})
	if err != nil {
		return "", fmt.Errorf("begin tally journal: %w", err)
	}
	return id, nil
}

// endJournal inserts the entry of a journal: delta holds the changes of one period.
func (db *DB) endJournal(ctx context.Context, journal, period string, delta tallyDelta) error {
	_, err := db.endJournalAndBegin(ctx, journal, period, delta, false)
	return err
}

// endJournalAndBegin inserts the entry of a journal and, with next, the intent of the next
// journal of the same period in the same command (one commit instead of two: the rating
// writer's next group uses it; see ratingWriter.intent). It returns the next journal's id,
// or "" if its intent did not go in.
func (db *DB) endJournalAndBegin(ctx context.Context, journal, period string, delta tallyDelta, next bool) (string, error) {
	now := time.Now()
	docs := []any{journalDoc{ID: entryID(journal), Kind: "entry", Journal: journal, Period: period, At: now, Tallies: delta.estates(period)}}
	nextID := ""
	if next {
		nextID = newJournalID()
		docs = append(docs, journalDoc{ID: intentID(nextID), Kind: "intent", Journal: nextID, Owner: db.serverID, Period: period, At: now})
	}
	refused, err := db.insertMany(ctx, colTallyJournal, docs)
	if err != nil {
		return "", fmt.Errorf("record tally changes: %w", err)
	}
	// A refused entry was recovered by another process after journalGrace: the same sums.
	for _, i := range refused {
		if i == 1 {
			nextID = ""
		}
	}
	return nextID, nil
}

// estates lists the non-zero changes of one period.
func (d tallyDelta) estates(period string) tallyList {
	var out tallyList
	for _, t := range d {
		if t.Period != period || *t == (Tally{Period: t.Period, Estate: t.Estate}) {
			continue
		}
		out = append(out, estateTally{Estate: t.Estate, Ratings: t.Ratings, Sums: t.Sums})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Estate < out[j].Estate })
	return out
}

// periodView is a period's tallies as one read saw them.
type periodView struct {
	base    baseDoc // Gen 0 when the period has none
	entries []journalDoc
	intents []journalDoc // intents whose entry was missing
	folded  []string     // _ids of the documents of journals the base folded, intents first
	tallies map[string]*Tally
}

// readPeriod folds a period's newest base and its entries, reading again if a compaction
// overtook the read.
func (db *DB) readPeriod(ctx context.Context, period string) (periodView, error) {
	for attempt := 0; attempt < 10; attempt++ {
		v, err := db.readPeriodOnce(ctx, period)
		if err != nil {
			return v, err
		}
		overtaken, err := exists(ctx, db.c(colTallyBases), baseID(period, v.base.Gen+1))
		if err != nil {
			return v, err
		}
		if !overtaken {
			return v, nil
		}
	}
	return periodView{}, fmt.Errorf("read tallies of %s: compactions keep overtaking the read", period)
}

func (db *DB) readPeriodOnce(ctx context.Context, period string) (periodView, error) {
	var v periodView
	bases, err := findAll[baseDoc](ctx, db.c(colTallyBases), bson.D{{Key: "period", Value: period}})
	if err != nil {
		return v, err
	}
	for _, b := range bases {
		if b.Gen > v.base.Gen {
			v.base = b
		}
	}
	docs, err := findAll[journalDoc](ctx, db.c(colTallyJournal), bson.D{{Key: "period", Value: period}})
	if err != nil {
		return v, err
	}
	folded := make(map[string]bool, len(v.base.Folded))
	for _, j := range v.base.Folded {
		folded[j] = true
	}
	hasEntry := map[string]bool{}
	for _, d := range docs {
		if d.Kind == "entry" {
			hasEntry[d.Journal] = true
		}
	}
	v.tallies = map[string]*Tally{}
	add := func(ts tallyList) {
		for _, et := range ts {
			t := v.tallies[et.Estate]
			if t == nil {
				t = &Tally{Period: period, Estate: et.Estate}
				v.tallies[et.Estate] = t
			}
			t.Add(&Tally{Ratings: et.Ratings, Sums: et.Sums})
		}
	}
	add(v.base.Tallies)
	var foldedEntries []string
	for _, d := range docs {
		switch {
		case folded[d.Journal] && d.Kind == "entry":
			foldedEntries = append(foldedEntries, d.ID)
		case folded[d.Journal]:
			v.folded = append(v.folded, d.ID)
		case d.Kind == "entry":
			v.entries = append(v.entries, d)
			add(d.Tallies)
		case d.Kind == "intent" && !hasEntry[d.Journal]:
			v.intents = append(v.intents, d)
		}
	}
	v.folded = append(v.folded, foldedEntries...)
	sort.Slice(v.entries, func(i, j int) bool { return v.entries[i].ID < v.entries[j].ID })
	return v, nil
}

// Tallies returns the tallies of a period, sorted by estate: every rating acknowledged so far,
// by any process, is in them.
func (db *DB) Tallies(ctx context.Context, period string) ([]Tally, error) {
	v, err := db.readPeriod(ctx, period)
	if err != nil {
		return nil, err
	}
	return v.sorted(), nil
}

func (v periodView) sorted() []Tally {
	out := make([]Tally, 0, len(v.tallies))
	for _, t := range v.tallies {
		if *t != (Tally{Period: t.Period, Estate: t.Estate}) {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Estate < out[j].Estate })
	return out
}

// CompactTallies folds the journal of every period into new bases and recovers the intents of
// writers that died. It is safe beside any number of writers and other compactors. It scans
// the journal for its periods; the rating writer compacts the periods it wrote to more often
// (compactPeriods).
func (db *DB) CompactTallies(ctx context.Context) error {
	periods, err := db.journalPeriods(ctx)
	if err != nil {
		return err
	}
	return db.compactPeriods(ctx, periods)
}

func (db *DB) compactPeriods(ctx context.Context, periods []string) error {
	for _, p := range periods {
		if err := db.compactPeriod(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// journalPeriods lists the periods with journal documents.
func (db *DB) journalPeriods(ctx context.Context) ([]string, error) {
	type doc struct {
		Period string `bson:"period"`
	}
	cur, err := db.c(colTallyJournal).Find(ctx, bson.D{}, optsProjection("period"))
	if err != nil {
		return nil, fmt.Errorf("read tally journal: %w", err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read tally journal: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		if !seen[d.Period] {
			seen[d.Period] = true
			out = append(out, d.Period)
		}
	}
	sort.Strings(out)
	return out, nil
}

// compactPeriod recovers dead writers' intents and folds the period's entries into a new base,
// with one read of the period. The documents of the journals that the newest base folded go
// first: a base must never be made while its predecessor's are still there, or readers would
// count them twice (the new base's folded list names only what it adds). An entry that arrives
// after the read, or that recovery inserts now, waits for the next round. Two compactors race
// for the unique _id of the next base, and the loser's insert is refused; one that read long
// ago may insert a base older than the newest, which readers ignore (they fold the newest) and
// the next compaction deletes.
func (db *DB) compactPeriod(ctx context.Context, period string) error {
	v, err := db.readPeriodOnce(ctx, period)
	if err != nil {
		return err
	}
	for _, in := range v.intents {
		ok, err := db.recoverable(ctx, in)
		if err != nil {
			return err
		}
		if ok {
			if err := db.recoverJournal(ctx, in); err != nil {
				return err
			}
		}
	}
	// Intents go before entries, so that recovery never mistakes a folded journal for a dead
	// writer's (recoverJournal); one delete command takes them all at once in any case.
	if len(v.folded) > 0 {
		if err := db.deleteIDs(ctx, colTallyJournal, v.folded); err != nil {
			return err
		}
	}
	if len(v.entries) == 0 {
		return nil
	}
	next := baseDoc{ID: baseID(period, v.base.Gen+1), Period: period, Gen: v.base.Gen + 1, At: time.Now()}
	for _, t := range v.sorted() {
		next.Tallies = append(next.Tallies, estateTally{Estate: t.Estate, Ratings: t.Ratings, Sums: t.Sums})
	}
	for _, e := range v.entries {
		next.Folded = append(next.Folded, e.Journal)
	}
	if _, err := db.c(colTallyBases).InsertOne(ctx, next); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil // another process compacted first
		}
		return fmt.Errorf("compact tallies of %s: %w", period, err)
	}
	// Bases older than the one before the new one are read by nobody.
	_, err = db.c(colTallyBases).DeleteMany(ctx, bson.D{{Key: "period", Value: period}, {Key: "gen", Value: bson.D{{Key: "$lt", Value: v.base.Gen}}}})
	if err != nil {
		return fmt.Errorf("drop old tally bases of %s: %w", period, err)
	}
	return nil
}

// recoverable tells whether an intent without an entry belongs to a writer that is surely
// gone: it is older than journalGrace, or its server stopped or was replaced by a restart
// (commands it had sent have had a moment to land).
func (db *DB) recoverable(ctx context.Context, in journalDoc) (bool, error) {
	age := time.Since(in.At)
	if age > db.grace {
		return true, nil
	}
	if in.Owner == "" || in.Owner == db.serverID || age < 2*time.Second {
		return false, nil
	}
	return db.serverGone(ctx, in.Owner)
}

// recoverJournal writes the entry of a writer that died after its intent, from the versions it
// stored. The entry was missing when the period was read; the intent is checked present after
// that, so the entry was never folded (compaction deletes an intent before its entry).
func (db *DB) recoverJournal(ctx context.Context, intent journalDoc) error {
	repaired, withdrawn, err := db.settleJournal(ctx, intent, false, nil)
	if err != nil || repaired < 0 {
		return err
	}
	db.log.Warn("recovered the tally changes of a writer that stopped half-way", "journal", intent.Journal, "period", intent.Period,
		"repaired", repaired, "withdrawn", withdrawn)
	return nil
}

// abortJournal settles the journal of a group that failed after its versions (those it tried
// to store) went in, or may have: their owners are told it failed. The abort marker goes in
// first, so that recovery withdraws them too should the rest fail.
func (db *DB) abortJournal(ctx context.Context, intent journalDoc, versions []ratingDoc) (repaired, withdrawn int, err error) {
	_, merr := db.c(colTallyJournal).InsertOne(ctx, journalDoc{ID: abortID(intent.Journal), Kind: "abort", Journal: intent.Journal,
		Period: intent.Period, At: time.Now()})
	if merr != nil && mongo.IsDuplicateKeyError(merr) {
		merr = nil
	}
	repaired, withdrawn, err = db.settleJournal(ctx, intent, true, versions)
	return repaired, withdrawn, errors.Join(err, merr)
}

// settleJournal writes the entry of a journal whose writer did not, if it is still missing:
// the versions that carry its id count (repaired), except those whose owners were told that
// their rating failed, which it deletes (withdrawn; see withdrawRefused). It looks for the
// versions (a scan of the ratings) unless it is given those the journal's writer tried to
// store. repaired is -1 when there was nothing to settle.
func (db *DB) settleJournal(ctx context.Context, intent journalDoc, aborted bool, versions []ratingDoc) (repaired, withdrawn int, err error) {
	if done, err := exists(ctx, db.c(colTallyJournal), entryID(intent.Journal)); err != nil || done {
		return -1, 0, err // finished meanwhile (or its entry went in after all): its versions count
	}
	present, err := exists(ctx, db.c(colTallyJournal), intent.ID)
	if err != nil || !present {
		return -1, 0, err
	}
	if !aborted {
		if aborted, err = exists(ctx, db.c(colTallyJournal), abortID(intent.Journal)); err != nil {
			return 0, 0, err
		}
	}
	if fail := db.failSettle.Load(); fail != nil {
		return 0, 0, *fail
	}
	docs := versions
	if docs == nil {
		if docs, err = findAll[ratingDoc](ctx, db.c(colRatings), bson.D{{Key: "journal", Value: intent.Journal}}); err != nil {
			return 0, 0, err
		}
	}
	// A household's later revisions first: withdrawRefused keeps a version that has a later
	// one, so revisions N and N+1 of one failed group must go N+1 first, or N stays and counts.
	docs = slices.Clone(docs)
	slices.SortFunc(docs, func(a, b ratingDoc) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), b.Revision-a.Revision)
	})
	delta := tallyDelta{}
	for _, d := range docs {
		gone, err := db.withdrawRefused(ctx, d, aborted)
		if err != nil {
			return 0, 0, err
		}
		if gone {
			withdrawn++
			continue
		}
		repaired++
		if !d.counts() {
			continue // held: it adds nothing
		}
		prev, err := db.previousVersion(ctx, d)
		if err != nil {
			return 0, 0, err
		}
		if prev != nil {
			delta.add(prev.Period, prev.Estate, prev.Scores, -1)
		}
		delta.add(d.Period, d.Estate, d.Scores, 1)
	}
	return repaired, withdrawn, db.endJournal(ctx, intent.Journal, intent.Period, delta)
}

// withdrawRefused deletes a version whose owner was told that it failed: its journal was
// aborted, or its receipt claim was freed (an imported version has no receipt). A version whose household has a later revision is
// kept, since that revision's entry took it away already; so is one whose later revision
// appears while it is deleted (a writer elsewhere read it as the head just before): it is put
// back.
func (db *DB) withdrawRefused(ctx context.Context, d ratingDoc, aborted bool) (bool, error) {
	if later, err := exists(ctx, db.c(colRatings), versionID(d.Key, d.Revision+1)); err != nil || later {
		return false, err
	}
	if !aborted {
		if d.Receipt == "" {
			return false, nil // imported: nobody was told anything
		}
		var claim receiptDoc
		err := db.c(colReceipts).FindOne(ctx, byID(d.Receipt)).Decode(&claim)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return false, fmt.Errorf("read receipt: %w", err)
		}
		if err == nil && claim.Key == d.Key {
			return false, nil // claimed, not freed: its writer died before it could answer
		}
	}
	if _, err := db.c(colRatings).DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "journal", Value: d.Journal}}); err != nil {
		return false, fmt.Errorf("withdraw rating %s: %w", d.ID, err)
	}
	if d.Held { // its place in the reviewers' queue goes too, or it would block a later hold of that _id
		if err := db.dropHold(ctx, d.ID, d.Receipt); err != nil {
			return false, err
		}
	}
	later, err := exists(ctx, db.c(colRatings), versionID(d.Key, d.Revision+1))
	if err != nil || !later {
		return err == nil, err
	}
	if _, err := db.c(colRatings).InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
		return false, fmt.Errorf("put back rating %s: %w", d.ID, err)
	}
	return false, nil
}

// previousVersion reads the version a version replaced: the highest revision below it that
// counts (not held, not a placeholder).
func (db *DB) previousVersion(ctx context.Context, d ratingDoc) (*ratingDoc, error) {
	for rev := d.Revision - 1; rev >= 1; rev-- {
		var p ratingDoc
		err := db.c(colRatings).FindOne(ctx, byID(versionID(d.Key, rev))).Decode(&p)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read rating %s: %w", d.Key, err)
		}
		if !p.counts() {
			continue
		}
		return &p, nil
	}
	return nil, nil
}

// deleteIDs deletes the documents with the given _ids, some at a time.
func (db *DB) deleteIDs(ctx context.Context, col string, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		_, err := db.c(col).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[:n]}}}})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", col, err)
		}
		ids = ids[n:]
	}
	return nil
}

// TallyDrift is a stored tally that disagrees with the ratings.
type TallyDrift struct {
	Key          string
	Stored, Want Tally
}

// VerifyTallies recomputes every tally from the ratings and reports those that differ. It first
// recovers dead writers' journals. Beside servers that are taking ratings, a rating stored
// between the two reads shows as drift; so a difference counts only if a second pass a moment
// later finds it too. With fix, each drift is put right by a journal entry of the difference;
// the caller must make sure no server is taking ratings (see LiveServers). It reads every
// rating, so it is for audits and repair, not for the hot path.
func (db *DB) VerifyTallies(ctx context.Context, fix bool) ([]TallyDrift, error) {
	if err := db.CompactTallies(ctx); err != nil {
		return nil, err
	}
	first, err := db.currentDrift(ctx)
	if err != nil {
		return nil, err
	}
	drift, err := db.confirmDrift(ctx, first)
	if err != nil {
		return nil, err
	}
	if !fix || len(drift) == 0 {
		return drift, nil
	}
	byPeriod := map[string]tallyDelta{}
	for _, d := range drift {
		delta := byPeriod[d.Want.Period]
		if delta == nil {
			delta = tallyDelta{}
			byPeriod[d.Want.Period] = delta
		}
		w, s := d.Want, d.Stored
		s.Ratings, s.Sums = -s.Ratings, negate(s.Sums)
		t := &Tally{Period: w.Period, Estate: w.Estate}
		t.Add(&w)
		t.Add(&s)
		delta[d.Key] = t
	}
	for period, delta := range byPeriod {
		journal := newJournalID()
		if err := db.endJournal(ctx, journal, period, delta); err != nil {
			return drift, err
		}
	}
	return drift, nil
}

// confirmDrift keeps of a first pass's drift what a second pass a moment later finds too.
func (db *DB) confirmDrift(ctx context.Context, first []TallyDrift) ([]TallyDrift, error) {
	if len(first) == 0 {
		return nil, nil
	}
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	second, err := db.currentDrift(ctx)
	if err != nil {
		return nil, err
	}
	again := map[string]TallyDrift{}
	for _, d := range first {
		again[d.Key] = d
	}
	var drift []TallyDrift
	for _, d := range second {
		if f, ok := again[d.Key]; ok && f == d {
			drift = append(drift, d)
		}
	}
	return drift, nil
}

func negate(s domain.TallySums) domain.TallySums {
	return domain.TallySums{Service: -s.Service, Security: -s.Security, Cleaning: -s.Cleaning, Greening: -s.Greening,
		Maintenance: -s.Maintenance, Transparency: -s.Transparency}
}

// currentDrift reads the ratings and compares the tallies with them once.
func (db *DB) currentDrift(ctx context.Context) ([]TallyDrift, error) {
	heads, err := db.ratingHeads(ctx)
	if err != nil {
		return nil, err
	}
	return db.tallyDrift(ctx, heads)
}

// tallyDrift compares the tallies with the ratings' heads (ratingHeads) once.
func (db *DB) tallyDrift(ctx context.Context, heads map[string]ratingDoc) ([]TallyDrift, error) {
	want := tallyDelta{}
	periods := map[string]bool{}
	for _, h := range heads {
		want.add(h.Period, h.Estate, h.Scores, 1)
		periods[h.Period] = true
	}
	more, err := db.journalPeriods(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range more {
		periods[p] = true
	}
	var bases []struct {
		Period string `bson:"period"`
	}
	cur, err := db.c(colTallyBases).Find(ctx, bson.D{}, optsProjection("period"))
	if err != nil {
		return nil, fmt.Errorf("read tally bases: %w", err)
	}
	if err := cur.All(ctx, &bases); err != nil {
		return nil, fmt.Errorf("read tally bases: %w", err)
	}
	for _, b := range bases {
		periods[b.Period] = true
	}
	var drift []TallyDrift
	for p := range periods {
		v, err := db.readPeriod(ctx, p)
		if err != nil {
			return nil, err
		}
		for e, s := range v.tallies {
			k := tallyKey(p, e)
			w, ok := want[k]
			if !ok {
				w = &Tally{Period: p, Estate: e}
			}
			if *w != *s {
				drift = append(drift, TallyDrift{Key: k, Stored: *s, Want: *w})
			}
		}
		for k, w := range want {
			if w.Period == p && v.tallies[w.Estate] == nil && *w != (Tally{Period: w.Period, Estate: w.Estate}) {
				drift = append(drift, TallyDrift{Key: k, Stored: Tally{Period: w.Period, Estate: w.Estate}, Want: *w})
			}
		}
	}
	sort.Slice(drift, func(i, j int) bool { return drift[i].Key < drift[j].Key })
	return drift, nil
}

// legacyBases computes, from ratings written before the journal (no journal id), the first base
// of each period: each household's highest such version. It is a pure function of versions
// that never change, so servers migrating at once insert the same bases, and versions written
// since carry their own changes in the journal.
func (db *DB) legacyBases(ctx context.Context) error {
	cur, err := db.c(colRatings).Find(ctx, bson.D{}, optsExclude("ip_hash", "ua_hash", "receipt"))
	if err != nil {
		return fmt.Errorf("read ratings: %w", err)
	}
	heads := map[string]ratingDoc{}
	revs := map[string][]int{}
	for cur.Next(ctx) {
		var d ratingDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode rating: %w", err)
		}
		revs[d.Key] = append(revs[d.Key], d.Revision)
		if d.Journal != "" {
			continue
		}
		if h, ok := heads[d.Key]; !ok || d.Revision > h.Revision {
			heads[d.Key] = d
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	if err := db.fillGaps(ctx, revs); err != nil {
		return err
	}
	delta := tallyDelta{}
	periods := map[string]bool{}
	for _, h := range heads {
		delta.add(h.Period, h.Estate, h.Scores, 1)
		periods[h.Period] = true
	}
	for p := range periods {
		b := baseDoc{ID: baseID(p, 1), Period: p, Gen: 1, At: time.Now(), Tallies: delta.estates(p), Folded: []string{}}
		_, err := db.c(colTallyBases).InsertOne(ctx, b)
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store tally base of %s: %w", p, err)
		}
	}
	return nil
}

// fillGaps closes the gaps that older versions left in households' revisions (a repeated
// request's version was deleted again) with placeholders, so that every revision from 1 to the
// head exists and a household's head is found by reading revisions until one is missing. A
// placeholder is never a head and counts for nothing.
func (db *DB) fillGaps(ctx context.Context, revs map[string][]int) error {
	var docs []any
	for key, rs := range revs {
		sort.Ints(rs)
		have := map[int]bool{}
		for _, r := range rs {
			have[r] = true
		}
		for r := 1; r < rs[len(rs)-1]; r++ {
			if !have[r] {
				parts := strings.SplitN(key, "|", 3)
				if len(parts) != 3 {
					continue
				}
				d := ratingDoc{ID: versionID(key, r), Key: key, Revision: r, Source: sourceGap}
				d.Period, d.Estate, d.Household = parts[0], parts[1], parts[2]
				docs = append(docs, d)
			}
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := db.insertMany(ctx, colRatings, docs) // refused: another process filled it
	if err != nil {
		return fmt.Errorf("fill gaps in revisions: %w", err)
	}
	db.log.Warn("filled gaps in rating revisions", "placeholders", len(docs))
	return nil
}

// sourceGap marks a placeholder version that fills a gap left by an older release.
const sourceGap = "gap"
