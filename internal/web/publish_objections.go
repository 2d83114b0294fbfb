package web

import (
	"errors"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/publication"
)

// Objections to results during publicity: a company objects to its own result in a period's
// current publication (/company/results); a reviewer answers on the publish page.

func (r *reportSite) resultObjectionRoutes() {
	s := r.s
	s.handle(fiber.MethodGet, "/company/results", creditCompanies, r.companyResults)
	s.handle(fiber.MethodPost, "/company/results/:period", creditCompanies, r.companyObjectResult)
	s.handle(fiber.MethodPost, "/publish/:period/answer", publishers, r.answerResultObjection)
	s.addNav("nav.company_results", "/company/results", creditCompanies)
}

type companyResultRow struct {
	Pub       publication.Record
	Objection *publication.ResultObjection
}

type companyResultsData struct {
	Company string
	Rows    []companyResultRow
	OK      string
	Error   string
	Period  string // the form the error is about
	Text    string
	Fields  map[string]string
	MaxMB   int
}

func (r *reportSite) loadCompanyResults(c *fiber.Ctx) (companyResultsData, error) {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	d := companyResultsData{Company: acct.Company, OK: c.Query("ok"), MaxMB: credit.MaxFileBytes >> 20}
	pubs, err := r.s.pubs.Publications(ctx, "")
	if err != nil {
		return d, err
	}
	for i, p := range pubs {
		if i+1 < len(pubs) && pubs[i+1].Period == p.Period {
			continue // only each period's current publication
		}
		row := companyResultRow{Pub: p}
		os, err := r.s.pubs.ResultObjections(ctx, p.Period)
		if err != nil {
			return d, err
		}
		if j := slices.IndexFunc(os, func(o publication.ResultObjection) bool { return o.Seq == p.Seq && o.Company == acct.Company }); j >= 0 {
			row.Objection = &os[j]
		}
		d.Rows = append(d.Rows, row)
	}
	slices.Reverse(d.Rows)
	return d, nil
}

func (r *reportSite) companyResults(c *fiber.Ctx) error {
	return r.showCompanyResults(c, fiber.StatusOK, nil)
}

// showCompanyResults shows the company's results with status, after keep (if any) has set the
// form's error and values.
func (r *reportSite) showCompanyResults(c *fiber.Ctx, status int, keep func(d *companyResultsData)) error {
	d, err := r.loadCompanyResults(c)
	if err != nil {
		return err
	}
	if keep != nil {
		keep(&d)
	}
	return r.s.renderStatus(c, status, "company_results", d)
}

func (r *reportSite) companyObjectResult(c *fiber.Ctx) error {
	acct, _ := CurrentAccount(c)
	period, text := c.Params("period"), c.FormValue("text")
	files, err := uploads(c, "evidence")
	if err == nil {
		ctx, cancel := r.s.dbContext(c)
		defer cancel()
		var o publication.ResultObjection
		o, err = r.s.pubs.ObjectToResult(ctx, period, acct.Company, acct.Name, text, r.s.credit.ResultEvidence(creditActor(c), files), r.s.now())
		if err == nil {
			if err := r.s.audited(c, audit.Change{Action: "results.objection", Object: "objection/" + o.ID, Company: acct.Company, Period: period,
				After: map[string]any{"publication": o.Seq, "evidence": fileNames(o.Evidence)}, Reason: o.Text}); err != nil {
				return err
			}
			return c.Redirect("/company/results?ok=objected", fiber.StatusSeeOther)
		}
	}
	status, msg, fields, other := formError(c, err)
	if other != nil {
		return other
	}
	return r.showCompanyResults(c, status, func(d *companyResultsData) { d.Error, d.Fields, d.Period, d.Text = msg, fields, period, text })
}

// fileNames lists evidence files as the audit trail names them.
func fileNames(refs []credit.FileRef) []string {
	out := []string{}
	for _, f := range refs {
		out = append(out, f.Name+" ("+f.ID+")")
	}
	return out
}

func (r *reportSite) answerResultObjection(c *fiber.Ctx) error {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	id, answer := c.FormValue("id"), c.FormValue("answer")
	err := r.s.pubs.AnswerObjection(ctx, id, acct.Name, answer, r.s.now())
	if err == nil {
		if err := r.s.audited(c, audit.Change{Action: "results.objection.answer", Object: "objection/" + id, Period: c.Params("period"),
			Before: map[string]any{"answered": false}, After: map[string]any{"answered": true}, Reason: answer}); err != nil {
			return err
		}
		return c.Redirect("/publish/"+c.Params("period")+"?answered=1", fiber.StatusSeeOther)
	}
	var de *derrors.Error
	if !errors.As(err, &de) || (de.Code != derrors.Invalid && de.Code != derrors.Conflict) {
		return err
	}
	d, lerr := r.loadPublish(c)
	if lerr != nil {
		return lerr
	}
	d.Error = creditText(c, de.Message)
	status := fiber.StatusConflict
	if de.Code == derrors.Invalid {
		status = fiber.StatusUnprocessableEntity
	}
	return r.s.renderStatus(c, status, "publish", d)
}

func init() {
	addMessages(map[string]message{
		"nav.company_results":            {"评价结果公示", "Results in publicity"},
		"results.title":                  {"评价结果公示", "Results in publicity"},
		"results.intro":                  {"评价结果发布后公示。公示期内，贵单位可对本单位的结果提出一次异议，住建局将逐一答复；答复完毕且公示期满后方可正式发布。", "Results are publicised once published. During the publicity you may object once to your company's result; the bureau answers every objection, and the results become final only after the publicity, with every objection answered."},
		"results.none":                   {"还没有发布的评价结果", "No results have been published"},
		"results.view":                   {"查看本单位结果", "See your company's result"},
		"results.object":                 {"对本单位结果提出异议", "Object to your company's result"},
		"results.object_submit":          {"提交异议", "Submit the objection"},
		"results.your_objection":         {"本单位的异议", "Your objection"},
		"results.answer":                 {"答复", "Answer"},
		"results.waiting":                {"等待答复", "Waiting for an answer"},
		"results.objected":               {"异议已提交。", "Your objection is submitted."},
		"results.answer_submit":          {"答复", "Answer"},
		"results.objections":             {"企业对结果的异议（%d）", "Companies' objections to the results (%d)"},
		"publication.objection.text":     {"请填写 1 至 2000 字，不含控制字符", "Write 1 to 2000 characters, without control characters"},
		"publication.objection.closed":   {"本期结果不在公示期内，不能提出异议", "The results are not in publicity; no objection can be made"},
		"publication.objection.once":     {"每次公示只能对结果提出一次异议，贵单位已提出过", "You may object once to each publicity, and you have"},
		"publication.objection.answered": {"该异议已经答复", "This objection has been answered"},
		"publication.final.objections":   {"还有企业异议未答复，答复后才能正式发布", "Objections to the results are waiting for an answer; answer them first"},
	})
	addTemplateFuncs(map[string]any{"pubObjections": func(d *publishData) []publication.ResultObjection { return d.Objections }})
}
