// Package publication is the bureau's publishing workflow: score a period into its draft,
// look the draft over, publish it, and supersede the publication it replaces.
//
// Service.Publish is the one place a publication is saved. A step that must happen with
// every publication belongs there: it appends the publication to the transparency ledger
// before writing it (ledger.go); opening a publicity period would go after the publication is
// written and before the earlier one is marked superseded.
package publication

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/scoring"
)

// A Record is one scoring of a period as stored: the engine's full output (JSON, with every
// component and estate detail) and the inputs it came from. A period has one draft, replaced
// by each scoring, and any number of publications, of which the latest stands and the others
// are kept as superseded. Bodies are gzipped: a whole city's detail would otherwise approach
// the 16 MB document limit.
type Record struct {
	ID           string    `bson:"_id"` // draft|P or pub|P|0001
	Period       string    `bson:"period"`
	Kind         string    `bson:"kind"` // draft or publication
	Seq          int       `bson:"seq"`  // publications: 1, 2, …
	Ruleset      string    `bson:"ruleset"`
	RulesetHash  string    `bson:"ruleset_hash"`
	InputsHash   string    `bson:"inputs_hash"`
	CreatedAt    time.Time `bson:"created_at"`
	CreatedBy    string    `bson:"created_by"`
	SupersededAt time.Time `bson:"superseded_at,omitempty"`
	// Publicity (公示): a publication is open to the companies' scrutiny until PublicityEnds,
	// then a second person (not CreatedBy) approves it as final (正式发布). Publications made
	// before publicity existed have neither and are final.
	PublicityEnds time.Time `bson:"publicity_ends,omitempty"`
	FinalAt       time.Time `bson:"final_at,omitempty"`
	FinalBy       string    `bson:"final_by,omitempty"`
	Detail        []byte    `bson:"detail"` // gzip of the engine's detailed JSON
	Inputs        []byte    `bson:"inputs"` // gzip of the canonical input JSON
}

// Record kinds.
const (
	KindDraft       = "draft"
	KindPublication = "publication"
)

// DraftID and PublicationID are the ids records are stored under: one draft per period, one
// publication per period and number (the unique id is what numbers publications).
func DraftID(period string) string { return "draft|" + period }

func PublicationID(period string, seq int) string { return fmt.Sprintf("pub|%s|%04d", period, seq) }

// Publication statuses (INTERCHANGE.md's grades `status`).
const (
	StatusPublicity = "publicity" // 公示中
	StatusFinal     = "final"     // 正式发布
)

// Status is StatusFinal once approved (or for publications older than publicity), and
// StatusPublicity before.
func (r *Record) Status() string {
	if r.FinalAt.IsZero() && !r.PublicityEnds.IsZero() {
		return StatusPublicity
	}
	return StatusFinal
}

// Superseded reports whether a later publication replaced this one.
func (r *Record) Superseded() bool { return !r.SupersededAt.IsZero() }

// DetailJSON returns the engine's detailed JSON.
func (r *Record) DetailJSON() ([]byte, error) { return gunzip(r.Detail) }

// InputsJSON returns the inputs' canonical JSON.
func (r *Record) InputsJSON() ([]byte, error) { return gunzip(r.Inputs) }

// Version names a draft as a reviewer saw it: a draft scored again has another.
func (r *Record) Version() string {
	return r.InputsHash + "@" + r.CreatedAt.UTC().Format(time.RFC3339Nano)
}

// Store is what the workflow needs from storage. internal/mongodb implements it.
type Store interface {
	// What scoring reads: the store returns every list sorted, so that the inputs' hash does
	// not depend on the order documents come back in.
	Period(ctx context.Context, id string) (domain.Period, error)
	Companies(ctx context.Context) ([]domain.Company, error)
	Estates(ctx context.Context) ([]domain.Estate, error)
	Tallies(ctx context.Context, period string) ([]domain.Tally, error)
	Disclosures(ctx context.Context, period string) ([]domain.Disclosure, error)
	Governance(ctx context.Context, period string) ([]domain.Governance, error)
	Events(ctx context.Context) ([]domain.Event, error)

	// SaveDraft replaces the period's draft.
	SaveDraft(ctx context.Context, r Record) error
	// InsertRecord stores a new record under its id; derrors.Conflict if the id is taken.
	InsertRecord(ctx context.Context, r Record) error
	// MarkSuperseded sets a publication's SupersededAt.
	MarkSuperseded(ctx context.Context, id string, at time.Time) error
	// MarkFinal sets a publication's FinalAt and FinalBy if it has no FinalAt yet;
	// derrors.Conflict otherwise.
	MarkFinal(ctx context.Context, id, by string, at time.Time) error
	// Record fetches a draft or publication whole, by id; derrors.NotFound if none.
	Record(ctx context.Context, id string) (Record, error)
	// Publications lists a period's publications ("": every period's) without their bodies,
	// by period and then Seq.
	Publications(ctx context.Context, period string) ([]Record, error)

	// The transparency ledger, which every publication is appended to (ledger.go).
	ledger.Store
}

// Service runs the workflow on a store.
type Service struct {
	store         Store
	publicityDays int
}

// DefaultPublicityDays is how long results are publicised (公示) before they can be final.
const DefaultPublicityDays = 7

// New returns the workflow on store.
func New(store Store) *Service { return &Service{store: store, publicityDays: DefaultPublicityDays} }

// SetPublicityDays sets the publicity period, in days (at least 1), and returns s.
func (s *Service) SetPublicityDays(days int) *Service {
	if days >= 1 {
		s.publicityDays = days
	}
	return s
}

// publicityEnd is the end of a publicity of s.publicityDays days opened at t: the start
// (00:00 +08:00) of the day after the last whole day.
func (s *Service) publicityEnd(t time.Time) time.Time {
	local := t.In(domain.Zone)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, domain.Zone)
	return day.AddDate(0, 0, s.publicityDays+1).UTC()
}

// ErrDraftChanged: the draft is not the one the caller looked at.
var ErrDraftChanged = derrors.Errorf(derrors.Conflict, "the draft was scored again since it was shown; look at it again")

// UnscorableError says that the engine refused a period's data; nothing was stored.
type UnscorableError struct {
	Period string
	Err    error
}

func (e *UnscorableError) Error() string { return fmt.Sprintf("score %s: %v", e.Period, e.Err) }
func (e *UnscorableError) Unwrap() error { return e.Err }

// Input reads what the engine needs to score a period: one tally per estate rather than every
// rating, and the period's disclosures and governance records. It first flushes the tallies of
// ratings this process acknowledged, so that the input counts them.
func (s *Service) Input(ctx context.Context, periodID string) (scoring.Input, error) {
	var in scoring.Input
	p, err := s.store.Period(ctx, periodID)
	if err != nil {
		return in, err
	}
	if in.Period, err = ScoringPeriod(p); err != nil {
		return in, err
	}
	companies, err := s.store.Companies(ctx)
	if err != nil {
		return in, err
	}
	for _, c := range companies {
		in.Companies = append(in.Companies, scoring.Company{ID: c.ID, Name: c.Name})
	}
	estates, err := s.store.Estates(ctx)
	if err != nil {
		return in, err
	}
	for _, e := range estates {
		in.Estates = append(in.Estates, scoring.Estate{ID: e.ID, Name: e.Name, District: e.District, Company: e.Company, Households: e.Households})
	}
	tallies, err := s.store.Tallies(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, t := range tallies {
		if t.Ratings == 0 {
			continue // every rating of the estate was moved elsewhere; nothing counts
		}
		in.Tallies = append(in.Tallies, scoring.Tally{Estate: t.Estate, Ratings: t.Ratings, Sums: t.Sums.Array()})
	}
	disclosures, err := s.store.Disclosures(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, d := range disclosures {
		in.Disclosures = append(in.Disclosures, scoring.Disclosure{Estate: d.Estate, Category: d.Category, FiledAt: d.FiledAt, Status: d.Status})
	}
	governance, err := s.store.Governance(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, g := range governance {
		in.Governance = append(in.Governance, scoring.Governance{Company: g.Company, PartyOrg: g.PartyOrg, PartyInstructor: g.PartyInstructor, JointMechanism: g.JointMechanism})
	}
	events, err := s.store.Events(ctx)
	if err != nil {
		return in, err
	}
	for _, ev := range events {
		se, err := scoringEvent(ev)
		if err != nil {
			return in, err
		}
		in.Events = append(in.Events, se)
	}
	return in, nil
}

// ScoringPeriod is the one conversion of a stored period (domain.Period: validated civil
// dates as YYYY-MM-DD strings) into the scoring engine's input period (scoring.Period: the
// same id and dates, parsed). A date that does not parse is an error naming the period.
func ScoringPeriod(p domain.Period) (scoring.Period, error) {
	start, err1 := scoring.ParseDate(p.Start)
	end, err2 := scoring.ParseDate(p.End)
	deadline, err3 := scoring.ParseDate(p.DisclosureDeadline)
	if err1 != nil || err2 != nil || err3 != nil {
		return scoring.Period{}, fmt.Errorf("period %s has a bad date", p.ID)
	}
	return scoring.Period{ID: p.ID, Start: start, End: end, DisclosureDeadline: deadline}, nil
}

func scoringEvent(ev domain.Event) (scoring.Event, error) {
	points, ok := new(big.Rat).SetString(ev.Points)
	if !ok {
		return scoring.Event{}, fmt.Errorf("event %s: points %q is not a decimal", ev.ID, ev.Points)
	}
	date, err := scoring.ParseDate(ev.Date)
	if err != nil {
		return scoring.Event{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	se := scoring.Event{ID: ev.ID, Company: ev.Company, Kind: ev.Kind, Points: points, Veto: ev.Veto,
		Date: date, ValidDays: ev.ValidDays, Status: ev.Status, Description: ev.Description}
	if ev.RepairedOn != "" {
		repaired, err := scoring.ParseDate(ev.RepairedOn)
		if err != nil {
			return scoring.Event{}, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		se.RepairedOn = &repaired
	}
	return se, nil
}

// InputsHash fingerprints the data a result was computed from, so that a publication can
// prove which data produced it. The engine's result does not depend on input order, so the
// hash must not either: the store returns every list sorted.
func InputsHash(in scoring.Input) (string, []byte, error) {
	canonical, err := json.Marshal(in)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), canonical, nil
}

// Score reads the period's data, scores it with rs and stores the result as the period's
// draft, by whom and when. step, if not nil, is told of each of the three steps done (read,
// scored, saved). An *UnscorableError says the engine refused the data.
func (s *Service) Score(ctx context.Context, period string, rs *scoring.Ruleset, by string, now time.Time, step func(done int)) (*scoring.Result, error) {
	if step == nil {
		step = func(int) {}
	}
	in, err := s.Input(ctx, period)
	if err != nil {
		return nil, err
	}
	step(1)
	res, err := scoring.Score(rs, in)
	if err != nil {
		return nil, &UnscorableError{Period: period, Err: err}
	}
	step(2)
	if err := s.SaveDraft(ctx, in, res, by, now); err != nil {
		return nil, err
	}
	step(3)
	return res, nil
}

// SaveDraft stores a scoring result as the period's draft, with the inputs it came from.
func (s *Service) SaveDraft(ctx context.Context, in scoring.Input, res *scoring.Result, by string, now time.Time) error {
	hash, inputs, err := InputsHash(in)
	if err != nil {
		return err
	}
	detail, err := scoring.MarshalDetail(res)
	if err != nil {
		return err
	}
	r := Record{ID: DraftID(res.Period), Period: res.Period, Kind: KindDraft, Ruleset: res.Ruleset, RulesetHash: res.RulesetHash,
		InputsHash: hash, CreatedAt: now.UTC(), CreatedBy: by}
	if r.Detail, err = gzipBytes(detail); err != nil {
		return err
	}
	if r.Inputs, err = gzipBytes(inputs); err != nil {
		return err
	}
	if err := s.store.SaveDraft(ctx, r); err != nil {
		return fmt.Errorf("save draft of %s: %w", res.Period, err)
	}
	return nil
}

// A Draft is a period's draft record and the engine's result in it, decoded once.
type Draft struct {
	Record
	Result *scoring.Result
}

// Draft returns the period's draft, decoded, or derrors.NotFound.
func (s *Service) Draft(ctx context.Context, period string) (*Draft, error) {
	r, err := s.store.Record(ctx, DraftID(period))
	if derrors.Code(err) == derrors.NotFound {
		return nil, derrors.Errorf(derrors.NotFound, "period %s has no draft results; score it first", period)
	} else if err != nil {
		return nil, err
	}
	detail, err := r.DetailJSON()
	if err != nil {
		return nil, err
	}
	d := &Draft{Record: r, Result: new(scoring.Result)}
	if err := json.Unmarshal(detail, d.Result); err != nil {
		return nil, fmt.Errorf("draft of %s: %w", period, err)
	}
	return d, nil
}

// DraftRecord returns the period's draft without decoding it, or nil if it has none.
func (s *Service) DraftRecord(ctx context.Context, period string) (*Record, error) {
	r, err := s.store.Record(ctx, DraftID(period))
	if derrors.Code(err) == derrors.NotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &r, nil
}

// Publish freezes the period's draft as its next publication and marks the earlier ones
// superseded. seen is the Version of the draft the publisher looked at ("" for whichever is
// current: the command line); another gives ErrDraftChanged.
//
// The publication is inserted under its numbered unique id first: two publishers at once
// cannot both take a number, and if the process dies before the earlier publication is marked,
// the newest still stands, because Publications repairs the mark when it reads.
func (s *Service) Publish(ctx context.Context, period, seen, by string, now time.Time) (Record, error) {
	draft, err := s.store.Record(ctx, DraftID(period))
	if derrors.Code(err) == derrors.NotFound {
		return Record{}, derrors.Errorf(derrors.NotFound, "period %s has no draft results; score it first", period)
	} else if err != nil {
		return Record{}, err
	}
	if seen != "" && seen != draft.Version() {
		return Record{}, ErrDraftChanged
	}
	for attempt := 0; attempt < 5; attempt++ {
		pubs, err := s.store.Publications(ctx, period)
		if err != nil {
			return Record{}, err
		}
		pub := draft
		pub.Kind = KindPublication
		pub.Seq = len(pubs) + 1
		pub.ID = PublicationID(period, pub.Seq)
		pub.CreatedAt = now.UTC()
		pub.CreatedBy = by
		pub.PublicityEnds = s.publicityEnd(now)
		if _, err := AppendToLedger(ctx, ledger.New(s.store, nil), pub); err != nil {
			return Record{}, fmt.Errorf("record publication %s in the ledger: %w", pub.ID, err)
		}
		if err := s.store.InsertRecord(ctx, pub); derrors.Code(err) == derrors.Conflict {
			continue // someone published at the same moment; take the next number
		} else if err != nil {
			return Record{}, fmt.Errorf("publish %s: %w", period, err)
		}
		// Here: whatever must happen with every publication.
		for _, old := range pubs {
			if old.Superseded() {
				continue
			}
			if err := s.store.MarkSuperseded(ctx, old.ID, pub.CreatedAt); err != nil {
				return pub, fmt.Errorf("mark publication %s superseded: %w", old.ID, err)
			}
		}
		return pub, nil
	}
	return Record{}, derrors.Errorf(derrors.Conflict, "period %s is being published by someone else; try again", period)
}

// RefusedError says why a publication cannot be final yet; Reason is a message key
// (publication.final.*) and Until, for a publicity still running, when it ends.
type RefusedError struct {
	Reason string
	Until  time.Time
}

func (e *RefusedError) Error() string {
	switch e.Reason {
	case RefusedNone:
		return "the period has no publication to approve"
	case RefusedFinal:
		return "the period's publication is final already"
	case RefusedSamePerson:
		return "the person who published the results cannot also approve them: a second person must"
	case RefusedPublicity:
		return "the publicity runs until " + e.Until.In(domain.Zone).Format("2006-01-02 15:04 (UTC+8)")
	case RefusedObjections:
		return "objections to the results are waiting for an answer"
	}
	return e.Reason
}

// Reasons of RefusedError.
const (
	RefusedNone       = "publication.final.none"
	RefusedFinal      = "publication.final.already"
	RefusedSamePerson = "publication.final.same_person"
	RefusedPublicity  = "publication.final.publicity"
	RefusedObjections = "publication.final.objections"
)

// Finalize approves the period's current publication as final (正式发布), by a second person
// once its publicity has ended. It refuses with a *RefusedError (code Conflict) saying why.
func (s *Service) Finalize(ctx context.Context, period, by string, now time.Time) (Record, error) {
	pubs, err := s.Publications(ctx, period)
	if err != nil {
		return Record{}, err
	}
	refuse := func(reason string, until time.Time) (Record, error) {
		re := &RefusedError{Reason: reason, Until: until}
		return Record{}, &derrors.Error{Code: derrors.Conflict, Message: re.Error(), Fields: map[string]string{"reason": reason}}
	}
	if len(pubs) == 0 {
		return refuse(RefusedNone, time.Time{})
	}
	cur := pubs[len(pubs)-1]
	switch {
	case cur.Status() == StatusFinal:
		return refuse(RefusedFinal, time.Time{})
	case cur.CreatedBy == by:
		return refuse(RefusedSamePerson, time.Time{})
	case now.Before(cur.PublicityEnds):
		return refuse(RefusedPublicity, cur.PublicityEnds)
	}
	if n, err := s.openObjections(ctx, period, cur.Seq); err != nil {
		return Record{}, err
	} else if n > 0 {
		return refuse(RefusedObjections, time.Time{})
	}
	final := cur
	final.FinalAt, final.FinalBy = now.UTC(), by
	leaf, err := FinalLeaf(final)
	if err != nil {
		return Record{}, err
	}
	if _, err := ledger.New(s.store, nil).Append(ctx, []ledger.Leaf{leaf}); err != nil {
		return Record{}, fmt.Errorf("record the final approval of %s in the ledger: %w", cur.ID, err)
	}
	if err := s.store.MarkFinal(ctx, cur.ID, by, now.UTC()); derrors.Code(err) == derrors.Conflict {
		return refuse(RefusedFinal, time.Time{})
	} else if err != nil {
		return Record{}, err
	}
	cur.FinalAt, cur.FinalBy = now.UTC(), by
	return cur, nil
}

// Publications lists a period's publications ("": every period's), by period and then Seq,
// without their bodies. Every publication but each period's latest is superseded: Publish
// marks the earlier one only after writing the new one, and if it stopped in between, the
// mark is supplied here, with the time of the publication that replaced it.
func (s *Service) Publications(ctx context.Context, period string) ([]Record, error) {
	pubs, err := s.store.Publications(ctx, period)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(pubs); i++ {
		if pubs[i].Period == pubs[i+1].Period && !pubs[i].Superseded() {
			pubs[i].SupersededAt = pubs[i+1].CreatedAt
		}
	}
	return pubs, nil
}

// Record fetches a draft or publication whole, by its id.
func (s *Service) Record(ctx context.Context, id string) (Record, error) {
	return s.store.Record(ctx, id)
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("stored result is corrupt: %w", err)
	}
	return io.ReadAll(zr)
}
