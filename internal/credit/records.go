package credit

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/scoring"
)

// MaxText bounds descriptions, objections, reasons and applications, in characters.
const MaxText = 2000

// NewRecord is what a reviewer fills in to record a credit record.
type NewRecord struct {
	Company     string
	Estate      string // optional
	Rule        string // catalogue code
	Date        string // YYYY-MM-DD, when it happened
	Description string
	Evidence    []Upload
}

// text trims s and checks it is 1..MaxText characters (0 allowed when optional) that obey the
// one text rule (domain.IsText: no control or text-direction characters).
func text(field, s string, optional bool) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !domain.IsText(s):
		return "", invalid(field, "credit.err.text_chars")
	case n == 0 && !optional:
		return "", invalid(field, "credit.err.text_required")
	case n > MaxText:
		return "", invalid(field, "credit.err.text_too_long")
	}
	return s, nil
}

// fieldErrors gathers the field errors of a form, so that every bad field is shown at once.
type fieldErrors map[string]string

func (fe fieldErrors) add(err error) error {
	if de, ok := err.(*derrors.Error); ok && de.Code == derrors.Invalid && len(de.Fields) > 0 {
		for k, v := range de.Fields {
			fe[k] = v
		}
		return nil
	}
	return err
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &derrors.Error{Code: derrors.Invalid, Message: "credit.err.invalid", Fields: fe}
}

// Create records a credit record as a draft, which its company cannot see.
func (s *Service) Create(ctx context.Context, who Actor, in NewRecord) (Record, error) {
	if !who.isStaff() {
		return Record{}, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	now := s.now()
	fe := fieldErrors{}
	in.Company = strings.ToUpper(strings.TrimSpace(in.Company))
	in.Estate = strings.TrimSpace(in.Estate)
	if in.Company == "" {
		fe["company"] = "credit.err.company_required"
	} else if _, err := s.store.Company(ctx, in.Company); derrors.Code(err) == derrors.NotFound {
		fe["company"] = "credit.err.no_company"
	} else if err != nil {
		return Record{}, err
	}
	if in.Estate != "" {
		e, err := s.store.Estate(ctx, in.Estate)
		switch {
		case derrors.Code(err) == derrors.NotFound:
			fe["estate"] = "credit.err.no_estate"
		case err != nil:
			return Record{}, err
		case e.Company != in.Company:
			fe["estate"] = "credit.err.estate_company"
		}
	}
	rule, ok := s.rules.RecordType(in.Rule)
	if !ok {
		fe["rule"] = "credit.err.no_rule"
	}
	day, err := time.ParseInLocation(domain.DateLayout, strings.TrimSpace(in.Date), domain.Zone)
	switch {
	case err != nil:
		fe["date"] = "credit.err.date"
	case day.Format(domain.DateLayout) > domain.Today(now):
		fe["date"] = "credit.err.date_future"
	}
	desc, err := text("description", in.Description, false)
	if err := fe.add(err); err != nil {
		return Record{}, err
	}
	if err := fe.add(checkUploads("evidence", in.Evidence)); err != nil {
		return Record{}, err
	}
	if err := fe.err(); err != nil {
		return Record{}, err
	}
	r := Record{
		Event: domain.Event{ID: newID("CR", now), Company: in.Company, Kind: rule.Kind, Points: decimalText(rule.Points),
			Veto: rule.Veto, Date: day.Format(domain.DateLayout), ValidDays: rule.ValidDays, Status: domain.EventDraft, Description: desc},
		Rule: rule.Code, Estate: in.Estate, Author: who.Name, CreatedAt: now.UTC(), Version: 1,
	}
	if r.Evidence, err = s.storeUploads(ctx, who, &r, PurposeEvidence, in.Evidence); err != nil {
		return Record{}, err
	}
	if err := s.save(ctx, r, true); err != nil {
		return Record{}, err
	}
	return r, s.record(ctx, who, "credit.record.create", &r, nil, summary(&r), "")
}

// decimalText writes an exact decimal with at most 2 places ("2.5", "10").
func decimalText(r *big.Rat) string {
	s := r.FloatString(2)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// summary is a record's state as the audit trail shows it.
func summary(r *Record) map[string]any {
	m := map[string]any{"status": r.Status, "rule": r.Rule, "kind": r.Kind, "points": r.Points, "veto": r.Veto, "date": r.Date}
	if r.RepairedOn != "" {
		m["repaired_on"] = r.RepairedOn
	}
	if r.Notice != nil {
		m["notice"] = r.Notice.Number
		m["objection_due"] = r.Notice.ObjectionDue.In(domain.Zone).Format(time.RFC3339)
	}
	if r.Objection != nil {
		m["objection"] = true
	}
	if r.Decision != nil {
		m["decision"] = r.Decision.Outcome
	}
	if p := r.PendingRepair(); p != nil {
		m["repair"] = RepairPending
	}
	return m
}

// record appends an audit entry about r.
func (s *Service) record(ctx context.Context, who Actor, action string, r *Record, before, after any, reason string) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, who.audit(), audit.Change{Action: action, Object: r.Object(), Company: r.Company,
		Before: before, After: after, Reason: reason})
}

// change reads record id, lets apply change it, and writes it back if nobody wrote it in the
// meantime (a Conflict otherwise, which the person sees as "changed meanwhile, look again").
// The audit entry records the state before and after.
func (s *Service) change(ctx context.Context, who Actor, id, action string, apply func(r *Record) (reason string, err error)) (Record, error) {
	r, err := s.store.CreditRecord(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if who.Role == domain.RoleCompany && (r.Company != who.Company || r.Status == domain.EventDraft) {
		return Record{}, fail(derrors.NotFound, "credit.err.no_record")
	}
	before := summary(&r)
	reason, err := apply(&r)
	if err != nil {
		return Record{}, err
	}
	r.Version++
	if err := s.save(ctx, r, false); err != nil {
		return Record{}, err
	}
	return r, s.record(ctx, who, action, &r, before, summary(&r), reason)
}

// Get returns record id as who may see it: a company sees only its own records once notified.
func (s *Service) Get(ctx context.Context, who Actor, id string) (Record, error) {
	r, err := s.store.CreditRecord(ctx, id)
	if derrors.Code(err) == derrors.NotFound {
		return Record{}, fail(derrors.NotFound, "credit.err.no_record")
	} else if err != nil {
		return Record{}, err
	}
	if !who.isStaff() && (who.Role != domain.RoleCompany || r.Company != who.Company || r.Status == domain.EventDraft) {
		return Record{}, fail(derrors.NotFound, "credit.err.no_record")
	}
	return r, nil
}

// List returns the records f selects that who may see, newest first.
func (s *Service) List(ctx context.Context, who Actor, f Filter) ([]Record, error) {
	switch {
	case who.isStaff():
	case who.Role == domain.RoleCompany && who.Company != "":
		f.Company = who.Company
	default:
		return nil, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	rs, err := s.store.CreditRecords(ctx, f)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if who.Role == domain.RoleCompany && r.Status == domain.EventDraft {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// Unread counts the notices of who's company that it has not opened.
func (s *Service) Unread(ctx context.Context, who Actor) (int, error) {
	if who.Role != domain.RoleCompany {
		return 0, nil
	}
	rs, err := s.List(ctx, who, Filter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if r.Notice != nil && r.Notice.ReadAt == nil {
			n++
		}
	}
	return n, nil
}

// noticeYearLimit bounds the search for a free notice number.
const noticeClaimTries = 50

// Notify issues the record's notice (记分告知单) to its company. A bad record becomes notified,
// open to objection until the end of the ObjectionDays-th working day after today; a good record
// is in force at once (there is nothing to object to).
func (s *Service) Notify(ctx context.Context, who Actor, id string) (Record, error) {
	if !who.isStaff() {
		return Record{}, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	now := s.now()
	r, err := s.store.CreditRecord(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Status != domain.EventDraft {
		return Record{}, fail(derrors.Conflict, "credit.err.not_draft")
	}
	year := now.In(domain.Zone).Year()
	n, err := s.store.CountNoticeNumbers(ctx, year)
	if err != nil {
		return Record{}, err
	}
	for tries := 0; ; tries++ {
		n++
		err = s.store.ClaimNoticeNumber(ctx, year, n, id)
		if derrors.Code(err) != derrors.Conflict || tries == noticeClaimTries {
			break
		}
	}
	if err != nil {
		return Record{}, err
	}
	return s.change(ctx, who, id, "credit.record.notify", func(r *Record) (string, error) {
		if r.Status != domain.EventDraft {
			return "", fail(derrors.Conflict, "credit.err.not_draft")
		}
		r.Notice = &Notice{Number: fmt.Sprintf("信告〔%d〕%06d号", year, n), IssuedAt: now.UTC(), IssuedBy: who.Name,
			ObjectionDue: s.cal.WindowEnd(now, s.days).UTC()}
		r.Status = domain.EventNotified
		if r.Kind == scoring.KindGood {
			r.Notice.ObjectionDue = now.UTC()
			r.Status = domain.EventInForce
		}
		return "", nil
	})
}

// MarkRead records that the company opened the notice (送达), once.
func (s *Service) MarkRead(ctx context.Context, who Actor, id string) (Record, error) {
	r, err := s.Get(ctx, who, id)
	if err != nil || who.Role != domain.RoleCompany || r.Notice == nil || r.Notice.ReadAt != nil {
		return r, err
	}
	now := s.now().UTC()
	r, err = s.change(ctx, who, id, "credit.notice.read", func(r *Record) (string, error) {
		if r.Notice == nil || r.Notice.ReadAt != nil {
			return "", fail(derrors.Conflict, "credit.err.changed")
		}
		r.Notice.ReadAt = &now
		return "", nil
	})
	if derrors.Code(err) == derrors.Conflict { // read at once in another tab: fine
		return s.Get(ctx, who, id)
	}
	return r, err
}

// Object files the company's objection: once per record, before the window closes.
func (s *Service) Object(ctx context.Context, who Actor, id, objection string, evidence []Upload) (Record, error) {
	now := s.now()
	return s.companyFiles(ctx, who, id, "credit.objection.file", PurposeObjection, objection, evidence,
		func(r *Record) error { return objectable(r, now) },
		func(r *Record, body string, refs []FileRef) {
			r.Objection = &Objection{Text: body, Evidence: refs, By: who.Name, At: now.UTC()}
		})
}

// companyFiles files a company's text with evidence on one of its records (an objection, a
// repair application): the form is checked whole, then check must allow it on the record as
// read, the evidence is stored, and check is applied again to the record as written.
func (s *Service) companyFiles(ctx context.Context, who Actor, id, action, purpose, textIn string, evidence []Upload,
	check func(r *Record) error, apply func(r *Record, body string, refs []FileRef)) (Record, error) {
	if who.Role != domain.RoleCompany {
		return Record{}, fail(derrors.Forbidden, "credit.err.company_only")
	}
	fe := fieldErrors{}
	body, err := text("text", textIn, false)
	if err := fe.add(err); err != nil {
		return Record{}, err
	}
	if err := fe.add(checkUploads("evidence", evidence)); err != nil {
		return Record{}, err
	}
	cur, err := s.Get(ctx, who, id)
	if err != nil {
		return Record{}, err
	}
	if err := check(&cur); err != nil {
		return Record{}, err
	}
	if err := fe.err(); err != nil {
		return Record{}, err
	}
	refs, err := s.storeUploads(ctx, who, &cur, purpose, evidence)
	if err != nil {
		return Record{}, err
	}
	return s.change(ctx, who, id, action, func(r *Record) (string, error) {
		if err := check(r); err != nil {
			return "", err
		}
		apply(r, body, refs)
		return body, nil
	})
}

func objectable(r *Record, now time.Time) error {
	switch {
	case r.Objection != nil:
		return fail(derrors.Conflict, "credit.err.objected_already")
	case r.Status != domain.EventNotified || r.Notice == nil:
		return fail(derrors.Conflict, "credit.err.not_objectable")
	case !now.Before(r.Notice.ObjectionDue):
		return fail(derrors.Conflict, "credit.err.window_closed")
	}
	return nil
}

// DecisionInput is a reviewer's answer to an objection. For PartlyUpheld, Rule (another
// catalogue type) and/or Points (fewer points) say what changes.
type DecisionInput struct {
	Outcome string
	Reason  string
	Rule    string
	Points  string
}

// Decide answers the objection to record id. The reviewer must not be the record's author.
func (s *Service) Decide(ctx context.Context, who Actor, id string, in DecisionInput) (Record, error) {
	if !who.isStaff() {
		return Record{}, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	now := s.now()
	reason, err := text("reason", in.Reason, false)
	fe := fieldErrors{}
	if err := fe.add(err); err != nil {
		return Record{}, err
	}
	if in.Outcome != Upheld && in.Outcome != PartlyUpheld && in.Outcome != Rejected {
		fe["outcome"] = "credit.err.outcome"
	}
	var newRule *scoring.RecordType
	var newPoints *big.Rat
	if in.Outcome == PartlyUpheld {
		if code := strings.TrimSpace(in.Rule); code != "" {
			rt, ok := s.rules.RecordType(code)
			if !ok {
				fe["rule"] = "credit.err.no_rule"
			}
			newRule = &rt
		}
		if p := strings.TrimSpace(in.Points); p != "" {
			v, ok := new(big.Rat).SetString(p)
			if !ok || v.Sign() <= 0 || !new(big.Rat).Mul(v, big.NewRat(100, 1)).IsInt() || strings.ContainsAny(p, "eE/") {
				fe["points"] = "credit.err.points"
			} else {
				newPoints = v
			}
		}
		if newRule == nil && newPoints == nil && fe["rule"] == "" && fe["points"] == "" {
			fe["points"] = "credit.err.partly_needs_change"
		}
	}
	if err := fe.err(); err != nil {
		return Record{}, err
	}
	return s.change(ctx, who, id, "credit.objection.decide", func(r *Record) (string, error) {
		switch {
		case r.Author == who.Name:
			return "", fail(derrors.Forbidden, "credit.err.four_eyes")
		case r.Objection == nil:
			return "", fail(derrors.Conflict, "credit.err.no_objection")
		case r.Decision != nil:
			return "", fail(derrors.Conflict, "credit.err.decided_already")
		}
		d := &Decision{Outcome: in.Outcome, Reason: reason, By: who.Name, At: now.UTC()}
		switch in.Outcome {
		case Upheld:
			r.Status = domain.EventWithdrawn
		case Rejected:
			r.Status = domain.EventInForce
		case PartlyUpheld:
			d.FromRule, d.FromPoints = r.Rule, r.Points
			if newRule != nil {
				r.Rule, r.Kind, r.Points, r.Veto, r.ValidDays = newRule.Code, newRule.Kind, decimalText(newRule.Points), newRule.Veto, newRule.ValidDays
			}
			if newPoints != nil {
				r.Points = decimalText(newPoints)
			}
			r.Status = domain.EventInForce
		}
		r.Decision = d
		return reason, nil
	})
}

// PrepareScoring makes the stored data say what the rules say at this moment, before a period
// is scored or exported: the governance records of verified claims are written again, and the
// records whose objection windows have closed are put in force. It returns how many were.
func (s *Service) PrepareScoring(ctx context.Context) (int, error) {
	if err := s.SyncGovernance(ctx); err != nil {
		return 0, err
	}
	return s.Settle(ctx)
}

// Settle puts in force every notified record whose objection window has closed without an
// objection, as the rules' own action. Every server's janitor runs it now and then, and
// PrepareScoring before scoring; it is idempotent and safe on several servers at once (each
// write is conditional).
func (s *Service) Settle(ctx context.Context) (int, error) {
	now := s.now()
	rs, err := s.store.CreditRecords(ctx, Filter{Status: domain.EventNotified})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if r.Objection != nil || r.Notice == nil || now.Before(r.Notice.ObjectionDue) {
			continue
		}
		_, err := s.change(ctx, Actor{Name: audit.System.Name, Role: audit.System.Role}, r.ID, "credit.record.in_force", func(r *Record) (string, error) {
			if r.Status != domain.EventNotified || r.Objection != nil || now.Before(r.Notice.ObjectionDue) {
				return "", fail(derrors.Conflict, "credit.err.changed")
			}
			r.Status = domain.EventInForce
			return "objection window closed without an objection", nil
		})
		switch derrors.Code(err) {
		case "":
			n++
		case derrors.Conflict: // another server or person got there first
		default:
			return n, err
		}
	}
	return n, nil
}
