package scoring

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Properties that must hold for every city, checked with pgregory.net/rapid on small random
// cities whose values crowd the rules' boundaries. rapid shrinks a failing city to a small one.

func intRange(t *rapid.T, min, max int, label string) int {
	return rapid.IntRange(min, max).Draw(t, label)
}

func pick[T any](t *rapid.T, label string, choices ...T) T {
	return rapid.SampledFrom(choices).Draw(t, label)
}

// drawnCity is a random city with its ratings given one by one.
type drawnCity struct {
	in      Input
	ratings []Rating
}

func (c *drawnCity) input() Input {
	in := c.in
	in.Tallies = TallyRatings(c.ratings)
	return in
}

// drawCity draws a small city whose values crowd the rules' boundaries.
func drawCity(t *rapid.T) *drawnCity {
	c := &drawnCity{in: Input{Period: testPeriod}}
	companies := intRange(t, 1, 4, "companies")
	for i := range companies {
		id := fmt.Sprintf("C%d", i+1)
		c.in.Companies = append(c.in.Companies, Company{ID: id, Name: id})
		if intRange(t, 0, 2, "governance record") > 0 {
			c.in.Governance = append(c.in.Governance, Governance{Company: id,
				PartyOrg: intRange(t, 0, 1, "party_org") == 1, PartyInstructor: intRange(t, 0, 1, "party_instructor") == 1, JointMechanism: intRange(t, 0, 1, "joint_mechanism") == 1})
		}
	}
	filings := []string{
		"2026-10-01T00:00:00+08:00", "2026-10-15T23:59:59+08:00", "2026-10-15T16:00:00Z",
		"2026-11-14T23:59:59+08:00", "2026-11-14T16:00:00Z", "2027-01-10T00:00:00+08:00",
	}
	estates := intRange(t, 1, 7, "estates")
	for i := range estates {
		id := fmt.Sprintf("E%d", i+1)
		c.in.Estates = append(c.in.Estates, Estate{ID: id, Name: id, Company: fmt.Sprintf("C%d", intRange(t, 1, companies, "manager")),
			Households: pick(t, "households", 1, 7, 100, 999, 5000)})
		for j := range intRange(t, 0, 12, "ratings") {
			var r Rating
			r.Estate, r.Household, r.Seq = id, fmt.Sprintf("h%d", intRange(t, 1, 8, "household")), int64(j)
			r.SubmittedAt = at("2026-10-01T00:00:00+08:00").Add(timeHours(intRange(t, 0, 3, "hour")))
			for k := range r.Scores {
				r.Scores[k] = intRange(t, 1, 5, "score")
			}
			c.ratings = append(c.ratings, r)
		}
		for _, cat := range Categories {
			if intRange(t, 0, 5, "missing") == 0 {
				continue // missing
			}
			c.in.Disclosures = append(c.in.Disclosures, Disclosure{Estate: id, Category: cat.ID,
				FiledAt: at(pick(t, "filed_at", filings...)), Status: pick(t, "status", StatusVerified, StatusVerified, StatusPending, StatusRejected)})
		}
	}
	for i := range intRange(t, 0, 6, "events") {
		c.in.Events = append(c.in.Events, drawEvent(t, fmt.Sprintf("V%d", i+1), fmt.Sprintf("C%d", intRange(t, 1, companies, "event company")), pick(t, "kind", KindGood, KindBad)))
	}
	return c
}

func drawEvent(t *rapid.T, id, company, kind string) Event {
	ev := Event{
		ID: id, Company: company, Kind: kind,
		Points:    rat(pick(t, "points", "0.01", "0.5", "1", "2.5", "5", "9.995", "10", "15.006", "40", "120")),
		Date:      testPeriod.End.AddDays(intRange(t, -800, 10, "days from end")),
		ValidDays: pick(t, "valid_days", 0, 0, 1, 30, 365, 730),
	}
	ev.Veto = kind == KindBad && intRange(t, 0, 9, "veto") == 0
	if intRange(t, 0, 4, "repaired") == 0 {
		ev.RepairedOn = new(Date)
		*ev.RepairedOn = ev.Date.AddDays(intRange(t, -5, 400, "repaired after"))
	}
	return ev
}

func scoreOrFail(t *rapid.T, in Input) *Result {
	t.Helper()
	res, err := Score(Default(), in)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	return res
}

func TestPropertyScoreWithinBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		res := scoreOrFail(t, drawCity(t).input())
		for i, g := range res.Grades {
			if g.Exact.Score.Sign() < 0 || g.Exact.Score.Cmp(ratHundred) > 0 || g.Score < 0 || g.Score > 10000 {
				t.Fatalf("%s: score %s (exact %s) is outside [0, 100]", g.Company, g.Score, g.Exact.Score.RatString())
			}
			for name, c := range map[string]Fixed{"S": g.Components.Satisfaction, "D": g.Components.Disclosure, "G": g.Components.Governance} {
				if c < 0 || c > 10000 {
					t.Fatalf("%s: %s = %s is outside [0, 100]", g.Company, name, c)
				}
			}
			if g.Rank != i+1 || (g.List == ListBlack) != (g.Grade == "C") {
				t.Fatalf("%s: rank %d at %d, grade %s, list %s", g.Company, g.Rank, i+1, g.Grade, g.List)
			}
		}
	})
}

// Adding a 5-star rating never lowers any company's S, and so never lowers any score.
//
// Why this holds although μ moves: s_e = (Σr_e + K·μ)/(n_e + K). A new 5 in estate e adds
// 5/1 to a fraction that is at most 5, so it cannot lower it; replacing a household's older
// rating r ≤ 5 by 5 only adds 5 − r to the numerator. And μ, a mean of values ≤ 5, cannot fall
// when a 5 is added or an r is raised to 5; every s_e grows with μ because K > 0. So every
// estate's s_e, and every company's S, is non-decreasing — for every company, not only the one
// rated. What does NOT hold is "never lowers the rated company's rank": the rise of μ lifts
// companies with few ratings (whose s_e sit near μ) more than the rated company, and one can
// overtake it (see TestFiveStarRatingCanLowerRank).
func TestPropertyFiveStarRatingNeverLowersS(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCity(t)
		before := scoreOrFail(t, c.input())
		estate := c.in.Estates[intRange(t, 0, len(c.in.Estates)-1, "rated estate")].ID
		// A new household, or one that already rated (its newer rating replaces the old one).
		c.ratings = append(c.ratings, Rating{Estate: estate, Household: fmt.Sprintf("h%d", intRange(t, 1, 9, "rating household")),
			SubmittedAt: at("2026-12-01T00:00:00+08:00"), Scores: [6]int{5, 5, 5, 5, 5, 5}})
		after := scoreOrFail(t, c.input())
		for _, b := range before.Grades {
			a := after.Grade(b.Company)
			if a.Exact.Satisfaction.Cmp(b.Exact.Satisfaction) < 0 || a.Exact.Score.Cmp(b.Exact.Score) < 0 {
				t.Fatalf("%s: a 5-star rating in %s lowered S %s → %s, score %s → %s", b.Company, estate,
					b.Exact.Satisfaction.RatString(), a.Exact.Satisfaction.RatString(), b.Score, a.Score)
			}
		}
	})
}

// TestFiveStarRatingCanLowerRank shows that the property above cannot be strengthened to ranks:
// 5-star ratings for A raise μ, which lifts B (whose big estate is unrated, so its s_e is μ) more
// than A, and B overtakes A.
func TestFiveStarRatingCanLowerRank(t *testing.T) {
	city := func(fiveStars int64, deductionA *big.Rat) Input {
		in := Input{
			Period:    testPeriod,
			Companies: []Company{{ID: "A", Name: "A"}, {ID: "B", Name: "B"}},
			Estates: []Estate{
				{ID: "EA", Name: "EA", Company: "A", Households: 1000},
				{ID: "EB", Name: "EB", Company: "B", Households: 1000},
				{ID: "EX", Name: "EX", Company: "B", Households: 1},
			},
			// A: 200 ratings of 4 plus fiveStars ratings of 5. B: EB unrated, EX rated 2 by 200.
			Tallies: []Tally{uniform("EA", 200, 4), uniform("EX", 200, 2)},
		}
		in.Tallies[0].Ratings += fiveStars
		for d := range in.Tallies[0].Sums {
			in.Tallies[0].Sums[d] += 5 * fiveStars
		}
		if deductionA != nil {
			in.Events = []Event{{ID: "X", Company: "A", Kind: KindBad, Points: deductionA, Date: MustParseDate("2026-06-01")}}
		}
		return in
	}
	gap := func(r *Result) *big.Rat { // S_A − S_B
		return new(big.Rat).Sub(r.Grade("A").Exact.Satisfaction, r.Grade("B").Exact.Satisfaction)
	}
	g0, g1 := gap(mustScore(t, city(0, nil))), gap(mustScore(t, city(600, nil)))
	// Take from A's score the mean of 0.6·g0 and 0.6·g1, so that A leads before and trails after.
	deduction := new(big.Rat).Add(g0, g1)
	deduction.Mul(deduction, big.NewRat(3, 10))
	before, after := mustScore(t, city(0, deduction)), mustScore(t, city(600, deduction))
	if before.Grades[0].Company != "A" || after.Grades[0].Company != "B" {
		t.Fatalf("ranks before %s, %s; after %s, %s", before.Grades[0].Company, before.Grades[1].Company, after.Grades[0].Company, after.Grades[1].Company)
	}
	if after.Grade("A").Exact.Satisfaction.Cmp(before.Grade("A").Exact.Satisfaction) <= 0 {
		t.Fatalf("A's S did not rise")
	}
}

// Adding a bad credit record never raises its company's score, never improves its grade and
// never puts it on the red list.
func TestPropertyBadEventNeverRaisesScore(t *testing.T) {
	gradeOrder := map[string]int{"AAA": 5, "AA": 4, "A": 3, "B": 2, "C": 1}
	rapid.Check(t, func(t *rapid.T) {
		c := drawCity(t)
		in := c.input()
		before := scoreOrFail(t, in)
		g := before.Grades[intRange(t, 0, len(before.Grades)-1, "company")]
		in.Events = append(slices.Clone(in.Events), drawEvent(t, "NEW", g.Company, KindBad))
		a := scoreOrFail(t, in).Grade(g.Company)
		if a.Exact.Score.Cmp(g.Exact.Score) > 0 || gradeOrder[a.Grade] > gradeOrder[g.Grade] || (a.List == ListRed && g.List != ListRed) {
			t.Fatalf("%s: a bad record took it from %s %s %s to %s %s %s", g.Company, g.Score, g.Grade, g.List, a.Score, a.Grade, a.List)
		}
	})
}

// Shuffling every slice of the input changes nothing in the result.
func TestPropertyOrderIndependence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCity(t)
		want, err := MarshalDetail(scoreOrFail(t, c.input()))
		if err != nil {
			t.Fatalf("%v", err)
		}
		rng := rand.New(rand.NewPCG(uint64(intRange(t, 0, 1<<30, "shuffle seed")), 0))
		shuffleInput(rng, &c.in)
		shuffle(rng, c.ratings)
		got, err := MarshalDetail(scoreOrFail(t, c.input()))
		if err != nil {
			t.Fatalf("%v", err)
		}
		if string(got) != string(want) {
			t.Fatalf("the result depends on the input's order")
		}
	})
}

func shuffle[T any](rng *rand.Rand, s []T) {
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// shuffleInput shuffles copies of every slice of in.
func shuffleInput(rng *rand.Rand, in *Input) {
	in.Companies, in.Estates, in.Tallies = slices.Clone(in.Companies), slices.Clone(in.Estates), slices.Clone(in.Tallies)
	in.Disclosures, in.Governance, in.Events = slices.Clone(in.Disclosures), slices.Clone(in.Governance), slices.Clone(in.Events)
	shuffle(rng, in.Companies)
	shuffle(rng, in.Estates)
	shuffle(rng, in.Tallies)
	shuffle(rng, in.Disclosures)
	shuffle(rng, in.Governance)
	shuffle(rng, in.Events)
}
