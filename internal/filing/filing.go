// Package filing is the bureau's disclosure workflow: companies file cost disclosures,
// reviewers verify or reject each version, owners object and companies answer. It owns the
// workflow's types and rules; internal/mongodb stores them (disclosures_filing.go) and keeps
// the mechanics: versions frozen by unique ids, one objection slot per household and number.
package filing

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Where a filing came from.
const (
	FiledWeb    = "web"    // the web form
	FiledUpload = "upload" // a CSV or XLSX file through the web
	FiledAPI    = "api"    // the JSON API, with a company's token
)

// MaxTextRunes bounds every text people write in the workflow: a reviewer's reason, an
// owner's objection, a company's answer, a reviewer's closing note.
const MaxTextRunes = 1000

// Decision is a reviewer's verdict on one version of a filing.
type Decision struct {
	Status string    `bson:"status"` // verified or rejected
	Reason string    `bson:"reason,omitempty"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
}

// Filing is a disclosure as the workflow knows it: the record that scoring reads, and who
// filed which version of it and what the review decided.
type Filing struct {
	ID                string `bson:"_id"` // period|estate|category
	domain.Disclosure `bson:",inline"`
	// Version counts reviewed versions: 1 for the first filing, the next after each review. An
	// imported record has version 0.
	Version int `bson:"version"`
	// Draft counts the submissions of this version: each re-filing before review adds one.
	Draft   int       `bson:"draft"`
	FiledBy string    `bson:"filed_by,omitempty"` // an account name, or "token tok_…"
	Source  string    `bson:"source,omitempty"`   // FiledWeb, FiledUpload, FiledAPI; "" if imported
	Review  *Decision `bson:"review,omitempty"`   // the decision on this version, once made
}

// FilingKey is the _id of the filing of a period, estate and category.
func FilingKey(period, estate, category string) string {
	return period + "|" + estate + "|" + category
}

// NewFiling is a disclosure as a company files it. Data must have been checked (package
// disclosure); At is the server's clock.
type NewFiling struct {
	Period, Estate, Category string
	Data                     json.RawMessage
	FiledBy, Source          string
	At                       time.Time
}

// FileResult says what a filing did.
type FileResult struct {
	Filing Filing
	// ReplacedDraft is set when the filing replaced an unreviewed draft of the same version.
	ReplacedDraft bool
}

// ReviewDecision is a reviewer's decision on the version and draft they looked at.
type ReviewDecision struct {
	Period, Estate, Category string
	Version, Draft           int // what the reviewer saw; a newer draft is a Conflict
	Status                   string
	Reason                   string
	By                       string
	At                       time.Time
}

// Errors of a review.
var (
	ErrFilingChanged = derrors.Errorf(derrors.Conflict, "the filing changed after it was opened: look at it again")
	ErrReviewed      = derrors.Errorf(derrors.Conflict, "this filing has been reviewed already")
)

// MaxObjectionsPerHousehold bounds the objections one household may file in a period.
const MaxObjectionsPerHousehold = 5

// Objection is an owner's objection to a disclosure, with its answers and closing, if any.
type Objection struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"` // "objection"
	Period    string    `bson:"period"`
	Estate    string    `bson:"estate"`
	Category  string    `bson:"category"`
	Version   int       `bson:"version"` // of the filing objected to
	Household string    `bson:"flat"`    // for reviewers only; never shown to the company or the public
	Text      string    `bson:"text"`
	At        time.Time `bson:"at"`
	IPHash    string    `bson:"ip_hash,omitempty"`

	Answers []Reply `bson:"-"`
	Closing *Reply  `bson:"-"`
}

// Open reports whether no reviewer has closed the objection.
func (o *Objection) Open() bool { return o.Closing == nil }

// Reply is a company's answer to an objection or a reviewer's closing note.
type Reply struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"` // "answer" or "close"
	Objection string    `bson:"objection"`
	Estate    string    `bson:"estate"`
	Text      string    `bson:"text"`
	By        string    `bson:"by"`
	At        time.Time `bson:"at"`
}

// Errors of objections.
var (
	ErrObjectionClosed   = derrors.Errorf(derrors.Conflict, "the objection has been closed")
	ErrTooManyObjections = derrors.Errorf(derrors.RateLimited, "this household has filed the most objections allowed in this period")
)

// NewObjection is an objection as an owner files it; the caller has checked the household's
// code for OpenPeriod.
type NewObjection struct {
	Period, Estate, Category string // the disclosure objected to
	OpenPeriod, Household    string // the household, by its code for the open period
	Text                     string
	At                       time.Time
	IPHash                   string
}

// TextFits reports whether text is within MaxTextRunes and obeys the one text rule
// (domain.IsText: no control characters or text-direction controls): the rule for the
// workflow's texts, which forms check before they send and CheckText checks again.
func TextFits(text string) bool {
	return utf8.RuneCountInString(text) <= MaxTextRunes && domain.IsText(text)
}

// CheckText checks a text people wrote: trimmed, not empty if required, and TextFits.
func CheckText(text string, required bool) error {
	text = strings.TrimSpace(text)
	switch {
	case required && text == "":
		return derrors.Errorf(derrors.Invalid, "the text is empty")
	case !TextFits(text):
		return derrors.Errorf(derrors.Invalid, "the text must be at most %d characters, without control characters or text-direction controls", MaxTextRunes)
	}
	return nil
}

// CheckDecision checks a review decision's own rules, trimming its reason: verified or
// rejected, a rejection has a reason, the reason fits.
func CheckDecision(rd *ReviewDecision) error {
	rd.Reason = strings.TrimSpace(rd.Reason)
	switch {
	case rd.Status != domain.StatusVerified && rd.Status != domain.StatusRejected:
		return derrors.Errorf(derrors.Invalid, "decision must be verified or rejected, not %q", rd.Status)
	case rd.Status == domain.StatusRejected && rd.Reason == "":
		return derrors.Errorf(derrors.Invalid, "a rejection needs a reason")
	case !TextFits(rd.Reason):
		return derrors.Errorf(derrors.Invalid, "the reason must be at most %d characters, without control characters or text-direction controls", MaxTextRunes)
	}
	return nil
}

// Store is what the workflow's steps need from storage. internal/mongodb implements it, and
// keeps the mechanics: versions frozen under unique ids, objection slots per household.
type Store interface {
	FileDisclosure(ctx context.Context, nf NewFiling) (FileResult, error)
	DecideDisclosure(ctx context.Context, rd ReviewDecision) (Filing, error)
	FileObjection(ctx context.Context, no NewObjection) (Objection, error)
	AnswerObjection(ctx context.Context, id, text, by string, at time.Time) (Reply, error)
	CloseObjection(ctx context.Context, id, note, by string, at time.Time) (Reply, error)
}

// Service runs the workflow's steps on a store, each after its rules.
type Service struct{ store Store }

// New returns the workflow on store.
func New(store Store) *Service { return &Service{store: store} }

// FileDisclosure stores a company's filing as the current one of its estate, category and
// period, pending review. The caller has checked the data (package disclosure), the company's
// right to file for the estate, and that the period has started.
func (s *Service) FileDisclosure(ctx context.Context, nf NewFiling) (FileResult, error) {
	return s.store.FileDisclosure(ctx, nf)
}

// Decide records a reviewer's decision on the version and draft they saw: ErrFilingChanged
// if a newer draft came in, ErrReviewed if someone decided first.
func (s *Service) Decide(ctx context.Context, rd ReviewDecision) (Filing, error) {
	if err := CheckDecision(&rd); err != nil {
		return Filing{}, err
	}
	return s.store.DecideDisclosure(ctx, rd)
}

// FileObjection stores an owner's objection to a filed disclosure. The owner has proved the
// household (rating.Service.ProveHousehold) for no.OpenPeriod. ErrTooManyObjections past
// MaxObjectionsPerHousehold in the period.
func (s *Service) FileObjection(ctx context.Context, no NewObjection) (Objection, error) {
	if err := CheckText(no.Text, true); err != nil {
		return Objection{}, err
	}
	return s.store.FileObjection(ctx, no)
}

// Answer stores a company's answer to an objection.
func (s *Service) Answer(ctx context.Context, id, text, by string, at time.Time) (Reply, error) {
	if err := CheckText(text, true); err != nil {
		return Reply{}, err
	}
	return s.store.AnswerObjection(ctx, id, text, by, at)
}

// Close closes an objection with a reviewer's note (which may be empty).
func (s *Service) Close(ctx context.Context, id, note, by string, at time.Time) (Reply, error) {
	if err := CheckText(note, false); err != nil {
		return Reply{}, err
	}
	return s.store.CloseObjection(ctx, id, note, by, at)
}
