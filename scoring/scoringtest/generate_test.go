package scoringtest

import (
	"math/big"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/scoring"
)

func TestGenerateCity(t *testing.T) {
	in := GenerateCity(42, 20, 80, 5_000, 400, 60)
	if len(in.Companies) != 20 || len(in.Estates) != 80 || len(in.Disclosures) != 400 || len(in.Events) != 60 {
		t.Fatalf("sizes: %d companies, %d estates, %d disclosures, %d events",
			len(in.Companies), len(in.Estates), len(in.Disclosures), len(in.Events))
	}
	var ratings int64
	for _, tally := range in.Tallies {
		ratings += tally.Ratings
	}
	if ratings != 5_000 {
		t.Errorf("tallies count %d ratings, want 5000", ratings)
	}
	ratEqual := cmp.Comparer(func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })
	if diff := cmp.Diff(in, GenerateCity(42, 20, 80, 5_000, 400, 60), ratEqual); diff != "" {
		t.Errorf("the same seed made another city (-first +second):\n%s", diff)
	}
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Grades) != 20 {
		t.Errorf("%d companies graded, want all 20", len(res.Grades))
	}
}

// TestGenerateRatingsMatchesTallies: a database loaded with GenerateRatings scores the same city.
func TestGenerateRatingsMatchesTallies(t *testing.T) {
	in := GenerateCity(7, 10, 40, 3_000, 160, 20)
	ratings := slices.Collect(GenerateRatings(7, 10, 40, 3_000))
	if len(ratings) != 3_000 {
		t.Fatalf("%d ratings, want 3000", len(ratings))
	}
	if diff := cmp.Diff(in.Tallies, scoring.TallyRatings(ratings)); diff != "" {
		t.Errorf("TallyRatings(GenerateRatings) differs from GenerateCity's tallies (-want +got):\n%s", diff)
	}
}
