package mongodb_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	created := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	zhang := domain.Account{Name: "zhang", Role: domain.RoleReviewer, PasswordHash: "h1", CreatedAt: created}
	wanrun := domain.Account{Name: "wanrun", Role: domain.RoleCompany, Company: companyID, PasswordHash: "h2", CreatedAt: created}
	for _, a := range []domain.Account{zhang, wanrun} {
		if err := db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	dup := zhang
	dup.Role = domain.RoleAdmin
	if err := db.CreateAccount(ctx, dup); derrors.Code(err) != derrors.Conflict {
		t.Errorf("duplicate name: err = %v, want conflict", err)
	}
	mismatch := domain.Account{ID: "other", Name: "li", Role: domain.RoleAdmin}
	if err := db.CreateAccount(ctx, mismatch); derrors.Code(err) != derrors.Invalid {
		t.Errorf("id differing from name: err = %v, want invalid", err)
	}

	got, err := db.AccountByName(ctx, "zhang")
	if err != nil {
		t.Fatal(err)
	}
	zhang.ID = "zhang"
	if diff := cmp.Diff(zhang, got); diff != "" {
		t.Errorf("AccountByName (-want +got):\n%s", diff)
	}
	if _, err := db.AccountByName(ctx, "nobody"); derrors.Code(err) != derrors.NotFound {
		t.Errorf("unknown name: err = %v, want not_found", err)
	}
	if got, err := db.AccountByID(ctx, "wanrun"); err != nil || got.Company != companyID {
		t.Errorf("AccountByID = %+v, %v", got, err)
	}

	all, err := db.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.Name)
	}
	if diff := cmp.Diff([]string{"wanrun", "zhang"}, names); diff != "" {
		t.Errorf("Accounts names (-want +got):\n%s", diff)
	}

	if err := db.SetPassword(ctx, "zhang", "h3"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.AccountByID(ctx, "zhang"); got.PasswordHash != "h3" {
		t.Errorf("after SetPassword hash = %q", got.PasswordHash)
	}
	if err := db.SetPassword(ctx, "nobody", "h"); derrors.Code(err) != derrors.NotFound {
		t.Errorf("SetPassword(unknown): err = %v, want not_found", err)
	}
}
