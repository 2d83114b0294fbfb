package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

// addressOnly holds the fourth household and later from one address in ten minutes, and
// nothing else.
var addressOnly = rating.StuffingRules{Window: 10 * time.Minute, Address: 3}

// stuffingDB is a fresh database with smallCity imported and rules in force.
func stuffingDB(t *testing.T, rules rating.StuffingRules) *mongodb.DB {
	t.Helper()
	db := mongodbtest.NewDB(t)
	db.SetStuffingRules(rules)
	if _, err := db.Import(context.Background(), smallCity(), nil); err != nil {
		t.Fatal(err)
	}
	return db
}

func e1Tally(t *testing.T, db *mongodb.DB) domain.Tally {
	t.Helper()
	tallies, err := db.Tallies(context.Background(), "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tallies {
		if tl.Estate == "e1" {
			return tl
		}
	}
	return domain.Tally{}
}

func checkNoDrift(t *testing.T, db *mongodb.DB) {
	t.Helper()
	if drift, err := db.VerifyTallies(context.Background(), false); err != nil || len(drift) != 0 {
		t.Errorf("tallies drifted: %+v, %v", drift, err)
	}
}

// stuff rates n households of e1 from one address and returns their receipts.
func stuff(t *testing.T, db *mongodb.DB, n int, flat string, marks int) []rating.Receipt {
	t.Helper()
	out := make([]rating.Receipt, n)
	for i := range n {
		r := domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf(flat, i), SubmittedAt: time.Now(),
			Scores: domain.ScoresOf([6]int{marks, marks, marks, marks, marks, marks})}
		rc, err := db.SubmitRating(context.Background(), rating.Submission{Rating: r, Source: rating.SourceAPI, IPHash: "attacker", UserAgentHash: "ua"})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = rc
	}
	return out
}

func TestHeldRatingsCountOnlyWhenReleased(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, addressOnly) // two ratings of e1
	rcs := stuff(t, db, 6, "8-%d", 1)
	for i, rc := range rcs {
		if held := rc.Hold == rating.HoldHeld; held != (i >= 3) {
			t.Errorf("household %d: receipt %+v; want held from the fourth on", i, rc)
		}
	}
	if got := e1Tally(t, db); got.Ratings != 2+3 || got.Sums.Service != 6+3 {
		t.Errorf("tally %+v; want 5 ratings, service 9 (the held ones count nothing)", got)
	}
	checkNoDrift(t, db)
	if rc, err := db.ReceiptByNumber(ctx, rcs[4].Number); err != nil || rc.Hold != rating.HoldHeld || rc.Counted() {
		t.Errorf("held receipt = %+v, %v; want under review", rc, err)
	}
	holds, err := db.Holds(ctx, "2026Q4")
	if err != nil || len(holds) != 3 {
		t.Fatalf("holds = %+v, %v; want 3", holds, err)
	}
	if s := holds[0].Signals; len(s) != 1 || s[0].Kind != rating.SignalAddress || s[0].Count != 4 || s[0].Threshold != 3 {
		t.Errorf("evidence = %+v; want the address, 4 households over 3", s)
	}

	// Released: it counts from now on, once, on this receipt.
	h, err := db.DecideHold(ctx, rating.HoldDecision{Version: holds[0].Version, Outcome: rating.HoldReleased, By: "rev", At: time.Now()})
	if err != nil || h.Outcome != rating.HoldReleased {
		t.Fatalf("release = %+v, %v", h, err)
	}
	if _, err := db.DecideHold(ctx, rating.HoldDecision{Version: holds[0].Version, Outcome: rating.HoldRejected, By: "rev2", At: time.Now()}); err != rating.ErrHoldDecided {
		t.Errorf("second decision: %v; want ErrHoldDecided", err)
	}
	if rc, err := db.ReceiptByNumber(ctx, rcs[3].Number); err != nil || rc.Hold != rating.HoldReleased || !rc.Counted() {
		t.Errorf("released receipt = %+v, %v; want counted", rc, err)
	}
	// Rejected: never counts.
	if _, err := db.DecideHold(ctx, rating.HoldDecision{Version: holds[1].Version, Outcome: rating.HoldRejected, By: "rev", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if rc, _ := db.ReceiptByNumber(ctx, rcs[4].Number); rc.Hold != rating.HoldRejected || rc.Counted() {
		t.Errorf("rejected receipt = %+v", rc)
	}
	// The third household rates again (not held: another address) before its hold is decided:
	// the later rating counts, and the release changes nothing.
	again := domain.Rating{Period: "2026Q4", Estate: "e1", Household: "8-5", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})}
	if rc, err := db.SubmitRating(ctx, rating.Submission{Rating: again, Source: rating.SourceWeb, IPHash: "home"}); err != nil || rc.Hold != "" || rc.Revision != 2 {
		t.Fatalf("new rating = %+v, %v", rc, err)
	}
	if h, err := db.DecideHold(ctx, rating.HoldDecision{Version: holds[2].Version, Outcome: rating.HoldReleased, By: "rev", At: time.Now()}); err != nil || h.Outcome != rating.HoldSuperseded {
		t.Errorf("release of a superseded hold = %+v, %v", h, err)
	}
	if got := e1Tally(t, db); got.Ratings != 2+3+1+1 || got.Sums.Service != 6+3+1+4 {
		t.Errorf("tally %+v; want 7 ratings (3, the released one, the later one), service 14", got)
	}
	checkNoDrift(t, db)
	ds, err := db.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Ratings) != 7 {
		t.Errorf("export holds %d ratings, want the 7 that count", len(ds.Ratings))
	}
}

// A household whose earlier rating counts keeps it counted while its newer one is held.
func TestHeldRevisionKeepsTheEarlierRating(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, addressOnly)
	stuff(t, db, 3, "7-%d", 2)
	// 1-1-101 (imported, 5 points) is revised from the attacker's address: held.
	r := domain.Rating{Period: "2026Q4", Estate: "e1", Household: "1-1-101", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{1, 1, 1, 1, 1, 1})}
	rc, err := db.SubmitRating(ctx, rating.Submission{Rating: r, Source: rating.SourceAPI, IPHash: "attacker"})
	if err != nil || rc.Hold != rating.HoldHeld {
		t.Fatalf("revision = %+v, %v; want held", rc, err)
	}
	if got := e1Tally(t, db); got.Ratings != 5 || got.Sums.Service != 5+1+3*2 {
		t.Errorf("tally %+v; want the imported 5 still counted", got)
	}
	checkNoDrift(t, db)
	// Another server releases it: the revision replaces the imported rating.
	other := mongodbtest.Reconnect(t, db)
	if h, err := other.DecideHold(ctx, rating.HoldDecision{Version: "2026Q4|e1|1-1-101|2", Outcome: rating.HoldReleased, By: "rev", At: time.Now()}); err != nil || h.Outcome != rating.HoldReleased {
		t.Fatalf("release = %+v, %v", h, err)
	}
	// The first server's writer, whose cache still has revision 2 as the head, revises again.
	r.Scores = domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3})
	if rc, err := db.SubmitRating(ctx, rating.Submission{Rating: r, Source: rating.SourceWeb, IPHash: "home"}); err != nil || rc.Revision != 4 {
		t.Fatalf("later revision = %+v, %v; want revision 4", rc, err)
	}
	if got := e1Tally(t, db); got.Ratings != 5 || got.Sums.Service != 3+1+3*2 {
		t.Errorf("tally %+v; want the latest revision counted once", got)
	}
	checkNoDrift(t, db)
}

// Two servers on one database count one signal: the households they take together pass the
// threshold once, not once per server.
func TestSignalsCountedOnceAcrossServers(t *testing.T) {
	ctx := context.Background()
	rules := rating.StuffingRules{Window: 10 * time.Minute, Address: 10}
	db := stuffingDB(t, rules)
	other := mongodbtest.Reconnect(t, db)
	other.SetStuffingRules(rules)
	const n = 30
	var wg sync.WaitGroup
	rcs := make([]rating.Receipt, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*mongodb.DB{db, other}[i%2]
			r := domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("6-%d", i), SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{2, 2, 2, 2, 2, 2})}
			rcs[i], errs[i] = s.SubmitRating(ctx, rating.Submission{Rating: r, Source: rating.SourceAPI, IPHash: "one"})
		}()
	}
	wg.Wait()
	held := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if rcs[i].Hold == rating.HoldHeld {
			held++
		}
	}
	if held != n-10 {
		t.Errorf("%d of %d held; want %d (the threshold is 10 households, whichever server took them)", held, n, n-10)
	}
	if got := e1Tally(t, db); got.Ratings != 2+10 {
		t.Errorf("tally counts %d; want 12", got.Ratings)
	}
	checkNoDrift(t, db)
}

// A release that stopped after its decision was stored (a crash) stays in the queue, its
// receipt still says under review, and releasing it again finishes it: it counts once.
func TestUnfinishedReleaseIsFinishedByReleasingAgain(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, addressOnly)
	rcs := stuff(t, db, 4, "4-%d", 2)
	version := "2026Q4|e1|4-3|1"
	if err := db.RecordHoldDecision(ctx, version, "2026Q4", rating.HoldReleased); err != nil {
		t.Fatal(err)
	}
	holds, err := db.Holds(ctx, "2026Q4")
	if err != nil || len(holds) != 1 || holds[0].Outcome != rating.HoldPending {
		t.Fatalf("holds = %+v, %v; want the half-released one pending", holds, err)
	}
	if rc, err := db.ReceiptByNumber(ctx, rcs[3].Number); err != nil || rc.Hold != rating.HoldHeld {
		t.Errorf("receipt = %+v, %v; want under review", rc, err)
	}
	if h, err := db.DecideHold(ctx, rating.HoldDecision{Version: version, Outcome: rating.HoldRejected, By: "rev", At: time.Now()}); err != rating.ErrHoldDecided {
		t.Errorf("rejecting a released hold = %+v, %v; want ErrHoldDecided", h, err)
	}
	if h, err := db.DecideHold(ctx, rating.HoldDecision{Version: version, Outcome: rating.HoldReleased, By: "rev", At: time.Now()}); err != nil || h.Outcome != rating.HoldReleased {
		t.Fatalf("release again = %+v, %v", h, err)
	}
	if _, err := db.DecideHold(ctx, rating.HoldDecision{Version: version, Outcome: rating.HoldReleased, By: "rev", At: time.Now()}); err != rating.ErrHoldDecided {
		t.Errorf("a third release: %v; want ErrHoldDecided", err)
	}
	if got := e1Tally(t, db); got.Ratings != 2+4 {
		t.Errorf("tally counts %d; want 6 (the released one once)", got.Ratings)
	}
	checkNoDrift(t, db)
}

// The demo city's honest ratings (internal/demo: realistic times, marks and comments) are not
// held under the default thresholds: the open period's ratings of its 12 busiest estates, in
// time order (in groups of 32), each owner on a phone of their own (a household's address, a
// common browser).
// bench/stuffing replays the whole city and adds attacks.
func TestHonestDemoCityIsNotHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("replays about 2,000 ratings")
	}
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	db.SetStuffingRules(rating.DefaultStuffingRules)
	now := time.Now()
	ds := demo.Generate(demo.DefaultSeed, now)
	open := ""
	for _, p := range ds.Periods {
		if p.Contains(domain.Today(now)) {
			open = p.ID
		}
	}
	byEstate := map[string][]domain.Rating{}
	history := *ds
	history.Ratings = nil
	for _, r := range ds.Ratings {
		if r.Period == open {
			byEstate[r.Estate] = append(byEstate[r.Estate], r)
		} else {
			history.Ratings = append(history.Ratings, r)
		}
	}
	if _, err := db.Import(ctx, &history, nil); err != nil {
		t.Fatal(err)
	}
	estates := slices.SortedFunc(maps.Keys(byEstate), func(a, b string) int { return len(byEstate[b]) - len(byEstate[a]) })
	var honest []domain.Rating
	const n = 12
	for _, e := range estates[:n] {
		honest = append(honest, byEstate[e]...)
	}
	sort.SliceStable(honest, func(i, j int) bool { return honest[i].SubmittedAt.Before(honest[j].SubmittedAt) })
	browsers := []string{"iphone", "android-wechat", "harmonyos"}
	for chunk := range slices.Chunk(honest, 32) { // groups of 32, as the writer takes them
		subs := make([]rating.Submission, len(chunk))
		for i, r := range chunk {
			subs[i] = rating.Submission{Rating: r, Source: rating.SourceWeb, IPHash: "home|" + r.Key(), UserAgentHash: browsers[i%len(browsers)]}
		}
		rcs, errs := db.CommitGroup(ctx, subs)
		for i := range subs {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if rcs[i].Hold != "" {
				t.Fatalf("honest rating %s at %s held", chunk[i].Key(), chunk[i].SubmittedAt)
			}
		}
	}
	if holds, err := db.Holds(ctx, open); err != nil || len(holds) != 0 {
		t.Errorf("holds = %d, %v; want none", len(holds), err)
	}
	t.Logf("%d honest ratings of %d estates, none held", len(honest), n)
}

// A server that has not seen a signal's ordinals (a fresh process, or another server's
// traffic) finds how far they went: its first rating of the key gets the next ordinal.
func TestSignalCountFoundByAnotherServer(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, addressOnly)
	stuff(t, db, 3, "3-%d", 3) // ordinals 1-3: none held
	other := mongodbtest.Reconnect(t, db)
	other.SetStuffingRules(addressOnly)
	rcs := stuff(t, other, 1, "3-9%d", 3)
	if rcs[0].Hold != rating.HoldHeld {
		t.Fatalf("the fourth rating from the address, on another server: %+v; want held", rcs[0])
	}
	holds, err := db.Holds(ctx, "2026Q4")
	if err != nil || len(holds) != 1 || holds[0].Signals[0].Count != 4 {
		t.Errorf("holds = %+v, %v; want one, the address's fourth", holds, err)
	}
}

// A held rating whose group fails leaves no hold behind: the owner who sends again (another
// receipt, the same revision) is held again and is in the reviewers' queue.
func TestFailedHeldRatingLeavesNoHold(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, addressOnly)
	stuff(t, db, 3, "8-%d", 1) // the address's allowance, used up
	sub := func(key string) rating.Submission {
		return rating.Submission{Source: rating.SourceAPI, IdempotencyKey: key, IPHash: "attacker", UserAgentHash: "ua", Rating: domain.Rating{
			Period: "2026Q4", Estate: "e1", Household: "8-9", SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{1, 1, 1, 1, 1, 1})}}
	}
	mongodb.FailRatingGroups(db, errors.New("database or disk is full"), nil)
	if _, errs := db.CommitGroup(ctx, []rating.Submission{sub("first")}); derrors.Code(errs[0]) != derrors.Unavailable {
		t.Fatalf("the held rating of a failed group: %v; want Unavailable", errs[0])
	}
	mongodb.FailRatingGroups(db, nil, nil)
	rc, err := db.SubmitRating(ctx, sub("again"))
	if err != nil || rc.Hold != rating.HoldHeld {
		t.Fatalf("sent again: %+v, %v; want held", rc, err)
	}
	holds, err := db.Holds(ctx, "2026Q4")
	if err != nil || len(holds) != 1 || holds[0].Receipt != rc.Number {
		t.Errorf("queue %+v, %v; want the one held rating sent again (receipt %s)", holds, err, rc.Number)
	}
}

// insertApart answers with the indexes of the documents refused, whichever of its two inserts
// they were in.
func TestInsertApartNamesTheRefused(t *testing.T) {
	ctx := context.Background()
	db := mongodbtest.NewDB(t)
	type signalDoc struct {
		ID string `bson:"_id"`
	}
	doc := func(id string) any { return signalDoc{ID: id} }
	if _, err := db.InsertApart(ctx, "rating_signals", []any{doc("b"), doc("e")}, func(int) bool { return false }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		apart func(i int) bool
	}{
		{"none apart", func(int) bool { return false }},
		{"odd apart", func(i int) bool { return i%2 == 1 }},
		{"all apart", func(int) bool { return true }},
	} {
		docs := []any{doc(tc.name + "a"), doc("b"), doc(tc.name + "c"), doc(tc.name + "d"), doc("e")}
		refused, err := db.InsertApart(ctx, "rating_signals", docs, tc.apart)
		slices.Sort(refused)
		if err != nil || !slices.Equal(refused, []int{1, 4}) {
			t.Errorf("%s: refused %v, %v; want [1 4]", tc.name, refused, err)
		}
	}
}

// A held rating whose revision another server took, of a household at its last revision,
// is refused as revised too often; its hold goes with it.
func TestHeldRatingRevisedTooOftenLeavesNoHold(t *testing.T) {
	ctx := context.Background()
	db := stuffingDB(t, rating.StuffingRules{Window: 10 * time.Minute, Address: 1})
	other := mongodbtest.Reconnect(t, db)
	sub := func(household, ip string) rating.Submission {
		return rating.Submission{Source: rating.SourceAPI, IPHash: ip, Rating: domain.Rating{Period: "2026Q4", Estate: "e1",
			Household: household, SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})}}
	}
	for range mongodb.MaxRevisions - 1 { // db knows the household at its 49th revision
		if _, err := db.SubmitRating(ctx, sub("8-1-1", "")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.SubmitRating(ctx, sub("8-1-1", "")); err != nil { // the 50th, behind db's back
		t.Fatal(err)
	}
	_, errs := db.CommitGroup(ctx, []rating.Submission{sub("8-1-2", "stuffer"), sub("8-1-1", "stuffer")})
	if errs[0] != nil || derrors.Code(errs[1]) != derrors.Conflict {
		t.Fatalf("errors %v; want none for the first, Conflict for the household revised too often", errs)
	}
	n, err := rawDB(t, db).Collection("rating_holds").CountDocuments(ctx, map[string]any{})
	if err != nil || n != 0 {
		t.Errorf("%d holds (%v) after the held rating was refused; want none", n, err)
	}
}
