package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

// TestLedgerSignerKeys: the key is created once, kept private, and loaded again; a second
// server with another key on the same database refuses to start; with an external database
// a key file must be named.
func TestLedgerSignerKeys(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	dir := t.TempDir()
	s1, err := app.LedgerSigner(ctx, db, app.LedgerKeyConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, app.LedgerKeyFile)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	s2, err := app.LedgerSigner(ctx, mongodbtest.Reconnect(t, db), app.LedgerKeyConfig{File: path, External: true})
	if err != nil || s2.VerifierKey() != s1.VerifierKey() {
		t.Fatalf("the same key file loads another key: %v", err)
	}
	if strings.Contains(s1.VerifierKey(), "PRIVATE") {
		t.Fatal("the verifier key holds the secret")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	_, err = app.LedgerSigner(ctx, db, app.LedgerKeyConfig{File: other, Name: app.DefaultLedgerName})
	if err == nil || !strings.Contains(err.Error(), "not the key this database's ledger is signed with") {
		t.Fatalf("a second key on the same database: %v", err)
	}
	if _, err := app.LedgerSigner(ctx, db, app.LedgerKeyConfig{External: true}); err == nil || !strings.Contains(err.Error(), "--ledger-key") {
		t.Fatalf("external database without a key file: %v", err)
	}
}

// TestAuditLedgerCatchesChanges: every step that makes a grade is in the ledger — a
// publication, its final approval, each write of a credit record, each audit entry — and the
// audit recomputes each from what is stored: it passes, then names each record changed or
// deleted with the driver behind the application's back.
func TestAuditLedgerCatchesChanges(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	if _, err := db.Import(ctx, mongodbtest.OneEstate(), nil); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Zone)
	clock := func() time.Time { return now }
	pubs := publication.New(db)
	if _, err := pubs.Score(ctx, "2026Q4", scoring.Default(), "alice", now, nil); err != nil {
		t.Fatal(err)
	}
	pub, err := pubs.Publish(ctx, "2026Q4", "", "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	now = now.AddDate(0, 0, 9)
	if _, err := pubs.Finalize(ctx, "2026Q4", "bob", now); err != nil {
		t.Fatal(err)
	}
	svc := credit.New(credit.Config{Store: db, Audit: audit.New(db, clock), Now: clock})
	alice := credit.Actor{Name: "alice", Role: domain.RoleReviewer}
	r, err := svc.Create(ctx, alice, credit.NewRecord{Company: mongodbtest.OneEstateCompany, Rule: "B02", Date: "2026-12-01", Description: "消防通道堵塞"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Notify(ctx, alice, r.ID); err != nil {
		t.Fatal(err)
	}
	company := credit.Actor{Name: "sun", Role: domain.RoleCompany, Company: mongodbtest.OneEstateCompany}
	if _, err := svc.Object(ctx, company, r.ID, "已整改", nil); err != nil {
		t.Fatal(err)
	}
	if r, err = svc.Decide(ctx, credit.Actor{Name: "bob", Role: domain.RoleReviewer}, r.ID, credit.DecisionInput{Outcome: credit.Rejected, Reason: "证据不足"}); err != nil {
		t.Fatal(err)
	}

	rep, err := app.AuditLedger(ctx, db, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit of an untouched database: %v %v", rep.Problems, err)
	}
	// 1 result + 1 publication + 1 approval + 4 versions of the record + 4 audit entries.
	got := []int{int(rep.Leaves), rep.Finals, rep.CreditRecords, rep.AuditEntries, rep.Checked}
	if diff := cmp.Diff([]int{11, 1, 1, 4, 8}, got); diff != "" {
		t.Errorf("leaves, finals, credit records, audit entries, checked (-want +got):\n%s", diff)
	}
	entries, err := audit.New(db, nil).Entries(ctx, audit.Filter{Object: r.Object()})
	if err != nil || len(entries) != 4 {
		t.Fatalf("audit entries %v, %v", entries, err)
	}

	// Behind the application's back: the objection's decision, an audit entry's reason and
	// the approver are changed, and an audit entry is deleted.
	client, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	raw := client.Database(db.Name())
	set := func(col, id, field string, value any) { rawSet(t, db.Name(), col, id, field, value) }
	set("events", r.ID, "decision.outcome", credit.Upheld)
	set("audit", entries[3].ID, "reason", "证据充分")
	set("results", pub.ID, "final_by", "mallory")
	if _, err := raw.Collection("audit").DeleteOne(ctx, bson.D{{Key: "_id", Value: entries[0].ID}}); err != nil {
		t.Fatal(err)
	}
	rep, err = app.AuditLedger(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range rep.Problems {
		problems = append(problems, p.Key)
	}
	want := []string{ledger.AuditKey(entries[0].ID), ledger.AuditKey(entries[3].ID),
		ledger.CreditRecordKey(r.ID, 4), ledger.FinalKey("2026Q4", 1)}
	if diff := cmp.Diff(want, problems); diff != "" {
		t.Errorf("problems found (-want +got):\n%s\n%v", diff, rep.Problems)
	}
	for _, p := range rep.Problems {
		if p.Key == ledger.CreditRecordKey(r.ID, 4) && !strings.Contains(p.Problem, `"decision":"upheld"`) {
			t.Errorf("the changed decision is not shown: %s", p)
		}
	}
}

// TestAuditEntriesFromManyServers: three connections (as three servers would have) record
// audit entries at once; every entry gets exactly one leaf, the log does not fork, and the
// audit is clean.
func TestAuditEntriesFromManyServers(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	const servers, each = 3, 15
	errs := make(chan error, servers*each)
	var wg sync.WaitGroup
	for s := range servers {
		conn := db
		if s > 0 {
			conn = mongodbtest.Reconnect(t, db)
		}
		log := audit.New(conn, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- log.Record(ctx, audit.Actor{Name: fmt.Sprintf("reviewer%d", s), Role: domain.RoleReviewer},
					audit.Change{Action: "test.step", Object: fmt.Sprintf("thing/%d-%d", s, i), After: map[string]int{"n": i}})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := app.AuditLedger(ctx, db, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit: %v %v", rep.Problems, err)
	}
	if rep.Leaves != servers*each || rep.AuditEntries != servers*each {
		t.Errorf("%d leaves for %d audit entries, want %d of each", rep.Leaves, rep.AuditEntries, servers*each)
	}
}

// TestAdoptIntoLedger: records stored before the ledger logged them (written here straight to
// the store) are what the audit reports; adopting appends their leaves once, after which the
// audit is clean, and a record changed since still is reported, never adopted.
func TestAdoptIntoLedger(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Zone)
	old, err := audit.NewEntry(now, audit.CLI, audit.Change{Action: "data.import", Object: "import/city.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(ctx, mongodbtest.OneEstate(), nil); err != nil {
		t.Fatal(err)
	}
	rec := credit.Record{Event: domain.Event{ID: "CR-OLD", Company: mongodbtest.OneEstateCompany, Kind: "bad", Points: "2",
		Date: "2026-11-30", Status: domain.EventInForce, Description: "旧记录"}, Rule: "B02", Author: "alice", CreatedAt: now, Version: 1}
	if err := db.InsertCreditRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if rep, err := app.AuditLedger(ctx, db, nil); err != nil || len(rep.Problems) != 2 {
		t.Fatalf("audit before adopting: %v %v", rep.Problems, err)
	}
	adopted, err := app.AdoptIntoLedger(ctx, db)
	if diff := cmp.Diff(app.AdoptReport{CreditRecords: 1, AuditEntries: 1}, adopted); err != nil || diff != "" {
		t.Fatalf("adopted (-want +got):\n%s%v", diff, err)
	}
	if rep, err := app.AuditLedger(ctx, db, nil); err != nil || len(rep.Problems) != 0 || rep.Leaves != 2 {
		t.Fatalf("audit after adopting: %d leaves, %v %v", rep.Leaves, rep.Problems, err)
	}
	if again, err := app.AdoptIntoLedger(ctx, db); err != nil || again != (app.AdoptReport{}) {
		t.Fatalf("adopting again: %+v %v", again, err)
	}
	// Changed behind the application's back: reported, and not adopted.
	rawSet(t, db.Name(), "events", rec.ID, "points", "1")
	if again, err := app.AdoptIntoLedger(ctx, db); err != nil || again != (app.AdoptReport{}) {
		t.Fatalf("adopting a changed record: %+v %v", again, err)
	}
	if rep, err := app.AuditLedger(ctx, db, nil); err != nil || len(rep.Problems) != 1 || rep.Problems[0].Key != ledger.CreditRecordKey(rec.ID, 1) {
		t.Fatalf("audit of a record changed after adopting: %v %v", rep.Problems, err)
	}
}

// rawSet sets one field of one document of the test database named database with the
// driver, behind the application's back.
func rawSet(t *testing.T, database, col, id, field string, value any) {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(mongodbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	res, err := client.Database(database).Collection(col).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("change %s %s: %v %v", col, id, res, err)
	}
}

// BenchmarkAuditRecord measures what recording an audit entry costs on the embedded engine,
// with its ledger leaf (what every person's action pays) and, for comparison, the entry alone.
func BenchmarkAuditRecord(b *testing.B) {
	ctx := context.Background()
	ch := audit.Change{Action: "bench.step", Object: "thing/1", Before: map[string]int{"n": 1}, After: map[string]int{"n": 2}}
	b.Run("entry+leaf", func(b *testing.B) {
		log := audit.New(mongodbtest.NewDB(b), nil)
		for i := 0; i < b.N; i++ {
			if err := log.Record(ctx, audit.CLI, ch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("entry", func(b *testing.B) {
		db := mongodbtest.NewDB(b)
		for i := 0; i < b.N; i++ {
			e, err := audit.NewEntry(time.Now(), audit.CLI, ch)
			if err == nil {
				err = db.AppendAudit(ctx, e)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
