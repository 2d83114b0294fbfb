package scoring_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/propcredit/propcredit/scoring"
	"github.com/propcredit/propcredit/scoring/scoringtest"
)

// BenchmarkScoreLargeCity scores a large city: 5,000 companies, 20,000 estates, tallies of
// 2,000,000 ratings, 80,000 disclosures and 10,000 credit records. The city is generated once,
// outside the timed loop. It reports peak-heap-MB: the most heap in use seen at the end of an
// iteration (input and result live); /usr/bin/time -v on the test binary gives the process's peak.
//
//	go test ./scoring -run '^$' -bench LargeCity -benchmem -count 3
func BenchmarkScoreLargeCity(b *testing.B) {
	in := scoringtest.GenerateCity(2026, 5_000, 20_000, 2_000_000, 80_000, 10_000)
	rs := scoring.Default()
	runtime.GC()
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		res, err := scoring.Score(rs, in)
		if err != nil {
			b.Fatal(err)
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
		runtime.KeepAlive(res)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// TestGeneratedCityIsOrderIndependent shuffles a mid-sized generated city, with re-filed
// disclosures, and expects the same bytes.
func TestGeneratedCityIsOrderIndependent(t *testing.T) {
	in := scoringtest.GenerateCity(3, 150, 600, 30_000, 3_000, 600) // 600 re-filings
	render := func(in scoring.Input) []byte {
		_, detail := scoringtest.Scored(t, in)
		return detail
	}
	want := render(in)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 10 {
		s := in
		s.Companies, s.Estates, s.Tallies = shuffled(rng, in.Companies), shuffled(rng, in.Estates), shuffled(rng, in.Tallies)
		s.Disclosures, s.Governance, s.Events = shuffled(rng, in.Disclosures), shuffled(rng, in.Governance), shuffled(rng, in.Events)
		if !bytes.Equal(render(s), want) {
			t.Fatalf("shuffle %d changed the result", i)
		}
	}
}

func shuffled[T any](rng *rand.Rand, s []T) []T {
	out := slices.Clone(s)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
