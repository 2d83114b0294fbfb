package interchange

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/cputime"
	"github.com/propcredit/propcredit/internal/domain"
)

// BenchmarkDecode reads a generated city of 100,000 lines (mostly ratings, as real imports
// are) into a Set, and reports lines per second of wall time and of CPU time; run it with
// -cpu 1 for the one-core figure.
func BenchmarkDecode(b *testing.B) {
	input := mustEncode(generateDataset(100_000))
	lines := float64(bytes.Count(input, []byte("\n")))
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		start := cputime.Process()
		set := NewSet(domain.LangEN)
		if errs := Decode(bytes.NewReader(input), "city.jsonl", set, testValidator, domain.LangEN, nil); len(errs) > 0 {
			b.Fatal(errs[0])
		}
		cpu += cputime.Process() - start
	}
	b.ReportMetric(lines*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if cpu > 0 {
		b.ReportMetric(lines*float64(b.N)/cpu.Seconds(), "lines/cpu-s")
	}
}

// BenchmarkParseLine parses one rating, the line that dominates every import.
func BenchmarkParseLine(b *testing.B) {
	line := []byte(validLines[TypeRating])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLine(line, testValidator, domain.LangEN); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode writes the same generated city.
func BenchmarkEncode(b *testing.B) {
	ds := generateDataset(100_000)
	lines := ds.Len()
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
