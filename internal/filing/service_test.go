package filing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

// TestWorkflow walks one disclosure through the workflow's steps against the embedded engine:
// each step's rule is checked before storage is asked.
func TestWorkflow(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, mongodbtest.OneEstate())
	svc := filing.New(db)
	at := time.Date(2026, 10, 10, 9, 0, 0, 0, domain.Zone)

	res, err := svc.FileDisclosure(ctx, filing.NewFiling{Period: "2026Q4", Estate: "e1", Category: "parking",
		Data: []byte(`{"spaces":10}`), FiledBy: "wanrun", Source: filing.FiledWeb, At: at})
	if err != nil || res.Filing.Status != domain.StatusPending || res.Filing.Version != 1 {
		t.Fatalf("filed: %+v, %v", res, err)
	}
	decide := filing.ReviewDecision{Period: "2026Q4", Estate: "e1", Category: "parking", Version: 1, Draft: res.Filing.Draft, By: "rev", At: at}
	for _, tc := range []struct {
		status, reason string
		want           string
	}{
		{domain.StatusRejected, "  ", derrors.Invalid},
		{"maybe", "", derrors.Invalid},
		{domain.StatusRejected, strings.Repeat("长", filing.MaxTextRunes+1), derrors.Invalid},
		{domain.StatusVerified, "", ""},
		{domain.StatusVerified, "", derrors.Conflict}, // decided already
	} {
		rd := decide
		rd.Status, rd.Reason = tc.status, tc.reason
		if _, err := svc.Decide(ctx, rd); derrors.Code(err) != tc.want {
			t.Errorf("decide %q %q: %v, want code %q", tc.status, tc.reason, err, tc.want)
		}
	}

	object := func(household, text string) (filing.Objection, error) {
		return svc.FileObjection(ctx, filing.NewObjection{Period: "2026Q4", Estate: "e1", Category: "parking",
			OpenPeriod: "2026Q4", Household: household, Text: text, At: at})
	}
	if _, err := object("1-1-101", strings.Repeat("字", filing.MaxTextRunes+1)); derrors.Code(err) != derrors.Invalid {
		t.Errorf("an objection too long: %v", err)
	}
	var first filing.Objection
	for i := range filing.MaxObjectionsPerHousehold {
		o, err := object("1-1-101", "停车收益去向不明")
		if err != nil {
			t.Fatalf("objection %d: %v", i+1, err)
		}
		if i == 0 {
			first = o
		}
	}
	if _, err := object("1-1-101", "再一次"); !errors.Is(err, filing.ErrTooManyObjections) {
		t.Errorf("objection %d of one household: %v, want ErrTooManyObjections", filing.MaxObjectionsPerHousehold+1, err)
	}
	if _, err := object("1-1-102", "另一户"); err != nil {
		t.Errorf("another household: %v", err)
	}
	if _, err := svc.Answer(ctx, first.ID, " ", "wanrun", at); derrors.Code(err) != derrors.Invalid {
		t.Errorf("an empty answer: %v", err)
	}
	if _, err := svc.Answer(ctx, first.ID, "收益已入公共账户", "wanrun", at); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, first.ID, "", "rev", at); err != nil {
		t.Fatalf("close without a note: %v", err)
	}
	if _, err := svc.Close(ctx, first.ID, "", "rev", at); !errors.Is(err, filing.ErrObjectionClosed) && derrors.Code(err) != derrors.Conflict {
		t.Errorf("close twice: %v", err)
	}
	o, err := db.Objection(ctx, first.ID)
	if err != nil || len(o.Answers) != 1 || o.Open() || o.Household != "1-1-101" {
		t.Errorf("objection after answer and close: %+v, %v", o, err)
	}
}
