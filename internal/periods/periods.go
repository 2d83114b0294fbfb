// Package periods lets reviewers create and change rating periods in the app (dates and the
// disclosure deadline), with the same validation as the importer and every change audited.
// Periods may not overlap: the open period of a day must be one period.
package periods

import (
	"context"
	"strings"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Store is what periods need of storage. ReplacePeriod writes p only if the stored period
// still equals old; a Conflict otherwise.
type Store interface {
	Periods(ctx context.Context) ([]domain.Period, error)
	Period(ctx context.Context, id string) (domain.Period, error)
	InsertPeriod(ctx context.Context, p domain.Period) error
	ReplacePeriod(ctx context.Context, old, p domain.Period) error
}

// Service manages periods.
type Service struct {
	store Store
	audit *audit.Log
	val   *domain.Validator
}

// New returns a Service.
func New(store Store, log *audit.Log) *Service {
	return &Service{store: store, audit: log, val: domain.NewValidator()}
}

// Save creates period p, or changes the stored period p.ID when create is false. Messages are
// in lang.
func (s *Service) Save(ctx context.Context, who audit.Actor, p domain.Period, create bool, lang string) error {
	p.ID, p.Start, p.End, p.DisclosureDeadline = strings.TrimSpace(p.ID), strings.TrimSpace(p.Start), strings.TrimSpace(p.End), strings.TrimSpace(p.DisclosureDeadline)
	if who.Role != domain.RoleReviewer && who.Role != domain.RoleAdmin && who.Role != "cli" {
		return derrors.Errorf(derrors.Forbidden, "forbidden")
	}
	if err := s.val.Check(p, lang); err != nil {
		return err
	}
	all, err := s.store.Periods(ctx)
	if err != nil {
		return err
	}
	for _, q := range all {
		if q.ID != p.ID && q.Start <= p.End && p.Start <= q.End {
			msg := "与评价期 " + q.ID + " 的日期重叠"
			if lang == domain.LangEN {
				msg = "overlaps period " + q.ID
			}
			return derrors.FieldErrors(msg, map[string]string{"start": msg})
		}
	}
	var before any
	if create {
		if err := s.store.InsertPeriod(ctx, p); err != nil {
			return err
		}
	} else {
		old, err := s.store.Period(ctx, p.ID)
		if err != nil {
			return err
		}
		if old == p {
			return nil // nothing changed, nothing to audit
		}
		if err := s.store.ReplacePeriod(ctx, old, p); err != nil {
			return err
		}
		before = old
	}
	action := "period.change"
	if create {
		action = "period.create"
	}
	return s.audit.Record(ctx, who, audit.Change{Action: action, Object: "period/" + p.ID, Period: p.ID, Before: before, After: p})
}
