package credit

import (
	"context"
	"strings"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Evidence of a company's objection to its result in a publication (internal/publication):
// checked, stored and served by the same code as a record's evidence. The files are held by
// resultHolder + the objection's id, and readable by staff and the objecting company only.

// PurposeResultObjection marks the files of an objection to a result.
const PurposeResultObjection = "result_objection"

const resultHolder = "results:"

// ResultEvidence is the evidence a company attaches to its objection to a result: the
// publication use case checks it with the objection's text, then stores it once the objection
// may be filed (publication.Evidence).
type ResultEvidence struct {
	s       *Service
	who     Actor
	uploads []Upload
}

// ResultEvidence returns who's uploads as the evidence of an objection to a result.
func (s *Service) ResultEvidence(who Actor, uploads []Upload) ResultEvidence {
	return ResultEvidence{s: s, who: who, uploads: uploads}
}

// Check checks the files as every evidence form does: an Invalid error naming the field
// "evidence" for the first bad file.
func (e ResultEvidence) Check() error {
	if e.who.Role != domain.RoleCompany || e.who.Company == "" {
		return fail(derrors.Forbidden, "credit.err.company_only")
	}
	return checkUploads("evidence", e.uploads)
}

// Store stores the checked files for objection, the objection's id, and returns their
// references.
func (e ResultEvidence) Store(ctx context.Context, objection string) ([]FileRef, error) {
	holder := Record{Event: domain.Event{ID: resultHolder + objection, Company: e.who.Company}}
	return e.s.storeUploads(ctx, e.who, &holder, PurposeResultObjection, e.uploads)
}

// resultFileReadable reports whether who may read f, the evidence of an objection to a result:
// staff, and the company that objected.
func resultFileReadable(who Actor, f File) bool {
	return strings.HasPrefix(f.Record, resultHolder) &&
		(who.isStaff() || who.Role == domain.RoleCompany && who.Company != "" && who.Company == f.Company && f.UploaderRole == domain.RoleCompany)
}
