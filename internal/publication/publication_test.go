package publication_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/rating"
	"github.com/propcredit/propcredit/scoring"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

var now = time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)

// city is one company with one estate and n ratings of all fours in 2026Q4.
func city(t *testing.T, n int) *mongodb.DB {
	t.Helper()
	ds := mongodbtest.OneEstate()
	for i := range n {
		ds.Ratings = append(ds.Ratings, domain.Rating{Period: "2026Q4", Estate: "e1", Household: fmt.Sprintf("1-1-%03d", i),
			SubmittedAt: time.Date(2026, 10, 5, 9, 0, 0, 0, domain.Zone), Scores: domain.ScoresOf([6]int{4, 4, 4, 4, 4, 4})})
	}
	return mongodbtest.NewDBWith(t, ds)
}

// TestScoreAndPublish walks the workflow: each step's result and error, in order, on one
// period.
func TestScoreAndPublish(t *testing.T) {
	ctx := context.Background()
	db := city(t, 30)
	svc := publication.New(db)

	// Nothing to publish before scoring.
	if _, err := svc.Publish(ctx, "2026Q4", "", "rev", now); derrors.Code(err) != derrors.NotFound {
		t.Fatalf("publish before scoring: %v, want NotFound", err)
	}
	if d, err := svc.DraftRecord(ctx, "2026Q4"); d != nil || err != nil {
		t.Fatalf("draft before scoring: %v, %v", d, err)
	}
	if _, err := svc.Score(ctx, "2025Q1", scoring.Default(), "rev", now, nil); derrors.Code(err) != derrors.NotFound {
		t.Fatalf("score of an unknown period: %v, want NotFound", err)
	}

	var steps []int
	res, err := svc.Score(ctx, "2026Q4", scoring.Default(), "rev", now, func(done int) { steps = append(steps, done) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, steps); diff != "" {
		t.Errorf("progress steps (-want +got):\n%s", diff)
	}
	draft, err := svc.Draft(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if draft.CreatedBy != "rev" || draft.Kind != publication.KindDraft || draft.Result.CityRatings != res.CityRatings || len(draft.Result.Grades) != 1 {
		t.Errorf("draft = %+v, result %+v", draft.Record, draft.Result)
	}

	// Publishing a draft the publisher did not see is refused; the one seen is published.
	if _, err := svc.Publish(ctx, "2026Q4", "stale", "rev", now); !errors.Is(err, publication.ErrDraftChanged) {
		t.Fatalf("publish a stale version: %v, want ErrDraftChanged", err)
	}
	first, err := svc.Publish(ctx, "2026Q4", draft.Version(), "rev", now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "admin", later, nil); err != nil {
		t.Fatal(err)
	}
	second, err := svc.Publish(ctx, "2026Q4", "", "admin", later)
	if err != nil {
		t.Fatal(err)
	}

	pubs, err := svc.Publications(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, By       string
		Seq          int
		SupersededAt time.Time
	}
	var got []row
	for _, p := range pubs {
		got = append(got, row{p.ID, p.CreatedBy, p.Seq, p.SupersededAt})
	}
	want := []row{{"pub|2026Q4|0001", "rev", 1, later}, {"pub|2026Q4|0002", "admin", 2, time.Time{}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("publications (-want +got):\n%s", diff)
	}
	if first.InputsHash != second.InputsHash {
		t.Errorf("the same data scored twice has two hashes: %s, %s", first.InputsHash, second.InputsHash)
	}
	whole, err := svc.Record(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail, err := whole.DetailJSON(); err != nil || len(detail) == 0 {
		t.Errorf("stored detail: %d bytes, %v", len(detail), err)
	}
}

// TestPublicationsRepairsAnInterruptedSupersede: a publisher that stopped after writing the
// new publication, before marking the old one, leaves two unmarked; the reader marks the
// older one superseded at the newer one's time, period by period.
func TestPublicationsRepairsAnInterruptedSupersede(t *testing.T) {
	ctx := context.Background()
	db := city(t, 0)
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	for i, p := range []struct {
		period string
		seq    int
		at     time.Time
	}{{"2026Q3", 1, at(0)}, {"2026Q3", 2, at(1)}, {"2026Q4", 1, at(2)}, {"2026Q4", 2, at(3)}, {"2026Q4", 3, at(4)}} {
		r := publication.Record{ID: publication.PublicationID(p.period, p.seq), Period: p.period, Kind: publication.KindPublication,
			Seq: p.seq, CreatedAt: p.at, InputsHash: fmt.Sprint(i)}
		if err := db.InsertRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InsertRecord(ctx, publication.Record{ID: publication.PublicationID("2026Q4", 3)}); derrors.Code(err) != derrors.Conflict {
		t.Errorf("a taken number: %v, want Conflict", err)
	}
	pubs, err := publication.New(db).Publications(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for _, p := range pubs {
		got = append(got, p.SupersededAt)
	}
	if diff := cmp.Diff([]time.Time{at(1), {}, at(3), at(4), {}}, got); diff != "" {
		t.Errorf("superseded at (-want +got):\n%s", diff)
	}
}

// TestConcurrentPublishersTakeDistinctNumbers: two publications at once get numbers 1 and 2,
// and the first ends superseded.
func TestConcurrentPublishersTakeDistinctNumbers(t *testing.T) {
	ctx := context.Background()
	db := city(t, 30)
	if _, err := publication.New(db).Score(ctx, "2026Q4", scoring.Default(), "rev", now, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	seqs := make([]int, 2)
	for i := range seqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each publisher is another server: its own connection.
			pub, err := publication.New(mongodbtest.Reconnect(t, db)).Publish(ctx, "2026Q4", "", fmt.Sprint("rev", i), now)
			if err != nil {
				t.Error(err)
			}
			seqs[i] = pub.Seq
		}()
	}
	wg.Wait()
	if seqs[0]+seqs[1] != 3 {
		t.Errorf("numbers %v, want 1 and 2", seqs)
	}
	pubs, _ := publication.New(db).Publications(ctx, "2026Q4")
	if len(pubs) != 2 || !pubs[0].Superseded() || pubs[1].Superseded() {
		t.Errorf("publications %+v", pubs)
	}
}

// TestInputCountsAcknowledgedRatings: a rating acknowledged a moment ago, whose tally change
// the writer has not flushed yet, is in the scoring input.
func TestInputCountsAcknowledgedRatings(t *testing.T) {
	ctx := context.Background()
	db := city(t, 2)
	_, err := db.SubmitRating(ctx, rating.Submission{Source: rating.SourceAPI, Rating: domain.Rating{Period: "2026Q4", Estate: "e1",
		Household: "9-9-999", SubmittedAt: time.Date(2026, 11, 5, 9, 0, 0, 0, domain.Zone), Scores: domain.ScoresOf([6]int{1, 2, 3, 4, 5, 1})}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := publication.New(db).Input(ctx, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	want := []scoring.Tally{{Estate: "e1", Ratings: 3, Sums: [6]int64{9, 10, 11, 12, 13, 9}}}
	if diff := cmp.Diff(want, in.Tallies); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
	hash1, _, _ := publication.InputsHash(in)
	in2, _ := publication.New(mongodbtest.Reconnect(t, db)).Input(ctx, "2026Q4")
	if hash2, _, _ := publication.InputsHash(in2); hash1 != hash2 {
		t.Errorf("the same data read twice hashes differently")
	}
}

// Publishing opens publicity (7 days by default, to the end of the 7th day after, +08:00); a
// second person approves the final publication once it has ended; the publisher cannot, nor
// can anyone before the end or twice. A correction (a new publication) restarts publicity.
func TestPublicityAndFinal(t *testing.T) {
	ctx := context.Background()
	db := city(t, 5)
	svc := publication.New(db)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, domain.Zone)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	reason := func(err error) string {
		var de *derrors.Error
		if !errors.As(err, &de) || de.Code != derrors.Conflict {
			return fmt.Sprintf("not a refusal: %v", err)
		}
		return de.Fields["reason"]
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "bob", at("2027-01-05 09:00:00")); reason(err) != publication.RefusedNone {
		t.Fatalf("final before any publication: %v", err)
	}
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "alice", at("2027-01-05 09:00:00"), nil); err != nil {
		t.Fatal(err)
	}
	pub, err := svc.Publish(ctx, "2026Q4", "", "alice", at("2027-01-05 23:30:00"))
	if err != nil {
		t.Fatal(err)
	}
	if pub.Status() != publication.StatusPublicity || !pub.PublicityEnds.Equal(at("2027-01-13 00:00:00")) {
		t.Fatalf("published: %s until %s", pub.Status(), pub.PublicityEnds.In(domain.Zone))
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "bob", at("2027-01-12 23:59:59")); reason(err) != publication.RefusedPublicity ||
		!strings.Contains(err.Error(), "2027-01-13 00:00") {
		t.Fatalf("final during publicity: %v", err)
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "alice", at("2027-01-13 00:00:00")); reason(err) != publication.RefusedSamePerson {
		t.Fatalf("final by the publisher: %v", err)
	}
	// A correction during publicity: scored again and published again; its own publicity.
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "alice", at("2027-01-10 09:00:00"), nil); err != nil {
		t.Fatal(err)
	}
	pub2, err := svc.Publish(ctx, "2026Q4", "", "carol", at("2027-01-10 10:00:00"))
	if err != nil || !pub2.PublicityEnds.Equal(at("2027-01-18 00:00:00")) {
		t.Fatalf("correction: %v, until %s", err, pub2.PublicityEnds.In(domain.Zone))
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "bob", at("2027-01-13 00:00:00")); reason(err) != publication.RefusedPublicity {
		t.Fatalf("final of the corrected publication during its own publicity: %v", err)
	}
	// Two approvals at once: one stands.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Finalize(ctx, "2026Q4", who, at("2027-01-18 00:00:00"))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two approvals: %v, %v", errs[0], errs[1])
	}
	pubs, _ := svc.Publications(ctx, "2026Q4")
	last := pubs[len(pubs)-1]
	if last.Status() != publication.StatusFinal || (last.FinalBy != "alice" && last.FinalBy != "bob") {
		t.Fatalf("stored %+v", last)
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "dave", at("2027-01-19 00:00:00")); reason(err) != publication.RefusedFinal {
		t.Fatalf("final twice: %v", err)
	}
	// Seven days is the default; a city may set another.
	pub3, err := publication.New(db).SetPublicityDays(10).Publish(ctx, "2026Q4", "", "alice", at("2027-01-20 08:00:00"))
	if err != nil || !pub3.PublicityEnds.Equal(at("2027-01-31 00:00:00")) {
		t.Fatalf("ten days: %v, until %s", err, pub3.PublicityEnds.In(domain.Zone))
	}
}

// A company objects to its result once during publicity; the publication cannot be final
// until a reviewer answers; after the publicity nobody may object.
func TestObjectionsToResults(t *testing.T) {
	ctx := context.Background()
	db := city(t, 5)
	svc := publication.New(db)
	t0 := time.Date(2027, 1, 5, 2, 0, 0, 0, time.UTC) // 10:00 +08:00
	if _, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", "分数有误", nil, t0); derrors.Code(err) != derrors.Conflict {
		t.Fatalf("objection before any publication: %v", err)
	}
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "alice", t0, nil); err != nil {
		t.Fatal(err)
	}
	pub, err := svc.Publish(ctx, "2026Q4", "", "alice", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", " ", nil, t0); derrors.Code(err) != derrors.Invalid {
		t.Fatalf("empty objection: %v", err)
	}
	o, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", "满意度样本有误", nil, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme2", "再次异议", nil, t0.Add(2*time.Hour)); derrors.Message(err) != "publication.objection.once" {
		t.Fatalf("second objection: %v", err)
	}
	if _, err := svc.ObjectToResult(ctx, "2026Q4", "C2", "other", "晚了", nil, pub.PublicityEnds); derrors.Message(err) != "publication.objection.closed" {
		t.Fatalf("objection after publicity: %v", err)
	}
	_, err = svc.Finalize(ctx, "2026Q4", "bob", pub.PublicityEnds)
	var de *derrors.Error
	if !errors.As(err, &de) || de.Fields["reason"] != publication.RefusedObjections {
		t.Fatalf("final with an unanswered objection: %v", err)
	}
	if err := svc.AnswerObjection(ctx, o.ID, "bob", "样本核对无误，维持结果", pub.PublicityEnds); err != nil {
		t.Fatal(err)
	}
	if err := svc.AnswerObjection(ctx, o.ID, "carol", "again", pub.PublicityEnds); derrors.Code(err) != derrors.Conflict {
		t.Fatalf("answered twice: %v", err)
	}
	if _, err := svc.Finalize(ctx, "2026Q4", "bob", pub.PublicityEnds); err != nil {
		t.Fatalf("final after the answer: %v", err)
	}
	os, _ := svc.ResultObjections(ctx, "2026Q4")
	if len(os) != 1 || os[0].Answer != "样本核对无误，维持结果" || os[0].AnsweredBy != "bob" {
		t.Fatalf("stored %+v", os)
	}
}

// An objection's evidence is checked with its text before anything is written, stored only
// when the objection may be filed, and referenced by it; the files read back whole, to the
// objecting company and staff only.
func TestObjectionEvidence(t *testing.T) {
	ctx := context.Background()
	db := city(t, 5)
	svc := publication.New(db)
	files := credit.New(credit.Config{Store: db})
	t0 := time.Date(2027, 1, 5, 2, 0, 0, 0, time.UTC)
	if _, err := svc.Score(ctx, "2026Q4", scoring.Default(), "alice", t0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, "2026Q4", "", "alice", t0); err != nil {
		t.Fatal(err)
	}
	acme := credit.Actor{Name: "acme", Role: domain.RoleCompany, Company: "C1"}
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	png := []byte("\x89PNG\r\n\x1a\n....")
	for _, tc := range []struct {
		name, text string
		uploads    []credit.Upload
		want       map[string]string
	}{
		{"png named pdf", "样本有误", []credit.Upload{{Name: "a.pdf", Data: png}}, map[string]string{"evidence": "credit.err.file_content"}},
		{"no text, empty file", "", []credit.Upload{{Name: "a.pdf"}}, map[string]string{"text": "publication.objection.text", "evidence": "credit.err.file_empty"}},
	} {
		_, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", tc.text, files.ResultEvidence(acme, tc.uploads), t0)
		var de *derrors.Error
		if !errors.As(err, &de) || de.Code != derrors.Invalid || !cmp.Equal(de.Fields, tc.want) {
			t.Errorf("%s: %v, fields %v", tc.name, err, de)
		}
	}
	if os, _ := svc.ResultObjections(ctx, "2026Q4"); len(os) != 0 {
		t.Fatalf("stored after refusals: %+v", os)
	}
	o, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", "样本有误", files.ResultEvidence(acme, []credit.Upload{{Name: "证明.pdf", Data: pdf}, {Name: "照片.png", Data: png}}), t0)
	if err != nil || len(o.Evidence) != 2 {
		t.Fatalf("objection with files: %v %+v", err, o)
	}
	stored, _ := svc.ResultObjections(ctx, "2026Q4")
	if len(stored) != 1 || !cmp.Equal(stored[0].Evidence, o.Evidence) {
		t.Fatalf("stored %+v", stored)
	}
	for _, who := range []credit.Actor{acme, {Name: "bob", Role: domain.RoleReviewer}} {
		if _, data, err := files.OpenFile(ctx, who, o.Evidence[0].ID); err != nil || string(data) != string(pdf) {
			t.Errorf("%s opens the file: %v", who.Name, err)
		}
	}
	for _, who := range []credit.Actor{{Name: "rival", Role: domain.RoleCompany, Company: "C2"}, {Name: "eva", Role: domain.RoleEvaluator}} {
		if _, _, err := files.OpenFile(ctx, who, o.Evidence[0].ID); derrors.Code(err) != derrors.NotFound {
			t.Errorf("%s opens the file: %v", who.Name, err)
		}
	}
	// A second objection is refused before its files are stored.
	second := &countingEvidence{ResultEvidence: files.ResultEvidence(acme, []credit.Upload{{Name: "b.pdf", Data: pdf}})}
	if _, err := svc.ObjectToResult(ctx, "2026Q4", "C1", "acme", "再次", second, t0); derrors.Message(err) != "publication.objection.once" || second.stored != 0 {
		t.Errorf("second objection: %v, %d stores", err, second.stored)
	}
}

// countingEvidence counts the stores of the credit process's evidence.
type countingEvidence struct {
	credit.ResultEvidence
	stored int
}

func (c *countingEvidence) Store(ctx context.Context, objection string) ([]credit.FileRef, error) {
	c.stored++
	return c.ResultEvidence.Store(ctx, objection)
}

// TestScoringPeriod: the stored period becomes the engine's with the same id and dates; a
// date that does not exist is an error naming the period.
func TestScoringPeriod(t *testing.T) {
	for _, tc := range []struct {
		in      domain.Period
		want    scoring.Period
		wantErr string
	}{
		{in: domain.Period{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"},
			want: scoring.Period{ID: "2026Q4", Start: scoring.MustParseDate("2026-10-01"), End: scoring.MustParseDate("2026-12-31"),
				DisclosureDeadline: scoring.MustParseDate("2026-10-15")}},
		{in: domain.Period{ID: "2027Q1", Start: "2027-01-01", End: "2027-02-30", DisclosureDeadline: "2027-01-15"},
			wantErr: "period 2027Q1 has a bad date"},
	} {
		got, err := publication.ScoringPeriod(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: err = %v, want %q", tc.in.ID, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in.ID, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in.ID, diff)
		}
	}
}
