package load

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuantileNearestRank(t *testing.T) {
	s := NewStats(time.Second, []time.Duration{40, 10, 30, 20})
	got := []time.Duration{s.P(0), s.P(0.25), s.P(0.5), s.P(0.51), s.P(0.99), s.P(1)}
	if diff := cmp.Diff([]time.Duration{10, 10, 20, 30, 40, 40}, got); diff != "" {
		t.Errorf("quantiles (-want +got):\n%s", diff)
	}
	if (Stats{}).P(0.5) != 0 {
		t.Error("the quantile of no latencies is not 0")
	}
	if s.N() != 4 || s.Rate() != 4 {
		t.Errorf("N %d, rate %v; want 4, 4", s.N(), s.Rate())
	}
}

func TestPhaseStopsWhenWorkSaysSo(t *testing.T) {
	calls := make([]int, 3)
	st, failures := Phase(3, time.Minute, func(w int) (bool, error) {
		calls[w]++
		if calls[w] == 2 {
			return true, errors.New("refused")
		}
		return calls[w] < 4, nil
	})
	if diff := cmp.Diff([]int{4, 4, 4}, calls); diff != "" {
		t.Errorf("calls per worker (-want +got):\n%s", diff)
	}
	if st.N() != 9 || len(failures) != 3 {
		t.Errorf("%d timed, %d failures; want 9 and 3", st.N(), len(failures))
	}
}
