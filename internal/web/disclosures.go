package web

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/scoring"
)

// Cost disclosures (信息公开): companies file the four categories for each estate they manage
// and period, by form, by CSV/XLSX upload or by the JSON API with a company token; reviewers
// verify or reject each filing with a reason and watch who is missing, late or rejected;
// anyone reads an estate's disclosures, and owners with a household code object to them.
//
//	disclosures_company.go  filing, uploads, templates, tokens, answers to objections
//	disclosures_review.go   the queue, a filing beside the previous period, decisions,
//	                        the dashboard and its XLSX, closing objections
//	disclosures_public.go   an estate's disclosures for everyone, owners' objections
//	disclosures_api.go      POST /api/v1/disclosures
//
// The figures themselves (schemas, arithmetic, files) are package disclosure's.

type disclosureSite struct {
	s     *Server
	cache discFilingsCache
}

var (
	discCompanies = Roles(domain.RoleCompany)
	discReviewers = Roles(domain.RoleReviewer, domain.RoleAdmin)
)

// discPages use the partials of disclosure_partials.html (rating_holds, the held ratings'
// queue, its period choice and its top).
var discPages = []string{"disclosure_index", "disclosure_queue", "disclosure_form", "disclosure_public", "disclosure_review", "dashboard_disclosures", "rating_holds"}

const discPartials = "templates/pages/disclosure_partials.html"

func (s *Server) disclosureRoutes() {
	if err := addPartialsFrom(s.pages, discPartials, "", discPages); err != nil {
		panic(err) // the embedded templates are broken: a build problem, found by any test
	}
	d := &disclosureSite{s: s}
	const filing = "/company/disclosures/:period/:estate/:category"
	s.handle(fiber.MethodGet, "/company/disclosures", discCompanies, d.companyIndex)
	s.handle(fiber.MethodGet, filing, discCompanies, d.filingForm)
	s.handle(fiber.MethodPost, filing, discCompanies, d.fileForm)
	s.handle(fiber.MethodPost, filing+"/upload", discCompanies, d.fileUpload)
	s.handle(fiber.MethodGet, filing+"/export", discCompanies, d.exportFiling)
	s.handle(fiber.MethodGet, "/company/tokens", discCompanies, d.tokens)
	s.handle(fiber.MethodPost, "/company/tokens", discCompanies, d.issueToken)
	s.handle(fiber.MethodPost, "/company/tokens/revoke", discCompanies, d.revokeToken)
	s.handle(fiber.MethodGet, "/company/objections", discCompanies, d.companyObjections)
	s.handle(fiber.MethodPost, "/company/objections/answer", discCompanies, d.answerObjection)

	s.handle(fiber.MethodGet, "/review/disclosures", discReviewers, d.queue)
	s.handle(fiber.MethodGet, "/review/disclosures/:period/:estate/:category", discReviewers, d.reviewPage)
	s.handle(fiber.MethodPost, "/review/disclosures/:period/:estate/:category", discReviewers, d.decide)
	s.handle(fiber.MethodGet, "/review/dashboard", discReviewers, d.dashboard)
	s.handle(fiber.MethodGet, "/review/dashboard.xlsx", discReviewers, d.dashboardXLSX)
	s.handle(fiber.MethodGet, "/review/objections", discReviewers, d.reviewObjections)
	s.handle(fiber.MethodPost, "/review/objections/close", discReviewers, d.closeObjection)

	s.handle(fiber.MethodGet, "/estates/:id/disclosures", Public, d.public)
	s.handle(fiber.MethodPost, "/estates/:id/objections", Public, d.fileObjection)
	s.handle(fiber.MethodGet, "/disclosures/templates/:file", Public, d.template)

	// Public as far as the cookie-based guard goes: the handler authenticates the company's
	// API token itself (the guard knows only sessions).
	s.handle(fiber.MethodPost, "/api/v1/disclosures", Public, d.apiFile)

	s.addNav("nav.disclosures", "/company/disclosures", discCompanies)
	s.addNav("nav.disclosure_review", "/review/disclosures", discReviewers)
	s.addNav("nav.disclosure_dashboard", "/review/dashboard", discReviewers)
	s.addNav("nav.objections", "/company/objections", discCompanies)
	s.addNav("nav.objections", "/review/objections", discReviewers)
}

// discPeriods returns every period and the one the request is about: ?period= if it names
// one, else the period containing today (+08:00), else the latest that has started. With no
// periods at all, both are empty.
func (d *disclosureSite) discPeriods(ctx context.Context, c *fiber.Ctx) ([]domain.Period, domain.Period, error) {
	periods, err := d.s.db.Periods(ctx)
	if err != nil {
		return nil, domain.Period{}, err
	}
	if len(periods) == 0 {
		return nil, domain.Period{}, nil // pages say so; there is nothing to file or review yet
	}
	if id := c.Query("period"); id != "" {
		for _, p := range periods {
			if p.ID == id {
				return periods, p, nil
			}
		}
		return nil, domain.Period{}, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "disc.no_period"))
	}
	today := domain.Today(d.s.now())
	chosen := periods[0]
	for _, p := range periods {
		if p.Contains(today) {
			return periods, p, nil
		}
		if p.Start <= today {
			chosen = p
		}
	}
	return periods, chosen, nil
}

// discPeriodOption is a choice in a period selector.
type discPeriodOption struct {
	ID       string
	Selected bool
}

func discPeriodOptions(periods []domain.Period, chosen string) []discPeriodOption {
	out := make([]discPeriodOption, 0, len(periods))
	for i := len(periods) - 1; i >= 0; i-- { // newest first
		out = append(out, discPeriodOption{ID: periods[i].ID, Selected: periods[i].ID == chosen})
	}
	return out
}

// discKey is the period, estate and category of a route, checked: each must exist (NotFound
// otherwise), and a company account must manage the estate (Forbidden otherwise, but only
// once the estate is known to exist).
type discKey struct {
	Period   domain.Period
	Estate   domain.Estate
	Category string
}

func (d *disclosureSite) discKeyOf(ctx context.Context, c *fiber.Ctx, period, estate, category string) (discKey, error) {
	notFound := derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
	if !disclosure.IsCategory(category) {
		return discKey{}, notFound
	}
	p, err := d.s.db.Period(ctx, period)
	if derrors.Code(err) == derrors.NotFound {
		return discKey{}, notFound
	}
	if err != nil {
		return discKey{}, err
	}
	e, err := d.s.db.Estate(ctx, estate)
	if derrors.Code(err) == derrors.NotFound {
		return discKey{}, notFound
	}
	if err != nil {
		return discKey{}, err
	}
	if err := CheckCompany(c, e.Company); err != nil {
		return discKey{}, err
	}
	return discKey{Period: p, Estate: e, Category: category}, nil
}

func (k discKey) path(prefix string) string {
	return prefix + "/" + k.Period.ID + "/" + k.Estate.ID + "/" + k.Category
}

// discState is what a filing (or its absence) means for people: a status and whether it came
// late. Status is verified, pending or rejected, or missing (not filed, deadline passed) or
// due (not filed, deadline still ahead).
type discState struct {
	Status string
	Late   bool
	// Grace: late, but within the grace days after the deadline, which the scoring counts
	// apart (SCORING.md §2); the word is the reports' own, so that one filing is called the
	// same on every page.
	Grace bool
}

func discStateOf(p domain.Period, f *filing.Filing, now time.Time) discState {
	if f == nil {
		if now.Before(disclosure.DeadlineEnd(p)) {
			return discState{Status: "due"}
		}
		return discState{Status: "missing"}
	}
	return discStateAt(p, f.Status, f.FiledAt)
}

// discStateAt is the state of a filing of p with status, filed at filedAt.
func discStateAt(p domain.Period, status string, filedAt time.Time) discState {
	st := discState{Status: status, Late: disclosure.Late(p, filedAt)}
	if st.Late {
		graceEnd := disclosure.DeadlineEnd(p).AddDate(0, 0, scoring.Default().Disclosure.GraceDays)
		st.Grace = filedAt.Before(graceEnd)
	}
	return st
}

// Label names the state in lang, with when it was filed if late, in the words of the
// reports: "宽限期内公开" (within the grace days) or "逾期公开".
func (st discState) label(lang string) string {
	l := T(lang, "disc.status."+st.Status)
	switch {
	case st.Grace:
		l += " · " + T(lang, "report.reason.within_grace")
	case st.Late:
		l += " · " + T(lang, "report.reason.late")
	}
	return l
}

// discTables lays a filing's figures out as tables: the structured view for data in
// package disclosure's form, one row per field for anything else (imported records).
func discTables(f *filing.Filing, lang string) []disclosure.Table {
	if f == nil {
		return nil
	}
	if data, ok := disclosure.Stored(f.Category, f.Data); ok {
		return disclosure.View(data, lang)
	}
	return disclosure.ViewRaw(f.Data, lang)
}

// discTime shows an instant in the bureau's time zone.
func discTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.Zone).Format("2006-01-02 15:04")
}

// discCategoryLabel names a category in lang.
func discCategoryLabel(lang, category string) string {
	return disclosure.CategoryLabel(category).In(lang)
}

// discFiledBy says who filed, for people: an account name, or the API token's handle.
func discFiledBy(lang string, f *filing.Filing) string {
	if f.Source == "" {
		return T(lang, "disc.source.import")
	}
	return f.FiledBy + " · " + T(lang, "disc.source."+f.Source)
}

// discFlash turns ?ok= after a redirect into a notice.
func discFlash(c *fiber.Ctx) string {
	switch ok := c.Query("ok"); ok {
	case "filed", "replaced", "decided", "objection", "answered", "closed", "revoked":
		return Msg(c, "disc.ok."+ok)
	}
	return ""
}

// discEstateNames maps estate ids to estates, and company ids to names, for tables.
type discDirectory struct {
	estates   map[string]domain.Estate
	companies map[string]string
	districts map[string]string
}

func (d *disclosureSite) directory(ctx context.Context) (*discDirectory, []domain.Estate, error) {
	estates, err := d.s.db.Estates(ctx)
	if err != nil {
		return nil, nil, err
	}
	companies, err := d.s.db.Companies(ctx)
	if err != nil {
		return nil, nil, err
	}
	districts, err := d.s.db.Districts(ctx)
	if err != nil {
		return nil, nil, err
	}
	dir := &discDirectory{estates: map[string]domain.Estate{}, companies: map[string]string{}, districts: map[string]string{}}
	for _, e := range estates {
		dir.estates[e.ID] = e
	}
	for _, co := range companies {
		dir.companies[co.ID] = co.Name
	}
	for _, di := range districts {
		dir.districts[di.ID] = di.Name
	}
	return dir, estates, nil
}

func (dir *discDirectory) companyName(id string) string {
	if n, ok := dir.companies[id]; ok {
		return n
	}
	return id
}

func (dir *discDirectory) districtName(id string) string {
	if n, ok := dir.districts[id]; ok {
		return n
	}
	return id
}

// managedEstates returns the estates company manages, by name.
func managedEstates(estates []domain.Estate, company string) []domain.Estate {
	var out []domain.Estate
	for _, e := range estates {
		if e.Company == company {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].ID < out[j].ID
	})
	return out
}

// discLimitText trims and bounds a free text from a form.
func discLimitText(s string) string { return strings.TrimSpace(strings.ToValidUTF8(s, "")) }

func init() {
	addTemplateFuncs(map[string]any{
		// version names a filing's version for people: version 0 is the one a data import
		// brought in, never "第0版".
		"version": func(lang string, v int) string {
			if v == 0 {
				return T(lang, "disc.version_0")
			}
			return T(lang, "disc.version_n", v)
		},
	})
	addMessages(map[string]message{
		"nav.disclosures":          {"信息公开", "Disclosures"},
		"nav.disclosure_review":    {"公开审核", "Disclosure review"},
		"nav.disclosure_dashboard": {"公开情况", "Disclosure compliance"},
		"nav.objections":           {"业主异议", "Objections"},

		"disc.no_periods": {"还没有评价期", "There are no periods yet"},
		"disc.no_period":  {"评价期不存在", "No such period"},

		"disc.status.verified": {"已审核", "Verified"},
		"disc.status.pending":  {"待审核", "Pending review"},
		"disc.status.rejected": {"已退回", "Rejected"},
		"disc.status.missing":  {"未公开", "Missing"},
		"disc.status.due":      {"待公开", "Not yet filed"},

		"disc.source.web":    {"网页填报", "web form"},
		"disc.source.upload": {"文件上传", "file upload"},
		"disc.source.api":    {"接口", "API"},
		"disc.source.import": {"数据导入", "imported"},

		"disc.ok.filed":     {"已提交，等待审核。", "Filed. It now awaits review."},
		"disc.ok.replaced":  {"已提交，替换了尚未审核的草稿。", "Filed. It replaced the draft that had not been reviewed."},
		"disc.ok.decided":   {"审核结果已记录。", "The decision is recorded."},
		"disc.ok.objection": {"异议已提交，物业服务企业将作出答复。", "Your objection is filed; the company will answer it."},
		"disc.ok.answered":  {"答复已发布。", "The answer is published."},
		"disc.ok.closed":    {"异议已办结。", "The objection is closed."},
		"disc.ok.revoked":   {"令牌已作废。", "The token is revoked."},

		"disc.period":      {"评价期", "Period"},
		"disc.estate":      {"小区", "Estate"},
		"disc.company":     {"物业服务企业", "Company"},
		"disc.district":    {"区", "District"},
		"disc.category":    {"公开类别", "Category"},
		"disc.status":      {"状态", "Status"},
		"disc.filed_at":    {"提交时间", "Filed"},
		"disc.filed_by":    {"提交人", "Filed by"},
		"disc.deadline":    {"公开截止日期", "Deadline"},
		"disc.deadline_at": {"公开截止日期：%s（北京时间当日24时前）", "Deadline: %s (before midnight, Beijing time)"},
		"disc.version":     {"版本", "Version"},
		"disc.version_n":   {"第%d版", "version %d"},
		"disc.version_0":   {"导入的数据", "imported"},
		"disc.draft_n":     {"第%d次提交", "submission %d"},
		"disc.reason":      {"理由", "Reason"},
		"disc.reviewed_by": {"审核人", "Reviewed by"},
		"disc.reviewed_at": {"审核时间", "Reviewed"},
		"disc.show":        {"选择", "Show"},
		"disc.open":        {"查看", "Open"},
		"disc.file":        {"填报", "File"},
		"disc.none":        {"无", "None"},
		"disc.history":     {"审核记录", "Review history"},
		"disc.fix":         {"请更正以下问题后重新提交：", "Please correct these and submit again:"},
		"disc.total":       {"合计", "Total"},
	})
}
