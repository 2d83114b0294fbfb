package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

// Ballot-stuffing detection and the held ratings' queue (rating/holds.go says what and why).
//
// Signals are counted in the database, so that every server sees one count: each submission
// takes, in each of its signal keys (kind|value|window), the first free ordinal from 1 by
// inserting n|key|ordinal under a unique _id, as the log-in throttle's slots do. A submission
// whose ordinal passes the signal's threshold is held. Submissions are counted, not distinct
// households: a household that rates again in the same window counts again (so an attacker
// cannot get held codes counted by sending them again, and no look-up is needed to know it).
// Ordinals are claimed from a hint (the highest this process saw); a refused one was taken by
// another server; the claim tries again right after the ordinals it tried (all taken now),
// then, if refused again, looks up how far the others went and tries after that, so ordinals
// have no gaps and the highest is the count. The writer claims for its whole group with one
// insert, not one per rating.
//
// A held version is stored like any other, with held set, and a hold (colHolds) with the
// evidence is inserted before it; it adds nothing to the tally journal, and it is never a
// household's counted version (the counted version is the highest revision not held). A
// reviewer's decision is inserted once under the version's id (colHoldDecisions). A release
// inserts the held rating again as the household's next revision, not held, with its own
// journal entry, unless the household rated again meanwhile (then the later rating counts
// and the release changes nothing): so the unique _id of the revision, as for every rating,
// decides between a release and a new rating arriving at once on another server.
const (
	colSignals       = "rating_signals"
	colHolds         = "rating_holds"
	colHoldDecisions = "rating_hold_decisions"
)

type signalDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

type holdDecisionDoc struct {
	ID     string    `bson:"_id"` // the held version's id
	Period string    `bson:"period"`
	Out    string    `bson:"outcome"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
	Reason string    `bson:"reason,omitempty"`
}

// SetStuffingRules sets the thresholds of ballot-stuffing detection for this process's rating
// writer; zero rules (the default of a DB) hold nothing. Every server should use the same.
func (db *DB) SetStuffingRules(r rating.StuffingRules) { db.stuffing = r }

// signal is one signal of one submission: its key and, once claimed, its count.
type signal struct {
	rating.Signal
	key   string // kind|value|window
	count int    // the submission's ordinal in key
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// signalsOf lists the signals of a submission under rules; tallies are its period's counted
// tallies by estate (possibly a little old), for the estate's history and mean.
func signalsOf(r *submitRequest, rules rating.StuffingRules, tallies tallyHint) []signal {
	if rules.Off() {
		return nil
	}
	d := r.doc
	window := d.SubmittedAt.UnixNano() / int64(rules.Window)
	since := time.Unix(0, window*int64(rules.Window)).UTC()
	var out []signal
	add := func(kind, value string, threshold int) {
		if threshold <= 0 {
			return
		}
		out = append(out, signal{Signal: rating.Signal{Kind: kind, Value: value, Threshold: threshold, Since: since},
			key: kind + "|" + value + "|" + strconv.FormatInt(window, 10)})
	}
	if d.IPHash != "" {
		add(rating.SignalAddress, shortHash("a|"+d.IPHash), rules.Address)
		if d.UserAgentHash != "" {
			add(rating.SignalDevice, shortHash("d|"+d.IPHash+"|"+d.UserAgentHash), rules.Device)
		}
	}
	if c := strings.ToLower(strings.Join(strings.Fields(d.Comment), "")); rules.CommentMinRunes > 0 && utf8.RuneCountInString(c) >= rules.CommentMinRunes {
		add(rating.SignalComment, shortHash("c|"+c), rules.Comment)
	}
	marks := d.Scores.Array()
	vector := make([]string, len(marks))
	sum := 0
	for i, m := range marks {
		vector[i] = strconv.Itoa(m)
		sum += m
	}
	add(rating.SignalVector, d.Estate+":"+strings.Join(vector, ","), rules.Vector)
	t := tallies.by[d.Estate]
	estate := rules.EstateMin
	if !tallies.start.IsZero() && d.SubmittedAt.After(tallies.start) {
		windows := float64(d.SubmittedAt.Sub(tallies.start)) / float64(rules.Window)
		estate = max(estate, int(math.Ceil(rules.EstateFactor*float64(t.Ratings)/max(windows, 1))))
	}
	add(rating.SignalEstate, d.Estate, estate)
	if t.Ratings >= rules.OutlierFrom && t.Ratings > 0 && rules.OutlierGap > 0 {
		s := t.Sums
		estateMean := float64(s.Service+s.Security+s.Cleaning+s.Greening+s.Maintenance+s.Transparency) / float64(6*t.Ratings)
		if math.Abs(float64(sum)/float64(len(marks))-estateMean) >= rules.OutlierGap {
			add(rating.SignalOutlier, d.Estate, rules.Outlier)
		}
	}
	return out
}

// periodTallies returns a period's tallies by estate and its start, read at most every 30 s
// (a hint for the signals, read from the database that every server shares).
func (w *ratingWriter) periodTallies(ctx context.Context, period string) tallyHint {
	c, ok := w.tallies[period]
	if ok && time.Since(c.at) < 30*time.Second {
		return c
	}
	if c.start.IsZero() {
		if p, err := w.db.Period(ctx, period); err == nil {
			c.start, _ = time.ParseInLocation(domain.DateLayout, p.Start, domain.Zone)
		}
	}
	ts, err := w.db.Tallies(ctx, period)
	if err != nil {
		w.db.log.Warn("read tallies for stuffing signals", "period", period, "err", err)
		return c
	}
	c.by = make(map[string]Tally, len(ts))
	for _, t := range ts {
		c.by[t.Estate] = t
	}
	c.at = time.Now()
	w.tallies[period] = c
	return c
}

// tallyHint is a period's tallies as read at, and the period's first day.
type tallyHint struct {
	at    time.Time
	start time.Time
	by    map[string]Tally
}

// detect counts the signals of a group's submissions and marks those to hold (doc.Held, with
// their evidence in signals). It claims the ordinals of the whole group with one insert.
func (w *ratingWriter) detect(ctx context.Context, period string, reqs []*submitRequest) error {
	rules := w.db.stuffing
	if rules.Off() || len(reqs) == 0 {
		return nil
	}
	tallies := w.periodTallies(ctx, period)
	now := time.Now()
	sigs := make([][]signal, len(reqs))
	type member struct{ req, sig int }
	pending := map[string][]member{}
	var keys []string
	for i, r := range reqs {
		sigs[i] = signalsOf(r, rules, tallies)
		for j, s := range sigs[i] {
			if pending[s.key] == nil {
				keys = append(keys, s.key)
			}
			pending[s.key] = append(pending[s.key], member{i, j})
		}
	}
	for round := 0; len(pending) > 0; round++ {
		if round == 8 {
			return fmt.Errorf("count rating signals: ordinals keep being taken")
		}
		var ords []any
		type slot struct {
			m   member
			key string
			ord int
		}
		var slots []slot
		for _, k := range keys {
			for n, m := range pending[k] {
				ord := w.signalHint[k] + 1 + n
				ords = append(ords, signalDoc{ID: "n|" + k + "|" + strconv.Itoa(ord), At: now})
				slots = append(slots, slot{m, k, ord})
			}
		}
		refused, err := w.db.insertApart(ctx, colSignals, ords, func(i int) bool {
			return now.Sub(w.contended[slots[i].key]) < contendedFor
		})
		if err != nil {
			return fmt.Errorf("count rating signals: %w", err)
		}
		taken := map[int]bool{}
		for _, i := range refused {
			taken[i] = true
			w.contended[slots[i].key] = now
		}
		next := map[string][]member{}
		var nextKeys []string
		for i, sl := range slots {
			s := &sigs[sl.m.req][sl.m.sig]
			w.signalHint[s.key] = max(w.signalHint[s.key], sl.ord)
			if !taken[i] {
				s.count = sl.ord
				continue
			}
			if next[s.key] == nil {
				nextKeys = append(nextKeys, s.key)
			}
			next[s.key] = append(next[s.key], sl.m)
		}
		// Another server (or this one before a restart) counted in these keys. Every ordinal
		// tried is taken now, by this group or by the other, so the first retry claims right
		// after them (usually the other took only a few: no look-up needed); a later one finds
		// how far the others went, with look-ups by _id, and claims after that.
		if round > 0 {
			tops := make([]int, len(nextKeys))
			if err := parallel(len(nextKeys), func(i int) error {
				var err error
				tops[i], err = w.db.highestOrdinal(ctx, nextKeys[i], w.signalHint[nextKeys[i]])
				return err
			}); err != nil {
				return err
			}
			for i, k := range nextKeys {
				w.signalHint[k] = tops[i]
			}
		}
		pending, keys = next, nextKeys
	}
	for i, r := range reqs {
		r.signals = nil
		for _, s := range sigs[i] {
			if s.count > s.Threshold {
				ev := s.Signal
				ev.Count = s.count
				r.signals = append(r.signals, ev)
			}
		}
		r.doc.Held = len(r.signals) > 0
	}
	if len(w.signalHint) > 100_000 { // forget old windows' hints; they are only hints
		w.signalHint = map[string]int{}
		w.contended = map[string]time.Time{}
	}
	return nil
}

// contendedFor is how long a signal key stays contended after another server took an ordinal
// this one tried in it: its slots go in an insert of their own (insertApart).
const contendedFor = time.Minute

// insertApart inserts docs as insertMany does, those for which apart is true in an insert of
// their own, beside the others: when one document of an insert is refused, FerretDB v1.24
// inserts all of them again one at a time, each in its own transaction, so the documents likely
// to be refused must not take the others with them. It returns the refused indexes of docs.
func (db *DB) insertApart(ctx context.Context, col string, docs []any, apart func(i int) bool) ([]int, error) {
	var parts [2][]int // indexes of docs: the others, then those apart
	for i := range docs {
		p := 0
		if apart(i) {
			p = 1
		}
		parts[p] = append(parts[p], i)
	}
	var refused [2][]int
	err := parallel(2, func(p int) error {
		if len(parts[p]) == 0 {
			return nil
		}
		batch := make([]any, len(parts[p]))
		for j, i := range parts[p] {
			batch[j] = docs[i]
		}
		dups, err := db.insertMany(ctx, col, batch)
		for _, j := range dups {
			refused[p] = append(refused[p], parts[p][j])
		}
		return err
	})
	return append(refused[0], refused[1]...), err
}

// highestOrdinal finds the highest ordinal claimed in a signal key, from one known to exist
// (or 0), with look-ups by _id. Ordinals have no gaps (see detect).
func (db *DB) highestOrdinal(ctx context.Context, key string, from int) (int, error) {
	missing, err := firstMissing(int64(from)+1, func(n int64) (bool, error) {
		return exists(ctx, db.c(colSignals), "n|"+key+"|"+strconv.FormatInt(n, 10))
	})
	return int(missing) - 1, err
}

// holdOf is the hold of a held submission.
func holdOf(r *submitRequest) rating.Hold {
	d := r.doc
	return rating.Hold{Version: d.ID, Key: d.Key, Period: d.Period, Estate: d.Estate, Household: d.Household, Revision: d.Revision,
		Receipt: r.number, At: d.SubmittedAt, Scores: d.Scores.Array(), Comment: d.Comment, Signals: r.signals}
}

// insertHolds puts the held submissions of a group in the reviewers' queue, before their
// versions are stored (a hold whose version never came is not listed; see Holds).
func (db *DB) insertHolds(ctx context.Context, reqs []*submitRequest) error {
	var docs []any
	for _, r := range reqs {
		if r.doc.Held {
			docs = append(docs, holdOf(r))
		}
	}
	if len(docs) == 0 {
		return nil
	}
	if _, err := db.insertMany(ctx, colHolds, docs); err != nil { // refused: the same version again
		return fmt.Errorf("store held ratings: %w", err)
	}
	return nil
}

// dropHold takes out of the queue the hold of a version that went away or moved (withdrawn,
// or stored again at another revision): only its own, by receipt, never another's of that _id.
func (db *DB) dropHold(ctx context.Context, version, receipt string) error {
	if _, err := db.c(colHolds).DeleteOne(ctx, bson.D{{Key: "_id", Value: version}, {Key: "receipt", Value: receipt}}); err != nil {
		return fmt.Errorf("drop hold %s: %w", version, err)
	}
	return nil
}

// holdState tells what became of a held version: rating.HoldHeld while undecided, else the
// outcome; superseded says whether a later revision counts instead.
func (db *DB) holdState(ctx context.Context, d ratingDoc) (state string, superseded bool, err error) {
	var dec holdDecisionDoc
	err = db.c(colHoldDecisions).FindOne(ctx, byID(d.ID)).Decode(&dec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		later, err := exists(ctx, db.c(colRatings), versionID(d.Key, d.Revision+1))
		return rating.HoldHeld, later, err
	}
	if err != nil {
		return "", false, fmt.Errorf("read hold decision: %w", err)
	}
	if dec.Out != rating.HoldReleased {
		return dec.Out, false, nil
	}
	applied, later, err := db.releaseApplied(ctx, d)
	switch {
	case err != nil:
		return "", false, err
	case !applied && later:
		return rating.HoldSuperseded, true, nil
	case !applied: // a release that stopped half-way: still held until it is finished
		return rating.HoldHeld, false, nil
	}
	later, err = exists(ctx, db.c(colRatings), versionID(d.Key, d.Revision+2))
	return rating.HoldReleased, later, err
}

// releaseApplied tells whether the release of held version d was stored (the next revision
// is its copy), and whether a next revision exists at all.
func (db *DB) releaseApplied(ctx context.Context, d ratingDoc) (applied, next bool, err error) {
	var v ratingDoc
	err = db.c(colRatings).FindOne(ctx, byID(versionID(d.Key, d.Revision+1)), optsOneExclude("ip_hash", "ua_hash")).Decode(&v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read rating %s: %w", d.Key, err)
	}
	return v.Released == d.ID, true, nil
}

// Holds lists a period's held ratings, pending and decided, oldest first. It reads the holds
// and decisions of the period (small collections) and each held version by _id.
func (db *DB) Holds(ctx context.Context, period string) ([]rating.Hold, error) {
	holds, err := findAll[rating.Hold](ctx, db.c(colHolds), bson.D{{Key: "period", Value: period}})
	if err != nil {
		return nil, err
	}
	decs, err := findAll[holdDecisionDoc](ctx, db.c(colHoldDecisions), bson.D{{Key: "period", Value: period}})
	if err != nil {
		return nil, err
	}
	byID := map[string]holdDecisionDoc{}
	for _, d := range decs {
		byID[d.ID] = d
	}
	out := holds[:0]
	for _, h := range holds {
		v, ok, err := db.heldVersion(ctx, h)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // its group failed before storing it
		}
		if d, ok := byID[h.Version]; ok {
			h.Outcome, h.DecidedBy, h.DecidedAt, h.Reason = d.Out, d.By, d.At, d.Reason
			if d.Out == rating.HoldReleased {
				applied, later, err := db.releaseApplied(ctx, v)
				switch {
				case err != nil:
					return nil, err
				case !applied && later:
					h.Outcome = rating.HoldSuperseded
				case !applied: // stopped half-way: back in the queue, releasing it again finishes it
					h.Outcome = rating.HoldPending
				}
			}
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

// heldVersion reads the version a hold names, if it is stored and held under the hold's
// receipt, and its group did not fail.
func (db *DB) heldVersion(ctx context.Context, h rating.Hold) (ratingDoc, bool, error) {
	var v ratingDoc // whole: a release stores it again, with its evidence hashes
	err := db.c(colRatings).FindOne(ctx, byID(h.Version)).Decode(&v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("read rating %s: %w", h.Version, err)
	}
	if !v.Held || v.Receipt != h.Receipt {
		return v, false, nil
	}
	// As for a receipt (receiptVersion): a version whose group failed, and whose owner was told
	// so, is being withdrawn; it is no hold to decide.
	aborted, err := exists(ctx, db.c(colTallyJournal), abortID(v.Journal))
	return v, !aborted, err
}

// DecideHold records a reviewer's decision on a held version, once; a release makes the
// version count from now on (see the top of this file).
func (db *DB) DecideHold(ctx context.Context, d rating.HoldDecision) (rating.Hold, error) {
	var h rating.Hold
	err := db.c(colHolds).FindOne(ctx, byID(d.Version)).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return h, rating.ErrHoldUnknown
	}
	if err != nil {
		return h, fmt.Errorf("read hold: %w", err)
	}
	v, ok, err := db.heldVersion(ctx, h)
	if err != nil {
		return h, err
	}
	if !ok {
		return h, rating.ErrHoldUnknown
	}
	dec := holdDecisionDoc{ID: h.Version, Period: h.Period, Out: d.Outcome, By: d.By, At: d.At.UTC(), Reason: d.Reason}
	if _, err := db.c(colHoldDecisions).InsertOne(ctx, dec); err != nil {
		if !mongo.IsDuplicateKeyError(err) {
			return h, fmt.Errorf("store hold decision: %w", err)
		}
		// Decided before: only a release whose version a crash kept from being stored may
		// be finished, by the same decision.
		var earlier holdDecisionDoc
		if err := db.c(colHoldDecisions).FindOne(ctx, byID(h.Version)).Decode(&earlier); err != nil {
			return h, fmt.Errorf("read hold decision: %w", err)
		}
		applied, _, err := db.releaseApplied(ctx, v)
		if err != nil {
			return h, err
		}
		if earlier.Out != rating.HoldReleased || d.Outcome != rating.HoldReleased || applied {
			return h, rating.ErrHoldDecided
		}
		dec = earlier
	}
	h.Outcome, h.DecidedBy, h.DecidedAt, h.Reason = dec.Out, dec.By, dec.At, dec.Reason
	if dec.Out != rating.HoldReleased {
		return h, nil
	}
	released, err := db.releaseHeld(ctx, v)
	if err != nil {
		return h, err
	}
	if !released {
		h.Outcome = rating.HoldSuperseded
	}
	return h, nil
}

// releaseHeld stores held version v again as its household's next revision, counted, unless a
// later revision exists (false).
func (db *DB) releaseHeld(ctx context.Context, v ratingDoc) (bool, error) {
	if db.ratingWriter != nil {
		db.ratingWriter.dropHead(v.Key) // this process's writer reads the new head
	}
	h, err := db.readHead(ctx, v.Key)
	if err != nil {
		return false, err
	}
	if h.revision != v.Revision {
		return false, nil
	}
	journal, err := db.beginJournal(ctx, v.Period)
	if err != nil {
		return false, err
	}
	copy := v
	copy.Revision = v.Revision + 1
	copy.ID = versionID(v.Key, copy.Revision)
	copy.Held, copy.Released, copy.Journal = false, v.ID, journal
	delta := tallyDelta{}
	_, err = db.c(colRatings).InsertOne(ctx, copy)
	switch {
	case mongo.IsDuplicateKeyError(err): // the household rated again this moment: it counts
		return false, db.endJournal(ctx, journal, v.Period, delta)
	case err != nil:
		return false, fmt.Errorf("release rating %s: %w", v.ID, err) // the intent is recovered
	}
	if p := h.rating; p.ID != "" {
		delta.add(p.Period, p.Estate, p.Scores, -1)
	}
	delta.add(copy.Period, copy.Estate, copy.Scores, 1)
	return true, db.endJournal(ctx, journal, v.Period, delta)
}
