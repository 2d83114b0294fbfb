package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The rating writer commits owners' submissions in groups.
//
// On the embedded engine every commit is an fsync of SQLite's log: measured, one writer
// manages about 585 InsertOne a second and sixteen only about 300, as they queue on SQLite's
// write lock. A rating needs a version and a receipt, so one commit per write would cap the
// city at a few hundred ratings a second. The writer instead takes every submission waiting
// at that moment and stores the whole group with one InsertMany of versions and one of
// receipts: two commits however many owners wait, each as durable as before. Owners get their
// receipts only after both commits.
//
// Tallies change in memory and reach the database every tallyFlushEvery (flushTallies); a
// dirty marker stays in the database while changes wait, so a crash leads to a rebuild at the
// next start. A flush costs one update command, and so one commit, per estate rated since the
// last: every second, that was up to one commit a second per estate (150 in the demo city), and
// a CPU profile under load put 9 % of the processor in those updates, which also took turns
// with the group commits for SQLite's write lock. Readers in this process flush first (Tallies).
type ratingWriter struct {
	db   *DB
	reqs chan *submitRequest
	stop chan struct{}
	done chan struct{}

	// heads caches each household's counted revision. Only the writer goroutine changes it,
	// under headsMu; submitters look in it to know whether to read a head. It may be stale
	// when another process writes the same household: the unique _id then refuses the insert
	// and the writer reads the truth.
	heads   map[string]head
	headsMu sync.RWMutex

	flushMu sync.Mutex // one flush at a time
	// writeMu takes turns between a batch's inserts and each tally update of a flush: SQLite
	// has one writer, and writers that collide sleep in its busy handler (measured: 123
	// ratings/s with the flush racing the commits, 609 with them taking turns).
	writeMu sync.Mutex
	mu      sync.Mutex
	pending tallyDelta // tally changes not yet in the database
	marker  string     // the dirty marker while pending is not empty or a batch is being written
	writing bool       // a batch is between beginWrite and endWrite
	unsure  bool       // see distrust
}

type head struct {
	revision int
	rating   ratingDoc
}

type submitRequest struct {
	sub      Submission
	doc      ratingDoc
	number   string
	previous *ratingDoc // the version doc replaces as the counted one, if any
	// prefetched is the household's head as the submitter read it, when the cache lacked it.
	// The writer uses it only if the cache still lacks it: a cached head is never older.
	prefetched *head
	result     chan submitResult
}

type submitResult struct {
	receipt Receipt
	err     error
}

const (
	maxBatch        = 512
	tallyFlushEvery = 5 * time.Second
)

func (db *DB) writer() *ratingWriter {
	db.writerOnce.Do(func() {
		w := &ratingWriter{db: db, reqs: make(chan *submitRequest, maxBatch), stop: make(chan struct{}),
			done: make(chan struct{}), heads: map[string]head{}, pending: tallyDelta{}}
		db.ratingWriter = w
		go w.run()
	})
	return db.ratingWriter
}

func (w *ratingWriter) run() {
	defer close(w.done)
	flushed := make(chan struct{})
	go func() { // flushing takes one write per estate: keep it off the commit path
		defer close(flushed)
		tick := time.NewTicker(tallyFlushEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if err := w.flushTallies(context.Background()); err != nil {
					w.db.log.Error("flush rating tallies", "err", err)
				}
			case <-w.stop:
				return
			}
		}
	}()
	defer func() { <-flushed }()
	for {
		select {
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
			if err := w.flushTallies(context.Background()); err != nil {
				w.db.log.Error("flush rating tallies at close", "err", err)
			}
			return
		}
	}
}

// commit stores a group of submissions and answers each.
//
// The order of the writes is what keeps the data right without transactions:
//  1. the dirty marker, so that a crash after step 2 leads to a rebuild of the tallies;
//  2. the versions: from here on each counts, as its household's highest revision;
//  3. the receipts, whose unique _id (derived from the idempotency key) catches a request
//     that was already stored, by this writer or by another process: its new version is
//     deleted again and the owner gets the receipt stored before;
//  4. the tally changes, in memory until the next flush; then the answers.
//
// A crash between 2 and 3 leaves a version the owner was never told about; when the owner
// submits the same form again, it is stored again, as a later revision with the same scores,
// so the household still counts once.
func (w *ratingWriter) commit(batch []*submitRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answers := map[*submitRequest]submitResult{}
	answer := func(r *submitRequest, rc Receipt, err error) {
		answers[r] = submitResult{rc, err}
		r.result <- submitResult{rc, err}
	}
	fail := func(reqs []*submitRequest, err error) {
		for _, r := range reqs {
			answer(r, Receipt{}, err)
		}
	}

	// The same request repeated within the batch waits for the first one's answer.
	var todo, repeats []*submitRequest
	first := map[string]*submitRequest{}
	for _, r := range batch {
		if f, dup := first[r.number]; dup && r.sub.IdempotencyKey != "" && f.doc.Key == r.doc.Key {
			repeats = append(repeats, r)
			continue
		}
		first[r.number] = r
		todo = append(todo, r)
	}
	defer func() {
		for _, r := range repeats {
			res := answers[first[r.number]]
			answer(r, res.receipt, res.err)
		}
	}()

	if err := w.prefetchHeads(ctx, todo); err != nil {
		fail(todo, err)
		return
	}
	// Give each submission the next revision of its household, in arrival order.
	var stored []*submitRequest
	var docs []any
	for _, r := range todo {
		h := w.heads[r.doc.Key]
		if h.revision >= maxRevisions {
			answer(r, Receipt{}, errTooManyRevisions(r.doc.Key))
			continue
		}
		if h.revision > 0 {
			old := h.rating
			r.previous = &old
		}
		r.doc.Revision = h.revision + 1
		r.doc.ID = versionID(r.doc.Key, r.doc.Revision)
		w.setHead(r.doc.Key, head{revision: r.doc.Revision, rating: r.doc})
		stored = append(stored, r)
		docs = append(docs, r.doc)
	}
	if len(stored) == 0 {
		return
	}
	forget := func(reqs []*submitRequest) {
		for _, r := range reqs {
			w.dropHead(r.doc.Key)
		}
	}

	if err := w.beginWrite(ctx); err != nil {
		forget(stored)
		fail(stored, err)
		return
	}
	defer w.endWrite()

	w.writeMu.Lock()
	refused, err := w.db.insertMany(ctx, colRatings, docs)
	w.writeMu.Unlock()
	if err != nil {
		w.distrust() // some versions may be in: keep the marker, so the next start rebuilds
		forget(stored)
		fail(stored, err)
		return
	}
	// Another process took some of these revisions: read the truth and go one at a time.
	for _, i := range refused {
		r := stored[i]
		w.dropHead(r.doc.Key)
		if err := w.insertAlone(ctx, r); err != nil {
			w.distrust()
			answer(r, Receipt{}, err)
			stored[i] = nil
		}
	}
	stored = slices.DeleteFunc(stored, func(r *submitRequest) bool { return r == nil })
	// Each version counts from now on, and so does its change of the tallies.
	delta := tallyDelta{}
	for _, r := range stored {
		r.countIn(delta, 1)
	}
	defer w.addPending(delta)

	receipts, err := w.storeReceipts(ctx, stored, delta)
	if err != nil {
		// The versions stand and count; the owners were not answered and may submit again.
		fail(stored, err)
		return
	}
	for i, r := range stored {
		answer(r, receipts[i], nil)
	}
}

// countIn adds the change that r's version makes to the tallies to delta, times sign.
func (r *submitRequest) countIn(delta tallyDelta, sign int64) {
	if p := r.previous; p != nil {
		delta.add(p.Period, p.Estate, p.Scores, -sign)
	}
	delta.add(r.doc.Period, r.doc.Estate, r.doc.Scores, sign)
}

func receiptOf(r *submitRequest) Receipt {
	return Receipt{Number: r.number, Key: r.doc.Key, Period: r.doc.Period, Estate: r.doc.Estate, Revision: r.doc.Revision, At: r.doc.SubmittedAt}
}

// storeReceipts inserts the receipts of stored versions and returns the receipt of each. A
// receipt number that exists already means the request was stored before (the number derives
// from the household and the idempotency key): the version just inserted is deleted again,
// its change is taken out of delta, and the stored receipt is the answer. A number that
// exists for another household, which only random numbers can do, is drawn again.
func (w *ratingWriter) storeReceipts(ctx context.Context, stored []*submitRequest, delta tallyDelta) ([]Receipt, error) {
	out := make([]Receipt, len(stored))
	pending := make([]int, len(stored)) // indexes into stored of receipts still to insert
	for i := range stored {
		pending[i] = i
	}
	for tries := 0; len(pending) > 0; tries++ {
		if tries == 3 {
			return nil, fmt.Errorf("store receipts: numbers keep colliding")
		}
		docs := make([]any, len(pending))
		for j, i := range pending {
			out[i] = receiptOf(stored[i])
			docs[j] = out[i]
		}
		w.writeMu.Lock()
		refused, err := w.db.insertMany(ctx, colReceipts, docs)
		w.writeMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("store receipts: %w", err)
		}
		var again []int
		for _, j := range refused {
			i := pending[j]
			r := stored[i]
			var earlier Receipt
			if err := w.db.c(colReceipts).FindOne(ctx, byID(r.number)).Decode(&earlier); err != nil {
				return nil, fmt.Errorf("read receipt: %w", err)
			}
			if earlier.Key != r.doc.Key || r.sub.IdempotencyKey == "" {
				r.number = receiptNumber(r.doc.Key, "")
				r.doc.Receipt = r.number
				again = append(again, i)
				continue
			}
			// A later submission of the household in this batch supersedes the repeat's
			// version: it stays, so that revisions keep without gaps, and counts for nothing.
			if w.heads[r.doc.Key].revision == r.doc.Revision {
				if err := w.withdraw(ctx, r); err != nil {
					return nil, err
				}
				r.countIn(delta, -1)
			}
			out[i] = earlier
		}
		pending = again
	}
	return out, nil
}

// withdraw deletes the version of a request that turned out to be a repeat, so that the
// household's counted rating is the one stored the first time.
func (w *ratingWriter) withdraw(ctx context.Context, r *submitRequest) error {
	w.writeMu.Lock()
	_, err := w.db.c(colRatings).DeleteOne(ctx, byID(r.doc.ID))
	w.writeMu.Unlock()
	if err != nil {
		w.dropHead(r.doc.Key)
		w.distrust()
		return fmt.Errorf("withdraw repeated rating %s: %w", r.doc.ID, err)
	}
	if r.previous != nil {
		w.setHead(r.doc.Key, head{revision: r.doc.Revision - 1, rating: *r.previous})
	} else {
		w.setHead(r.doc.Key, head{})
	}
	return nil
}

// prefetchHeads brings the heads of the households of reqs into the cache: the one their
// submitter read (see SubmitRating), or else, several at a time, from the database.
func (w *ratingWriter) prefetchHeads(ctx context.Context, reqs []*submitRequest) error {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, 8)
		heads    = map[string]head{} // guarded by mu
		seen     = map[string]bool{}
	)
	for _, r := range reqs {
		key := r.doc.Key
		if _, cached := w.heads[key]; cached || seen[key] {
			continue
		}
		seen[key] = true
		if r.prefetched != nil {
			heads[key] = *r.prefetched
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h, err := w.db.readHead(ctx, key)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			heads[key] = h
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	w.headsMu.Lock()
	for k, h := range heads {
		w.heads[k] = h
	}
	w.headsMu.Unlock()
	return nil
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

// knows says whether the cache holds a household's head.
func (w *ratingWriter) knows(key string) bool {
	w.headsMu.RLock()
	defer w.headsMu.RUnlock()
	_, ok := w.heads[key]
	return ok
}

// readHead reads a household's counted revision: revisions are numbered from 1 without gaps,
// so the first missing one ends the search.
func (db *DB) readHead(ctx context.Context, key string) (head, error) {
	var h head
	for rev := 1; ; rev++ {
		var d ratingDoc
		err := db.c(colRatings).FindOne(ctx, byID(versionID(key, rev))).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return h, nil
		}
		if err != nil {
			return head{}, fmt.Errorf("read rating %s: %w", key, err)
		}
		h = head{revision: rev, rating: d}
	}
}

// insertAlone stores r's version at the first free revision, for the rare request whose
// revision another process took, and reads the version it replaces.
func (w *ratingWriter) insertAlone(ctx context.Context, r *submitRequest) error {
	w.writeMu.Lock()
	err := w.db.insertNextRevision(ctx, &r.doc, r.doc.Revision)
	w.writeMu.Unlock()
	if err != nil {
		return err
	}
	w.setHead(r.doc.Key, head{revision: r.doc.Revision, rating: r.doc})
	r.previous = nil
	if r.doc.Revision == 1 {
		return nil
	}
	var old ratingDoc
	if err := w.db.c(colRatings).FindOne(ctx, byID(versionID(r.doc.Key, r.doc.Revision-1))).Decode(&old); err != nil {
		return fmt.Errorf("read previous rating %s: %w", r.doc.Key, err)
	}
	r.previous = &old
	return nil
}

// beginWrite makes sure a dirty marker is in the database before a batch's versions are,
// and keeps it there until endWrite, whatever the flush does meanwhile.
func (w *ratingWriter) beginWrite(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.marker == "" {
		marker, err := w.db.MarkDirty(ctx, "ratings")
		if err != nil {
			return err
		}
		w.marker = marker
	}
	w.writing = true
	return nil
}

// distrust keeps the dirty marker for the rest of this process's life, after a write whose
// outcome is unknown: the next start-up then rebuilds the tallies from the ratings.
func (w *ratingWriter) distrust() {
	w.mu.Lock()
	w.unsure = true
	w.mu.Unlock()
}

func (w *ratingWriter) endWrite() {
	w.mu.Lock()
	w.writing = false
	w.mu.Unlock()
}

// addPending records tally changes to be flushed.
func (w *ratingWriter) addPending(delta tallyDelta) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, t := range delta {
		p := w.pending[k]
		if p == nil {
			p = &Tally{Period: t.Period, Estate: t.Estate}
			w.pending[k] = p
		}
		p.Add(t)
	}
}

// flushTallies writes the pending tally changes and, when none are left, drops the marker.
// Commits go on meanwhile, adding to a fresh pending set.
func (w *ratingWriter) flushTallies(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	taken := w.pending
	w.pending = tallyDelta{}
	w.mu.Unlock()
	for key, t := range taken {
		w.writeMu.Lock()
		err := w.db.incTally(ctx, t)
		w.writeMu.Unlock()
		if err != nil {
			w.mu.Lock() // what is left waits for the next tick
			for k, rest := range taken {
				if p := w.pending[k]; p != nil {
					rest.Add(p)
				}
				w.pending[k] = rest
			}
			w.mu.Unlock()
			return err
		}
		delete(taken, key)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 && !w.writing && !w.unsure && w.marker != "" {
		if err := w.db.ClearDirty(ctx, w.marker); err != nil {
			return err
		}
		w.marker = ""
	}
	return nil
}

// FlushTallies writes this process's pending tally changes now, for readers in other
// processes (scoring from the command line reads the database).
func (db *DB) FlushTallies(ctx context.Context) error {
	if db.ratingWriter == nil {
		return nil
	}
	return db.ratingWriter.flushTallies(ctx)
}

// close stops the writer after flushing the tallies.
func (w *ratingWriter) close() {
	close(w.stop)
	<-w.done
}
