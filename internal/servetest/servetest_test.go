package servetest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// script is a server that answers ratings with the statuses of answers, in order (the last
// one repeats), and remembers how many it got and under which idempotency keys.
type script struct {
	answers []int
	mu      sync.Mutex
	sent    int
	keys    map[string]bool
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.sent++
	status := s.answers[min(s.sent, len(s.answers))-1]
	s.keys[r.Header.Get("Idempotency-Key")] = true
	s.mu.Unlock()
	w.WriteHeader(status)
	if status == http.StatusCreated {
		w.Write([]byte(`{"receipt":"R-1","revision":1,"status":"counted"}`))
	}
}

// Rate sends a rating again, with the same key, on what tells an owner to: no answer, 409 and
// 503; a patient client only on those, for up to its Patience; without Patience, 40 tries,
// also after 429 and any 5xx. It counts what it sent again.
func TestRate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patience time.Duration
		dead     bool  // the first server tried does not answer
		answers  []int // the live server's statuses
		wantErr  string
		wantSent int // requests the live server got (0: several)
	}{
		{"patient: 503 and 409 are sent again", time.Minute, false, []int{503, 409, 201}, "", 3},
		{"patient: no answer is sent again", time.Minute, true, []int{201}, "", 1},
		{"patient: 500 is a failure", time.Minute, false, []int{503, 500, 201}, "status 500", 2},
		{"patient: 429 is a failure", time.Minute, false, []int{429, 201}, "status 429", 1},
		{"patient: up to its patience", 300 * time.Millisecond, false, []int{503}, "never acknowledged", 0},
		{"default: 429 and 500 are sent again", 0, false, []int{429, 500, 201}, "", 3},
		{"default: 422 is a failure", 0, false, []int{422, 201}, "status 422", 1},
		{"default: 40 tries", 0, false, []int{503}, "never acknowledged", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{answers: tc.answers, keys: map[string]bool{}}
			live := httptest.NewServer(s)
			defer live.Close()
			addrs := []string{strings.TrimPrefix(live.URL, "http://")}
			if tc.dead {
				addrs = append([]string{"127.0.0.1:" + FreePort()}, addrs...)
			}
			var retried atomic.Int64
			c := &Client{HTTP: live.Client(), Period: "2026Q4", Servers: func() []string { return addrs },
				Patience: tc.patience, SentAgain: func() { retried.Add(1) }}
			a, err := c.Rate(Household{Estate: "e1", Flat: "1-1-101", Code: "x"}, domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3}), 0)
			switch {
			case tc.wantErr == "" && (err != nil || a.Receipt != "R-1" || a.Key != "2026Q4|e1|1-1-101"):
				t.Errorf("Rate = %+v, %v; want receipt R-1", a, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Rate error %v, want one saying %q", err, tc.wantErr)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if tc.wantSent > 0 && s.sent != tc.wantSent || tc.wantSent == 0 && s.sent < 2 {
				t.Errorf("the server got %d requests, want %d (0: several)", s.sent, tc.wantSent)
			}
			if len(s.keys) != 1 {
				t.Errorf("%d idempotency keys, want the same one each time", len(s.keys))
			}
			if all := s.sent + len(addrs) - 1; int(retried.Load()) != all-1 {
				t.Errorf("%d requests counted as sent again, of %d", retried.Load(), all)
			}
		})
	}
}
