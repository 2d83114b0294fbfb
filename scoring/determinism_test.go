package scoring

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"
)

// TestShuffledCityGivesIdenticalBytes: every permutation of every input slice, ratings included,
// gives byte-identical exports, details and explanations.
func TestShuffledCityGivesIdenticalBytes(t *testing.T) {
	data, err := os.ReadFile("testdata/city_small.json")
	if err != nil {
		t.Fatal(err)
	}
	var city cityFile
	if err := json.Unmarshal(data, &city); err != nil {
		t.Fatal(err)
	}
	render := func(c cityFile) []byte {
		in := c.Input
		in.Tallies = TallyRatings(c.Ratings)
		res := mustScore(t, in)
		var out bytes.Buffer
		for _, marshal := range []func(*Result) ([]byte, error){MarshalExport, MarshalDetail} {
			b, err := marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
		}
		for _, g := range res.Grades {
			text, err := Explain(res, Default(), g.Company)
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString(text)
		}
		return out.Bytes()
	}
	want := render(city)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 200 {
		shuffled := city
		shuffleInput(rng, &shuffled.Input)
		shuffled.Ratings = append([]Rating(nil), city.Ratings...)
		shuffle(rng, shuffled.Ratings)
		if got := render(shuffled); !bytes.Equal(got, want) {
			t.Fatalf("shuffle %d changed the output", i)
		}
	}
}
