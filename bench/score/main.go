// Command score measures `propcredit score` end to end on the embedded engine, for the city of
// the performance targets (5,000 companies, 20,000 estates, tallies of 2,000,000 ratings, 80,000
// disclosures, 10,000 credit records). It loads the city into a fresh data directory, then
// times, side by side:
//
//   - the reads alone: the store calls publication.Service.Input makes, one by one;
//   - the command's work: Input, scoring.Score and SaveDraft (publication.Service.Score).
//
// The tallies are inserted as tally documents rather than computed by importing 2,000,000
// ratings, which would take minutes (-load ratings does that instead). See bench/README.md,
// "Scoring end to end".
//
//	go run ./bench/score -scale 0.1
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/bench/import/city"
	"github.com/propcredit/propcredit/bench/internal/load"
	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

func main() {
	scale := flag.Float64("scale", 1, "size of the city relative to the target city")
	how := flag.String("load", "tallies", "how ratings get in: tallies (tally documents) or ratings (import every rating)")
	count := flag.Int("count", 1, "how many times to measure")
	flag.Parse()
	if *how != "tallies" && *how != "ratings" {
		fmt.Fprintln(os.Stderr, "score benchmark: -load must be tallies or ratings")
		os.Exit(2)
	}
	load.ExitOnError("score benchmark", run(context.Background(), os.Stdout, scaled(*scale), *how == "ratings", *count))
}

func scaled(f float64) city.Size {
	s := city.Issue
	n := func(v int) int { return max(1, int(float64(v)*f)) }
	return city.Size{Companies: n(s.Companies), Estates: n(s.Estates), Ratings: n(s.Ratings), Disclosures: n(s.Disclosures), Events: n(s.Events)}
}

func run(ctx context.Context, out io.Writer, size city.Size, withRatings bool, count int) error {
	store, data, done, err := load.TempStore(ctx, "propcredit-score-bench-", app.Private, "score")
	if err != nil {
		return err
	}
	defer done()

	want := size.Input()
	started := time.Now()
	ds := size.Dataset(withRatings)
	if _, err := store.DB.Import(ctx, ds, nil); err != nil {
		return err
	}
	if !withRatings {
		if err := insertTallies(ctx, data, want.Tallies); err != nil {
			return err
		}
	}
	how := "tally documents"
	if withRatings {
		how = fmt.Sprintf("%d ratings imported", size.Ratings)
	}
	fmt.Fprintf(out, "city: %d companies, %d estates, %d tallies (%s) of %d ratings, %d disclosures, %d governance records, %d credit records; loaded in %s\n",
		len(want.Companies), len(want.Estates), len(want.Tallies), how, size.Ratings, len(want.Disclosures), len(want.Governance), len(want.Events),
		time.Since(started).Round(100*time.Millisecond))
	if err := checkTallies(ctx, store.DB, want); err != nil {
		return err
	}

	period := city.Period.ID
	fmt.Fprintf(out, "%-4s | %8s %8s %8s %8s %8s %8s %8s | %8s | %8s %8s %8s | %8s\n", "run",
		"period", "compan.", "estates", "tallies", "disclos.", "govern.", "events", "reads",
		"input", "score", "save", "command")
	for i := range count {
		reads, err := timeReads(ctx, store.DB, period)
		if err != nil {
			return err
		}
		var sum time.Duration
		for _, r := range reads {
			sum += r
		}
		steps, res, err := timeCommand(ctx, store.DB, period)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := checkResults(res, want); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "%-4d | %8s %8s %8s %8s %8s %8s %8s | %8s | %8s %8s %8s | %8s\n", i+1,
			ms(reads[0]), ms(reads[1]), ms(reads[2]), ms(reads[3]), ms(reads[4]), ms(reads[5]), ms(reads[6]), ms(sum),
			ms(steps[0]), ms(steps[1]), ms(steps[2]), ms(steps[0]+steps[1]+steps[2]))
	}
	return nil
}

// timeReads times each store call that publication.Service.Input makes, in its order.
func timeReads(ctx context.Context, db *mongodb.DB, period string) ([7]time.Duration, error) {
	var took [7]time.Duration
	calls := []func() error{
		func() error { _, err := db.Period(ctx, period); return err },
		func() error { _, err := db.Companies(ctx); return err },
		func() error { _, err := db.Estates(ctx); return err },
		func() error { _, err := db.Tallies(ctx, period); return err },
		func() error { _, err := db.Disclosures(ctx, period); return err },
		func() error { _, err := db.Governance(ctx, period); return err },
		func() error { _, err := db.Events(ctx); return err },
	}
	for i, call := range calls {
		started := time.Now()
		if err := call(); err != nil {
			return took, err
		}
		took[i] = time.Since(started)
	}
	return took, nil
}

// timeCommand does what `propcredit score --period P` does after opening the store.
func timeCommand(ctx context.Context, db *mongodb.DB, period string) ([3]time.Duration, *scoring.Result, error) {
	var took [3]time.Duration
	started := time.Now()
	pubs := publication.New(db)
	in, err := pubs.Input(ctx, period)
	if err != nil {
		return took, nil, err
	}
	took[0] = time.Since(started)
	started = time.Now()
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		return took, nil, err
	}
	took[1] = time.Since(started)
	started = time.Now()
	if err := pubs.SaveDraft(ctx, in, res, "bench", time.Now()); err != nil {
		return took, nil, err
	}
	took[2] = time.Since(started)
	return took, res, nil
}

// insertTallies writes the city's tallies as the store keeps them: one base of the period in the
// tally journal (internal/mongodb/journal.go), through the engine's socket, as if the ratings
// behind them had been imported and compacted.
func insertTallies(ctx context.Context, dataDir string, tallies []scoring.Tally) error {
	uri, err := ferretdb.SocketURI(dataDir)
	if err != nil {
		return err
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(ctx)
	estates := bson.A{}
	for _, t := range tallies {
		sums := bson.D{}
		for d, dim := range scoring.Dimensions {
			sums = append(sums, bson.E{Key: dim.ID, Value: t.Sums[d]})
		}
		estates = append(estates, bson.D{{Key: "estate", Value: t.Estate}, {Key: "count", Value: t.Ratings}, {Key: "sums", Value: sums}})
	}
	base := bson.D{{Key: "_id", Value: city.Period.ID + "|1"}, {Key: "period", Value: city.Period.ID}, {Key: "gen", Value: 1},
		{Key: "at", Value: time.Now()}, {Key: "tallies", Value: estates}, {Key: "folded", Value: bson.A{}}}
	if _, err := client.Database(app.DatabaseName).Collection("tally_bases").InsertOne(ctx, base); err != nil {
		return fmt.Errorf("insert tallies: %w", err)
	}
	return nil
}

// checkTallies makes sure that the store gives back the city's tallies.
func checkTallies(ctx context.Context, db *mongodb.DB, want scoring.Input) error {
	stored, err := db.Tallies(ctx, want.Period.ID)
	if err != nil {
		return err
	}
	got := make([]scoring.Tally, len(stored))
	for i, t := range stored {
		got[i] = scoring.Tally{Estate: t.Estate, Ratings: t.Ratings, Sums: t.Sums.Array()}
	}
	if !slices.Equal(got, want.Tallies) {
		return errors.New("the stored tallies differ from the city's")
	}
	return nil
}

// checkResults makes sure that scoring the stored city gives what scoring the generated one
// gives, so that the store read everything the engine needs.
func checkResults(fromStore *scoring.Result, want scoring.Input) error {
	generated, err := scoring.Score(scoring.Default(), want)
	if err != nil {
		return err
	}
	a, err1 := scoring.MarshalExport(fromStore)
	b, err2 := scoring.MarshalExport(generated)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return errors.New("scoring the stored city gives other results than scoring the generated one")
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
