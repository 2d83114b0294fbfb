package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/reports"
)

// Published results never change, so the public pages and the API serve them from memory:
// each period's latest publication is read and decoded once, and every response built from
// it (a page per language, a JSON document, a CSV file) is rendered once, compressed once and
// kept with its ETag until the next publication.
//
// A publication made through the web is seen at once (the publish handler invalidates). One
// made by `propcredit publish` in another process is seen within publishedTTL: the cache
// lists the publications (a small collection) at most that often.

// publishedTTL is how long the cache trusts its list of publications.
const publishedTTL = 5 * time.Second

// maxCachedResponses bounds the responses kept per state: rankings searches can make any
// number of distinct pages. Past it, responses are rendered per request.
const maxCachedResponses = 4096

// maxOldPublications bounds the superseded publications kept decoded for their history pages.
const maxOldPublications = 16

// publishedCache holds the decoded publications. Safe for concurrent use.
type publishedCache struct {
	pubs      *publication.Service
	districts Districts
	now       func() time.Time
	log       *slog.Logger
	ttl       time.Duration

	mu      sync.Mutex // held while refreshing
	state   atomic.Pointer[published]
	checked atomic.Int64 // now().UnixNano() when the state was last known current; 0: check now
	gen     atomic.Int64 // bumped by invalidate

	oldMu sync.Mutex
	old   map[string]*reports.PublishedPeriod // superseded publications by id, decoded on demand
}

// Districts gives the names the report pages show for district ids.
type Districts interface {
	Districts(ctx context.Context) ([]domain.District, error)
}

func newPublishedCache(pubs *publication.Service, districts Districts, now func() time.Time, log *slog.Logger) *publishedCache {
	return &publishedCache{pubs: pubs, districts: districts, now: now, log: log, ttl: publishedTTL, old: map[string]*reports.PublishedPeriod{}}
}

// published is what was published as of one check: every period's latest publication, and
// the responses rendered from them. A new publication makes a new published, which starts
// with no responses.
type published struct {
	city      *reports.City
	history   map[string][]reports.Publication // period → its publications, oldest first
	signature string                           // the publications it was built from

	responses  sync.Map // key → *cachedResponse
	nResponses atomic.Int64
}

// invalidate makes the next request read the publications again.
func (pc *publishedCache) invalidate() {
	pc.gen.Add(1)
	pc.checked.Store(0)
}

// get returns the current publications. When the list is older than the TTL, one request
// reads it again while the others carry on with what is known; if the database fails, the
// last known state is served (it was true when read) and the next request tries again.
func (pc *publishedCache) get(ctx context.Context) (*published, error) {
	st := pc.state.Load()
	if st != nil && pc.fresh() {
		return st, nil
	}
	if st != nil {
		if !pc.mu.TryLock() {
			return st, nil // someone else is refreshing
		}
	} else {
		pc.mu.Lock()
	}
	defer pc.mu.Unlock()
	if st = pc.state.Load(); st != nil && pc.fresh() {
		return st, nil
	}
	gen := pc.gen.Load()
	checkedAt := pc.now().UnixNano()
	next, err := pc.load(ctx, st)
	if err != nil {
		if st != nil {
			pc.log.Warn("reports: cannot read publications; serving the last known ones", "err", err)
			return st, nil
		}
		if derrors.Code(err) == derrors.Internal {
			err = &derrors.Error{Code: derrors.Unavailable, Message: "read publications: " + err.Error()}
		}
		return nil, err
	}
	pc.state.Store(next)
	if pc.gen.Load() == gen { // not invalidated meanwhile: what was read is current
		pc.checked.Store(checkedAt)
	}
	return next, nil
}

func (pc *publishedCache) fresh() bool {
	checked := pc.checked.Load()
	return checked != 0 && pc.now().UnixNano()-checked < int64(pc.ttl)
}

// load reads the list of publications and builds the state from it, reusing the decoded
// periods of prev whose latest publication is unchanged.
func (pc *publishedCache) load(ctx context.Context, prev *published) (*published, error) {
	pubs, err := pc.pubs.Publications(ctx, "")
	if err != nil {
		return nil, err
	}
	history := map[string][]reports.Publication{}
	var sig bytes.Buffer
	for _, r := range pubs {
		history[r.Period] = append(history[r.Period], publicationOf(r))
		fmt.Fprintf(&sig, "%s|%d|%d;", r.ID, r.SupersededAt.UnixNano(), r.FinalAt.UnixNano())
	}
	if prev != nil && prev.signature == sig.String() {
		return prev, nil
	}
	var periods []*reports.PublishedPeriod
	for period, hist := range history {
		latest := hist[len(hist)-1]
		if prev != nil {
			if p := prev.city.Period(period); p != nil && p.Pub.ID == latest.ID {
				cp := *p // same results; only the history changed
				cp.History = hist
				cp.Pub = latest
				periods = append(periods, &cp)
				continue
			}
		}
		p, err := pc.decode(ctx, latest, hist)
		if err != nil {
			return nil, err
		}
		periods = append(periods, p)
	}
	districts, err := pc.districts.Districts(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(districts))
	for _, d := range districts {
		names[d.ID] = d.Name
	}
	return &published{city: reports.NewCity(periods, names), history: history, signature: sig.String()}, nil
}

func publicationOf(r publication.Record) reports.Publication {
	return reports.Publication{ID: r.ID, Period: r.Period, Seq: r.Seq, Ruleset: r.Ruleset, RulesetHash: r.RulesetHash,
		InputsHash: r.InputsHash, PublishedAt: r.CreatedAt, SupersededAt: r.SupersededAt, Status: r.Status(), PublicityEnds: r.PublicityEnds,
		FinalAt: r.FinalAt}
}

// decode reads one publication whole and decodes it.
func (pc *publishedCache) decode(ctx context.Context, pub reports.Publication, hist []reports.Publication) (*reports.PublishedPeriod, error) {
	r, err := pc.pubs.Record(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	detail, err := r.DetailJSON()
	if err != nil {
		return nil, err
	}
	inputs, err := r.InputsJSON()
	if err != nil {
		return nil, err
	}
	return reports.NewPublishedPeriod(pub, hist, detail, inputs)
}

// publication returns publication seq of period: the latest from the state, an older one
// decoded on demand (and kept, a few at a time). NotFound if there is no such publication.
func (pc *publishedCache) publication(ctx context.Context, st *published, period string, seq int) (*reports.PublishedPeriod, error) {
	latest := st.city.Period(period)
	if latest == nil {
		return nil, derrors.Errorf(derrors.NotFound, "")
	}
	if seq == 0 || seq == latest.Pub.Seq {
		return latest, nil
	}
	hist := st.history[period]
	i := slices.IndexFunc(hist, func(p reports.Publication) bool { return p.Seq == seq })
	if i < 0 {
		return nil, derrors.Errorf(derrors.NotFound, "")
	}
	pc.oldMu.Lock()
	p, ok := pc.old[hist[i].ID]
	pc.oldMu.Unlock()
	if ok {
		return p, nil
	}
	p, err := pc.decode(ctx, hist[i], hist)
	if err != nil {
		return nil, err
	}
	pc.oldMu.Lock()
	if len(pc.old) >= maxOldPublications {
		clear(pc.old)
	}
	pc.old[hist[i].ID] = p
	pc.oldMu.Unlock()
	return p, nil
}

// cachedResponse is a rendered response: its body, gzipped once, and its ETag.
type cachedResponse struct {
	contentType string
	body, gz    []byte
	etag        string
	// disposition is the Content-Disposition of downloads.
	disposition string
}

// newCachedResponse makes a response of body. With compress, it is gzipped now, once, for
// every client that accepts gzip; without, the compress middleware does it per request.
func newCachedResponse(contentType string, body []byte, compress bool) *cachedResponse {
	sum := sha256.Sum256(body)
	r := &cachedResponse{contentType: contentType, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	if !compress {
		return r
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	if zw.Close() == nil && buf.Len() < len(body) {
		r.gz = buf.Bytes()
	}
	return r
}

// response returns the response cached under key, rendering it with build on a miss.
func (st *published) response(key string, build func() (*cachedResponse, error)) (*cachedResponse, error) {
	if r, ok := st.responses.Load(key); ok {
		return r.(*cachedResponse), nil
	}
	r, err := build()
	if err != nil {
		return nil, err
	}
	if st.nResponses.Load() < maxCachedResponses {
		if prev, loaded := st.responses.LoadOrStore(key, r); loaded {
			return prev.(*cachedResponse), nil
		}
		st.nResponses.Add(1)
	}
	return r, nil
}
