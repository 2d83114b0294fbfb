package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRunSmallCity runs the benchmark on a small city loaded both ways. run fails unless the
// store's tallies equal the generated city's and scoring what the store reads gives the same
// results as scoring the generated city; with ratings imported, that checks the import's
// tallies against scoringtest's own sums.
func TestRunSmallCity(t *testing.T) {
	for _, withRatings := range []bool{false, true} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, scaled(0.002), withRatings, 1); err != nil {
			t.Fatalf("with ratings %v: %v\n%s", withRatings, err, out.String())
		}
	}
}
