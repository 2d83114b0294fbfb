package scoring_test

import (
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/propcredit/propcredit/scoring"
)

// The only estate is the only rated one, so μ = m = (4.5 + 4)/2 = 4.25 and s = 4.25: S = 81.25.
// Two of four disclosures on time: D = 50. Score = 0.6·81.25 + 0.3·50 + 2.5 = 66.25.
func ExampleScore() {
	filed := time.Date(2026, 10, 10, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	in := scoring.Input{
		Period: scoring.Period{
			ID:                 "2026Q4",
			Start:              scoring.MustParseDate("2026-10-01"),
			End:                scoring.MustParseDate("2026-12-31"),
			DisclosureDeadline: scoring.MustParseDate("2026-10-15"),
		},
		Companies: []scoring.Company{{ID: "91370600MA3C000001", Name: "阳光物业服务有限公司"}},
		Estates:   []scoring.Estate{{ID: "E01", Name: "阳光花园", Company: "91370600MA3C000001", Households: 300}},
		Tallies: scoring.TallyRatings([]scoring.Rating{
			{Estate: "E01", Household: "1-101", SubmittedAt: filed, Scores: [6]int{5, 5, 5, 4, 4, 4}},
			{Estate: "E01", Household: "1-102", SubmittedAt: filed, Scores: [6]int{4, 4, 4, 4, 4, 4}},
		}),
		Disclosures: []scoring.Disclosure{
			{Estate: "E01", Category: "utilities", FiledAt: filed, Status: scoring.StatusVerified},
			{Estate: "E01", Category: "fees", FiledAt: filed, Status: scoring.StatusVerified},
		},
		Events: []scoring.Event{{ID: "EV1", Company: "91370600MA3C000001", Kind: scoring.KindGood,
			Points: big.NewRat(5, 2), Date: scoring.MustParseDate("2026-06-01")}},
	}
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := scoring.MarshalExport(res)
	os.Stdout.Write(out)
	// Output:
	// {
	//   "period": "2026Q4",
	//   "ruleset": "default@1",
	//   "grades": [
	//     {
	//       "company": "91370600MA3C000001",
	//       "name": "阳光物业服务有限公司",
	//       "score": 66.25,
	//       "grade": "B",
	//       "list": "none",
	//       "rank": 1,
	//       "components": {
	//         "satisfaction": 81.25,
	//         "disclosure": 50.0,
	//         "governance": 0.0,
	//         "bonus": 2.5,
	//         "deduction": 0.0
	//       },
	//       "estates": 1,
	//       "ratings": 2
	//     }
	//   ]
	// }
}
