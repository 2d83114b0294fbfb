package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
)

// A company's side of the credit process: its notices (with how many it has not opened), each
// record with its notice, the decision and its reason, the one objection it may file within
// the window, and repair applications with their history.

var creditCompanies = Roles(domain.RoleCompany)

func (s *Server) companyCreditRoutes() {
	s.handle(fiber.MethodGet, "/company/credit", creditCompanies, s.companyCredit)
	s.handle(fiber.MethodGet, "/company/credit/:id", creditCompanies, s.companyCreditRecord)
	s.handle(fiber.MethodPost, "/company/credit/:id/objection", creditCompanies, s.companyObject)
	s.handle(fiber.MethodPost, "/company/credit/:id/repair", creditCompanies, s.companyRepair)
	s.addNav("nav.company_credit", "/company/credit", creditCompanies)
}

type companyCreditData struct {
	Records []recordView
	Unread  int
	Days    int
}

func (s *Server) companyCredit(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	who := creditActor(c)
	records, err := s.credit.List(ctx, who, credit.Filter{})
	if err != nil {
		return creditError(c, err)
	}
	d := companyCreditData{Days: s.credit.ObjectionDays()}
	for _, r := range records {
		d.Records = append(d.Records, s.viewRecord(c, r))
		if r.Notice != nil && r.Notice.ReadAt == nil {
			d.Unread++
		}
	}
	return s.render(c, "company_credit", d)
}

// companyCreditRecord shows one record; opening it is reading its notice.
func (s *Server) companyCreditRecord(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	r, err := s.credit.MarkRead(ctx, creditActor(c), c.Params("id"))
	if err != nil {
		return creditError(c, err)
	}
	return s.showRecord(c, fiber.StatusOK, "company_credit_record", r, creditRecordData{})
}

func (s *Server) companyObject(c *fiber.Ctx) error {
	return s.companyFiles(c, "objected", s.credit.Object)
}

func (s *Server) companyRepair(c *fiber.Ctx) error {
	return s.companyFiles(c, "repair_applied", s.credit.ApplyRepair)
}

// companyFiles runs a company's step that files a text with evidence on the record in the
// path (an objection, a repair application), and shows the record again.
func (s *Server) companyFiles(c *fiber.Ctx, ok string,
	step func(ctx context.Context, who credit.Actor, id, text string, evidence []credit.Upload) (credit.Record, error)) error {
	id := c.Params("id")
	text := c.FormValue("text")
	d := creditRecordData{Text: text}
	files, err := uploads(c, "evidence")
	if err != nil {
		return s.act(c, "company_credit_record", "", "", d, func() (credit.Record, error) { return credit.Record{}, err })
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	return s.act(c, "company_credit_record", "/company/credit/"+id, ok, d, func() (credit.Record, error) {
		return step(ctx, creditActor(c), id, text, files)
	})
}
