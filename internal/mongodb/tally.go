package mongodb

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
)

// A Tally is the running sum of the counted ratings of one estate in one period, so that
// scoring reads a few documents per period instead of every rating. It is kept in the tally
// journal (journal.go), which stays right with any number of writers and after any crash.
type Tally struct {
	Period string    `bson:"period"`
	Estate string    `bson:"estate"`
	Count  int64     `bson:"count"`
	Sums   TallySums `bson:"sums"`
}

// TallySums are per-dimension sums, in the order of domain.Dimensions.
type TallySums struct {
	Service      int64 `bson:"service"`
	Security     int64 `bson:"security"`
	Cleaning     int64 `bson:"cleaning"`
	Greening     int64 `bson:"greening"`
	Maintenance  int64 `bson:"maintenance"`
	Transparency int64 `bson:"transparency"`
}

// Array returns the sums in the canonical dimension order.
func (s TallySums) Array() [6]int64 {
	return [6]int64{s.Service, s.Security, s.Cleaning, s.Greening, s.Maintenance, s.Transparency}
}

func tallyKey(period, estate string) string { return period + "|" + estate }

// tallyDelta accumulates changes to tallies in memory before they are written.
type tallyDelta map[string]*Tally

// add adds o's count and sums to t.
func (t *Tally) add(o *Tally) {
	t.Count += o.Count
	t.Sums.Service += o.Sums.Service
	t.Sums.Security += o.Sums.Security
	t.Sums.Cleaning += o.Sums.Cleaning
	t.Sums.Greening += o.Sums.Greening
	t.Sums.Maintenance += o.Sums.Maintenance
	t.Sums.Transparency += o.Sums.Transparency
}

func (d tallyDelta) add(period, estate string, s domain.Scores, sign int64) {
	key := tallyKey(period, estate)
	t := d[key]
	if t == nil {
		t = &Tally{Period: period, Estate: estate}
		d[key] = t
	}
	t.Count += sign
	t.Sums.Service += sign * int64(s.Service)
	t.Sums.Security += sign * int64(s.Security)
	t.Sums.Cleaning += sign * int64(s.Cleaning)
	t.Sums.Greening += sign * int64(s.Greening)
	t.Sums.Maintenance += sign * int64(s.Maintenance)
	t.Sums.Transparency += sign * int64(s.Transparency)
}

func optsProjection(fields ...string) *options.FindOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 1})
	}
	return options.Find().SetProjection(p)
}

func optsExclude(fields ...string) *options.FindOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 0})
	}
	return options.Find().SetProjection(p)
}
