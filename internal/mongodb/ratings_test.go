package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

func TestCodesIssueCheckLockReissue(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	codes, err := db.IssueCodes(ctx, "2026Q4", "e1", []string{"1-1-101", "1-1-102"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 2 || codes[0].Household != "1-1-101" || len(mongodb.NormalizeCode(codes[0].Code)) != 10 {
		t.Fatalf("issued %+v", codes)
	}
	again, err := db.IssueCodes(ctx, "2026Q4", "e1", []string{"1-1-103"}, false)
	if err != nil || len(again) != 1 || again[0].Household != "1-1-103" {
		t.Fatalf("second issue gave %+v, %v; want only the new flat", again, err)
	}
	now := time.Now()
	code := codes[0].Code
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", " "+toLowerNoDash(code)+" ", now); err != nil {
		t.Errorf("right code, typed loosely: %v", err)
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "9-9-999", code, now); !errors.Is(err, rating.ErrCodeUnknown) {
		t.Errorf("unknown household: %v", err)
	}
	for i := 1; i <= 5; i++ {
		err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", "AAAAA-AAAAA", now)
		want := rating.ErrCodeWrong
		if i == 5 {
			want = rating.ErrCodeLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong guess %d: %v, want %v", i, err, want)
		}
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", code, now); !errors.Is(err, rating.ErrCodeLocked) {
		t.Errorf("right code while locked: %v", err)
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", code, now.Add(2*time.Hour)); err != nil {
		t.Errorf("right code after the lock-out: %v", err)
	}
	reissued, err := db.IssueCodes(ctx, "2026Q4", "e1", nil, true)
	if err != nil || len(reissued) != 3 {
		t.Fatalf("reissue: %+v, %v", reissued, err)
	}
	// The old code is void, not wrong, however often it is typed: it does not lock the new one.
	for i := 0; i < 2*5; i++ {
		if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", code, now); !errors.Is(err, rating.ErrCodeVoided) {
			t.Fatalf("old code after reissue, try %d: %v", i+1, err)
		}
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", reissued[0].Code, now); err != nil {
		t.Errorf("new code: %v", err)
	}
	// A household remembers its last eight replaced codes; older ones are merely wrong.
	history := []string{code, reissued[0].Code}
	for i := 0; i < 8; i++ {
		again, err := db.IssueCodes(ctx, "2026Q4", "e1", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, again[0].Code)
	}
	live := history[len(history)-1]
	for i, old := range history[:len(history)-1] {
		want := rating.ErrCodeVoided
		if i < len(history)-1-8 {
			want = rating.ErrCodeWrong
		}
		if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", old, now.Add(3*time.Hour)); !errors.Is(err, want) {
			t.Errorf("code of generation %d: %v, want %v", i+1, err, want)
		}
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", live, now.Add(3*time.Hour)); err != nil {
		t.Errorf("live code of generation %d: %v", len(history), err)
	}
}

func toLowerNoDash(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// codedHousehold is a fresh database with smallCity imported and the code it issued to e1's
// household 1-1-101 for 2026Q4.
func codedHousehold(t *testing.T) (*mongodb.DB, string) {
	t.Helper()
	db := mongodbtest.NewDBWith(t, smallCity())
	codes, err := db.IssueCodes(context.Background(), "2026Q4", "e1", []string{"1-1-101"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return db, codes[0].Code
}

// A neighbour guessing a household's code from one address is slowed (told how many tries
// remain, then locked out for the hour), while the household's own code still works from
// another address.
func TestCodeGuesserLockedOutNotTheHousehold(t *testing.T) {
	ctx := context.Background()
	db, code := codedHousehold(t)
	now := time.Date(2026, 11, 23, 10, 20, 0, 0, domain.Zone)
	for want := 4; want >= 0; want-- {
		err := db.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", "AAAAA-AAAAA", "guesser", now)
		var refusal *rating.CodeRefusal
		if !errors.As(err, &refusal) {
			t.Fatalf("wrong code: %v, want a CodeRefusal", err)
		}
		wantErr := rating.ErrCodeWrong
		if want == 0 {
			wantErr = rating.ErrCodeLocked
		}
		if !errors.Is(err, wantErr) || refusal.Remaining != want {
			t.Fatalf("wrong code: %v with %d tries left, want %v with %d", err, refusal.Remaining, wantErr, want)
		}
		if want == 0 && !refusal.Until.Equal(time.Date(2026, 11, 23, 11, 0, 0, 0, domain.Zone)) {
			t.Errorf("locked until %v, want the end of the hour", refusal.Until)
		}
	}
	// The guesser is locked out, even with the right code.
	if err := db.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "guesser", now); !errors.Is(err, rating.ErrCodeLocked) {
		t.Errorf("the guesser with the right code: %v, want locked", err)
	}
	// The household, from its own phone, is not.
	if err := db.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "household", now); err != nil {
		t.Errorf("the household's right code while a neighbour guesses: %v", err)
	}
	// Next hour the guesser may try again.
	if err := db.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "guesser", now.Add(time.Hour)); err != nil {
		t.Errorf("the right code an hour later: %v", err)
	}
}

func TestSubmitRatingRevisesAndCountsOnce(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	rt := domain.Rating{Period: "2026Q4", Estate: "e1", Household: "2-1-301", SubmittedAt: time.Now(),
		Scores: domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3})}
	first, err := db.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	rt.Scores = domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})
	second, err := db.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	if first.Revision != 1 || second.Revision != 2 || first.Number == second.Number {
		t.Errorf("receipts %+v then %+v; want revisions 1, 2 and distinct numbers", first, second)
	}
	versions, err := db.RatingVersions(ctx, rt.Key())
	if err != nil || len(versions) != 2 || versions[0].Scores.Service != 3 {
		t.Errorf("versions = %+v, %v; want both kept, oldest first", versions, err)
	}
	tallies, _ := db.Tallies(ctx, "2026Q4")
	if tallies[0].Ratings != 3 || tallies[0].Sums.Service != 6+5 {
		t.Errorf("tally = %+v; want 3 ratings (2 imported + this household once), service sum 11", tallies[0])
	}
	if rc, err := db.ReceiptByNumber(ctx, first.Number); err != nil || !rc.Superseded {
		t.Errorf("first receipt = %+v, %v; want found and superseded", rc, err)
	}
	if rc, err := db.ReceiptByNumber(ctx, second.Number); err != nil || rc.Superseded {
		t.Errorf("second receipt = %+v, %v; want found and counting", rc, err)
	}
	if _, err := db.ReceiptByNumber(ctx, "0000-0000"); derrors.Code(err) != derrors.NotFound {
		t.Errorf("made-up receipt: %v", err)
	}
}

func TestSubmitRatingSameRequestTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	sub := rating.Submission{Source: rating.SourceWeb, IdempotencyKey: "form-nonce-1", Rating: domain.Rating{
		Period: "2026Q4", Estate: "e1", Household: "5-5-505", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})}}
	var wg sync.WaitGroup
	receipts := make([]rating.Receipt, 4)
	errs := make([]error, 4)
	for i := range receipts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			receipts[i], errs[i] = db.SubmitRating(ctx, sub)
		}(i)
	}
	wg.Wait()
	for i := range receipts {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if receipts[i].Number != receipts[0].Number {
			t.Errorf("submission %d got receipt %s, first got %s", i, receipts[i].Number, receipts[0].Number)
		}
	}
	rev, _ := db.CurrentRevision(ctx, sub.Rating.Key())
	if rev != 1 {
		t.Errorf("revision = %d after one request sent four times; want 1", rev)
	}
	drift, err := db.VerifyTallies(ctx, false)
	if err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

// An owner's phone sends the same form again after the answer was lost: later, to the same
// server, or to another server (or after a restart) that has never seen the household. Each
// time the owner gets the first receipt, and the household still has one version.
func TestSubmitRatingRepeatedLater(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	rt := domain.Rating{Period: "2026Q4", Estate: "e1", Household: "6-6-606", SubmittedAt: time.Now(),
		Scores: domain.ScoresOf([6]int{2, 2, 2, 2, 2, 2})}
	formA := rt
	first, err := db.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb, IdempotencyKey: "nonce-a"})
	if err != nil {
		t.Fatal(err)
	}
	rt.Scores = domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})
	formB := rt
	second, err := db.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb, IdempotencyKey: "nonce-b"})
	if err != nil {
		t.Fatal(err)
	}
	other := mongodbtest.Reconnect(t, db)
	for _, c := range []struct {
		name  string
		db    *mongodb.DB
		form  domain.Rating
		nonce string
		want  rating.Receipt
	}{
		{"same server, latest form", db, formB, "nonce-b", second},
		{"same server, earlier form", db, formA, "nonce-a", first},
		{"other server, latest form", other, formB, "nonce-b", second},
		{"other server, earlier form", other, formA, "nonce-a", first},
	} {
		got, err := c.db.SubmitRating(ctx, rating.Submission{Rating: c.form, Source: rating.SourceWeb, IdempotencyKey: c.nonce})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Number != c.want.Number || got.Revision != c.want.Revision {
			t.Errorf("%s: receipt %s revision %d, want %s revision %d", c.name, got.Number, got.Revision, c.want.Number, c.want.Revision)
		}
	}
	// The earlier form's key with the latest marks is another rating under an old key: refused.
	if _, err := other.SubmitRating(ctx, rating.Submission{Rating: formB, Source: rating.SourceWeb, IdempotencyKey: "nonce-a"}); !errors.Is(err, rating.ErrKeyReused) {
		t.Errorf("a reused key with other marks: %v, want ErrKeyReused", err)
	}
	versions, err := db.RatingVersions(ctx, rt.Key())
	if err != nil || len(versions) != 2 || versions[1].Scores.Service != 5 {
		t.Fatalf("versions %+v, %v; want the two forms, the latest counting", versions, err)
	}
	// The repeats changed nothing that counts, and both servers go on from the right revision.
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
	third, err := other.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceAPI, IdempotencyKey: "nonce-c"})
	if err != nil || third.Revision != 3 {
		t.Errorf("a new form on the other server: revision %d, %v; want 3", third.Revision, err)
	}
	if rc, err := db.ReceiptByNumber(ctx, second.Number); err != nil || !rc.Superseded {
		t.Errorf("second receipt %+v, %v; want superseded by the third", rc, err)
	}
}

// Many owners of different flats submit at once, so that the writer gathers them into groups
// and reads the households it has not seen in parallel: each counts once, in the tallies too.
func TestSubmitRatingManyOwnersAtOnce(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	const owners = 120
	var wg sync.WaitGroup
	errs := make([]error, owners)
	for i := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("9-%d", i), SubmittedAt: time.Now(),
				Scores: domain.ScoresOf([6]int{1 + i%5, 3, 3, 3, 3, 3})}
			_, errs[i] = db.SubmitRating(ctx, rating.Submission{Rating: r, Source: rating.SourceAPI, IdempotencyKey: fmt.Sprint("k", i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("owner %d: %v", i, err)
		}
	}
	tallies, err := db.Tallies(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	var e1 domain.Tally
	for _, tl := range tallies {
		if tl.Estate == "e1" {
			e1 = tl
		}
	}
	// smallCity has two imported ratings of e1, of 3 points each for service.
	if want := int64(2 + owners); e1.Ratings != want {
		t.Errorf("e1 counts %d ratings, want %d", e1.Ratings, want)
	}
	if want := int64(6 + owners/5*(1+2+3+4+5)); e1.Sums.Service != want {
		t.Errorf("e1 service sum %d, want %d", e1.Sums.Service, want)
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

// A group can hold a repeated request and, after it, a new one from the same household: the
// repeat gets its first receipt and writes nothing (its receipt is claimed before any version),
// the new one counts, and the revisions stay without gaps.
func TestCommitGroupRepeatThenNewForm(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	sub := func(nonce string, points int) rating.Submission {
		return rating.Submission{Source: rating.SourceWeb, IdempotencyKey: nonce, Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: "4-4-404", SubmittedAt: time.Now(),
			Scores: domain.ScoresOf([6]int{points, points, points, points, points, points})}}
	}
	commit := func(subs ...rating.Submission) []rating.Receipt {
		t.Helper()
		receipts, errs := db.CommitGroup(ctx, subs)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("submission %d: %v", i, err)
			}
		}
		return receipts
	}
	first := commit(sub("a", 1))[0]
	got := commit(sub("a", 1), sub("b", 5))
	if !sameReceipt(got[0], first) {
		t.Errorf("the repeat got %+v, want the first receipt %+v", got[0], first)
	}
	if got[1].Revision != 2 {
		t.Errorf("the new form got revision %d, want 2", got[1].Revision)
	}
	if again := commit(sub("b", 5))[0]; !sameReceipt(again, got[1]) {
		t.Errorf("the new form repeated alone got %+v, want %+v", again, got[1])
	}
	key := sub("", 0).Rating.Key()
	if rev, err := db.CurrentRevision(ctx, key); err != nil || rev != 2 {
		t.Errorf("current revision %d, %v; want 2", rev, err)
	}
	versions, err := db.RatingVersions(ctx, key)
	if err != nil || len(versions) != 2 || versions[1].Scores.Service != 5 {
		t.Errorf("versions %+v, %v; want 2, the last with 5 points", versions, err)
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

func sameReceipt(a, b rating.Receipt) bool {
	return a.Number == b.Number && a.Key == b.Key && a.Revision == b.Revision && a.At.Equal(b.At)
}

// A household code stored before codes were flagged is checked generation by generation, so
// that a re-issue stored then still voids the old code.
func TestCodesStoredBeforeFlagsStayVoid(t *testing.T) {
	ctx := context.Background()
	db, first := codedHousehold(t)
	second, err := db.IssueCodes(ctx, "2026Q4", "e1", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := mongodb.ForgetCodeFlags(ctx, db); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", first, now); !errors.Is(err, rating.ErrCodeVoided) {
		t.Errorf("replaced code: %v, want %v", err, rating.ErrCodeVoided)
	}
	if err := db.CheckCode(ctx, "2026Q4", "e1", "1-1-101", second[0].Code, now); err != nil {
		t.Errorf("live code: %v", err)
	}
}

// Two re-issues of one estate's codes at the same moment, through two connections as two
// servers would make them: every code either printed is live or void, never unknown, and
// exactly one per household is live.
func TestCodesReissuedAtOnceLoseNoGeneration(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var flats []string
	for i := range 30 {
		flats = append(flats, fmt.Sprintf("r-%02d", i))
	}
	if _, err := db.IssueCodes(ctx, "2026Q4", "e1", flats, false); err != nil {
		t.Fatal(err)
	}
	other := mongodbtest.Reconnect(t, db)
	var wg sync.WaitGroup
	printed := make([][]rating.IssuedCode, 4)
	errs := make([]error, 4)
	for i := range printed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := db
			if i%2 == 1 {
				d = other
			}
			printed[i], errs[i] = d.IssueCodes(ctx, "2026Q4", "e1", nil, true)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	mongodbtest.OnePrintedCodeLive(t, db, "2026Q4", "e1", flats, printed, func(c rating.IssuedCode) (string, string) { return c.Household, c.Code })
}

// Three "servers" (connections with their own rating writers) take ratings and revisions of
// the same households while all three compact the tally journal over and over: readers during
// the storm never see a rating counted twice, and afterwards the tallies equal the ratings.
func TestTallyJournalManyWritersAndCompactors(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	servers := []*mongodb.DB{db, mongodbtest.Reconnect(t, db), mongodbtest.Reconnect(t, db)}
	stop := make(chan struct{})
	var compactors sync.WaitGroup
	for _, s := range servers {
		compactors.Add(1)
		go func() {
			defer compactors.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.CompactTallies(ctx); err != nil {
					t.Error(err)
					return
				}
				tallies, err := s.Tallies(ctx, "2026Q4")
				if err != nil {
					t.Error(err)
					return
				}
				for _, tl := range tallies {
					if tl.Estate == "e1" && tl.Ratings > 2+30 { // 2 imported, 30 households rated
						t.Errorf("e1 counted %d ratings mid-way, more than there are households", tl.Ratings)
					}
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for i := range 90 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			r := domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("7-%d", i%30), SubmittedAt: time.Now(),
				Scores: domain.ScoresOf([6]int{1 + i%5, 2, 3, 4, 5, 1})}
			if _, err := servers[i%3].SubmitRating(ctx, rating.Submission{Rating: r, Source: rating.SourceAPI, IdempotencyKey: fmt.Sprint("j", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	writers.Wait()
	close(stop)
	compactors.Wait()
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
	for _, s := range servers {
		tallies, err := s.Tallies(ctx, "2026Q4")
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range tallies {
			if tl.Estate == "e1" && tl.Ratings != 2+30 {
				t.Errorf("e1 counts %d ratings, want 32", tl.Ratings)
			}
		}
	}
}

// server connects another process's store to db's database, logging to log.
func server(t *testing.T, db *mongodb.DB, log *mongodbtest.Buffer) *mongodb.DB {
	t.Helper()
	s, err := mongodb.Connect(context.Background(), mongodbtest.URI(t), db.Name(), slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// A rating group that fails after its versions went in (a full disk: its journal entry cannot be
// written) tells its owners to send again (503), and none of its versions counts: the writer
// withdraws them, or, when that fails too, the journal's recovery does, and the log says so.
// Sent again, each form is stored once, at revision 1.
func TestFailedGroupIsWithdrawn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		settle  error // the writer's withdrawal fails too
		recover bool  // another server's recovery comes before the writer's next group
		idle    bool  // the writer tries again while idle before its next group
	}{
		{"withdrawn by the writer", nil, false, false},
		{"withdrawn by the writer before its next group", errors.New("database or disk is full"), false, false},
		{"withdrawn by the writer while idle", errors.New("database or disk is full"), false, true},
		{"withdrawn by the journal's recovery", errors.New("database or disk is full"), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := mongodbtest.NewDBWith(t, smallCity())
			var log mongodbtest.Buffer
			writer := server(t, db, &log)
			var subs []rating.Submission
			for i := range 3 {
				subs = append(subs, rating.Submission{Source: rating.SourceAPI, IdempotencyKey: fmt.Sprint("disk-full-", i), Rating: domain.Rating{
					Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("9-9-%d", i), SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 1 + i})}})
			}
			// The last household twice in the group: revisions 1 and 2 both go, the later first.
			twice := subs[2]
			twice.IdempotencyKey, twice.Rating.Scores = "disk-full-again", domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})
			subs = append(subs, twice)
			mongodb.FailRatingGroups(writer, errors.New("database or disk is full"), tc.settle)
			_, errs := writer.CommitGroup(ctx, subs)
			for i, err := range errs {
				if derrors.Code(err) != derrors.Unavailable {
					t.Fatalf("rating %d of a group whose entry failed: %v, want Unavailable (503)", i, err)
				}
			}
			mongodb.FailRatingGroups(writer, nil, nil)
			if tc.recover {
				recovery := server(t, db, &log)
				mongodb.SetJournalGrace(recovery, 0)
				if err := recovery.CompactTallies(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for deadline := time.Now().Add(10 * time.Second); tc.idle && !strings.Contains(log.String(), "withdrawn=4") && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
			if tc.settle == nil || tc.recover || tc.idle {
				if !strings.Contains(log.String(), "withdrawn=4") {
					t.Errorf("the log does not say the 4 versions were withdrawn:\n%s", log.String())
				}
				for _, sub := range subs {
					if rev, err := db.CurrentRevision(ctx, sub.Rating.Key()); err != nil || rev != 0 {
						t.Errorf("%s: revision %d (%v) after its owner was told it failed, want none", sub.Rating.Household, rev, err)
					}
				}
				if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
					t.Errorf("tallies drifted after the failed group: %+v, %v", drift, err)
				}
			}
			for i, sub := range subs {
				want := 1 + i/3 // the household sent twice gets revisions 1 and 2
				rc, err := writer.SubmitRating(ctx, sub)
				if err != nil || rc.Revision != want {
					t.Errorf("%s sent again: %+v, %v; want revision %d", sub.Rating.Household, rc, err, want)
				}
			}
			if !strings.Contains(log.String(), "withdrawn=4") {
				t.Errorf("the log does not say the 4 versions were withdrawn:\n%s", log.String())
			}
			if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
				t.Errorf("tallies drifted: %+v, %v", drift, err)
			}
			tallies, err := db.Tallies(ctx, "2026Q4")
			if err != nil || len(tallies) != 1 || tallies[0].Ratings != 2+3 {
				t.Errorf("tallies %+v, %v; want e1 with 2 imported ratings and the 3 sent again", tallies, err)
			}
		})
	}
}

// While the store takes no writes, the withdrawals of failed groups are tried again before
// each group, but a try ends at the first that fails: an owner waits for one, not for one per
// failed group before it.
func TestUnsettledGroupsTriedOncePerGroup(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var log mongodbtest.Buffer
	writer := server(t, db, &log)
	full := errors.New("database or disk is full")
	mongodb.FailRatingGroups(writer, full, full)
	const groups = 5
	for i := range groups {
		_, errs := writer.CommitGroup(ctx, []rating.Submission{{Source: rating.SourceAPI, Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("9-8-%d", i), SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})}}})
		if derrors.Code(errs[0]) != derrors.Unavailable {
			t.Fatalf("group %d: %v, want Unavailable", i, errs[0])
		}
	}
	// Each group's own withdrawal and one try before each later group; a try of the writer
	// while idle (every 2 s) may add one. Trying every failed group would make 15.
	if tries := strings.Count(log.String(), "will try again"); tries > 2*groups {
		t.Errorf("%d tries to withdraw %d failed groups; want at most %d", tries, groups, 2*groups)
	}
	mongodb.FailRatingGroups(writer, nil, nil)
	if _, errs := writer.CommitGroup(ctx, []rating.Submission{{Source: rating.SourceAPI, Rating: domain.Rating{
		Period: "2026Q4", Estate: "e1", Household: "9-8-9", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5})}}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if n := strings.Count(log.String(), "withdrew the versions"); n != groups {
		t.Errorf("%d failed groups withdrawn once the store took writes again, want %d", n, groups)
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

// A group in which a household's revision was taken by another server stores that version
// again after it; when the read after it fails, the version is in the database although its
// owner is told to send again. The whole group is then withdrawn, as when its journal entry
// fails.
func TestFailedTakenRevisionIsWithdrawn(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var log mongodbtest.Buffer
	a, b := server(t, db, &log), server(t, db, &log)
	sub := func(household string, points int) rating.Submission {
		return rating.Submission{Source: rating.SourceAPI, IdempotencyKey: fmt.Sprint("alone-", household, points), Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: household, SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{points, 5, 5, 5, 5, 5})}}
	}
	// a knows 8-8-1 at revision 1; b then takes revision 2 behind its back.
	for i, s := range []struct {
		db  *mongodb.DB
		sub rating.Submission
	}{{a, sub("8-8-1", 1)}, {b, sub("8-8-1", 2)}} {
		if rc, err := s.db.SubmitRating(ctx, s.sub); err != nil || rc.Revision != i+1 {
			t.Fatalf("rating %d: %+v, %v", i+1, rc, err)
		}
	}
	mongodb.FailTakenRevisions(a, errors.New("connection reset"))
	group := []rating.Submission{sub("8-8-1", 3), sub("8-8-2", 4)}
	_, errs := a.CommitGroup(ctx, group)
	for i, err := range errs {
		if derrors.Code(err) != derrors.Unavailable {
			t.Fatalf("rating %d of the failed group: %v, want Unavailable (503)", i, err)
		}
	}
	mongodb.FailTakenRevisions(a, nil)
	for household, want := range map[string]int{"8-8-1": 2, "8-8-2": 0} {
		if rev, err := db.CurrentRevision(ctx, "2026Q4|e1|"+household); err != nil || rev != want {
			t.Errorf("%s: revision %d (%v) after its group failed, want %d", household, rev, err, want)
		}
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted after the failed group: %+v, %v", drift, err)
	}
	for _, s := range group { // sent again, both count once
		if _, err := a.SubmitRating(ctx, s); err != nil {
			t.Errorf("%s sent again: %v", s.Rating.Household, err)
		}
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

// A group whose revisions another server took, for a household this server knew (a stale
// head) and for one it had not seen (a guessed head), stores those versions again after the
// others' in arrival order: receipts name the revisions stored, each household's last rating
// counts, a held rating's hold names its revision, and the tallies agree.
func TestGroupPlacesTakenRevisions(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var log mongodbtest.Buffer
	a, b := server(t, db, &log), server(t, db, &log)
	a.SetStuffingRules(rating.StuffingRules{Window: 10 * time.Minute, Address: 1})
	sub := func(household string, points int, ip string) rating.Submission {
		return rating.Submission{Source: rating.SourceAPI, IPHash: ip, Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: household, SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{points, 5, 5, 5, 5, 5})}}
	}
	for _, s := range []struct {
		db  *mongodb.DB
		sub rating.Submission
	}{{a, sub("7-7-1", 1, "")}, {b, sub("7-7-1", 2, "")}, {b, sub("7-7-1", 3, "")}, {b, sub("7-7-2", 4, "")}} {
		if _, err := s.db.SubmitRating(ctx, s.sub); err != nil {
			t.Fatal(err)
		}
	}
	group := []rating.Submission{sub("7-7-1", 1, ""), sub("7-7-1", 2, ""), sub("7-7-2", 3, ""), sub("7-7-3", 4, "x"), sub("7-7-2", 5, "x")}
	receipts, errs := a.CommitGroup(ctx, group)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	type got struct {
		Key      string
		Revision int
		Held     bool
	}
	var gotReceipts, stored []got
	for _, rc := range receipts {
		gotReceipts = append(gotReceipts, got{rc.Key, rc.Revision, rc.Hold == rating.HoldHeld})
		again, err := db.ReceiptByNumber(ctx, rc.Number)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, got{again.Key, again.Revision, again.Hold == rating.HoldHeld})
	}
	want := []got{{"2026Q4|e1|7-7-1", 4, false}, {"2026Q4|e1|7-7-1", 5, false}, {"2026Q4|e1|7-7-2", 2, false}, {"2026Q4|e1|7-7-3", 1, false}, {"2026Q4|e1|7-7-2", 3, true}}
	if diff := cmp.Diff(want, gotReceipts); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("receipts as stored (-want +got):\n%s", diff)
	}
	holds, err := db.Holds(ctx, "2026Q4")
	if err != nil || len(holds) != 1 || holds[0].Version != "2026Q4|e1|7-7-2|3" {
		t.Errorf("holds = %+v, %v; want one, of 7-7-2's revision 3", holds, err)
	}
	if drift, err := db.VerifyTallies(ctx, false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
	// The cache was put right: the next rating of each household follows its last.
	for household, rev := range map[string]int{"7-7-1": 6, "7-7-2": 4} {
		if rc, err := a.SubmitRating(ctx, sub(household, 1, "")); err != nil || rc.Revision != rev {
			t.Errorf("%s rated again: %+v, %v; want revision %d", household, rc, err, rev)
		}
	}
}

// A server that answers a repeated request for a household it had not seen, from the receipt
// another server stored, has stored nothing: it keeps no guess that the household was never
// rated (its next rating there would try every revision from the first).
func TestRepeatLeavesNoGuessedHead(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	var log mongodbtest.Buffer
	a, b := server(t, db, &log), server(t, db, &log)
	sub := rating.Submission{Source: rating.SourceAPI, IdempotencyKey: "once", Rating: domain.Rating{
		Period: "2026Q4", Estate: "e1", Household: "7-7-8", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3})}}
	first, err := b.SubmitRating(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.SubmitRating(ctx, sub)
	if err != nil || again.Number != first.Number || again.Revision != 1 {
		t.Fatalf("repeat on the other server: %+v, %v; want %+v", again, err, first)
	}
	if mongodb.KnowsHead(a, sub.Rating.Key()) {
		t.Error("the server that answered the repeat caches a head it never read or wrote")
	}
}

// A writer that stored a version above the revision its receipt claimed (another server had
// taken that one) and died before rewriting the receipt leaves a claim naming the old
// revision: the receipt is still found, at the revision stored, and the request sent again
// stores nothing more.
func TestReceiptFoundAboveItsClaim(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	sub := func(points int, key string) rating.Submission {
		return rating.Submission{Source: rating.SourceAPI, IdempotencyKey: key, Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: "7-7-9", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{points, 5, 5, 5, 5, 5})}}
	}
	if _, err := db.SubmitRating(ctx, sub(1, "first")); err != nil {
		t.Fatal(err)
	}
	rc, err := db.SubmitRating(ctx, sub(2, "second"))
	if err != nil || rc.Revision != 2 {
		t.Fatalf("second rating: %+v, %v", rc, err)
	}
	if _, err := rawDB(t, db).Collection("rating_receipts").UpdateOne(ctx, bson.D{{Key: "_id", Value: rc.Number}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revision", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ReceiptByNumber(ctx, rc.Number); err != nil || got.Revision != 2 || got.Superseded {
		t.Errorf("receipt claiming revision 1: %+v, %v; want revision 2, counted", got, err)
	}
	if again, err := db.SubmitRating(ctx, sub(2, "second")); err != nil || again.Number != rc.Number || again.Revision != 2 {
		t.Errorf("sent again: %+v, %v; want %s at revision 2", again, err, rc.Number)
	}
	if rev, err := db.CurrentRevision(ctx, "2026Q4|e1|7-7-9"); err != nil || rev != 2 {
		t.Errorf("household at revision %d (%v), want 2: the request sent again stored another version", rev, err)
	}
}

// A gap in a household's revisions (here a middle version deleted behind the application's
// back) must not hide the versions after it: a server that has not seen the household yet
// gives the next rating the revision after the highest, so the receipt of the one counting
// now is superseded and the new rating counts.
func TestHeadFoundPastAGap(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	if _, err := db.Import(ctx, smallCity(), nil); err != nil {
		t.Fatal(err)
	}
	rt := domain.Rating{Period: "2026Q4", Estate: "e1", Household: "5-5-505", SubmittedAt: time.Now()}
	var receipts []rating.Receipt
	for points := 1; points <= 3; points++ {
		rt.Scores = domain.ScoresOf([6]int{points, points, points, points, points, points})
		rc, err := db.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb})
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, rc)
	}
	key := rt.Key()
	if _, err := rawDB(t, db).Collection("ratings").DeleteOne(ctx, bson.D{{Key: "_id", Value: key + "|2"}}); err != nil {
		t.Fatal(err)
	}
	other := mongodbtest.Reconnect(t, db)
	if rev, err := other.CurrentRevision(ctx, key); err != nil || rev != 3 {
		t.Errorf("current revision past the gap: %d, %v; want 3", rev, err)
	}
	rt.Scores = domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})
	next, err := other.SubmitRating(ctx, rating.Submission{Rating: rt, Source: rating.SourceWeb})
	if err != nil || next.Revision != 4 {
		t.Fatalf("the rating after the gap: revision %d, %v; want 4", next.Revision, err)
	}
	if rc, err := other.ReceiptByNumber(ctx, receipts[2].Number); err != nil || !rc.Superseded {
		t.Errorf("receipt of revision 3: %+v, %v; want superseded", rc, err)
	}
	if rc, err := other.ReceiptByNumber(ctx, next.Number); err != nil || rc.Superseded {
		t.Errorf("receipt of revision 4: %+v, %v; want counting", rc, err)
	}
	versions, err := other.RatingVersions(ctx, key)
	if err != nil || len(versions) != 3 || versions[2].Scores.Service != 4 {
		t.Errorf("versions %+v, %v; want 1, 3 and 4, the last with 4 points", versions, err)
	}
}

// A journal entry written before tallies were stored as one string still counts, and the next
// compaction folds it into a base stored in the new form.
func TestTallyJournalReadsEntriesWrittenBefore(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDBWith(t, smallCity())
	if err := db.InsertLegacyTallyEntry(ctx, "2026Q4", "e1", 2, [6]int64{10, 9, 8, 7, 6, 5}); err != nil {
		t.Fatal(err)
	}
	// smallCity's two ratings: 5×6 and 1,2,3,4,5,1.
	want := []mongodb.Tally{{Period: "2026Q4", Estate: "e1", Ratings: 4, Sums: domain.TallySumsOf([6]int64{16, 16, 16, 16, 16, 11})}}
	for _, step := range []string{"before compaction", "after compaction"} {
		got, err := db.Tallies(ctx, "2026Q4")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: tallies (-want +got):\n%s", step, diff)
		}
		if err := db.CompactTallies(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := db.StoredTallies(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := stored.StringValueOK(); !ok || s != "e1 4 16 16 16 16 16 11\n" {
		t.Errorf("newest base stores tallies as %s, want the string form", stored)
	}
}

// The code check reads the code and its lock-outs with one query where the engine serves the
// lookup field from an index (UseFieldLookups), and by _id elsewhere. Both read the same
// documents: a guesser locked out by a server of either kind is locked out on the other, the
// household is not, and a re-issue voids the old code on both (also for a code stored before
// the lookup field existed, which the one query does not find).
func TestCodeChecksReadTheSameLockOutsEitherWay(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name            string
		guessed, checks bool // UseFieldLookups of the server guessed on, and of the one checking
	}{
		{"by _id, then by lookup", false, true},
		{"by lookup, then by _id", true, false},
		{"by lookup only", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, code := codedHousehold(t)
			guessed, checks := mongodbtest.Reconnect(t, db), mongodbtest.Reconnect(t, db)
			guessed.UseFieldLookups(tc.guessed)
			checks.UseFieldLookups(tc.checks)
			now := time.Date(2026, 11, 23, 10, 20, 0, 0, domain.Zone)
			for range 5 {
				_ = guessed.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", "AAAAA-AAAAA", "guesser", now)
			}
			if err := checks.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "guesser", now); !errors.Is(err, rating.ErrCodeLocked) {
				t.Errorf("the guesser with the right code: %v, want locked", err)
			}
			if err := checks.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "household", now); err != nil {
				t.Errorf("the household's right code: %v", err)
			}
			second, err := guessed.IssueCodes(ctx, "2026Q4", "e1", nil, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, forget := range []bool{false, true} {
				if forget { // as stored before flags and the lookup field
					if err := mongodb.ForgetCodeFlags(ctx, db); err != nil {
						t.Fatal(err)
					}
				}
				if err := checks.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", code, "household", now); !errors.Is(err, rating.ErrCodeVoided) {
					t.Errorf("forgotten flags %v: replaced code: %v, want %v", forget, err, rating.ErrCodeVoided)
				}
				if err := checks.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", second[0].Code, "household", now); err != nil {
					t.Errorf("forgotten flags %v: live code: %v", forget, err)
				}
				if err := checks.CheckCodeFrom(ctx, "2026Q4", "e1", "1-1-101", second[0].Code, "guesser", now); err != nil {
					t.Errorf("forgotten flags %v: the guesser with the new code: %v (the lock-out was of the old one)", forget, err)
				}
			}
		})
	}
}
