package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/rating"
)

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
			db := mongodbtest.NewDB(t)
			if _, err := db.Import(ctx, smallCity(), nil); err != nil {
				t.Fatal(err)
			}
			var log mongodbtest.Buffer
			writer := server(t, db, &log)
			var subs []rating.Submission
			for i := range 3 {
				subs = append(subs, rating.Submission{Source: rating.SourceAPI, IdempotencyKey: fmt.Sprint("disk-full-", i), Rating: domain.Rating{
					Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("9-9-%d", i), SubmittedAt: time.Now(), Scores: domain.ScoresOf([6]int{5, 5, 5, 5, 5, 1 + i})}})
			}
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
			for deadline := time.Now().Add(10 * time.Second); tc.idle && !strings.Contains(log.String(), "withdrawn=3") && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
			if tc.settle == nil || tc.recover || tc.idle {
				if !strings.Contains(log.String(), "withdrawn=3") {
					t.Errorf("the log does not say the 3 versions were withdrawn:\n%s", log.String())
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
			for _, sub := range subs {
				rc, err := writer.SubmitRating(ctx, sub)
				if err != nil || rc.Revision != 1 {
					t.Errorf("%s sent again: %+v, %v; want revision 1", sub.Rating.Household, rc, err)
				}
			}
			if !strings.Contains(log.String(), "withdrawn=3") {
				t.Errorf("the log does not say the 3 versions were withdrawn:\n%s", log.String())
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
