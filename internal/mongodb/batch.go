package mongodb

import (
	"context"
	"errors"
	"fmt"
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
// Tallies change in memory and reach the database once a second (flushTallies); a dirty marker
// stays in the database while changes wait, so a crash leads to a rebuild at the next start.
type ratingWriter struct {
	db   *DB
	reqs chan *submitRequest
	stop chan struct{}
	done chan struct{}

	// heads caches each household's counted revision. Only the writer goroutine uses it. It
	// may be stale when another process writes the same household: the unique _id then
	// refuses the insert and the writer reads the truth.
	heads map[string]head

	flushMu sync.Mutex // one flush at a time
	// writeMu takes turns between a batch's inserts and each tally update of a flush: SQLite
	// has one writer, and writers that collide sleep in its busy handler (measured: 123
	// ratings/s with the flush racing the commits, 609 with them taking turns).
	writeMu sync.Mutex
	mu      sync.Mutex
	pending tallyDelta // tally changes not yet in the database
	marker  string     // the dirty marker while pending is not empty
}

type head struct {
	revision int
	rating   ratingDoc
}

type submitRequest struct {
	sub    Submission
	doc    ratingDoc
	number string
	result chan submitResult
}

type submitResult struct {
	receipt Receipt
	err     error
}

const (
	maxBatch        = 512
	tallyFlushEvery = time.Second
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
func (w *ratingWriter) commit(batch []*submitRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answer := func(r *submitRequest, rc Receipt, err error) { r.result <- submitResult{rc, err} }

	known, err := w.prefetch(ctx, batch)
	if err != nil {
		for _, r := range batch {
			answer(r, Receipt{}, err)
		}
		return
	}
	// A request repeated with the same idempotency key, before or within this batch, gets the
	// receipt it already has.
	var todo []*submitRequest
	byNumber := map[string]*submitRequest{}
	var repeats []*submitRequest
	for _, r := range batch {
		if r.sub.IdempotencyKey != "" {
			if _, dup := byNumber[r.number]; dup {
				repeats = append(repeats, r)
				continue
			}
			if rc, ok := known[r.number]; ok {
				answer(r, rc, nil)
				continue
			}
			byNumber[r.number] = r
		}
		todo = append(todo, r)
	}

	// Give each submission the next revision of its household, in arrival order.
	previous := make([]*ratingDoc, len(todo))
	docs := make([]any, len(todo))
	for i, r := range todo {
		h, err := w.head(ctx, r.doc.Key)
		if err != nil {
			answer(r, Receipt{}, err)
			todo[i] = nil
			continue
		}
		if h.revision >= maxRevisions {
			answer(r, Receipt{}, errTooManyRevisions(r.doc.Key))
			todo[i] = nil
			continue
		}
		if h.revision > 0 {
			old := h.rating
			previous[i] = &old
		}
		r.doc.Revision = h.revision + 1
		r.doc.ID = versionID(r.doc.Key, r.doc.Revision)
		w.heads[r.doc.Key] = head{revision: r.doc.Revision, rating: r.doc}
		docs[i] = r.doc
	}
	var live []any
	var liveReqs []*submitRequest
	var livePrev []*ratingDoc
	for i, r := range todo {
		if r != nil {
			live = append(live, docs[i])
			liveReqs = append(liveReqs, r)
			livePrev = append(livePrev, previous[i])
		}
	}
	if len(live) > 0 {
		w.writeMu.Lock()
		refused, err := w.db.insertMany(ctx, colRatings, live)
		w.writeMu.Unlock()
		if err != nil {
			for _, r := range liveReqs {
				delete(w.heads, r.doc.Key)
				answer(r, Receipt{}, err)
			}
			liveReqs = nil
		}
		// Another process took some of these revisions: read the truth and go one at a time.
		isRefused := map[int]bool{}
		for _, i := range refused {
			isRefused[i] = true
		}
		var committed []*submitRequest
		delta := tallyDelta{}
		for i, r := range liveReqs {
			if isRefused[i] {
				delete(w.heads, r.doc.Key)
				old, err := w.insertAlone(ctx, r)
				if err != nil {
					answer(r, Receipt{}, err)
					continue
				}
				livePrev[i] = old
			}
			if p := livePrev[i]; p != nil {
				delta.add(p.Period, p.Estate, p.Scores, -1)
			}
			delta.add(r.doc.Period, r.doc.Estate, r.doc.Scores, 1)
			committed = append(committed, r)
		}
		if err := w.addPending(ctx, delta); err != nil {
			w.db.log.Error("mark tallies dirty", "err", err) // the versions stand; a verify repairs
		}
		receipts := make([]any, len(committed))
		for i, r := range committed {
			receipts[i] = receiptOf(r)
		}
		if len(receipts) > 0 {
			w.writeMu.Lock()
			_, err := w.db.insertMany(ctx, colReceipts, receipts)
			w.writeMu.Unlock()
			if err != nil {
				for _, r := range committed {
					answer(r, Receipt{}, fmt.Errorf("store receipt: %w", err))
				}
				committed = nil
			}
		}
		for _, r := range committed {
			answer(r, receiptOf(r), nil)
		}
	}
	for _, r := range repeats {
		first := byNumber[r.number]
		answer(r, receiptOf(first), nil)
	}
}

func receiptOf(r *submitRequest) Receipt {
	return Receipt{Number: r.number, Key: r.doc.Key, Period: r.doc.Period, Estate: r.doc.Estate, Revision: r.doc.Revision, At: r.doc.SubmittedAt}
}

// prefetch reads, several at a time, what the batch needs from the database: the heads of
// households not in the cache, and the receipts that repeated requests may already have.
func (w *ratingWriter) prefetch(ctx context.Context, batch []*submitRequest) (map[string]Receipt, error) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, 8)
		heads    = map[string]head{}
		receipts = map[string]Receipt{}
	)
	run := func(f func() error) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	seen := map[string]bool{}
	for _, r := range batch {
		key, number := r.doc.Key, r.number
		if _, cached := w.heads[key]; !cached && !seen[key] {
			seen[key] = true
			run(func() error {
				h, err := w.db.readHead(ctx, key)
				mu.Lock()
				heads[key] = h
				mu.Unlock()
				return err
			})
		}
		if r.sub.IdempotencyKey != "" && !seen["#"+number] {
			seen["#"+number] = true
			run(func() error {
				var rc Receipt
				err := w.db.c(colReceipts).FindOne(ctx, byID(number)).Decode(&rc)
				if errors.Is(err, mongo.ErrNoDocuments) {
					return nil
				}
				if err == nil {
					mu.Lock()
					receipts[number] = rc
					mu.Unlock()
				}
				return err
			})
		}
	}
	wg.Wait()
	for k, h := range heads {
		w.heads[k] = h
	}
	return receipts, firstErr
}

// head returns a household's counted revision.
func (w *ratingWriter) head(ctx context.Context, key string) (head, error) {
	if h, ok := w.heads[key]; ok {
		return h, nil
	}
	h, err := w.db.readHead(ctx, key)
	if err == nil {
		w.heads[key] = h
	}
	return h, err
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
// revision another process took, and returns the version it replaced.
func (w *ratingWriter) insertAlone(ctx context.Context, r *submitRequest) (*ratingDoc, error) {
	if err := w.db.insertNextRevision(ctx, &r.doc, r.doc.Revision); err != nil {
		return nil, err
	}
	w.heads[r.doc.Key] = head{revision: r.doc.Revision, rating: r.doc}
	if r.doc.Revision == 1 {
		return nil, nil
	}
	var old ratingDoc
	if err := w.db.c(colRatings).FindOne(ctx, byID(versionID(r.doc.Key, r.doc.Revision-1))).Decode(&old); err != nil {
		return nil, fmt.Errorf("read previous rating %s: %w", r.doc.Key, err)
	}
	return &old, nil
}

// addPending records tally changes to be flushed, marking the tallies dirty first.
func (w *ratingWriter) addPending(ctx context.Context, delta tallyDelta) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, t := range delta {
		p := w.pending[k]
		if p == nil {
			p = &Tally{Period: t.Period, Estate: t.Estate}
			w.pending[k] = p
		}
		p.add(t)
	}
	if w.marker != "" || len(w.pending) == 0 {
		return nil
	}
	marker, err := w.db.MarkDirty(ctx, "ratings")
	w.marker = marker
	return err
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
					rest.add(p)
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
	if len(w.pending) == 0 && w.marker != "" {
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
