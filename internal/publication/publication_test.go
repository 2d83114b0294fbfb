package publication_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

var now = time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)

// city is one company with one estate and n ratings of all fours in 2026Q4.
func city(t *testing.T, n int) *mongodb.DB {
	t.Helper()
	db := mongodbtest.NewDB(t)
	ds := mongodbtest.OneEstate()
	for i := range n {
		ds.Ratings = append(ds.Ratings, domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("1-1-%03d", i),
			SubmittedAt: time.Date(2026, 10, 5, 9, 0, 0, 0, domain.Zone), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})})
	}
	if _, err := db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestScoreAndPublish walks the workflow: each step's result and error, in order, on one
// period.
func TestScoreAndPublish(t *testing.T) {
	ctx := context.Background()
	db := city(t, 30)
	svc := publication.New(db)

	// Nothing to publish before scoring.
	if _, err := svc.Publish(ctx, "2026Q4", "", "rev", now); derrors.Code(err) != derrors.NotFound {
		t.Fatalf("publish before scoring: %v, want NotFound", err)
	}
	if d, err := svc.DraftRecord(ctx, "2026Q4"); d != nil || err != nil {
		t.Fatalf("draft before scoring: %v, %v", d, err)
	}
	if _, err := svc.Score(ctx, "2025Q1", scoring.Default(), "rev", now, nil); derrors.Code(err) != derrors.NotFound {
		t.Fatalf("score of an unknown period: %v, want NotFound", err)
	}

	var steps []int
	res, err := svc.Score(ctx, "2026Q4", scoring.Default(), "rev", now, func(done int) { steps = append(steps, done) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, steps); diff != "" {
		t.Errorf("progress steps (-want +got):\n%s", diff)
	}
	draft, err := svc.Draft(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if draft.CreatedBy != "rev" || draft.Kind != publication.KindDraft || draft.Result.CityRatings != res.CityRatings || len(draft.Result.Grades) != 1 {
		t.Errorf("draft = %+v, result %+v", draft.Record, draft.Result)
	}

	// Publishing a draft the publisher did not see is refused; the one seen is published.
	if _, err := svc.Publish(ctx, "2026Q4", "stale", "rev", now); !errors.Is(err, publication.ErrDraftChanged) {
		t.Fatalf("publish a stale version: %v, want ErrDraftChanged", err)
	}
	first, err := svc.Publish(ctx, "2026Q4", draft.Version(), "rev", now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "admin", later, nil); err != nil {
		t.Fatal(err)
	}
	second, err := svc.Publish(ctx, "2026Q4", "", "admin", later)
	if err != nil {
		t.Fatal(err)
	}

	pubs, err := svc.Publications(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, By       string
		Seq          int
		SupersededAt time.Time
	}
	var got []row
	for _, p := range pubs {
		got = append(got, row{p.ID, p.CreatedBy, p.Seq, p.SupersededAt})
	}
	want := []row{{"pub|2026Q4|0001", "rev", 1, later}, {"pub|2026Q4|0002", "admin", 2, time.Time{}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("publications (-want +got):\n%s", diff)
	}
	if first.InputsHash != second.InputsHash {
		t.Errorf("the same data scored twice has two hashes: %s, %s", first.InputsHash, second.InputsHash)
	}
	whole, err := svc.Record(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail, err := whole.DetailJSON(); err != nil || len(detail) == 0 {
		t.Errorf("stored detail: %d bytes, %v", len(detail), err)
	}
}

// TestPublicationsRepairsAnInterruptedSupersede: a publisher that stopped after writing the
// new publication, before marking the old one, leaves two unmarked; the reader marks the
// older one superseded at the newer one's time, period by period.
func TestPublicationsRepairsAnInterruptedSupersede(t *testing.T) {
	ctx := context.Background()
	db := city(t, 0)
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	for i, p := range []struct {
		period string
		seq    int
		at     time.Time
	}{{"2026Q3", 1, at(0)}, {"2026Q3", 2, at(1)}, {"2026Q4", 1, at(2)}, {"2026Q4", 2, at(3)}, {"2026Q4", 3, at(4)}} {
		r := publication.Record{ID: publication.PublicationID(p.period, p.seq), Period: p.period, Kind: publication.KindPublication,
			Seq: p.seq, CreatedAt: p.at, InputsHash: fmt.Sprint(i)}
		if err := db.InsertRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InsertRecord(ctx, publication.Record{ID: publication.PublicationID("2026Q4", 3)}); derrors.Code(err) != derrors.Conflict {
		t.Errorf("a taken number: %v, want Conflict", err)
	}
	pubs, err := publication.New(db).Publications(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for _, p := range pubs {
		got = append(got, p.SupersededAt)
	}
	if diff := cmp.Diff([]time.Time{at(1), {}, at(3), at(4), {}}, got); diff != "" {
		t.Errorf("superseded at (-want +got):\n%s", diff)
	}
}

// TestConcurrentPublishersTakeDistinctNumbers: two publications at once get numbers 1 and 2,
// and the first ends superseded.
func TestConcurrentPublishersTakeDistinctNumbers(t *testing.T) {
	ctx := context.Background()
	db := city(t, 30)
	if _, err := publication.New(db).Score(ctx, "2026Q4", scoring.Default(), "rev", now, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	seqs := make([]int, 2)
	for i := range seqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each publisher is another server: its own connection.
			pub, err := publication.New(mongodbtest.Reconnect(t, db)).Publish(ctx, "2026Q4", "", fmt.Sprint("rev", i), now)
			if err != nil {
				t.Error(err)
			}
			seqs[i] = pub.Seq
		}()
	}
	wg.Wait()
	if seqs[0]+seqs[1] != 3 {
		t.Errorf("numbers %v, want 1 and 2", seqs)
	}
	pubs, _ := publication.New(db).Publications(ctx, "2026Q4")
	if len(pubs) != 2 || !pubs[0].Superseded() || pubs[1].Superseded() {
		t.Errorf("publications %+v", pubs)
	}
}

// TestInputCountsAcknowledgedRatings: a rating acknowledged a moment ago, whose tally change
// the writer has not flushed yet, is in the scoring input.
func TestInputCountsAcknowledgedRatings(t *testing.T) {
	ctx := context.Background()
	db := city(t, 2)
	_, err := db.SubmitRating(ctx, mongodb.Submission{Source: mongodb.SourceAPI, Rating: domain.Rating{Period: "2026Q4", Estate: "e1",
		Household: "9-9-999", SubmittedAt: time.Date(2026, 11, 5, 9, 0, 0, 0, domain.Zone), Scores: domain.ScoresOf([6]int{1, 2, 3, 4, 5, 1})}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := publication.New(db).Input(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	want := []scoring.Tally{{Estate: "e1", Count: 3, Sums: [6]int64{9, 10, 11, 12, 13, 9}}}
	if diff := cmp.Diff(want, in.Tallies); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
	hash1, _, _ := publication.InputsHash(in)
	in2, _ := publication.New(mongodbtest.Reconnect(t, db)).Input(ctx, "2026Q4")
	if hash2, _, _ := publication.InputsHash(in2); hash1 != hash2 {
		t.Errorf("the same data read twice hashes differently")
	}
}
