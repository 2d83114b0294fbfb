package web

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/propcredit/propcredit/internal/filing"
)

// discFilingsCache keeps each period's filings for the reviewers' queue and dashboard and for
// the overviews of companies with many estates. Reading them scans the disclosures collection
// (1.6 s at 21,000 records on the embedded engine; see bench/README.md), and a reviewer
// returns to the queue after every decision. Filings and decisions made through this server
// patch the cache at once; those made through other servers show within discCacheTTL.
type discFilingsCache struct {
	mu      sync.Mutex
	periods map[string]*discCachedPeriod
	gen     uint64 // counts patches, so that a load that raced one is not kept
}

type discCachedPeriod struct {
	loaded  time.Time
	filings map[string]filing.Filing // by key
}

const discCacheTTL = time.Minute

// filings returns the period's current filings, sorted by key.
func (fc *discFilingsCache) filings(ctx context.Context, db Store, period string, now time.Time) ([]filing.Filing, error) {
	fc.mu.Lock()
	if p := fc.periods[period]; p != nil && now.Sub(p.loaded) < discCacheTTL && !now.Before(p.loaded) {
		out := make([]filing.Filing, 0, len(p.filings))
		for _, f := range p.filings {
			out = append(out, f)
		}
		fc.mu.Unlock()
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out, nil
	}
	gen := fc.gen
	fc.mu.Unlock()

	list, err := db.Filings(ctx, period)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.gen == gen { // no write went by during the scan, which it might have missed
		p := &discCachedPeriod{loaded: now, filings: make(map[string]filing.Filing, len(list))}
		for _, f := range list {
			p.filings[f.ID] = f
		}
		if fc.periods == nil {
			fc.periods = map[string]*discCachedPeriod{}
		}
		fc.periods[period] = p
	}
	return list, nil
}

// put records a filing or decision made through this server.
func (fc *discFilingsCache) put(f filing.Filing) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.gen++
	if p := fc.periods[f.Period]; p != nil {
		p.filings[f.ID] = f
	}
}
