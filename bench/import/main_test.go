package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestRunSmallCity runs the benchmark on a small city: the first import inserts everything, the
// second changes nothing, and the tallies agree with the ratings afterwards (run fails
// otherwise).
func TestRunSmallCity(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 3000, t.TempDir(), true, true, true, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		`first import .* (\d+) new, 0 replaced, 0 unchanged`,
		`re-import .* 0 new, 0 replaced, \d+ unchanged`,
		`no drift`,
	} {
		if !regexp.MustCompile(want).Match(out.Bytes()) {
			t.Errorf("output does not match %q:\n%s", want, out.String())
		}
	}
}
