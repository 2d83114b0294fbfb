package credit

import (
	"context"
	"fmt"

	"github.com/propcredit/propcredit/internal/ledger"
)

// Every write of a credit record (its creation and each step of the process after it) is a
// leaf of the transparency ledger (ledger.CreditRecordLeaf, under the record's id and
// version). save is the one place records are written: it appends the leaf first, so no
// record is stored without its leaf. A write that then loses its conditional update to another
// person (or a crash in between) leaves a leaf that no stored record matches; the ledger audit
// finds each stored record's leaf by its exact bytes and reports the others.

// save appends r's leaf to the ledger, then inserts r (a new record) or replaces version
// r.Version-1 with it. (Records brought by a data import are stored at version 0, without
// leaves: the publications' inputs_sha256 covers them. Their first step here is version 1,
// a replace.)
func (s *Service) save(ctx context.Context, r Record, insert bool) error {
	leaf, err := LedgerLeaf(r)
	if err != nil {
		return err
	}
	if _, err := ledger.New(s.store, nil).Append(ctx, []ledger.Leaf{leaf}); err != nil {
		return fmt.Errorf("record %s in the ledger: %w", r.ID, err)
	}
	if insert {
		return s.store.InsertCreditRecord(ctx, r)
	}
	return s.store.ReplaceCreditRecord(ctx, r)
}

// texts is what a record's leaf digests rather than shows: the free texts, which may name
// people, and the evidence files.
type texts struct {
	Description string       `json:"description"`
	Evidence    []fileDigest `json:"evidence"`
	Objection   string       `json:"objection"`
	ObjEvidence []fileDigest `json:"objection_evidence"`
	Reason      string       `json:"reason"`
	FromRule    string       `json:"from_rule"`
	FromPoints  string       `json:"from_points"`
	Repairs     []repairText `json:"repairs"`
}

type fileDigest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type repairText struct {
	Text     string       `json:"text"`
	Evidence []fileDigest `json:"evidence"`
	Reason   string       `json:"reason"`
}

func fileDigests(refs []FileRef) []fileDigest {
	out := []fileDigest{}
	for _, f := range refs {
		out = append(out, fileDigest{ID: f.ID, Name: f.Name, Size: f.Size})
	}
	return out
}

// LedgerLeaf makes the ledger leaf of a record as stored at its version: as save appends it,
// and as the ledger audit recomputes it from the stored record.
func LedgerLeaf(r Record) (ledger.Leaf, error) {
	l := ledger.CreditRecordLeaf{Type: ledger.TypeCreditRecord, Record: r.ID, Version: r.Version, Company: r.Company,
		Estate: r.Estate, Rule: r.Rule, Kind: r.Kind, Points: r.Points, Veto: r.Veto, Date: r.Date,
		ValidDays: r.ValidDays, Status: r.Status, RepairedOn: r.RepairedOn, Author: r.Author,
		CreatedAt: ledger.Time(r.CreatedAt), Repairs: []ledger.CreditRepairLeaf{}}
	t := texts{Description: r.Description, Evidence: fileDigests(r.Evidence), ObjEvidence: []fileDigest{}, Repairs: []repairText{}}
	if n := r.Notice; n != nil {
		l.Notice, l.NotifiedAt, l.ObjectionDue = n.Number, ledger.Time(n.IssuedAt), ledger.Time(n.ObjectionDue)
	}
	if o := r.Objection; o != nil {
		l.ObjectedAt = ledger.Time(o.At)
		t.Objection, t.ObjEvidence = o.Text, fileDigests(o.Evidence)
	}
	if d := r.Decision; d != nil {
		l.Decision, l.DecidedBy, l.DecidedAt = d.Outcome, d.By, ledger.Time(d.At)
		t.Reason, t.FromRule, t.FromPoints = d.Reason, d.FromRule, d.FromPoints
	}
	for _, p := range r.Repairs {
		l.Repairs = append(l.Repairs, ledger.CreditRepairLeaf{AppliedAt: ledger.Time(p.At), Status: p.Status,
			DecidedBy: p.DecidedBy, DecidedAt: ledger.Time(p.DecidedAt)})
		t.Repairs = append(t.Repairs, repairText{Text: p.Text, Evidence: fileDigests(p.Evidence), Reason: p.Reason})
	}
	var err error
	if l.TextsSHA256, err = ledger.Digest(t); err != nil {
		return ledger.Leaf{}, err
	}
	return ledger.NewLeaf(ledger.CreditRecordKey(r.ID, r.Version), l)
}
