package publication_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/cputime"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
	"github.com/propcredit/propcredit/scoring/scoringtest"
)

// saveDraft scores a generated city of n companies and stores it as the draft of its period.
func saveDraft(t testing.TB, db *mongodb.DB, n int) *scoring.Result {
	t.Helper()
	in := scoringtest.GenerateCity(2026, n, 4*n, 100*n, 16*n, 2*n)
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		t.Fatal(err)
	}
	if err := publication.New(db).SaveDraft(context.Background(), in, res, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	return res
}

// publishSeven publishes a generated city of 7 companies, by "reviewer" at 2026-10-01 09:00.
func publishSeven(t *testing.T) (*mongodb.DB, *scoring.Result, publication.Record, time.Time) {
	t.Helper()
	db := mongodbtest.NewDB(t)
	res := saveDraft(t, db, 7)
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, domain.Zone)
	pub, err := publication.New(db).Publish(context.Background(), res.Period, "", "reviewer", at)
	if err != nil {
		t.Fatal(err)
	}
	return db, res, pub, at
}

// TestPublishAppendsToLedger: a publication puts one leaf per company and one for itself in
// the ledger, under keys a certificate finds; a second one appends after the first.
func TestPublishAppendsToLedger(t *testing.T) {
	ctx := context.Background()
	db, res, pub, at := publishSeven(t)
	size, err := db.LedgerSize(ctx)
	if err != nil || size != int64(len(res.Grades))+1 {
		t.Fatalf("ledger size %d, %v; want %d", size, err, len(res.Grades)+1)
	}
	g := res.Grades[3]
	idx, err := db.LedgerIndexes(ctx, ledger.ResultKey(pub.Period, pub.Seq, g.Company))
	if err != nil || len(idx) != 1 {
		t.Fatalf("indexes %v, %v", idx, err)
	}
	leaves, err := db.LedgerLeaves(ctx, idx[0], idx[0]+1)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ledger.ParseResultLeaf(leaves[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Company != g.Company || leaf.Grade != g.Grade || string(leaf.Score) != mustJSON(t, g.Score) ||
		leaf.InputsSHA256 != pub.InputsHash || leaf.PublishedAt != "2026-10-01T01:00:00Z" || leaf.Publication != 1 {
		t.Errorf("leaf %s does not match grade %+v of publication %+v", leaves[0], g, pub)
	}
	if idx, err := db.LedgerIndexes(ctx, ledger.PublicationKey(pub.Period, 1)); err != nil || len(idx) != 1 || idx[0] != size-1 {
		t.Errorf("publication leaf: %v, %v", idx, err)
	}
	// The leaf the certificate looks for, made from the grade alone, is the one logged.
	want, err := ledger.ResultLeafOf(publication.LedgerPublication(pub), ledger.GradeOf(&g))
	if err != nil || string(want.Data) != string(leaves[0]) {
		t.Errorf("ResultLeafOf gives %s, logged %s (%v)", want.Data, leaves[0], err)
	}
	if _, err := publication.New(db).Publish(ctx, res.Period, "", "reviewer", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if size2, _ := db.LedgerSize(ctx); size2 != 2*size {
		t.Errorf("after a second publication the ledger has %d leaves, want %d", size2, 2*size)
	}
}

// brokenLedger is the database with a ledger that refuses every append.
type brokenLedger struct{ *mongodb.DB }

func (brokenLedger) AppendLedger(context.Context, []ledger.Entry) (int, error) {
	return 0, errors.New("the ledger's disk is full")
}

// TestPublishRefusedWithoutLedger: when the ledger cannot take the leaves, nothing is published.
func TestPublishRefusedWithoutLedger(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	res := saveDraft(t, db, 3)
	if _, err := publication.New(brokenLedger{db}).Publish(ctx, res.Period, "", "x", time.Now()); err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("published although the ledger failed: %v", err)
	}
	if pubs, _ := db.Publications(ctx, res.Period); len(pubs) != 0 {
		t.Fatalf("%d publications stored without their leaves", len(pubs))
	}
}

func mustJSON(t testing.TB, f scoring.Fixed) string {
	b, err := f.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkAppendPublication5000 measures what the ledger adds to publishing a city of 5,000
// companies: decoding the publication's detail, making 5,001 leaves and appending them to a
// ledger that already holds the earlier iterations' leaves. cpu-s/op is the CPU time of the
// whole process (the embedded engine runs in it), which a loaded machine does not inflate.
func BenchmarkAppendPublication5000(b *testing.B) {
	ctx := context.Background()
	db := mongodbtest.NewDB(b)
	res := saveDraft(b, db, 5000)
	draft, err := db.Record(ctx, publication.DraftID(res.Period))
	if err != nil {
		b.Fatal(err)
	}
	log := ledger.New(db, nil)
	b.ResetTimer()
	cpu := cputime.Process()
	defer func() {
		if used := cputime.Process() - cpu; used > 0 {
			b.ReportMetric(used.Seconds()/float64(b.N), "cpu-s/op")
		}
	}()
	for i := 0; i < b.N; i++ {
		pub := draft
		pub.Seq = i + 1
		pub.CreatedAt = time.Now()
		idx, err := publication.AppendToLedger(ctx, log, pub)
		if err != nil || len(idx) != 5001 {
			b.Fatalf("%d leaves, %v", len(idx), err)
		}
	}
}

// TestFinalApprovalInLedger: a final approval is one leaf, whatever the number of companies,
// appended before the mark; when the ledger cannot take it, the publication stays in publicity.
func TestFinalApprovalInLedger(t *testing.T) {
	ctx := context.Background()
	db, res, pub, at := publishSeven(t)
	later := at.AddDate(0, 0, 9)
	if _, err := publication.New(brokenLedger{db}).Finalize(ctx, res.Period, "bob", later); err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("approved although the ledger failed: %v", err)
	}
	if got, _ := db.Record(ctx, pub.ID); got.Status() != publication.StatusPublicity {
		t.Fatalf("status %s without its leaf", got.Status())
	}
	size, _ := db.LedgerSize(ctx)
	final, err := publication.New(db).Finalize(ctx, res.Period, "bob", later)
	if err != nil {
		t.Fatal(err)
	}
	if size2, _ := db.LedgerSize(ctx); size2 != size+1 {
		t.Errorf("the approval of %d companies added %d leaves, want 1", len(res.Grades), size2-size)
	}
	idx, err := db.LedgerIndexes(ctx, ledger.FinalKey(res.Period, 1))
	if err != nil || len(idx) != 1 {
		t.Fatalf("final leaf indexes %v, %v", idx, err)
	}
	leaves, _ := db.LedgerLeaves(ctx, idx[0], idx[0]+1)
	want := `{"type":"final","period":"` + res.Period + `","publication":1,"inputs_sha256":"` + pub.InputsHash +
		`","published_at":"2026-10-01T01:00:00Z","final_at":"` + final.FinalAt.Format(time.RFC3339) + `","final_by":"bob"}`
	if string(leaves[0]) != want {
		t.Errorf("final leaf\n%s\nwant\n%s", leaves[0], want)
	}
}
