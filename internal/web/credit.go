package web

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/periods"
	"github.com/propcredit/propcredit/scoring"
)

// The credit process on the web (internal/credit holds its rules): reviewers record credit
// records with evidence, notify companies with a printable notice, decide objections and
// repair applications; companies read their notices, object once and apply for repair (see
// credit_company.go). Every page reads through the credit.Service, which checks who may see
// what; every action is audited there.

var creditStaff = Roles(domain.RoleReviewer, domain.RoleAdmin)

// creditPages use the partials of credit_partials.html; their head is credit-head.
var creditPages = []string{"credit_index", "credit_new", "credit_record", "credit_notice", "company_credit", "company_credit_record", "company_governance", "credit_governance", "periods", "company_results"}

// historyPages keep a head of their own and use the credit partials for their audit trail
// ("history") and evidence lists ("files").
var historyPages = []string{"disclosure_form", "disclosure_review", "publish", "account"}

func (s *Server) creditRoutes() {
	if err := addPartialsFrom(s.pages, creditPartials, "credit-head", creditPages); err != nil {
		panic(err) // the embedded templates are broken: a build problem, found by any test
	}
	if err := addPartialsFrom(s.pages, creditPartials, "", historyPages); err != nil {
		panic(err)
	}
	s.handle(fiber.MethodGet, "/credit", creditStaff, s.creditIndex)
	s.handle(fiber.MethodGet, "/credit/new", creditStaff, s.creditNewForm)
	s.handle(fiber.MethodPost, "/credit", creditStaff, s.creditCreate)
	s.handle(fiber.MethodGet, "/credit/records/:id", creditStaff, s.creditRecord)
	s.handle(fiber.MethodPost, "/credit/records/:id/notify", creditStaff, s.creditNotify)
	s.handle(fiber.MethodPost, "/credit/records/:id/decide", creditStaff, s.creditDecide)
	s.handle(fiber.MethodPost, "/credit/records/:id/repair", creditStaff, s.creditRepairDecide)
	s.handle(fiber.MethodGet, "/credit/records/:id/notice", Roles(domain.RoleReviewer, domain.RoleAdmin, domain.RoleCompany), s.creditNotice)
	s.handle(fiber.MethodGet, "/credit/files/:id", Roles(domain.RoleReviewer, domain.RoleAdmin, domain.RoleCompany), s.creditFile)
	s.addNav("nav.credit", "/credit", creditStaff)
	s.companyCreditRoutes()
	s.governanceRoutes()
	s.periodRoutes()
}

// setUpCredit builds the audit trail, the credit process and the periods service on the
// store, which must be able to serve them (internal/mongodb's is).
func (s *Server) setUpCredit(cfg Config) error {
	as, ok := any(cfg.DB).(audit.Store)
	cs, ok2 := any(cfg.DB).(credit.Store)
	ps, ok3 := any(cfg.DB).(periods.Store)
	if !ok || !ok2 || !ok3 {
		return errors.New("web: Config.DB cannot keep the audit trail, credit records and periods")
	}
	s.audit = audit.New(as, s.now)
	s.credit = credit.New(credit.Config{Store: cs, Audit: s.audit, Calendar: cfg.Calendar, ObjectionDays: cfg.ObjectionDays, Now: s.now})
	s.periods = periods.New(ps, s.audit)
	return nil
}

// settleCredit puts in force the records whose objection windows have closed; the janitor
// calls it.
func (s *Server) settleCredit(ctx context.Context) {
	if n, err := s.credit.Settle(ctx); err != nil {
		s.log.Warn("put credit records in force", "err", err)
	} else if n > 0 {
		s.log.Info("credit records in force: their objection windows closed", "count", n)
	}
}

// creditActor is the current account as the credit process sees it.
func creditActor(c *fiber.Ctx) credit.Actor {
	acct, ok := CurrentAccount(c)
	if !ok {
		return credit.Actor{}
	}
	return credit.Actor{Name: acct.Name, Role: acct.Role, Company: acct.Company}
}

// creditError translates the message keys of the credit process's errors.
func creditError(c *fiber.Ctx, err error) error {
	var de *derrors.Error
	if !errors.As(err, &de) {
		return err
	}
	out := &derrors.Error{Code: de.Code, Message: creditText(c, de.Message)}
	if len(de.Fields) > 0 {
		out.Fields = map[string]string{}
		for k, v := range de.Fields {
			out.Fields[k] = creditText(c, v)
		}
	}
	return out
}

// creditText translates key if it is one of the catalogue's, and leaves other text alone.
func creditText(c *fiber.Ctx, key string) string {
	if _, ok := messages[key]; ok {
		return Msg(c, key)
	}
	return key
}

// ruleLabel names a catalogue type in lang.
func ruleLabel(lang string, rt scoring.RecordType) string {
	if lang == domain.LangEN {
		return rt.NameEN
	}
	return rt.Name
}

// recordView is a record with the names a page shows.
type recordView struct {
	credit.Record
	CompanyName string
	EstateName  string
	RuleName    string
	Repairable  bool
	WhyNot      string // why the company may not apply for repair, as a message key
	ObjectOpen  bool
}

func (s *Server) viewRecord(c *fiber.Ctx, r credit.Record) recordView {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	v := recordView{Record: r, CompanyName: r.Company, EstateName: r.Estate, RuleName: r.Rule}
	if co, err := s.db.Company(ctx, r.Company); err == nil {
		v.CompanyName = co.Name
	}
	if r.Estate != "" {
		if e, err := s.db.Estate(ctx, r.Estate); err == nil {
			v.EstateName = e.Name
		}
	}
	if rt, ok := scoring.Default().RecordType(r.Rule); ok {
		v.RuleName = ruleLabel(Lang(c), rt)
	}
	v.Repairable, v.WhyNot = s.credit.Repairable(&r)
	v.ObjectOpen = r.ObjectionOpen(s.now())
	return v
}

type creditIndexData struct {
	Records  []recordView
	Awaiting []recordView
	Status   string
	Company  string
}

func (s *Server) creditIndex(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	d := creditIndexData{Status: c.Query("status"), Company: strings.ToUpper(strings.TrimSpace(c.Query("company")))}
	records, err := s.credit.List(ctx, creditActor(c), credit.Filter{Status: d.Status, Company: d.Company})
	if err != nil {
		return creditError(c, err)
	}
	for _, r := range records {
		v := s.viewRecord(c, r)
		if r.Awaiting() {
			d.Awaiting = append(d.Awaiting, v)
		}
		d.Records = append(d.Records, v)
	}
	return s.render(c, "credit_index", d)
}

type creditForm struct {
	Company, Estate, Rule, Date, Description string
}

type creditNewData struct {
	Form      creditForm
	Catalogue []scoring.RecordType
	Error     string
	Fields    map[string]string
}

func (s *Server) showCreditForm(c *fiber.Ctx, status int, d creditNewData) error {
	d.Catalogue = s.credit.Catalogue()
	return s.renderStatus(c, status, "credit_new", d)
}

func (s *Server) creditNewForm(c *fiber.Ctx) error {
	return s.showCreditForm(c, fiber.StatusOK, creditNewData{Form: creditForm{Company: strings.ToUpper(c.Query("company")), Date: s.credit.Today()}})
}

// uploads reads the files of a multipart field, refusing one larger than the limit before
// reading it whole.
func uploads(c *fiber.Ctx, field string) ([]credit.Upload, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil // a form without files (urlencoded): no uploads
	}
	var out []credit.Upload
	for _, fh := range form.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // the empty file input browsers send
		}
		if fh.Size > credit.MaxFileBytes {
			return nil, &derrors.Error{Code: derrors.Invalid, Message: "credit.err.invalid", Fields: map[string]string{field: "credit.err.file_too_large"}}
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, credit.MaxFileBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, credit.Upload{Name: fh.Filename, Data: data})
	}
	return out, nil
}

// formError splits an error into the message and field messages of a form shown again, or
// returns it when it is not about the form.
func formError(c *fiber.Ctx, err error) (status int, msg string, fields map[string]string, other error) {
	var de *derrors.Error
	if !errors.As(creditError(c, err), &de) {
		return 0, "", nil, err
	}
	switch de.Code {
	case derrors.Invalid:
		return fiber.StatusUnprocessableEntity, de.Message, de.Fields, nil
	case derrors.Conflict:
		return fiber.StatusConflict, de.Message, nil, nil
	case derrors.Forbidden:
		return fiber.StatusForbidden, de.Message, nil, nil
	}
	return 0, "", nil, creditError(c, err)
}

func (s *Server) creditCreate(c *fiber.Ctx) error {
	form := creditForm{Company: c.FormValue("company"), Estate: c.FormValue("estate"), Rule: c.FormValue("rule"),
		Date: c.FormValue("date"), Description: c.FormValue("description")}
	files, err := uploads(c, "evidence")
	if err == nil {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		var r credit.Record
		r, err = s.credit.Create(ctx, creditActor(c), credit.NewRecord{Company: form.Company, Estate: form.Estate, Rule: form.Rule,
			Date: form.Date, Description: form.Description, Evidence: files})
		if err == nil {
			return c.Redirect("/credit/records/"+r.ID+"?ok=created", fiber.StatusSeeOther)
		}
	}
	status, msg, fields, other := formError(c, err)
	if other != nil {
		return other
	}
	return s.showCreditForm(c, status, creditNewData{Form: form, Error: msg, Fields: fields})
}

type creditRecordData struct {
	R         recordView
	Catalogue []scoring.RecordType
	History   auditRowsData
	OK        string
	Error     string
	Fields    map[string]string
	Staff     bool
	Unread    int
	// Form values shown again after an error.
	Text, Reason, Outcome, Rule, Points string
}

func (s *Server) loadRecord(c *fiber.Ctx) (credit.Record, error) {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	r, err := s.credit.Get(ctx, creditActor(c), c.Params("id"))
	if err != nil {
		return r, creditError(c, err)
	}
	return r, nil
}

func (s *Server) showRecord(c *fiber.Ctx, status int, page string, r credit.Record, d creditRecordData) error {
	d.R = s.viewRecord(c, r)
	d.Catalogue = s.credit.Catalogue()
	d.Staff = creditActor(c).Role != domain.RoleCompany
	if d.OK == "" {
		d.OK = c.Query("ok")
	}
	var err error
	if d.History, err = s.objectHistory(c, r.Object(), 0); err != nil {
		return err
	}
	return s.renderStatus(c, status, page, d)
}

func (s *Server) creditRecord(c *fiber.Ctx) error {
	r, err := s.loadRecord(c)
	if err != nil {
		return err
	}
	return s.showRecord(c, fiber.StatusOK, "credit_record", r, creditRecordData{})
}

// act runs a process step on the record in the path and shows the record again: with the
// step's message on success (after a redirect), or with the error and the form's values.
func (s *Server) act(c *fiber.Ctx, page, back, ok string, d creditRecordData, step func() (credit.Record, error)) error {
	_, err := step()
	if err == nil {
		return c.Redirect(back+"?ok="+ok, fiber.StatusSeeOther)
	}
	status, msg, fields, other := formError(c, err)
	if other != nil {
		return other
	}
	r, lerr := s.loadRecord(c)
	if lerr != nil {
		return lerr
	}
	d.Error, d.Fields = msg, fields
	return s.showRecord(c, status, page, r, d)
}

func (s *Server) creditNotify(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	id := c.Params("id")
	return s.act(c, "credit_record", "/credit/records/"+id, "notified", creditRecordData{}, func() (credit.Record, error) {
		return s.credit.Notify(ctx, creditActor(c), id)
	})
}

func (s *Server) creditDecide(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	id := c.Params("id")
	in := credit.DecisionInput{Outcome: c.FormValue("outcome"), Reason: c.FormValue("reason"), Rule: c.FormValue("rule"), Points: c.FormValue("points")}
	d := creditRecordData{Reason: in.Reason, Outcome: in.Outcome, Rule: in.Rule, Points: in.Points}
	return s.act(c, "credit_record", "/credit/records/"+id, "decided", d, func() (credit.Record, error) {
		return s.credit.Decide(ctx, creditActor(c), id, in)
	})
}

func (s *Server) creditRepairDecide(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	id := c.Params("id")
	reason := c.FormValue("reason")
	approve := c.FormValue("decision") == "approve"
	if d := c.FormValue("decision"); d != "approve" && d != "refuse" {
		r, err := s.loadRecord(c)
		if err != nil {
			return err
		}
		return s.showRecord(c, fiber.StatusUnprocessableEntity, "credit_record", r, creditRecordData{Reason: reason,
			Error: Msg(c, "credit.err.invalid"), Fields: map[string]string{"decision": Msg(c, "credit.err.repair_decision")}})
	}
	return s.act(c, "credit_record", "/credit/records/"+id, "repair_decided", creditRecordData{Reason: reason}, func() (credit.Record, error) {
		return s.credit.DecideRepair(ctx, creditActor(c), id, approve, reason)
	})
}

// creditNotice is the printable notice (记分告知单), for staff and the record's company.
func (s *Server) creditNotice(c *fiber.Ctx) error {
	r, err := s.loadRecord(c)
	if err != nil {
		return err
	}
	if r.Notice == nil {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "credit.err.no_notice"))
	}
	if creditActor(c).Role == domain.RoleCompany {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		if r, err = s.credit.MarkRead(ctx, creditActor(c), r.ID); err != nil {
			return creditError(c, err)
		}
	}
	d := creditRecordData{R: s.viewRecord(c, r)}
	d.Staff = creditActor(c).Role != domain.RoleCompany
	if rt, ok := scoring.Default().RecordType(r.Rule); ok {
		d.Catalogue = []scoring.RecordType{rt}
	}
	return s.render(c, "credit_notice", d)
}

// creditFile serves an evidence file to those the process allows; NotFound to everyone else.
func (s *Server) creditFile(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	f, data, err := s.credit.OpenFile(ctx, creditActor(c), c.Params("id"))
	if err != nil {
		return creditError(c, err)
	}
	c.Set(fiber.HeaderContentType, f.Type)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	disposition := "attachment"
	if f.Type != "application/pdf" {
		disposition = "inline"
	}
	c.Set(fiber.HeaderContentDisposition, disposition+`; filename="evidence`+extOf(f.Type)+`"; filename*=UTF-8''`+url.PathEscape(f.Name))
	return c.Send(data)
}

func extOf(typ string) string {
	switch typ {
	case "application/pdf":
		return ".pdf"
	case "image/png":
		return ".png"
	}
	return ".jpg"
}
