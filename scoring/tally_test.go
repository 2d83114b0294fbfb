package scoring

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTallyRatings(t *testing.T) {
	ones := [6]int{1, 1, 1, 1, 1, 1}
	fives := [6]int{5, 5, 5, 5, 5, 5}
	mixed := [6]int{5, 4, 3, 2, 1, 5}
	ratings := []Rating{
		// E2 1-101 rated twice: the later one counts.
		{Estate: "E2", Household: "1-101", SubmittedAt: at("2026-10-05T09:00:00+08:00"), Seq: 9, Scores: ones},
		{Estate: "E2", Household: "1-101", SubmittedAt: at("2026-11-05T09:00:00+08:00"), Seq: 1, Scores: fives},
		// E2 1-102: the same instant written in two zones; the larger Seq counts.
		{Estate: "E2", Household: "1-102", SubmittedAt: at("2026-10-05T09:00:00+08:00"), Seq: 7, Scores: mixed},
		{Estate: "E2", Household: "1-102", SubmittedAt: at("2026-10-05T01:00:00Z"), Seq: 3, Scores: ones},
		// E2 1-103: same instant and Seq (the same submission twice): the larger scores count.
		{Estate: "E2", Household: "1-103", SubmittedAt: at("2026-10-05T09:00:00+08:00"), Seq: 5, Scores: ones},
		{Estate: "E2", Household: "1-103", SubmittedAt: at("2026-10-05T09:00:00+08:00"), Seq: 5, Scores: fives},
		// The same flat number in another estate is another household.
		{Estate: "E1", Household: "1-101", SubmittedAt: at("2026-10-06T09:00:00+08:00"), Seq: 2, Scores: ones},
	}
	want := []Tally{
		{Estate: "E1", Ratings: 1, Sums: [6]int64{1, 1, 1, 1, 1, 1}},
		{Estate: "E2", Ratings: 3, Sums: [6]int64{15, 14, 13, 12, 11, 15}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		shuffled := slices.Clone(ratings)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if diff := cmp.Diff(want, TallyRatings(shuffled)); diff != "" {
			t.Fatalf("TallyRatings (-want +got):\n%s", diff)
		}
	}
	if got := TallyRatings(nil); len(got) != 0 {
		t.Errorf("TallyRatings(nil) = %v", got)
	}
}
