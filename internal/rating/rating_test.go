package rating_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

var now = time.Date(2026, 11, 5, 9, 30, 0, 0, domain.Zone)

// estate is one estate with codes issued for flats 1-1-101 .. 1-1-10n in 2026Q4.
func estate(t *testing.T, n int) (*mongodb.DB, map[string]string) {
	t.Helper()
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, mongodbtest.OneEstate())
	var flats []string
	for i := range n {
		flats = append(flats, fmt.Sprintf("1-1-%d", 101+i))
	}
	issued, err := db.IssueCodes(ctx, "2026Q4", "e1", flats, false)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, c := range issued {
		codes[c.Household] = c.Code
	}
	return db, codes
}

// TestProveHousehold: each answer of the one owner-proof step, in the order a guesser meets
// them.
func TestProveHousehold(t *testing.T) {
	ctx := context.Background()
	db, codes := estate(t, 2)
	svc := rating.New(db)
	for _, step := range []struct {
		name, flat, code, address string
		want                      error
	}{
		{"the right code", "1-1-101", codes["1-1-101"], "a1", nil},
		{"the right code, typed in lower case with spaces", "1-1-102", " " + lower(codes["1-1-102"]) + " ", "a1", nil},
		{"a flat with no code", "9-9-999", "ABCDE-FGHJK", "a1", rating.ErrCodeUnknown},
		{"wrong 1", "1-1-101", "ABCDE-FGHJK", "guesser", rating.ErrCodeWrong},
		{"wrong 2", "1-1-101", "ABCDE-FGHJK", "guesser", rating.ErrCodeWrong},
		{"wrong 3", "1-1-101", "ABCDE-FGHJK", "guesser", rating.ErrCodeWrong},
		{"wrong 4", "1-1-101", "ABCDE-FGHJK", "guesser", rating.ErrCodeWrong},
		{"wrong 5 locks the guesser out", "1-1-101", "ABCDE-FGHJK", "guesser", rating.ErrCodeLocked},
		{"the guesser stays locked out, even with the right code", "1-1-101", codes["1-1-101"], "guesser", rating.ErrCodeLocked},
		{"the household's right code from its own phone", "1-1-101", codes["1-1-101"], "household", nil},
		{"another household is not locked", "1-1-102", codes["1-1-102"], "guesser", nil},
	} {
		err := svc.ProveHousehold(ctx, "2026Q4", "e1", step.flat, step.code, step.address, now)
		if !errors.Is(err, step.want) {
			t.Errorf("%s: %v, want %v", step.name, err, step.want)
		}
		var refusal *rating.CodeRefusal
		if errors.Is(err, rating.ErrCodeLocked) && (!errors.As(err, &refusal) || !rating.LockedUntil(err, now).Equal(time.Date(2026, 11, 5, 10, 0, 0, 0, domain.Zone))) {
			t.Errorf("%s: locked until %v, want the end of the clock hour", step.name, rating.LockedUntil(err, now))
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestProveHouseholdLimitsAnAddress: an address that failed AddressFailures.Burst times may
// not try again, not even with a right code, until a token comes back; other addresses may.
func TestProveHouseholdLimitsAnAddress(t *testing.T) {
	ctx := context.Background()
	db, codes := estate(t, 1)
	svc := rating.New(db)
	for i := range rating.AddressFailures.Burst {
		flat := fmt.Sprintf("9-9-%d", i) // unknown households: no per-code lock-out
		if err := svc.ProveHousehold(ctx, "2026Q4", "e1", flat, "ABCDE-FGHJK", "guesser", now); !errors.Is(err, rating.ErrCodeUnknown) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var limited *rating.LimitedError
	if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "1-1-101", codes["1-1-101"], "guesser", now); !errors.As(err, &limited) || limited.Wait != rating.AddressFailures.Every {
		t.Errorf("after %d failures: %v, want limited for %v", rating.AddressFailures.Burst, err, rating.AddressFailures.Every)
	}
	if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "1-1-101", codes["1-1-101"], "neighbour", now); err != nil {
		t.Errorf("another address: %v", err)
	}
	// Guesses while limited are not judged, so not counted: were they, these five would lock
	// the guesser out of 1-1-101 for the hour.
	for i := range 5 {
		if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "1-1-101", "ABCDE-FGHJK", "guesser", now); !errors.As(err, &limited) {
			t.Errorf("wrong code %d while limited: %v, want limited", i, err)
		}
	}
	if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "1-1-101", codes["1-1-101"], "guesser", now.Add(rating.AddressFailures.Every)); err != nil {
		t.Errorf("after the wait: %v", err)
	}
}

// TestProveHouseholdEstateFloodSparesOwners: wrong flats sent from many addresses use up the
// estate's allowance; a guesser is then told to wait, but an owner with a valid code is let in.
func TestProveHouseholdEstateFloodSparesOwners(t *testing.T) {
	ctx := context.Background()
	db, codes := estate(t, 1)
	svc := rating.New(db)
	for i := range rating.EstateFailures.Burst + 10 {
		flat := fmt.Sprintf("9-9-%d", i)
		_ = svc.ProveHousehold(ctx, "2026Q4", "e1", flat, "ABCDE-FGHJK", fmt.Sprintf("bot-%d", i%5), now)
	}
	var limited *rating.LimitedError
	if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "9-9-999", "ABCDE-FGHJK", "bot-new", now); !errors.As(err, &limited) {
		t.Errorf("a failing client after the flood: %v, want told to wait", err)
	}
	if err := svc.ProveHousehold(ctx, "2026Q4", "e1", "1-1-101", codes["1-1-101"], "owner", now); err != nil {
		t.Errorf("an owner with a valid code during the flood: %v", err)
	}
}

// TestSubmitAndReceipt: a submission gives a receipt that can be looked up, a revision
// supersedes it, and a repeated request (same idempotency key) gets the same receipt.
func TestSubmitAndReceipt(t *testing.T) {
	ctx := context.Background()
	db, _ := estate(t, 1)
	svc := rating.New(db)
	sub := func(service int, key string) rating.Submission {
		return rating.Submission{Source: rating.SourceWeb, IdempotencyKey: key, Rating: domain.Rating{Period: "2026Q4", Estate: "e1",
			Household: "1-1-101", SubmittedAt: now, Scores: domain.ScoresOf([6]int{service, 4, 4, 4, 4, 4})}}
	}
	first, err := svc.Submit(ctx, sub(3, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Submit(ctx, sub(3, "k1"))
	if err != nil || again.Number != first.Number || again.Revision != first.Revision {
		t.Errorf("repeated request: %+v, %v; want the first receipt %+v", again, err, first)
	}
	second, err := svc.Submit(ctx, sub(5, "k2"))
	if err != nil || second.Revision != first.Revision+1 {
		t.Fatalf("revision: %+v, %v", second, err)
	}
	for _, tc := range []struct {
		number     string
		superseded bool
		code       string
	}{
		{first.Number, true, ""},
		{second.Number, false, ""},
		{"NO-SUCH-RECEIPT", false, derrors.NotFound},
	} {
		rc, err := svc.Receipt(ctx, tc.number)
		if derrors.Code(err) != tc.code || (err == nil && rc.Superseded != tc.superseded) {
			t.Errorf("receipt %s: %+v, %v; want superseded %v, code %q", tc.number, rc, err, tc.superseded, tc.code)
		}
	}
}
