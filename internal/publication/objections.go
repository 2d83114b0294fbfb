package publication

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// During publicity (公示) a company may object to its own result, once per publication; a
// reviewer answers every objection, and the publication cannot be final while one is
// unanswered. A correction is a new scoring and publication, which supersedes this one and
// opens its own publicity (and its own objections).

// ResultObjection is a company's objection to its result in one publication.
type ResultObjection struct {
	ID         string           `bson:"_id"` // ObjectionID(period, seq, company)
	Period     string           `bson:"period"`
	Seq        int              `bson:"seq"`
	Company    string           `bson:"company"`
	Text       string           `bson:"text"`
	Evidence   []credit.FileRef `bson:"evidence,omitempty"`
	By         string           `bson:"by"`
	At         time.Time        `bson:"at"`
	Answer     string           `bson:"answer,omitempty"`
	AnsweredBy string           `bson:"answered_by,omitempty"`
	AnsweredAt time.Time        `bson:"answered_at,omitempty"`
}

// ObjectionID is the unique id that makes an objection once per company and publication.
func ObjectionID(period string, seq int, company string) string {
	return PublicationID(period, seq) + "|" + company
}

// Answered reports whether a reviewer has answered.
func (o ResultObjection) Answered() bool { return !o.AnsweredAt.IsZero() }

// ObjectionStore is what objections to results need of storage: an insert under the unique id
// (Conflict if taken), a conditional answer (Conflict if answered), and the list of a period.
type ObjectionStore interface {
	InsertResultObjection(ctx context.Context, o ResultObjection) error
	AnswerResultObjection(ctx context.Context, id, answer, by string, at time.Time) error
	ResultObjections(ctx context.Context, period string) ([]ResultObjection, error)
}

// MaxObjectionRunes bounds an objection's text and an answer.
const MaxObjectionRunes = 2000

func checkObjectionText(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxObjectionRunes || !domain.IsText(s) {
		return "", &derrors.Error{Code: derrors.Invalid, Message: "publication.objection.text", Fields: map[string]string{"text": "publication.objection.text"}}
	}
	return s, nil
}

func (s *Service) objections() (ObjectionStore, error) {
	os, ok := s.store.(ObjectionStore)
	if !ok {
		return nil, derrors.Errorf(derrors.Internal, "the store keeps no objections to results")
	}
	return os, nil
}

// Evidence is the files a company attaches to its objection, kept by the credit process's
// evidence code (credit.ResultEvidence): Check runs with the text's check, before anything is
// written; Store runs once the objection may be filed, and its references go in the objection.
type Evidence interface {
	Check() error
	Store(ctx context.Context, objection string) ([]credit.FileRef, error)
}

// checkObjection checks the text and the evidence (nil: none) together, so that the company
// hears of every bad field at once.
func checkObjection(text string, evidence Evidence) (string, error) {
	body, err := checkObjectionText(text)
	if evidence == nil {
		return body, err
	}
	eerr := evidence.Check()
	var te, ee *derrors.Error
	switch {
	case eerr == nil:
		return body, err
	case !errors.As(eerr, &ee) || ee.Code != derrors.Invalid, err == nil:
		return "", eerr
	case !errors.As(err, &te):
		return "", err
	}
	fields := maps.Clone(ee.Fields)
	maps.Copy(fields, te.Fields)
	return "", &derrors.Error{Code: derrors.Invalid, Message: ee.Message, Fields: fields}
}

// ObjectToResult files company's objection to its result in the period's current publication,
// during its publicity, once, with its evidence (nil: none). Nothing is written unless the text
// and every file are good and the objection may be filed; files stored for an objection that a
// concurrent one beats to the unique id stay unreferenced, and nobody can read them.
func (s *Service) ObjectToResult(ctx context.Context, period, company, by, text string, evidence Evidence, now time.Time) (ResultObjection, error) {
	os, err := s.objections()
	if err != nil {
		return ResultObjection{}, err
	}
	body, err := checkObjection(text, evidence)
	if err != nil {
		return ResultObjection{}, err
	}
	pubs, err := s.Publications(ctx, period)
	if err != nil {
		return ResultObjection{}, err
	}
	if len(pubs) == 0 {
		return ResultObjection{}, derrors.Errorf(derrors.Conflict, "publication.objection.closed")
	}
	cur := pubs[len(pubs)-1]
	if cur.Status() != StatusPublicity || !now.Before(cur.PublicityEnds) {
		return ResultObjection{}, derrors.Errorf(derrors.Conflict, "publication.objection.closed")
	}
	o := ResultObjection{ID: ObjectionID(period, cur.Seq, company), Period: period, Seq: cur.Seq, Company: company, Text: body, By: by, At: now.UTC()}
	if evidence != nil {
		// Refuse a second objection before storing its files; the insert below decides a race.
		all, err := os.ResultObjections(ctx, period)
		if err != nil {
			return ResultObjection{}, err
		}
		if slices.ContainsFunc(all, func(x ResultObjection) bool { return x.ID == o.ID }) {
			return ResultObjection{}, derrors.Errorf(derrors.Conflict, "publication.objection.once")
		}
		if o.Evidence, err = evidence.Store(ctx, o.ID); err != nil {
			return ResultObjection{}, err
		}
	}
	if err := os.InsertResultObjection(ctx, o); derrors.Code(err) == derrors.Conflict {
		return ResultObjection{}, derrors.Errorf(derrors.Conflict, "publication.objection.once")
	} else if err != nil {
		return ResultObjection{}, err
	}
	return o, nil
}

// AnswerObjection records a reviewer's answer, which the company sees.
func (s *Service) AnswerObjection(ctx context.Context, id, by, answer string, now time.Time) error {
	os, err := s.objections()
	if err != nil {
		return err
	}
	body, err := checkObjectionText(answer)
	if err != nil {
		return err
	}
	if err := os.AnswerResultObjection(ctx, id, body, by, now.UTC()); derrors.Code(err) == derrors.Conflict {
		return derrors.Errorf(derrors.Conflict, "publication.objection.answered")
	} else if err != nil {
		return err
	}
	return nil
}

// ResultObjections lists the objections to the period's results, oldest first.
func (s *Service) ResultObjections(ctx context.Context, period string) ([]ResultObjection, error) {
	os, err := s.objections()
	if err != nil {
		return nil, err
	}
	return os.ResultObjections(ctx, period)
}

// openObjections counts the unanswered objections to publication seq of period.
func (s *Service) openObjections(ctx context.Context, period string, seq int) (int, error) {
	os, ok := s.store.(ObjectionStore)
	if !ok {
		return 0, nil
	}
	all, err := os.ResultObjections(ctx, period)
	n := 0
	for _, o := range all {
		if o.Seq == seq && !o.Answered() {
			n++
		}
	}
	return n, err
}
