package mongodb

import (
	"context"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/domain"
)

// Districts, companies, estates and periods number in the thousands at most, so they are read
// whole and sorted in Go rather than filtered in the database.

func (db *DB) Districts(ctx context.Context) ([]domain.District, error) {
	return allByID(ctx, db.c(colDistricts), bson.D{}, func(x domain.District) string { return x.ID })
}

func (db *DB) Companies(ctx context.Context) ([]domain.Company, error) {
	return allByID(ctx, db.c(colCompanies), bson.D{}, func(x domain.Company) string { return x.ID })
}

func (db *DB) Estates(ctx context.Context) ([]domain.Estate, error) {
	return allByID(ctx, db.c(colEstates), bson.D{}, func(x domain.Estate) string { return x.ID })
}

// Periods returns every period, oldest first.
func (db *DB) Periods(ctx context.Context) ([]domain.Period, error) {
	out, err := findAll[domain.Period](ctx, db.c(colPeriods), bson.D{})
	sort.Slice(out, func(i, j int) bool {
		return out[i].Start < out[j].Start || out[i].Start == out[j].Start && out[i].ID < out[j].ID
	})
	return out, err
}

func (db *DB) District(ctx context.Context, id string) (domain.District, error) {
	return findByID[domain.District](ctx, db.c(colDistricts), id, "district")
}

func (db *DB) Company(ctx context.Context, id string) (domain.Company, error) {
	return findByID[domain.Company](ctx, db.c(colCompanies), id, "company")
}

func (db *DB) Estate(ctx context.Context, id string) (domain.Estate, error) {
	return findByID[domain.Estate](ctx, db.c(colEstates), id, "estate")
}

func (db *DB) Period(ctx context.Context, id string) (domain.Period, error) {
	return findByID[domain.Period](ctx, db.c(colPeriods), id, "period")
}

// OpenPeriod returns the period open on day (YYYY-MM-DD; domain.PeriodsOn), if any.
func (db *DB) OpenPeriod(ctx context.Context, day string) (domain.Period, bool, error) {
	periods, err := db.Periods(ctx)
	if err != nil {
		return domain.Period{}, false, err
	}
	if open, _, _ := domain.PeriodsOn(periods, day); open != nil {
		return *open, true, nil
	}
	return domain.Period{}, false, nil
}

// Governance returns the governance records of a period.
func (db *DB) Governance(ctx context.Context, period string) ([]domain.Governance, error) {
	out, err := findAll[domain.Governance](ctx, db.c(colGovernance), bson.D{{Key: "period", Value: period}})
	sort.Slice(out, func(i, j int) bool { return out[i].Company < out[j].Company })
	return out, err
}

// Events returns every credit record; whether one is in force depends on the period, which
// the scoring engine decides.
func (db *DB) Events(ctx context.Context) ([]domain.Event, error) {
	// Drafts are reviewers' unfinished work (internal/credit), not records yet.
	out, err := findAll[domain.Event](ctx, db.c(colEvents), bson.D{{Key: "status", Value: bson.D{{Key: "$ne", Value: domain.EventDraft}}}})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// Disclosures returns the disclosures of a period.
func (db *DB) Disclosures(ctx context.Context, period string) ([]domain.Disclosure, error) {
	out, err := findAll[domain.Disclosure](ctx, db.c(colDisclosures), bson.D{{Key: "period", Value: period}})
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, err
}

// KnownIDs is the set of ids already stored, for checking an import's references.
type KnownIDs struct {
	districts, companies, estates, periods map[string]bool
}

func (k *KnownIDs) HasDistrict(id string) bool { return k.districts[id] }
func (k *KnownIDs) HasCompany(id string) bool  { return k.companies[id] }
func (k *KnownIDs) HasEstate(id string) bool   { return k.estates[id] }
func (k *KnownIDs) HasPeriod(id string) bool   { return k.periods[id] }

// Known loads the ids of every district, company, estate and period.
func (db *DB) Known(ctx context.Context) (*KnownIDs, error) {
	k := &KnownIDs{}
	for _, x := range []struct {
		col string
		set *map[string]bool
	}{{colDistricts, &k.districts}, {colCompanies, &k.companies}, {colEstates, &k.estates}, {colPeriods, &k.periods}} {
		ids, err := db.ids(ctx, x.col)
		if err != nil {
			return nil, err
		}
		*x.set = ids
	}
	return k, nil
}

func (db *DB) ids(ctx context.Context, col string) (map[string]bool, error) {
	type idOnly struct {
		ID string `bson:"_id"`
	}
	docs, err := findAll[idOnly](ctx, db.c(col), bson.D{})
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(docs))
	for _, d := range docs {
		set[d.ID] = true
	}
	return set, nil
}
