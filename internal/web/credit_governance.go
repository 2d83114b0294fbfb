package web

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
)

// Governance facts on the web: a company declares its items for a period with evidence
// (/company/governance); a reviewer verifies them item by item (/credit/governance).

func (s *Server) governanceRoutes() {
	s.handle(fiber.MethodGet, "/company/governance", creditCompanies, s.governancePage("company_governance"))
	s.handle(fiber.MethodPost, "/company/governance/:period", creditCompanies, s.companyDeclare)
	s.handle(fiber.MethodGet, "/credit/governance", creditStaff, s.governancePage("credit_governance"))
	s.handle(fiber.MethodPost, "/credit/governance/:period/:company", creditStaff, s.verifyGovernance)
	s.addNav("nav.company_governance", "/company/governance", creditCompanies)
}

type governanceData struct {
	Periods []domain.Period
	Period  string
	Claims  []credit.Claim
	Claim   *credit.Claim // the company's own, for its form
	Items   []string
	OK      string
	Error   string
	Fields  map[string]string
	Note    string
	For     string // the claim a reviewer's error is about
	// Histories are the claims' audit trails, by claim id.
	Histories map[string]auditRowsData
}

// loadGovernance gathers the page of the period in ?period= (or the path), newest by default.
func (s *Server) loadGovernance(c *fiber.Ctx, period string) (governanceData, error) {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	d := governanceData{Items: credit.GovernanceItems, OK: c.Query("ok")}
	periods, err := s.db.Periods(ctx)
	if err != nil {
		return d, err
	}
	slices.Reverse(periods)
	d.Periods = periods
	d.Period = period
	if d.Period == "" && len(periods) > 0 {
		d.Period = periods[0].ID
	}
	if d.Claims, err = s.credit.Claims(ctx, creditActor(c), d.Period); err != nil {
		return d, creditError(c, err)
	}
	if who := creditActor(c); who.Role == domain.RoleCompany {
		for i := range d.Claims {
			if d.Claims[i].Company == who.Company {
				d.Claim = &d.Claims[i]
			}
		}
	}
	// One read of the period's trail for every claim on the page (those the account may see).
	entries, err := s.audit.Entries(ctx, audit.Filter{Period: d.Period})
	if err != nil {
		return d, err
	}
	d.Histories = map[string]auditRowsData{}
	for _, cl := range d.Claims {
		h := auditRowsData{Lang: Lang(c), ID: "history-" + cl.Company}
		for _, e := range entries {
			if e.Object == cl.Object() {
				h.Entries = append(h.Entries, e)
			}
		}
		d.Histories[cl.ID] = h
	}
	return d, nil
}

func (s *Server) companyDeclare(c *fiber.Ctx) error {
	period := c.Params("period")
	note := c.FormValue("note")
	items := formValues(c, "items")
	files, err := uploads(c, "evidence")
	if err == nil {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		if _, err = s.credit.Declare(ctx, creditActor(c), period, items, note, files); err == nil {
			return c.Redirect("/company/governance?period="+period+"&ok=declared", fiber.StatusSeeOther)
		}
	}
	return s.governanceAgain(c, err, "company_governance", period, func(d *governanceData) { d.Note = note })
}

// governancePage shows a governance page (the company's or the reviewers') for ?period=.
func (s *Server) governancePage(page string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := s.loadGovernance(c, c.Query("period"))
		if err != nil {
			return err
		}
		return s.render(c, page, d)
	}
}

// governanceAgain shows a governance page again with the error of its form.
func (s *Server) governanceAgain(c *fiber.Ctx, err error, page, period string, keep func(d *governanceData)) error {
	status, msg, fields, other := formError(c, err)
	if other != nil {
		return other
	}
	d, lerr := s.loadGovernance(c, period)
	if lerr != nil {
		return lerr
	}
	d.Error, d.Fields = msg, fields
	keep(&d)
	return s.renderStatus(c, status, page, d)
}

func (s *Server) verifyGovernance(c *fiber.Ctx) error {
	period, company := c.Params("period"), strings.ToUpper(c.Params("company"))
	ctx, cancel := s.dbContext(c)
	defer cancel()
	_, err := s.credit.Verify(ctx, creditActor(c), period, company, formValues(c, "verified"), c.FormValue("reason"))
	if err == nil {
		return c.Redirect("/credit/governance?period="+period+"&ok=verified", fiber.StatusSeeOther)
	}
	return s.governanceAgain(c, err, "credit_governance", period, func(d *governanceData) { d.For = period + "|" + company })
}

// formValues returns every value of a form field (checkboxes), from urlencoded and multipart
// forms alike.
func formValues(c *fiber.Ctx, name string) []string {
	if form, err := c.MultipartForm(); err == nil {
		return form.Value[name]
	}
	var out []string
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	return out
}
