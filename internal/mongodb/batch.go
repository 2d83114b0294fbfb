package mongodb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/rating"
)

// The rating writer commits owners' submissions in groups.
//
// On the embedded engine every commit is an fsync of SQLite's log: measured, one writer
// manages about 585 InsertOne a second and sixteen only about 300, as they queue on SQLite's
// write lock. A rating needs a receipt, a version and a tally change, so one commit per write
// would cap the city at a few hundred ratings a second. The writer instead takes every
// submission waiting at that moment and stores the whole group with three commits however many
// owners wait: the receipts (claimed first, see commitPeriod), the versions, and the journal
// entry together with the intent of the next group's journal (journal.go; a group that finds
// no fresh intent inserts one first). Owners get their receipts only after all of them.
//
// Nothing here is needed for correctness between processes: the head cache is a hint that the
// unique _id of each version checks, and the tallies live in the journal, not in memory.
type ratingWriter struct {
	db   *DB
	reqs chan *submitRequest
	stop chan struct{}
	done chan struct{}

	// heads caches each household's highest revision and counted version; a household it
	// lacks is taken to have none (guessHeads). It may be stale when another process writes
	// the same household: the unique _id then refuses the insert and the writer stores the
	// version after the others' (placeTaken).
	heads   map[string]head
	headsMu sync.RWMutex

	// intent is a journal whose intent the previous group inserted with its entry, for the
	// next group of the same period; used only while younger than intentFresh, so that it is
	// never one that recovery (after journalGrace) may take for a dead writer's.
	intent struct {
		id, period string
		at         time.Time
	}
	// unsettled are the journals of failed groups whose versions could not be withdrawn yet
	// (see withdraw). commitMu keeps one group or retry at a time: only the writer goroutine
	// commits, but tests commit a chosen group from theirs (CommitGroup).
	unsettled []failedGroup
	commitMu  sync.Mutex

	// signalHint is the highest ordinal seen per signal key and tallies the periods' tallies
	// read lately (holds.go): hints only; the unique _ids of the signal slots decide.
	signalHint map[string]int
	contended  map[string]time.Time // signal keys another server counted in lately
	tallies    map[string]tallyHint

	// written are the periods this writer committed to since its last compaction.
	written   map[string]bool
	writtenMu sync.Mutex
}

const intentFresh = 20 * time.Second

// head is a household's highest revision and its counted version (rating; zero if none
// counts), which differ when the newest versions are held for review (holds.go).
type head struct {
	revision int
	rating   ratingDoc
}

type submitRequest struct {
	sub      rating.Submission
	doc      ratingDoc
	number   string
	previous *ratingDoc      // the version doc replaces as the counted one, if any
	claimed  int             // the revision its receipt claim names
	takeover bool            // its receipt was claimed by a writer that died; rewrite it
	signals  []rating.Signal // why it is held (doc.Held), see holds.go
	result   chan submitResult
}

type submitResult struct {
	receipt rating.Receipt
	err     error
}

const (
	maxBatch          = 512
	tallyCompactEvery = 5 * time.Second
	fullCompactEvery  = 12              // rounds of compaction: every minute, every period (see compact)
	settleRetry       = 2 * time.Second // how often a failed group's withdrawal is tried again
)

func (db *DB) writer() *ratingWriter {
	db.writerOnce.Do(func() {
		w := &ratingWriter{db: db, reqs: make(chan *submitRequest, maxBatch), stop: make(chan struct{}),
			done: make(chan struct{}), heads: map[string]head{},
			signalHint: map[string]int{}, contended: map[string]time.Time{}, tallies: map[string]tallyHint{},
			written: map[string]bool{}}
		db.ratingWriter = w
		go w.run()
	})
	return db.ratingWriter
}

func (w *ratingWriter) run() {
	defer close(w.done)
	compacted := make(chan struct{})
	// Compaction keeps the journal short; it is off the commit path.
	round := 0
	go every(tallyCompactEvery, w.stop, compacted, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		round++
		if err := w.compact(ctx, round%fullCompactEvery == 0); err != nil {
			w.db.log.Error("compact rating tallies", "err", err)
		}
	})
	defer func() { <-compacted }()
	retry := time.NewTicker(settleRetry)
	defer retry.Stop()
	for {
		select {
		case <-retry.C:
			w.commitMu.Lock()
			w.settleFailed()
			w.commitMu.Unlock()
		case first := <-w.reqs:
			batch := []*submitRequest{first}
		gather:
			for len(batch) < maxBatch {
				select {
				case r := <-w.reqs:
					batch = append(batch, r)
				default:
					break gather
				}
			}
			w.commit(batch)
		case <-w.stop:
			return
		}
	}
}

// compact folds the journal of the periods this writer wrote to since its last round, or with
// all, of every period with journal documents (a scan of the journal; what another server left,
// say one that died, is recovered by then). Each round reads a period's journal once and
// deletes what the last base folded; a full scan every round would cost more than the rest.
func (w *ratingWriter) compact(ctx context.Context, all bool) error {
	if all {
		return w.db.CompactTallies(ctx)
	}
	w.writtenMu.Lock()
	periods := slices.Sorted(maps.Keys(w.written))
	clear(w.written)
	w.writtenMu.Unlock()
	return w.db.compactPeriods(ctx, periods)
}

// commit stores a group of submissions and answers each, one journal per period.
func (w *ratingWriter) commit(batch []*submitRequest) {
	w.commitMu.Lock()
	defer w.commitMu.Unlock()
	// Failed groups' versions go first: a household's next revision must not follow one.
	w.settleFailed()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answers := map[*submitRequest]submitResult{}
	answer := func(r *submitRequest, rc rating.Receipt, err error) {
		answers[r] = submitResult{rc, err}
		r.result <- submitResult{rc, err}
	}

	// The same request repeated within the batch waits for the first one's answer.
	var repeats []*submitRequest
	first := map[string]*submitRequest{}
	byPeriod := map[string][]*submitRequest{}
	var periods []string
	for _, r := range batch {
		if f, dup := first[r.number]; dup && r.sub.IdempotencyKey != "" && f.doc.Key == r.doc.Key {
			if f.sub.Fingerprint() != r.sub.Fingerprint() {
				answer(r, rating.Receipt{}, rating.ErrKeyReused)
			} else {
				repeats = append(repeats, r)
			}
			continue
		}
		first[r.number] = r
		p := r.doc.Period
		if byPeriod[p] == nil {
			periods = append(periods, p)
		}
		byPeriod[p] = append(byPeriod[p], r)
	}
	w.writtenMu.Lock()
	for _, p := range periods {
		w.written[p] = true
	}
	w.writtenMu.Unlock()
	for _, p := range periods {
		w.commitPeriod(ctx, p, byPeriod[p], answer)
	}
	for _, r := range repeats {
		if res, ok := answers[first[r.number]]; ok {
			r.result <- res
		} else { // the first is itself a repeat of a request in flight elsewhere
			go w.answerRepeat(r, r.number)
		}
	}
}

// commitPeriod stores the submissions of one period. The order of the writes is what keeps
// the data right without transactions and with any number of writers:
//  1. the receipts, as claims: a receipt's number derives from the household and the
//     idempotency key, so its unique _id catches a request stored before, by this process or
//     another, before it writes anything (a repeat must not leave a version behind);
//  2. the journal intent, so that a crash after 3 is recovered (journal.go); usually the
//     previous group inserted it with its entry;
//  3. the versions, under the unique _id key|revision: from here on each counts, as its
//     household's highest revision;
//  4. the journal entry with the tally changes; then the answers.
//
// A claim whose version is missing (a crash between 1 and 3) is not a receipt: ReceiptByNumber
// says so, and the same request submitted again after journalGrace takes the claim over.
func (w *ratingWriter) commitPeriod(ctx context.Context, period string, todo []*submitRequest, answer func(*submitRequest, rating.Receipt, error)) {
	fail := func(reqs []*submitRequest, err error) {
		if derrors.Code(err) == derrors.Internal {
			// A store that takes no writes (a full disk, a lost primary): the owner is told to
			// try again later (503), not that the server broke.
			err = &derrors.Error{Code: derrors.Unavailable, Message: "the rating could not be stored: " + err.Error()}
		}
		var claims []string
		for _, r := range reqs {
			w.dropHead(r.doc.Key)
			if r.claimed > 0 && !r.takeover {
				claims = append(claims, r.number)
			}
			answer(r, rating.Receipt{}, err)
		}
		// Unanswered, the owner may submit again at once: free the claims. Should a version
		// be stored after all, the household still counts once.
		if len(claims) > 0 {
			if err := w.db.deleteIDs(context.Background(), colReceipts, claims); err != nil {
				w.db.log.Error("free receipt claims", "err", err)
			}
		}
	}
	guessed := w.guessHeads(todo)
	defer func() { // a guess that no stored version confirmed is forgotten (a repeat, a failure)
		for k := range guessed {
			if w.head(k).revision == 0 {
				w.dropHead(k)
			}
		}
	}()
	saved := map[string]head{}
	for _, r := range todo {
		if _, ok := saved[r.doc.Key]; !ok {
			saved[r.doc.Key] = w.head(r.doc.Key)
		}
	}
	// Give each submission the next revision of its household, in arrival order.
	assign := func(reqs []*submitRequest) []*submitRequest {
		for k, h := range saved {
			w.setHead(k, h)
		}
		var out []*submitRequest
		for _, r := range reqs {
			h := w.head(r.doc.Key)
			if h.revision >= maxRevisions {
				answer(r, rating.Receipt{}, errTooManyRevisions(r.doc.Key))
				continue
			}
			r.previous = nil
			if h.rating.ID != "" {
				old := h.rating
				r.previous = &old
			}
			r.doc.Revision = h.revision + 1
			r.doc.ID = versionID(r.doc.Key, r.doc.Revision)
			w.setHead(r.doc.Key, head{revision: r.doc.Revision, rating: r.doc})
			out = append(out, r)
		}
		return out
	}
	stored := assign(todo)
	claimed, err := w.claimReceipts(ctx, stored, answer)
	if err != nil {
		fail(stored, err)
		return
	}
	if len(claimed) < len(stored) { // repeats left: revisions move up to close the gap
		stored = assign(claimed)
	}
	if len(stored) == 0 {
		return
	}
	// Ballot-stuffing signals: a held version is stored, but counts for nothing, and the
	// household's counted version stays the one before it.
	if err := w.detect(ctx, period, stored); err != nil {
		fail(stored, err)
		return
	}
	if err := w.db.insertHolds(ctx, stored); err != nil {
		fail(stored, err)
		return
	}
	w.recount(stored, saved)

	journal := w.intent.id
	if journal == "" || w.intent.period != period || time.Since(w.intent.at) > intentFresh {
		if journal, err = w.db.beginJournal(ctx, period); err != nil {
			fail(stored, err)
			return
		}
	}
	w.intent.id = ""
	// A household's first version in the group goes in now, its later ones after it: should
	// the first be refused, they must all still follow each other in arrival order.
	var (
		docs   []any
		firsts []*submitRequest
		tried  = map[string]int{} // the highest revision tried per household
	)
	for _, r := range stored {
		r.doc.Journal = journal
		if _, later := tried[r.doc.Key]; !later {
			tried[r.doc.Key] = r.doc.Revision
			firsts, docs = append(firsts, r), append(docs, r.doc)
		}
	}
	refused, err := w.db.insertMany(ctx, colRatings, docs)
	if err != nil {
		w.withdraw(journal, period, stored) // some may have gone in
		fail(stored, err)
		return
	}
	if len(firsts) < len(stored) || len(refused) > 0 {
		// Another process took some of these revisions, or a household not seen before had
		// versions: those go in after them. Should that fail, their versions may be stored
		// already, under this group's journal: the whole group is withdrawn, as when its
		// entry fails, so that nothing counts whose owner is told it failed. (The delete
		// names the journal, so another server's version under the same _id stays.)
		in := map[*submitRequest]bool{}
		for i, r := range firsts {
			in[r] = !slices.Contains(refused, i)
		}
		var pending []*submitRequest
		var unknown []string // guessed heads that were wrong
		for _, r := range stored {
			if !in[r] {
				pending = append(pending, r)
			}
			if ok, first := in[r]; first && !ok && guessed[r.doc.Key] {
				unknown = append(unknown, r.doc.Key)
			}
		}
		tooOften, err := w.placeTaken(ctx, stored, pending, tried, unknown)
		if err != nil {
			w.withdraw(journal, period, stored)
			fail(stored, err)
			return
		}
		for _, r := range tooOften { // nothing stored
			answer(r, rating.Receipt{}, errTooManyRevisions(r.doc.Key))
		}
		stored = slices.DeleteFunc(stored, func(r *submitRequest) bool { return slices.Contains(tooOften, r) })
	}
	delta := tallyDelta{}
	for _, r := range stored {
		r.countIn(delta, 1)
	}
	began := time.Now()
	var next string
	if fail := w.db.failEntry.Load(); fail != nil {
		err = *fail
	}
	if err == nil {
		next, err = w.db.endJournalAndBegin(ctx, journal, period, delta, true)
	}
	if err != nil {
		w.withdraw(journal, period, stored)
		fail(stored, err)
		return
	}
	w.intent.id, w.intent.period, w.intent.at = next, period, began
	for _, r := range stored {
		rc := receiptOf(r)
		if r.claimed != r.doc.Revision || r.takeover {
			if err := w.db.rewriteReceipt(ctx, rc); err != nil {
				answer(r, rating.Receipt{}, err)
				continue
			}
		}
		answer(r, answerOf(r), nil)
	}
}

// withdraw takes back the versions of a group that failed after they went in, or may have,
// before its owners are told that it failed (journal.go: abortJournal). What it cannot do now
// (the disk is still full) the writer tries again before its next group, so that an owner who
// sends the same form again gets the same revision; recovery does it otherwise.
func (w *ratingWriter) withdraw(journal, period string, reqs []*submitRequest) {
	g := failedGroup{in: journalDoc{ID: intentID(journal), Kind: "intent", Journal: journal, Period: period}}
	for _, r := range reqs {
		g.versions = append(g.versions, r.doc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !w.settle(ctx, g) {
		w.unsettled = append(w.unsettled, g)
	}
}

// failedGroup is a group that failed after its versions went in, or may have: its journal, and
// the versions it tried to store, so that it needs not look for them.
type failedGroup struct {
	in       journalDoc
	versions []ratingDoc
}

// settleFailed tries again to settle the journals of failed groups (see withdraw), oldest
// first: before a group, whose heads, read before, may be those versions (they are read
// again), and every few seconds while the writer is idle. The first that fails ends the try
// (the store still takes no writes), so that owners wait for one timeout, not one a group.
func (w *ratingWriter) settleFailed() {
	if len(w.unsettled) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	settled := 0
	for _, g := range w.unsettled {
		if !w.settle(ctx, g) {
			break
		}
		settled++
	}
	if settled > 0 {
		w.unsettled = w.unsettled[settled:]
		w.headsMu.Lock()
		clear(w.heads)
		w.headsMu.Unlock()
	}
}

// settle settles a failed group's journal, and logs what it did.
func (w *ratingWriter) settle(ctx context.Context, g failedGroup) bool {
	in := g.in
	repaired, withdrawn, err := w.db.abortJournal(ctx, in, g.versions)
	if err != nil {
		w.db.log.Error("withdraw the versions of a failed rating group: will try again", "journal", in.Journal, "err", err)
		return false
	}
	if repaired >= 0 {
		w.db.log.Warn("withdrew the versions of a failed rating group, whose owners were told to send again",
			"journal", in.Journal, "period", in.Period, "withdrawn", withdrawn, "kept", repaired)
	}
	return true
}

// recount gives each submission of a group, in arrival order, the version it replaces as the
// counted one, now that some may be held (saved: the heads before the group), and leaves the
// heads' cache with each household's counted version.
func (w *ratingWriter) recount(stored []*submitRequest, saved map[string]head) {
	counted := map[string]ratingDoc{}
	seen := map[string]bool{}
	for _, r := range stored {
		k := r.doc.Key
		if !seen[k] {
			seen[k] = true
			counted[k] = saved[k].rating
		}
		r.previous = nil
		if c := counted[k]; c.ID != "" {
			r.previous = &c
		}
		if !r.doc.Held {
			counted[k] = r.doc
		}
		w.setHead(k, head{revision: r.doc.Revision, rating: counted[k]})
	}
}

// countIn adds the change that r's version makes to the tallies to delta, times sign. A held
// version changes nothing.
func (r *submitRequest) countIn(delta tallyDelta, sign int64) {
	if r.doc.Held {
		return
	}
	if p := r.previous; p != nil {
		delta.add(p.Period, p.Estate, p.Scores, -sign)
	}
	delta.add(r.doc.Period, r.doc.Estate, r.doc.Scores, sign)
}

func receiptOf(r *submitRequest) rating.Receipt {
	return rating.Receipt{Number: r.number, Key: r.doc.Key, Period: r.doc.Period, Estate: r.doc.Estate, Revision: r.doc.Revision, At: r.doc.SubmittedAt}
}

// answerOf is the receipt a submission is answered with: held ones say so.
func answerOf(r *submitRequest) rating.Receipt {
	rc := receiptOf(r)
	if r.doc.Held {
		rc.Hold = rating.HoldHeld
	}
	return rc
}

// claimReceipts inserts the receipts of reqs before anything else is written and returns the
// requests that may go on. A number that exists already is a request stored or being stored
// before (the number derives from the household and the idempotency key): it is answered with
// that receipt and writes nothing. A number that exists for another household, which only
// random numbers can do, is drawn again.
func (w *ratingWriter) claimReceipts(ctx context.Context, reqs []*submitRequest, answer func(*submitRequest, rating.Receipt, error)) ([]*submitRequest, error) {
	pending := slices.Clone(reqs)
	repeat := map[*submitRequest]bool{}
	for tries := 0; len(pending) > 0; tries++ {
		if tries == 3 {
			return nil, fmt.Errorf("store receipts: numbers keep colliding")
		}
		docs := make([]any, len(pending))
		for i, r := range pending {
			docs[i] = receiptDoc{Receipt: receiptOf(r), Server: w.db.serverID, Payload: r.sub.Fingerprint()}
		}
		refused, err := w.db.insertMany(ctx, colReceipts, docs)
		if err != nil { // which claims went in is unknown: none is freed on failure
			return nil, fmt.Errorf("store receipts: %w", err)
		}
		isRefused := map[int]bool{}
		for _, i := range refused {
			isRefused[i] = true
		}
		for i, r := range pending {
			if !isRefused[i] {
				r.claimed = r.doc.Revision // ours: freed if the group fails
			}
		}
		var again []*submitRequest
		for _, i := range refused {
			r := pending[i]
			var stored receiptDoc
			if err := w.db.c(colReceipts).FindOne(ctx, byID(r.number)).Decode(&stored); err != nil {
				return nil, fmt.Errorf("read receipt: %w", err)
			}
			earlier := stored.Receipt
			if earlier.Key != r.doc.Key || r.sub.IdempotencyKey == "" {
				r.number = receiptNumber(r.doc.Key, "")
				r.doc.Receipt = r.number
				again = append(again, r)
				continue
			}
			repeat[r] = true
			if stored.Payload != "" && stored.Payload != r.sub.Fingerprint() {
				answer(r, rating.Receipt{}, rating.ErrKeyReused) // the same key with other marks
				continue
			}
			err := w.db.receiptState(ctx, &earlier)
			holds := err == nil
			if err != nil && derrors.Code(err) != derrors.NotFound {
				return nil, err
			}
			switch {
			case holds:
				earlier.Superseded = false
				answer(r, earlier, nil)
			case stored.Server == w.db.serverID || w.db.claimAbandoned(ctx, stored):
				// Its writer died before storing the version, or it was this process, whose
				// one writer is done with every earlier group (a group that failed, say on a
				// full disk, and could not free its claim): this request takes over.
				delete(repeat, r)
				r.takeover = true
			default: // another writer is storing it now
				answer(r, rating.Receipt{}, rating.ErrKeyInFlight)
			}
		}
		pending = again
	}
	return slices.DeleteFunc(slices.Clone(reqs), func(r *submitRequest) bool { return repeat[r] }), nil
}

// receiptDoc is a receipt as stored: with the server that claimed it (see commitPeriod), so
// that a repeat of the request may take the claim over once that server is gone.
type receiptDoc struct {
	rating.Receipt `bson:",inline"`
	Server         string `bson:"server,omitempty"`
	// Payload is the submission's rating.Submission.Fingerprint: a repeat of the idempotency
	// key with other marks is refused, not answered with this receipt.
	Payload string `bson:"payload,omitempty"`
}

// claimAbandoned tells whether the writer of a receipt claim whose version is missing is
// surely gone (see recoverable).
func (db *DB) claimAbandoned(ctx context.Context, rc receiptDoc) bool {
	ok, err := db.recoverable(ctx, journalDoc{Owner: rc.Server, At: rc.At})
	return err == nil && ok
}

// answerRepeat answers a request whose receipt was claimed before, once the claim's version is
// stored by the writer that claimed it (polled for a few seconds).
func (w *ratingWriter) answerRepeat(r *submitRequest, number string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		rc, err := w.db.ReceiptByNumber(ctx, number)
		if err == nil {
			rc.Superseded = false
			r.result <- submitResult{rc, nil}
			return
		}
		select {
		case <-ctx.Done():
			r.result <- submitResult{rating.Receipt{}, errBusy}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// guessHeads puts the households of reqs that the heads' cache lacks in it as never rated,
// which most households a rating reads are (one look-up each saved), and returns them: a guess
// that is wrong has its versions refused and placed again (placeTaken).
func (w *ratingWriter) guessHeads(reqs []*submitRequest) map[string]bool {
	guessed := map[string]bool{}
	w.headsMu.Lock()
	defer w.headsMu.Unlock()
	for _, r := range reqs {
		if _, ok := w.heads[r.doc.Key]; !ok {
			w.heads[r.doc.Key] = head{}
			guessed[r.doc.Key] = true
		}
	}
	return guessed
}

// placeTaken stores the versions of a group that did not go in with the first insert: those
// refused because their revision was taken (by another process, or by a version that a head
// guessed as never rated did not know of), and the later versions of a household in the group.
// Each household's go, in arrival order, after the highest revision the group tried for it
// (tried: all of them are taken now, by this group or by others) or, for a wrong guess, after
// the head read now; one insert a round, until all are in. Then it reads the version each one
// moved replaces (and that of each whose previous one moved), moves the holds of held ones to
// their revision, and leaves the heads' cache with each household's newest version. It returns
// the versions revised too often, which are not stored.
func (w *ratingWriter) placeTaken(ctx context.Context, stored, pending []*submitRequest, tried map[string]int, unknown []string) ([]*submitRequest, error) {
	heads, err := w.db.readHeads(ctx, unknown)
	if err != nil {
		return nil, err
	}
	for k, h := range heads {
		tried[k] = max(tried[k], h.revision)
	}
	firstID := map[*submitRequest]string{} // the revisions they were given first
	for _, r := range pending {
		firstID[r] = r.doc.ID
	}
	// One version of a household a round: were a later one stored while an earlier one was
	// refused, the earlier one would come after it.
	var tooOften []*submitRequest
	for len(pending) > 0 {
		var round, wait []*submitRequest
		var docs []any
		inRound := map[string]bool{}
		for _, r := range pending {
			rev := tried[r.doc.Key] + 1
			switch {
			case inRound[r.doc.Key]:
				wait = append(wait, r)
			case rev > maxRevisions:
				tooOften = append(tooOften, r)
			default:
				inRound[r.doc.Key] = true
				tried[r.doc.Key] = rev
				r.doc.Revision, r.doc.ID = rev, versionID(r.doc.Key, rev)
				round, docs = append(round, r), append(docs, r.doc)
			}
		}
		if len(docs) == 0 { // all revised too often
			break
		}
		again, err := w.db.insertMany(ctx, colRatings, docs)
		if err != nil {
			return nil, err
		}
		var refused []*submitRequest
		for _, i := range again {
			refused = append(refused, round[i])
		}
		pending = slices.DeleteFunc(slices.Clone(pending), func(r *submitRequest) bool {
			return !slices.Contains(refused, r) && !slices.Contains(wait, r)
		})
	}
	if fail := w.db.failTaken.Load(); fail != nil {
		return nil, *fail
	}
	moved := map[string]bool{}
	var held []*submitRequest // held versions whose hold must name the revision they got
	for r, id := range firstID {
		if r.doc.ID != id {
			moved[id] = true
			if r.doc.Held && !slices.Contains(tooOften, r) {
				held = append(held, r)
			}
		}
	}
	// The version each replaces, read now that the whole group is in.
	var reread []*submitRequest
	for _, r := range stored {
		if p := r.previous; moved[firstID[r]] || p != nil && moved[p.ID] {
			reread = append(reread, r)
		}
	}
	if err := parallel(len(reread), func(i int) error {
		p, err := w.db.previousVersion(ctx, reread[i].doc)
		reread[i].previous = p
		return err
	}); err != nil {
		return nil, err
	}
	if err := w.db.insertHolds(ctx, held); err != nil {
		return nil, err
	}
	for r, id := range firstID { // the holds named by the revisions they were given first
		if r.doc.Held && (moved[id] || slices.Contains(tooOften, r)) {
			if err := w.db.dropHold(ctx, id, r.number); err != nil {
				return nil, err
			}
		}
	}
	// The cache keeps each household's newest version of the group, or forgets the household.
	newest := map[string]*submitRequest{}
	for _, r := range stored {
		if n := newest[r.doc.Key]; !slices.Contains(tooOften, r) && (n == nil || r.doc.Revision > n.doc.Revision) {
			newest[r.doc.Key] = r
		}
	}
	for r := range firstID {
		n, ok := newest[r.doc.Key]
		if !ok {
			w.dropHead(r.doc.Key)
			continue
		}
		counted := n.doc
		if n.doc.Held {
			counted = ratingDoc{}
			if n.previous != nil {
				counted = *n.previous
			}
		}
		w.setHead(r.doc.Key, head{revision: n.doc.Revision, rating: counted})
	}
	return tooOften, nil
}

// readHeads reads the heads of households, several at a time.
func (db *DB) readHeads(ctx context.Context, keys []string) (map[string]head, error) {
	heads := make([]head, len(keys))
	err := parallel(len(keys), func(i int) error {
		var err error
		heads[i], err = db.readHead(ctx, keys[i])
		return err
	})
	out := make(map[string]head, len(keys))
	for i, k := range keys {
		out[k] = heads[i]
	}
	return out, err
}

// head is a household's head as cached. (A decision on a hold, in another goroutine, may drop it.)
func (w *ratingWriter) head(key string) head {
	w.headsMu.RLock()
	defer w.headsMu.RUnlock()
	return w.heads[key]
}

func (w *ratingWriter) setHead(key string, h head) {
	w.headsMu.Lock()
	w.heads[key] = h
	w.headsMu.Unlock()
}

func (w *ratingWriter) dropHead(key string) {
	w.headsMu.Lock()
	delete(w.heads, key)
	w.headsMu.Unlock()
}

// readHead reads a household's highest revision and its counted version (the highest that
// counts: not held for review, not a placeholder). Revisions are numbered from 1,
// but a gap must not hide the versions after it (one deleted by hand, or left by a release
// before receipts were claimed first; migration 3 fills those). Revision 1 is read alone: a
// household without it has never been rated (most households a rating reads), and one lookup
// decides that. From revision 2 on the search reads headProbe revisions at once, by _id (the
// one lookup every engine serves from an index), and ends only when all of them are missing:
// a gap of up to headProbe-1 revisions after the first is crossed, in fewer round trips than
// one revision at a time.
func (db *DB) readHead(ctx context.Context, key string) (head, error) {
	var first ratingDoc
	err := db.c(colRatings).FindOne(ctx, byID(versionID(key, 1))).Decode(&first)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("read rating %s: %w", key, err)
	}
	h := head{revision: 1}
	if first.counts() { // a held version is never the counted one (holds.go)
		h.rating = first
	}
	for from := 2; from <= maxRevisions; from += headProbe {
		var (
			docs  [headProbe]ratingDoc
			there [headProbe]bool
		)
		if err := parallel(headProbe, func(i int) error {
			err := db.c(colRatings).FindOne(ctx, byID(versionID(key, from+i))).Decode(&docs[i])
			there[i] = err == nil
			if errors.Is(err, mongo.ErrNoDocuments) {
				return nil
			}
			return err
		}); err != nil {
			return head{}, fmt.Errorf("read rating %s: %w", key, err)
		}
		if there == [headProbe]bool{} {
			break
		}
		for i := range headProbe {
			if there[i] {
				h.revision = from + i
				if docs[i].counts() {
					h.rating = docs[i]
				}
			}
		}
	}
	return h, nil
}

// headProbe is how many revisions readHead reads at once after the first.
const headProbe = 2

// close stops the writer; what it committed is in the journal already. The intent kept for a
// next group is deleted (were it left, recovery would find it empty).
func (w *ratingWriter) close() {
	close(w.stop)
	<-w.done
	if w.intent.id != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.db.deleteIDs(ctx, colTallyJournal, []string{intentID(w.intent.id)}); err != nil {
			w.db.log.Warn("delete unused tally journal intent", "err", err)
		}
	}
}
