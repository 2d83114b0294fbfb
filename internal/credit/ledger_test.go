package credit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/mongodb"
)

// brokenLedger is the database with a ledger that refuses every append.
type brokenLedger struct{ *mongodb.DB }

func (brokenLedger) AppendLedger(context.Context, []ledger.Entry) (int, error) {
	return 0, errors.New("the ledger's disk is full")
}

// TestLedgerLeavesFirst: each write of a credit record and each audit entry is a leaf,
// appended first: when the ledger cannot take it, nothing is written; when it can, the leaf
// at the record's version is the one the audit recomputes, and holds no free text.
func TestLedgerLeavesFirst(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	broken := brokenLedger{e.db}
	svc := credit.New(credit.Config{Store: broken, Audit: audit.New(broken, e.clock.Now), Now: e.clock.Now})
	in := credit.NewRecord{Company: acme, Rule: "B02", Date: "2026-09-28", Description: "消防通道堵塞，业主张三投诉"}
	if _, err := svc.Create(ctx, alice, in); err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("recorded although the ledger failed: %v", err)
	}
	if rs, _ := e.db.CreditRecords(ctx, credit.Filter{}); len(rs) != 0 {
		t.Fatalf("%d records stored without their leaves", len(rs))
	}
	if err := audit.New(broken, nil).Record(ctx, audit.CLI, audit.Change{Action: "x", Object: "y/z"}); err == nil {
		t.Fatal("an audit entry was recorded although the ledger failed")
	}
	if es, _ := e.log.Entries(ctx, audit.Filter{}); len(es) != 0 {
		t.Fatalf("%d audit entries stored without their leaves", len(es))
	}

	r, err := e.svc.Create(ctx, alice, in)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Notify(ctx, bob, r.ID); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= r.Version; v++ {
		if idx, err := e.db.LedgerIndexes(ctx, ledger.CreditRecordKey(r.ID, v)); err != nil || len(idx) != 1 {
			t.Errorf("version %d: leaves %v, %v", v, idx, err)
		}
	}
	want, err := credit.LedgerLeaf(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.New(e.db, nil).Find(ctx, want); err != nil {
		t.Errorf("the leaf of the stored record: %v", err)
	}
	if strings.Contains(string(want.Data), "张三") || !strings.Contains(string(want.Data), `"status":"notified"`) {
		t.Errorf("leaf %s", want.Data)
	}
}
