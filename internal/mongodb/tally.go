package mongodb

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/domain"
)

// Tally is the running sum of one estate's counted ratings in one period. It is kept in the
// tally journal (journal.go), which stays right with any number of writers and after any crash.
type Tally = domain.Tally

func tallyKey(period, estate string) string { return period + "|" + estate }

// tallyDelta accumulates changes to tallies in memory before they are written.
type tallyDelta map[string]*Tally

func (d tallyDelta) add(period, estate string, s domain.Scores, sign int64) {
	key := tallyKey(period, estate)
	t := d[key]
	if t == nil {
		t = &Tally{Period: period, Estate: estate}
		d[key] = t
	}
	t.AddRating(s, sign)
}

func optsProjection(fields ...string) *options.FindOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 1})
	}
	return options.Find().SetProjection(p)
}

func optsOneExclude(fields ...string) *options.FindOneOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 0})
	}
	return options.FindOne().SetProjection(p)
}

func optsExclude(fields ...string) *options.FindOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 0})
	}
	return options.Find().SetProjection(p)
}
