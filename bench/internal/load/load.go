// Package load is what the load benchmarks in bench/ share: a closed-loop phase of workers,
// its latencies and their nearest-rank quantiles, the idempotency keys of the ratings they
// send, and an in-process web server to send them to.
package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/propcredit/propcredit/internal/web"
)

// Stats are the latencies of a phase, sorted, and how long the phase took.
type Stats struct {
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
}

// NewStats sorts latencies.
func NewStats(elapsed time.Duration, latencies []time.Duration) Stats {
	slices.Sort(latencies)
	return Stats{Elapsed: elapsed, Latencies: latencies}
}

// N is the number of calls timed.
func (s Stats) N() int { return len(s.Latencies) }

// Rate is calls per second.
func (s Stats) Rate() float64 { return float64(len(s.Latencies)) / s.Elapsed.Seconds() }

// P returns the q-quantile of the latencies (nearest rank; 1 is the maximum), 0 for none.
func (s Stats) P(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(s.Latencies)))) - 1
	return s.Latencies[max(0, min(i, len(s.Latencies)-1))]
}

// MS formats a latency in milliseconds, as the benchmarks report them.
func MS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// Phase runs work on n goroutines until d has passed (or work says there is no more) and
// collects the latencies of the calls that succeeded and the errors of those that failed.
func Phase(n int, d time.Duration, work func(worker int) (more bool, err error)) (Stats, []string) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []string
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				more, err := work(w)
				lat := time.Since(t0)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				} else {
					mine = append(mine, lat)
				}
				if !more {
					break
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return NewStats(time.Since(start), latencies), failures
}

// RandomKey is a fresh idempotency key for one submission.
func RandomKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Serve serves the web server cfg makes on a loopback port of its own and returns the rating
// API's URL and a function that shuts the server down.
func Serve(cfg web.Config) (url string, shutdown func(), err error) {
	srv, err := web.New(cfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.App().Listener(ln) }()
	return "http://" + ln.Addr().String() + "/api/v1/ratings", func() { _ = srv.Shutdown(context.Background()) }, nil
}
