package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func newFiling(data string, at time.Time) filing.NewFiling {
	return filing.NewFiling{Period: "2026Q4", Estate: "e1", Category: "parking", Data: []byte(data),
		FiledBy: "wanrun", Source: filing.FiledWeb, At: at}
}

// step is what the current filing looks like after a step of the workflow.
type step struct {
	Version, Draft int
	Status         string
	Data           string
	Replaced       bool
}

func current(t *testing.T, db *mongodb.DB) step {
	t.Helper()
	f, err := db.CurrentFiling(context.Background(), "2026Q4", "e1", "parking")
	if err != nil {
		t.Fatal(err)
	}
	return step{Version: f.Version, Draft: f.Draft, Status: f.Status, Data: string(f.Data)}
}

// A re-filing before review replaces the draft; after review it is the next version, and the
// reviewed versions are kept with their decisions. Scoring's reader sees the current filing.
func TestFilingDraftsVersionsAndReviews(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	day := time.Date(2026, 10, 10, 9, 0, 0, 0, domain.Zone)
	file := func(data string, at time.Time) step {
		t.Helper()
		res, err := db.FileDisclosure(ctx, newFiling(data, at))
		if err != nil {
			t.Fatal(err)
		}
		got := current(t, db)
		got.Replaced = res.ReplacedDraft
		return got
	}
	decide := func(version, draft int, status, reason string) error {
		_, err := db.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking",
			Version: version, Draft: draft, Status: status, Reason: reason, By: "reviewer1", At: day.Add(48 * time.Hour)})
		return err
	}

	if diff := cmp.Diff(step{1, 1, "pending", `{"a":1}`, false}, file(`{"a":1}`, day)); diff != "" {
		t.Errorf("first filing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(step{1, 2, "pending", `{"a":2}`, true}, file(`{"a":2}`, day.Add(time.Hour))); diff != "" {
		t.Errorf("re-filing before review (-want +got):\n%s", diff)
	}
	if err := decide(1, 1, domain.StatusVerified, ""); !errors.Is(err, filing.ErrFilingChanged) {
		t.Errorf("deciding on the replaced draft: %v, want ErrFilingChanged", err)
	}
	if err := decide(1, 2, domain.StatusRejected, "  "); derrors.Code(err) != derrors.Invalid {
		t.Errorf("rejecting without a reason: %v, want Invalid", err)
	}
	if err := decide(1, 2, domain.StatusRejected, "停车收入与去向不符"); err != nil {
		t.Fatal(err)
	}
	if err := decide(1, 2, domain.StatusVerified, ""); !errors.Is(err, filing.ErrReviewed) {
		t.Errorf("deciding twice: %v, want ErrReviewed", err)
	}
	if got := current(t, db); got.Status != domain.StatusRejected {
		t.Errorf("after rejection: %+v", got)
	}
	if diff := cmp.Diff(step{2, 1, "pending", `{"a":3}`, false}, file(`{"a":3}`, day.Add(72*time.Hour))); diff != "" {
		t.Errorf("re-filing after review (-want +got):\n%s", diff)
	}
	if err := decide(2, 1, domain.StatusVerified, ""); err != nil {
		t.Fatal(err)
	}

	// What scoring and export read: the current filing, as a plain disclosure.
	ds, err := db.Disclosures(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	var parking *domain.Disclosure
	for i := range ds {
		if ds[i].Category == "parking" {
			parking = &ds[i]
		}
	}
	if parking == nil || parking.Status != domain.StatusVerified || string(parking.Data) != `{"a":3}` || !parking.FiledAt.Equal(day.Add(72*time.Hour)) {
		t.Errorf("Disclosures = %+v", parking)
	}
	// And what export writes: the plain record, without the workflow's fields.
	all, err := db.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all.Disclosures {
		if d.Category == "parking" && !cmp.Equal(d, *parking) {
			t.Errorf("exported %+v, want %+v", d, *parking)
		}
	}

	history, err := db.FilingHistory(ctx, "2026Q4", "e1", "parking")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range history {
		got = append(got, strings.Join([]string{h.Status, string(h.Data), h.Review.Reason, h.Review.By}, " "))
	}
	if diff := cmp.Diff([]string{`rejected {"a":2} 停车收入与去向不符 reviewer1`, `verified {"a":3}  reviewer1`}, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	subs, err := db.FilingSubmissions(ctx, "2026Q4", "e1", "parking")
	if err != nil || len(subs) != 3 || string(subs[0].Data) != `{"a":1}` {
		t.Errorf("submissions = %+v, %v; want all three, the replaced draft first", subs, err)
	}
}

// Concurrent reviewers: exactly one decision is recorded.
func TestOneDecisionPerVersion(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	if _, err := db.FileDisclosure(ctx, newFiling(`{}`, time.Now())); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := domain.StatusVerified
			if i%2 == 1 {
				status = domain.StatusRejected
			}
			_, errs[i] = db.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking",
				Version: 1, Draft: 1, Status: status, Reason: "x", By: "r", At: time.Now()})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, filing.ErrReviewed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	history, _ := db.FilingHistory(ctx, "2026Q4", "e1", "parking")
	if ok != 1 || len(history) != 1 || current(t, db).Status != history[0].Status {
		t.Errorf("%d decisions succeeded, history %+v, current %+v", ok, history, current(t, db))
	}
}

// An import that rewrites a reviewed record (version 0, no workflow fields) does not make the
// next filing collide with the history already kept.
func TestFilingAfterImportKeepsHistory(t *testing.T) {
	ctx := context.Background()
	city := smallCity()
	db := mongodbtest.NewDBWith(t, city)
	at := time.Date(2026, 10, 10, 9, 0, 0, 0, domain.Zone)
	if _, err := db.FileDisclosure(ctx, newFiling(`{"v":1}`, at)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking",
		Version: 1, Draft: 1, Status: domain.StatusVerified, By: "r", At: at}); err != nil {
		t.Fatal(err)
	}
	city.Disclosures = []domain.Disclosure{{Period: "2026Q4", Estate: "e1", Category: "parking", FiledAt: at, Status: "pending", Data: []byte(`{"v":0}`)}}
	if _, err := db.Import(ctx, city, nil); err != nil {
		t.Fatal(err)
	}
	if got := current(t, db); got.Version != 0 || got.Status != "pending" {
		t.Fatalf("after import: %+v", got)
	}
	res, err := db.FileDisclosure(ctx, newFiling(`{"v":2}`, at))
	if err != nil {
		t.Fatal(err)
	}
	if res.Filing.Version != 2 || res.ReplacedDraft {
		t.Errorf("filing after import: version %d, replaced %v; want version 2, a new version", res.Filing.Version, res.ReplacedDraft)
	}
	if _, err := db.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking",
		Version: 2, Draft: 1, Status: domain.StatusVerified, By: "r", At: at}); err != nil {
		t.Errorf("deciding the new version: %v", err)
	}
}

func TestObjectionFlow(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, domain.Zone)
	no := filing.NewObjection{Period: "2026Q4", Estate: "e1", Category: "fees", OpenPeriod: "2026Q4", Household: "1-1-101",
		Text: "这笔分摊不对", At: now, IPHash: "h"}
	o, err := db.FileObjection(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "o|e1|2026Q4|1" || o.Household != "1-1-101" {
		t.Errorf("objection = %+v", o)
	}
	missing := no
	missing.Category = "parking"
	if _, err := db.FileObjection(ctx, missing); derrors.Code(err) != derrors.NotFound {
		t.Errorf("objection to a disclosure not filed: %v, want NotFound", err)
	}
	long := no
	long.Text = strings.Repeat("长", 1001)
	if _, err := db.FileObjection(ctx, long); derrors.Code(err) != derrors.Invalid {
		t.Errorf("1001 characters: %v, want Invalid", err)
	}
	for i := 2; i <= filing.MaxObjectionsPerHousehold; i++ {
		if _, err := db.FileObjection(ctx, no); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.FileObjection(ctx, no); !errors.Is(err, filing.ErrTooManyObjections) {
		t.Errorf("objection %d of one household: %v, want ErrTooManyObjections", filing.MaxObjectionsPerHousehold+1, err)
	}

	if _, err := db.AnswerObjection(ctx, o.ID, "已复核，分摊按面积计算", "wanrun", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AnswerObjection(ctx, o.ID, "补充：附计算表", "wanrun", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseObjection(ctx, o.ID, "已核实", "reviewer1", now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseObjection(ctx, o.ID, "again", "reviewer1", now); !errors.Is(err, filing.ErrObjectionClosed) {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := db.AnswerObjection(ctx, o.ID, "late", "wanrun", now); !errors.Is(err, filing.ErrObjectionClosed) {
		t.Errorf("answering a closed objection: %v", err)
	}
	if _, err := db.AnswerObjection(ctx, "o|e1|2026Q4|99", "x", "wanrun", now); derrors.Code(err) != derrors.NotFound {
		t.Errorf("answering nothing: %v", err)
	}

	list, err := db.EstateObjections(ctx, "e1", "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.AllObjections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != filing.MaxObjectionsPerHousehold || len(all) != len(list) {
		t.Fatalf("%d objections by estate, %d in all", len(list), len(all))
	}
	for _, got := range []filing.Objection{list[0], all[len(all)-1]} {
		if got.ID != o.ID || got.Open() || len(got.Answers) != 2 || got.Answers[1].Text != "补充：附计算表" || got.Closing.Text != "已核实" {
			t.Errorf("objection read back = %+v", got)
		}
	}
	if !list[1].Open() {
		t.Errorf("an unanswered objection is closed: %+v", list[1])
	}
}

// benchCity has n estates with three of their four disclosures of 2026Q4 filed (3n records):
// filing parking inserts, re-filing fees replaces, which on the embedded engine scans the
// collection.
func benchCity(n int) *domain.Dataset {
	ds := smallCity()
	ds.Estates, ds.Disclosures, ds.Ratings = nil, nil, nil
	at := time.Date(2026, 10, 5, 9, 0, 0, 0, domain.Zone)
	for i := range n {
		id := fmt.Sprintf("e%05d", i)
		ds.Estates = append(ds.Estates, domain.Estate{ID: id, Name: id, District: "d1", Company: companyID, Households: 100, Category: "commodity"})
		for _, c := range []string{"utilities", "fees", "maintenance_fund"} {
			ds.Disclosures = append(ds.Disclosures, domain.Disclosure{Period: "2026Q4", Estate: id, Category: c, FiledAt: at, Status: "pending", Data: []byte(`{"x":1}`)})
		}
	}
	return ds
}

// go test -run XXX -bench Disclosure -benchtime 20x ./internal/mongodb/
func BenchmarkDisclosureWorkflow(b *testing.B) {
	ctx := context.Background()
	const estates = 7000 // 21,000 disclosures
	db := mongodbtest.NewDBWith(b, benchCity(estates))
	data := []byte(`{"spaces":{"total":1,"rented":0,"sold":0,"temporary":0},"income_fen":0,"income":[],"uses":[]}`)
	at := time.Date(2026, 10, 10, 9, 0, 0, 0, domain.Zone)
	// The unit of cost on a shared machine: one read by _id.
	b.Run("baseline-read-by-id", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Estate(ctx, "e00042"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// fileEach files category for the estates in turn, one per iteration.
	fileEach := func(category string) func(b *testing.B) {
		i := 0
		return func(b *testing.B) {
			for b.Loop() {
				nf := filing.NewFiling{Period: "2026Q4", Estate: fmt.Sprintf("e%05d", i%estates), Category: category, Data: data, FiledBy: "b", Source: filing.FiledAPI, At: at}
				i++
				if _, err := db.FileDisclosure(ctx, nf); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("file-first-version", fileEach("parking"))
	b.Run("refile-replace", fileEach("fees"))
	k := 0
	b.Run("decide", func(b *testing.B) {
		for b.Loop() {
			f, err := db.CurrentFiling(ctx, "2026Q4", fmt.Sprintf("e%05d", k%estates), "utilities")
			if err != nil {
				b.Fatal(err)
			}
			k++
			if _, err := db.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: f.Estate, Category: f.Category,
				Version: f.Version, Draft: f.Draft, Status: domain.StatusVerified, By: "r", At: at}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("review-queue-scan", func(b *testing.B) {
		for b.Loop() {
			if fs, err := db.Filings(ctx, "2026Q4"); err != nil || len(fs) < 3*estates {
				b.Fatalf("%d filings, %v", len(fs), err)
			}
		}
	})
	b.Run("public-page-reads", func(b *testing.B) {
		for b.Loop() {
			if fs, err := db.EstateFilings(ctx, "2026Q4", "e00042"); err != nil || len(fs) < 3 {
				b.Fatalf("%d filings, %v", len(fs), err)
			}
			if _, err := db.EstateObjections(ctx, "e00042", "2026Q4"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A company files drafts on one server while a reviewer decides on another, over and over:
// neither write may lose the other. After each round the current record holds the data of the
// last filing (pending, or decided on exactly that draft), and every decision that succeeded
// is in the history.
func TestFilingAndDecisionOnTwoServersLoseNothing(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	reviewer := mongodbtest.Reconnect(t, db)
	decided := 0
	for round := range 15 {
		if _, err := db.FileDisclosure(ctx, newFiling(fmt.Sprintf(`{"round":%d,"n":0}`, round), time.Now())); err != nil {
			t.Fatal(err)
		}
		cur, err := reviewer.CurrentFiling(ctx, "2026Q4", "e1", "parking")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var fileErr, decideErr error
		last := fmt.Sprintf(`{"round":%d,"n":1}`, round)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, fileErr = db.FileDisclosure(ctx, newFiling(last, time.Now()))
		}()
		go func() {
			defer wg.Done()
			_, decideErr = reviewer.DecideDisclosure(ctx, filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking",
				Version: cur.Version, Draft: cur.Draft, Status: domain.StatusVerified, By: "r", At: time.Now()})
		}()
		wg.Wait()
		if fileErr != nil {
			t.Fatalf("round %d: filing: %v", round, fileErr)
		}
		if decideErr == nil {
			decided++
		} else if derrors.Code(decideErr) != derrors.Conflict {
			t.Fatalf("round %d: decision: %v", round, decideErr)
		}
		for _, d := range []*mongodb.DB{db, reviewer} {
			f, err := d.CurrentFiling(ctx, "2026Q4", "e1", "parking")
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Data) != last {
				t.Fatalf("round %d: current record holds %s (version %d draft %d, %s), want the last filing %s", round, f.Data, f.Version, f.Draft, f.Status, last)
			}
		}
	}
	history, err := db.FilingHistory(ctx, "2026Q4", "e1", "parking")
	if err != nil || len(history) != decided {
		t.Errorf("history has %d versions, %v; %d decisions succeeded", len(history), err, decided)
	}
}
