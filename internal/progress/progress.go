// Package progress reports how far a long job (import, export, scoring a city) has got: a line
// redrawn in place on a terminal, and structured log lines every few seconds elsewhere.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Reporter tracks one job.
type Reporter struct {
	mu       sync.Mutex
	job      string
	total    int64 // 0 when unknown
	done     int64
	start    time.Time
	last     time.Time
	terminal io.Writer // nil when not a terminal
	log      *slog.Logger
	every    time.Duration
}

// New starts reporting on job. Output goes to w when w is a terminal, else to log.
func New(job string, total int64, w io.Writer, log *slog.Logger) *Reporter {
	r := &Reporter{job: job, total: total, start: time.Now(), log: log, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.terminal = w
		r.every = 200 * time.Millisecond
	}
	return r
}

// SetTotal sets the total once it is known.
func (r *Reporter) SetTotal(total int64) {
	r.mu.Lock()
	r.total = total
	r.mu.Unlock()
}

// Set records that done units are finished, and reports if it is time to.
func (r *Reporter) Set(done int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = done
	if now := time.Now(); now.Sub(r.last) >= r.every {
		r.last = now
		r.report(false)
	}
}

// Finish reports the final state.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report(true)
}

func (r *Reporter) report(final bool) {
	elapsed := time.Since(r.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(r.done) / s
	}
	if r.terminal != nil {
		pct := ""
		if r.total > 0 {
			pct = fmt.Sprintf(" (%d%%)", r.done*100/r.total)
		}
		of := ""
		if r.total > 0 {
			of = fmt.Sprintf("/%d", r.total)
		}
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(r.terminal, "\r%s: %d%s%s, %.0f/s, %s   %s", r.job, r.done, of, pct, rate, elapsed.Round(100*time.Millisecond), end)
		return
	}
	msg := "progress"
	if final {
		msg = "finished"
	}
	r.log.Info(msg, "job", r.job, "done", r.done, "total", r.total, "per_second", int64(rate), "elapsed", elapsed.Round(time.Millisecond).String())
}
