package scoringtest

import (
	"testing"

	"github.com/propcredit/propcredit/scoring"
)

// Scored scores in with the default ruleset and returns the result and its detailed JSON
// (scoring.MarshalDetail), as a publication stores it; an error fails t.
func Scored(t testing.TB, in scoring.Input) (*scoring.Result, []byte) {
	t.Helper()
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		t.Fatal(err)
	}
	detail, err := scoring.MarshalDetail(res)
	if err != nil {
		t.Fatal(err)
	}
	return res, detail
}
