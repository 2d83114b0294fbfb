package credit

import (
	"context"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/scoring"
)

// Credit repair (信用修复): after rectifying, a company applies with evidence; a reviewer
// approves or refuses with a reason the company sees. Approval sets repaired_on to the day
// of approval (+08:00), which ends the record's force from that day (SCORING.md §4). Only bad
// records in force whose catalogue type says repairable qualify, so a veto is not repairable
// unless the catalogue says so.

// Repairable reports whether the company may apply to repair r, and if not, why (a message
// key).
func (s *Service) Repairable(r *Record) (bool, string) {
	rt, ok := s.rules.RecordType(r.Rule)
	switch {
	case r.Kind != scoring.KindBad:
		return false, "credit.err.repair_not_bad"
	case r.Status != domain.EventInForce && r.Status != "":
		return false, "credit.err.repair_not_in_force"
	case r.RepairedOn != "":
		return false, "credit.err.repaired_already"
	case !ok || !rt.Repairable:
		return false, "credit.err.not_repairable"
	case r.PendingRepair() != nil:
		return false, "credit.err.repair_pending"
	}
	return true, ""
}

// ApplyRepair files a company's application to repair record id.
func (s *Service) ApplyRepair(ctx context.Context, who Actor, id, application string, evidence []Upload) (Record, error) {
	now := s.now()
	return s.companyFiles(ctx, who, id, "credit.repair.apply", PurposeRepair, application, evidence,
		func(r *Record) error {
			if ok, why := s.Repairable(r); !ok {
				return fail(derrors.Conflict, why)
			}
			return nil
		},
		func(r *Record, body string, refs []FileRef) {
			r.Repairs = append(r.Repairs, Repair{Text: body, Evidence: refs, By: who.Name, At: now.UTC(), Status: RepairPending})
		})
}

// DecideRepair approves or refuses the pending repair application of record id.
func (s *Service) DecideRepair(ctx context.Context, who Actor, id string, approve bool, reason string) (Record, error) {
	if !who.isStaff() {
		return Record{}, fail(derrors.Forbidden, "credit.err.staff_only")
	}
	now := s.now()
	why, err := text("reason", reason, false)
	if err != nil {
		return Record{}, err
	}
	return s.change(ctx, who, id, "credit.repair.decide", func(r *Record) (string, error) {
		p := r.PendingRepair()
		if p == nil {
			return "", fail(derrors.Conflict, "credit.err.no_repair")
		}
		p.Reason, p.DecidedBy, p.DecidedAt = why, who.Name, now.UTC()
		if approve {
			p.Status = RepairApproved
			r.RepairedOn = now.In(domain.Zone).Format(domain.DateLayout)
		} else {
			p.Status = RepairRefused
		}
		return why, nil
	})
}

// Today is the service's civil date in +08:00.
func (s *Service) Today() string { return domain.Today(s.now()) }
