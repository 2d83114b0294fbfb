package credit

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Governance facts (党建引领: a party organisation, a party-building instructor, taking part
// in the 三方联动 joint mechanism) are declared by the company for each period, with evidence,
// and verified item by item by a reviewer. Only verified items count: verifying writes the
// period's governance record (SCORING.md §3) with exactly the verified items. Imported
// governance records count as verified, as they always have.
//
// The claim is the source of truth and is written first; the governance record is derived
// from it, so PrepareScoring writes it again for every verified claim, mending a crash between the
// two writes.

// Claim states.
const (
	ClaimDeclared = "declared"
	ClaimVerified = "verified"
	ClaimRefused  = "refused"
)

// Governance items, in the order of SCORING.md §3.
var GovernanceItems = []string{"party_org", "party_instructor", "joint_mechanism"}

// Claim is a company's declaration of its governance facts for a period.
type Claim struct {
	ID         string    `bson:"_id"` // period|company
	Period     string    `bson:"period"`
	Company    string    `bson:"company"`
	Items      []string  `bson:"items"` // declared, of GovernanceItems
	Note       string    `bson:"note"`
	Evidence   []FileRef `bson:"evidence,omitempty"`
	By         string    `bson:"by"`
	At         time.Time `bson:"at"`
	Status     string    `bson:"status"`
	Verified   []string  `bson:"verified,omitempty"` // the items the reviewer verified
	Reason     string    `bson:"reason,omitempty"`
	VerifiedBy string    `bson:"verified_by,omitempty"`
	VerifiedAt time.Time `bson:"verified_at,omitempty"`
	Version    int       `bson:"version"`
}

// Object is the claim's name in the audit trail.
func (c Claim) Object() string { return "governance/" + c.ID }

// Has reports whether the claim declares item.
func (c Claim) Has(item string) bool { return slices.Contains(c.Items, item) }

// IsVerified reports whether the reviewer verified item.
func (c Claim) IsVerified(item string) bool { return slices.Contains(c.Verified, item) }

// ClaimStore is what governance claims need of storage. SaveClaim inserts a claim of version
// 1 and otherwise replaces the stored claim of version c.Version-1; a Conflict otherwise.
type ClaimStore interface {
	SaveClaim(ctx context.Context, c Claim) error
	Claim(ctx context.Context, id string) (Claim, error)
	Claims(ctx context.Context, period string) ([]Claim, error)
	PutGovernance(ctx context.Context, g domain.Governance) error
	Period(ctx context.Context, id string) (domain.Period, error)
}

func claimID(period, company string) string { return period + "|" + company }

func cleanItems(items []string) ([]string, bool) {
	var out []string
	for _, it := range GovernanceItems {
		if slices.Contains(items, it) {
			out = append(out, it)
		}
	}
	for _, it := range items {
		if !slices.Contains(GovernanceItems, it) {
			return nil, false
		}
	}
	return out, true
}

// Declare records (or replaces, until it is verified) the company's declaration for period.
func (s *Service) Declare(ctx context.Context, who Actor, period string, items []string, note string, evidence []Upload) (Claim, error) {
	if who.Role != domain.RoleCompany || who.Company == "" {
		return Claim{}, fail(derrors.Forbidden, "credit.err.company_only")
	}
	cs := s.claims()
	if _, err := cs.Period(ctx, period); derrors.Code(err) == derrors.NotFound {
		return Claim{}, fail(derrors.NotFound, "credit.err.no_period")
	} else if err != nil {
		return Claim{}, err
	}
	fe := fieldErrors{}
	clean, ok := cleanItems(items)
	if !ok {
		fe["items"] = "credit.err.items"
	}
	body, err := text("note", note, true)
	if err := fe.add(err); err != nil {
		return Claim{}, err
	}
	if err := fe.add(checkUploads("evidence", evidence)); err != nil {
		return Claim{}, err
	}
	if len(clean) > 0 && len(evidence) == 0 {
		fe["evidence"] = "credit.err.evidence_required"
	}
	if err := fe.err(); err != nil {
		return Claim{}, err
	}
	id := claimID(period, who.Company)
	cur, err := cs.Claim(ctx, id)
	switch {
	case derrors.Code(err) == derrors.NotFound:
		cur = Claim{ID: id, Period: period, Company: who.Company}
	case err != nil:
		return Claim{}, err
	case cur.Status == ClaimVerified:
		return Claim{}, fail(derrors.Conflict, "credit.err.claim_verified")
	}
	before := claimSummary(cur)
	now := s.now()
	holder := Record{Event: domain.Event{ID: "governance:" + id, Company: who.Company}}
	refs, err := s.storeUploads(ctx, who, &holder, PurposeGovernance, evidence)
	if err != nil {
		return Claim{}, err
	}
	next := Claim{ID: id, Period: period, Company: who.Company, Items: clean, Note: body, Evidence: refs, By: who.Name,
		At: now.UTC(), Status: ClaimDeclared, Version: cur.Version + 1}
	if err := cs.SaveClaim(ctx, next); err != nil {
		return Claim{}, err
	}
	return next, s.recordClaim(ctx, who, "governance.declare", next, before, body)
}

// Verify decides a declaration: the reviewer verifies some (or none) of the declared items,
// with a reason the company sees. The verified items become the period's governance record.
func (s *Service) Verify(ctx context.Context, who Actor, period, company string, verified []string, reason string) (Claim, error) {
	if !who.isStaff() {
		return Claim{}, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	cs := s.claims()
	why, err := text("reason", reason, false)
	if err != nil {
		return Claim{}, err
	}
	cur, err := cs.Claim(ctx, claimID(period, strings.ToUpper(company)))
	if derrors.Code(err) == derrors.NotFound {
		return Claim{}, fail(derrors.NotFound, "credit.err.no_claim")
	} else if err != nil {
		return Claim{}, err
	}
	if cur.Status != ClaimDeclared {
		return Claim{}, fail(derrors.Conflict, "credit.err.claim_decided")
	}
	clean, ok := cleanItems(verified)
	for _, it := range clean {
		ok = ok && cur.Has(it)
	}
	if !ok {
		return Claim{}, invalid("verified", "credit.err.items")
	}
	before := claimSummary(cur)
	next := cur
	next.Verified, next.Reason, next.VerifiedBy, next.VerifiedAt = clean, why, who.Name, s.now().UTC()
	next.Status = ClaimVerified
	if len(clean) == 0 {
		next.Status = ClaimRefused
	}
	next.Version++
	if err := cs.SaveClaim(ctx, next); err != nil {
		return Claim{}, err
	}
	if next.Status == ClaimVerified {
		if err := cs.PutGovernance(ctx, governanceOf(next)); err != nil {
			return Claim{}, err
		}
	}
	return next, s.recordClaim(ctx, who, "governance.verify", next, before, why)
}

func governanceOf(c Claim) domain.Governance {
	return domain.Governance{Period: c.Period, Company: c.Company, PartyOrg: c.IsVerified("party_org"),
		PartyInstructor: c.IsVerified("party_instructor"), JointMechanism: c.IsVerified("joint_mechanism")}
}

// Claims returns the declarations of period that who may see.
func (s *Service) Claims(ctx context.Context, who Actor, period string) ([]Claim, error) {
	all, err := s.claims().Claims(ctx, period)
	if err != nil || who.isStaff() {
		return all, err
	}
	var out []Claim
	for _, c := range all {
		if who.Role == domain.RoleCompany && c.Company == who.Company {
			out = append(out, c)
		}
	}
	return out, nil
}

// SyncGovernance writes the governance record of every verified claim of every period again
// (see the package comment on the order of writes).
func (s *Service) SyncGovernance(ctx context.Context) error {
	cs := s.claims()
	all, err := cs.Claims(ctx, "")
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.Status == ClaimVerified {
			if err := cs.PutGovernance(ctx, governanceOf(c)); err != nil {
				return err
			}
		}
	}
	return nil
}

func claimSummary(c Claim) map[string]any {
	if c.Version == 0 {
		return nil
	}
	return map[string]any{"status": c.Status, "items": c.Items, "verified": c.Verified}
}

func (s *Service) recordClaim(ctx context.Context, who Actor, action string, c Claim, before any, reason string) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, who.audit(), audit.Change{Action: action, Object: c.Object(), Company: c.Company, Period: c.Period,
		Before: before, After: claimSummary(c), Reason: reason})
}

func (s *Service) claims() ClaimStore { return s.store }
