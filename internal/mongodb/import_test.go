package mongodb_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

const companyID = "91440300MA5D000001"

func smallCity() *domain.Dataset {
	at := time.Date(2026, 10, 5, 9, 30, 0, 0, domain.Zone)
	return &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "东湖区"}},
		Companies: []domain.Company{{ID: companyID, Name: "万润物业"}},
		Estates:   []domain.Estate{{ID: "e1", Name: "翠竹花园", District: "d1", Company: companyID, Households: 100, Category: "commodity"}},
		Periods:   []domain.Period{{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"}},
		Ratings: []domain.Rating{
			{Period: "2026Q4", Estate: "e1", Household: "1-1-101", SubmittedAt: at, Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})},
			{Period: "2026Q4", Estate: "e1", Household: "1-1-102", SubmittedAt: at, Scores: domain.ScoresOf([6]int{1, 2, 3, 4, 5, 1}), Comment: "<b>差</b>"},
		},
		Disclosures: []domain.Disclosure{{Period: "2026Q4", Estate: "e1", Category: "fees", FiledAt: at, Status: "verified", Data: []byte(`{"collected_fen":100}`)}},
		Governance:  []domain.Governance{{Period: "2026Q4", Company: companyID, PartyOrg: true}},
		Events:      []domain.Event{{ID: "ev1", Company: companyID, Kind: "bad", Points: "2.5", Date: "2026-01-02", Description: "消防通道堵塞"}},
	}
}

func TestImportIsIdempotentAndKeepsTallies(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	ds := smallCity()
	stats, err := db.Import(ctx, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (domain.ImportStats{Inserted: ds.Len()}); stats != want {
		t.Errorf("first import stats = %+v, want %+v", stats, want)
	}
	stats, err = db.Import(ctx, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Inserted != 0 || stats.Replaced != 0 {
		t.Errorf("second import changed data: %+v", stats)
	}
	got, err := db.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ds, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("stored data differs (-imported +stored):\n%s", diff)
	}
	tallies, err := db.Tallies(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Tally{{Period: "2026Q4", Estate: "e1", Ratings: 2, Sums: domain.TallySums{Service: 6, Security: 7, Cleaning: 8, Greening: 9, Maintenance: 10, Transparency: 6}}}
	if diff := cmp.Diff(want, tallies); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
}

func TestImportRatingLaterSubmissionStands(t *testing.T) {
	ctx := context.Background()
	ds := smallCity()
	db := mongodbtest.NewDBWith(t, ds)
	older, newer := ds.Ratings[0], ds.Ratings[0]
	older.SubmittedAt = older.SubmittedAt.Add(-time.Hour)
	older.Scores = domain.ScoresOf([6]int{1, 1, 1, 1, 1, 1})
	newer.SubmittedAt = newer.SubmittedAt.Add(time.Hour)
	newer.Scores = domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})
	for _, step := range []struct {
		name    string
		rating  domain.Rating
		want    domain.ImportStats
		service int64
	}{
		{"older is ignored", older, domain.ImportStats{Unchanged: 1}, 6},
		{"newer replaces", newer, domain.ImportStats{Replaced: 1}, 5},
	} {
		stats, err := db.Import(ctx, &domain.Dataset{Ratings: []domain.Rating{step.rating}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stats != step.want {
			t.Errorf("%s: stats = %+v, want %+v", step.name, stats, step.want)
		}
		tallies, _ := db.Tallies(ctx, "2026Q4")
		if tallies[0].Ratings != 2 || tallies[0].Sums.Service != step.service {
			t.Errorf("%s: tally = %+v, want count 2, service sum %d", step.name, tallies[0], step.service)
		}
	}
	drift, err := db.VerifyTallies(ctx, false)
	if err != nil || len(drift) != 0 {
		t.Errorf("VerifyTallies = %+v, %v; want no drift", drift, err)
	}
}

func TestImportReplacesMoreThanOneHundred(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := mongodbtest.NewDB(t)
	ds := &domain.Dataset{}
	for i := 0; i < 250; i++ {
		ds.Districts = append(ds.Districts, domain.District{ID: fmt.Sprintf("d%03d", i), Name: "区"})
	}
	if _, err := db.Import(ctx, ds, nil); err != nil {
		t.Fatal(err)
	}
	for i := range ds.Districts {
		ds.Districts[i].Name = "新区"
	}
	stats, err := db.Import(ctx, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Replaced != 250 {
		t.Errorf("stats = %+v, want 250 replaced", stats)
	}
}

// ratingsOf makes n ratings of estate, households h0000 on, whose scores depend on the household.
func ratingsOf(estate string, from, n int, at time.Time) []domain.Rating {
	out := make([]domain.Rating, n)
	for i := range out {
		h := from + i
		out[i] = domain.Rating{Period: "2026Q4", Estate: estate, Household: fmt.Sprintf("h%04d", h), SubmittedAt: at,
			Scores: domain.ScoresOf([6]int{1 + h%5, 1 + h/5%5, 1 + h/25%5, 5, 4, 1 + h%3})}
	}
	return out
}

// talliesOf sums ratings the slow, obvious way.
func talliesOf(ratings []domain.Rating) []domain.Tally {
	byEstate := map[string]*domain.Tally{}
	for _, r := range ratings {
		t := byEstate[r.Estate]
		if t == nil {
			t = &domain.Tally{Period: r.Period, Estate: r.Estate}
			byEstate[r.Estate] = t
		}
		t.Ratings++
		t.Sums.Service += int64(r.Scores.Service)
		t.Sums.Security += int64(r.Scores.Security)
		t.Sums.Cleaning += int64(r.Scores.Cleaning)
		t.Sums.Greening += int64(r.Scores.Greening)
		t.Sums.Maintenance += int64(r.Scores.Maintenance)
		t.Sums.Transparency += int64(r.Scores.Transparency)
	}
	var out []domain.Tally
	for _, t := range byEstate {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Estate < out[j].Estate })
	return out
}

func checkTallies(t *testing.T, db *mongodb.DB, want []domain.Tally) {
	t.Helper()
	ctx := context.Background()
	got, err := db.Tallies(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("VerifyTallies = %+v, %v; want no drift", drift, err)
	}
}

// importCounting imports ds and checks that progress ends at every record.
func importCounting(t *testing.T, db *mongodb.DB, ds *domain.Dataset) domain.ImportStats {
	t.Helper()
	last := 0
	stats, err := db.Import(context.Background(), ds, func(done int) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != ds.Len() {
		t.Errorf("progress ended at %d, want %d", last, ds.Len())
	}
	return stats
}

func TestImportCreatesNewTalliesAndAddsToStoredOnes(t *testing.T) {
	db := mongodbtest.NewDB(t)
	ds := smallCity()
	importCounting(t, db, ds)
	e2 := ds.Estates[0]
	e2.ID = "e2"
	more := &domain.Dataset{
		Estates: []domain.Estate{e2},
		Ratings: append(ratingsOf("e1", 0, 30, ds.Ratings[0].SubmittedAt), ratingsOf("e2", 0, 20, ds.Ratings[0].SubmittedAt)...),
	}
	if stats := importCounting(t, db, more); stats != (domain.ImportStats{Inserted: 51}) {
		t.Errorf("stats = %+v, want 51 inserted", stats)
	}
	checkTallies(t, db, talliesOf(append(more.Ratings, ds.Ratings...)))
}

// TestImportAgainComparesAndChangesOnlyWhatChanged imports more ratings than fit one batch,
// then the same again, then a changed copy: the second import finds the first batch refused
// and compares the rest without trying to insert them.
func TestImportAgainComparesAndChangesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	at := time.Date(2026, 10, 20, 8, 0, 0, 0, domain.Zone)
	base := smallCity()
	base.Ratings = append(ratingsOf("e1", 0, 1500, at), ratingsOf("e1", 2000, 1000, at)...)
	if stats := importCounting(t, db, base); stats != (domain.ImportStats{Inserted: base.Len()}) {
		t.Fatalf("first import: %+v, want %d inserted", stats, base.Len())
	}
	if stats := importCounting(t, db, base); stats != (domain.ImportStats{Unchanged: base.Len()}) {
		t.Fatalf("same again: %+v, want %d unchanged", stats, base.Len())
	}

	changed := smallCity()
	changed.Districts[0].Name = "新东湖区"
	changed.Districts = append(changed.Districts, domain.District{ID: "d2", Name: "西湖区"})
	e2 := changed.Estates[0]
	e2.ID = "e2"
	changed.Estates = append(changed.Estates, e2)
	changed.Ratings = append(ratingsOf("e1", 0, 1500, at), ratingsOf("e1", 2000, 1000, at)...)
	want := slices.Clone(changed.Ratings) // what should be counted afterwards
	for i := range changed.Ratings {
		switch i % 10 {
		case 0: // revised later: replaces
			changed.Ratings[i].SubmittedAt = at.Add(time.Hour)
			changed.Ratings[i].Scores.Service = 6 - changed.Ratings[i].Scores.Service
			changed.Ratings[i].Comment = "改了"
			want[i] = changed.Ratings[i]
		case 5: // an older rating: ignored
			changed.Ratings[i].SubmittedAt = at.Add(-time.Hour)
			changed.Ratings[i].Scores.Service = 1
		}
	}
	// New households both in the first batch (among refused inserts) and after it.
	added := append(ratingsOf("e1", 1500, 40, at), ratingsOf("e2", 0, 60, at)...)
	changed.Ratings = append(append(added[:20:20], changed.Ratings...), added[20:]...)
	want = append(want, added...)

	stats := importCounting(t, db, changed)
	wantStats := domain.ImportStats{Inserted: 1 + 1 + 100, Replaced: 1 + 250}
	wantStats.Unchanged = changed.Len() - wantStats.Inserted - wantStats.Replaced
	if stats != wantStats {
		t.Errorf("changed import: %+v, want %+v", stats, wantStats)
	}
	got, err := db.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Key() < want[j].Key() })
	if diff := cmp.Diff(want, got.Ratings, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("counted ratings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(changed.Districts, got.Districts); diff != "" {
		t.Errorf("districts (-want +got):\n%s", diff)
	}
	if versions, err := db.RatingVersions(ctx, want[0].Key()); err != nil || len(versions) != 2 {
		t.Errorf("versions of a revised rating: %d, %v; want the old and the new", len(versions), err)
	}
	checkTallies(t, db, talliesOf(want))
}

// TestImportFindsStoredRecordsAfterTheProbe stores ratings that the probe does not meet but
// later commands do, while two are in flight: each stored one is counted once as unchanged,
// each new one inserted once, and the tallies add up.
func TestImportFindsStoredRecordsAfterTheProbe(t *testing.T) {
	db := mongodbtest.NewDB(t)
	at := time.Date(2026, 10, 20, 8, 0, 0, 0, domain.Zone)
	first := smallCity()
	first.Ratings = nil
	for h := 500; h < 4000; h += 700 { // stored: scattered blocks of 300 after the probe
		first.Ratings = append(first.Ratings, ratingsOf("e1", h, 300, at)...)
	}
	if stats := importCounting(t, db, first); stats != (domain.ImportStats{Inserted: first.Len()}) {
		t.Fatalf("first import: %+v", stats)
	}
	all := smallCity()
	all.Ratings = ratingsOf("e1", 0, 4000, at)
	stored := len(first.Ratings)
	want := domain.ImportStats{Inserted: len(all.Ratings) - stored, Unchanged: all.Len() - len(all.Ratings) + stored}
	if stats := importCounting(t, db, all); stats != want {
		t.Errorf("second import: %+v, want %+v", stats, want)
	}
	checkTallies(t, db, talliesOf(all.Ratings))
}

// TestImportInterruptedIsRepairedAndCompleted stops an import after its first batch of ratings:
// the journal intent it leaves is recovered once its writer is taken for dead, and importing
// again completes the data.
func TestImportInterruptedIsRepairedAndCompleted(t *testing.T) {
	db := mongodbtest.NewDB(t)
	ds := smallCity()
	ds.Ratings = ratingsOf("e1", 0, 3000, ds.Ratings[0].SubmittedAt)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	others := ds.Len() - len(ds.Ratings)
	_, err := db.Import(ctx, ds, func(done int) {
		if done > others {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("interrupted import reported no error")
	}
	bg := context.Background()
	if drift, err := db.VerifyTallies(bg, false); err != nil || len(drift) == 0 {
		t.Fatalf("verify found drift %+v, %v; want the ratings of the unfinished journal", drift, err)
	}
	mongodb.SetJournalGrace(db, 0)
	if err := db.CompactTallies(bg); err != nil {
		t.Fatal(err)
	}
	checkTallies(t, db, talliesOf(ds.Ratings[:countStored(t, db)]))

	stats := importCounting(t, db, ds)
	if stats.Inserted+stats.Unchanged != ds.Len() || stats.Inserted == 0 || stats.Replaced != 0 {
		t.Errorf("completing import: %+v, want the rest inserted and nothing replaced", stats)
	}
	checkTallies(t, db, talliesOf(ds.Ratings))
}

// countStored is how many ratings are stored; an interrupted import writes a prefix.
func countStored(t *testing.T, db *mongodb.DB) int {
	t.Helper()
	got, err := db.Dataset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(got.Ratings)
}
