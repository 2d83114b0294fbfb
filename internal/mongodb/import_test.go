package mongodb_test

import (
	"context"
	"fmt"
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
	if want := (mongodb.ImportStats{Inserted: ds.Len()}); stats != want {
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
	want := []mongodb.Tally{{Period: "2026Q4", Estate: "e1", Count: 2, Sums: mongodb.TallySums{Service: 6, Security: 7, Cleaning: 8, Greening: 9, Maintenance: 10, Transparency: 6}}}
	if diff := cmp.Diff(want, tallies); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
}

func TestImportRatingLaterSubmissionStands(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	ds := smallCity()
	if _, err := db.Import(ctx, ds, nil); err != nil {
		t.Fatal(err)
	}
	older, newer := ds.Ratings[0], ds.Ratings[0]
	older.SubmittedAt = older.SubmittedAt.Add(-time.Hour)
	older.Scores = domain.ScoresOf([6]int{1, 1, 1, 1, 1, 1})
	newer.SubmittedAt = newer.SubmittedAt.Add(time.Hour)
	newer.Scores = domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})
	for _, step := range []struct {
		name    string
		rating  domain.Rating
		want    mongodb.ImportStats
		service int64
	}{
		{"older is ignored", older, mongodb.ImportStats{Unchanged: 1}, 6},
		{"newer replaces", newer, mongodb.ImportStats{Replaced: 1}, 5},
	} {
		stats, err := db.Import(ctx, &domain.Dataset{Ratings: []domain.Rating{step.rating}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stats != step.want {
			t.Errorf("%s: stats = %+v, want %+v", step.name, stats, step.want)
		}
		tallies, _ := db.Tallies(ctx, "2026Q4")
		if tallies[0].Count != 2 || tallies[0].Sums.Service != step.service {
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
