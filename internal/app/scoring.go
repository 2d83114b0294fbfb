package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/scoring"
)

// ScoringInput reads what the engine needs to score a period: one tally per estate rather than
// every rating, and the period's disclosures and governance records.
func ScoringInput(ctx context.Context, db *mongodb.DB, periodID string) (scoring.Input, error) {
	var in scoring.Input
	p, err := db.Period(ctx, periodID)
	if err != nil {
		return in, err
	}
	if in.Period, err = scoringPeriod(p); err != nil {
		return in, err
	}
	companies, err := db.Companies(ctx)
	if err != nil {
		return in, err
	}
	for _, c := range companies {
		in.Companies = append(in.Companies, scoring.Company{ID: c.ID, Name: c.Name})
	}
	estates, err := db.Estates(ctx)
	if err != nil {
		return in, err
	}
	for _, e := range estates {
		in.Estates = append(in.Estates, scoring.Estate{ID: e.ID, Name: e.Name, District: e.District, Company: e.Company, Households: e.Households})
	}
	tallies, err := db.Tallies(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, t := range tallies {
		if t.Count == 0 {
			continue // every rating of the estate was moved elsewhere; nothing counts
		}
		in.Tallies = append(in.Tallies, scoring.Tally{Estate: t.Estate, Count: t.Count, Sums: t.Sums.Array()})
	}
	disclosures, err := db.Disclosures(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, d := range disclosures {
		in.Disclosures = append(in.Disclosures, scoring.Disclosure{Estate: d.Estate, Category: d.Category, FiledAt: d.FiledAt, Status: d.Status})
	}
	governance, err := db.Governance(ctx, periodID)
	if err != nil {
		return in, err
	}
	for _, g := range governance {
		in.Governance = append(in.Governance, scoring.Governance{Company: g.Company, PartyOrg: g.PartyOrg, PartyInstructor: g.PartyInstructor, JointMechanism: g.JointMechanism})
	}
	events, err := db.Events(ctx)
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

func scoringPeriod(p domain.Period) (scoring.Period, error) {
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

// SaveDraft stores a scoring result as the period's draft, with the inputs it came from.
func SaveDraft(ctx context.Context, db *mongodb.DB, in scoring.Input, res *scoring.Result, by string, now time.Time) error {
	hash, inputs, err := InputsHash(in)
	if err != nil {
		return err
	}
	detail, err := scoring.MarshalDetail(res)
	if err != nil {
		return err
	}
	return db.SaveDraft(ctx, mongodb.Result{Period: res.Period, Ruleset: res.Ruleset, RulesetHash: res.RulesetHash,
		InputsHash: hash, CreatedAt: now.UTC(), CreatedBy: by}, detail, inputs)
}
