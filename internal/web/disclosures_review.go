package web

import (
	"bytes"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// The reviewers' side: the queue of pending filings, a filing beside the same estate's
// previous period with the decision form, the compliance dashboard (and its XLSX), and the
// owners' objections to close.

type discQueueData struct {
	NoPeriods bool
	Periods   []discPeriodOption
	Period    domain.Period
	Deadline  string
	Rows      []discQueueRow
	Flash     string
	// Filters narrow the queue; Total is how many await review in all, Rows those shown.
	Filter     discQueueFilter
	Total      int
	Categories []discOption
	Districts  []discOption
}

// discQueueFilter is what the queue's filter form asks for.
type discQueueFilter struct {
	Category, District, Q string
	Late                  bool
}

func (f discQueueFilter) keeps(r discQueueRow, category, district string) bool {
	return (f.Category == "" || f.Category == category) && (f.District == "" || f.District == district) &&
		(!f.Late || r.Late) && (f.Q == "" || strings.Contains(r.EstateName, f.Q) || strings.Contains(r.CompanyName, f.Q))
}

type discQueueRow struct {
	EstateName, CompanyName, DistrictName, CategoryLabel string
	FiledAt, FiledBy, StateLabel, Link                   string
	Late                                                 bool
	Version, Draft                                       int
}

// queue lists the period's pending filings, oldest first. It reads the period's filings once
// (a scan of the disclosures collection) rather than keeping a queue that would need updates.
func (d *disclosureSite) queue(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	periods, p, err := d.discPeriods(ctx, c)
	if err != nil {
		return err
	}
	if len(periods) == 0 {
		return d.s.render(c, "disclosure_queue", discQueueData{NoPeriods: true})
	}
	dir, _, err := d.directory(ctx)
	if err != nil {
		return err
	}
	filings, err := d.cache.filings(ctx, d.s.db, p.ID, d.s.now())
	if err != nil {
		return err
	}
	var pending []filing.Filing
	for _, f := range filings {
		if f.Status == domain.StatusPending {
			pending = append(pending, f)
		}
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].FiledAt.Before(pending[j].FiledAt) })
	lang := Lang(c)
	data := discQueueData{Periods: discPeriodOptions(periods, p.ID), Period: p, Deadline: p.DisclosureDeadline, Flash: discFlash(c),
		Total: len(pending), Filter: discQueueFilter{Category: strings.Clone(c.Query("category")), District: strings.Clone(c.Query("district")),
			Q: discLimitText(c.Query("q")), Late: c.Query("late") == "1"}}
	for _, category := range domain.DisclosureCategories {
		data.Categories = append(data.Categories, discOption{Value: category, Label: discCategoryLabel(lang, category)})
	}
	for id, name := range dir.districts {
		data.Districts = append(data.Districts, discOption{Value: id, Label: name})
	}
	sort.Slice(data.Districts, func(i, j int) bool { return data.Districts[i].Label < data.Districts[j].Label })
	for _, f := range pending {
		e := dir.estates[f.Estate]
		st := discStateAt(p, f.Status, f.FiledAt)
		row := discQueueRow{
			EstateName: e.Name, CompanyName: dir.companyName(e.Company), DistrictName: dir.districtName(e.District),
			CategoryLabel: discCategoryLabel(lang, f.Category), FiledAt: discTime(f.FiledAt), FiledBy: discFiledBy(lang, &f),
			StateLabel: st.label(lang), Late: st.Late, Version: f.Version, Draft: f.Draft,
			Link: discKey{Period: p, Estate: domain.Estate{ID: f.Estate}, Category: f.Category}.path("/review/disclosures"),
		}
		if data.Filter.keeps(row, f.Category, e.District) {
			data.Rows = append(data.Rows, row)
		}
	}
	return d.s.render(c, "disclosure_queue", data)
}

type discReviewData struct {
	Key                       discKey
	CategoryLabel             string
	CompanyName, DistrictName string

	Current        filing.Filing
	CurrentState   string
	CurrentAt      string
	CurrentBy      string
	CurrentTables  []disclosure.Table
	Previous       *domain.Period
	PreviousState  string
	PreviousAt     string
	PreviousTables []disclosure.Table

	Warnings   []string
	History    []discHistoryRow
	Audit      auditRowsData // the filing's audit trail
	Objections []discObjectionRow

	CanDecide bool
	Decided   string // who decided what, when: for a filing already reviewed
	Status    string
	Reason    string
	Fields    map[string]string
	Error     string

	Action, QueueLink, PublicPage string
}

func (d *disclosureSite) reviewPage(c *fiber.Ctx) error {
	return d.showReview(c, fiber.StatusOK, discReviewData{})
}

// showReview renders a filing for review; form carries what a failed decision posted.
func (d *disclosureSite) showReview(c *fiber.Ctx, status int, form discReviewData) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	k, err := d.discKeyOf(ctx, c, c.Params("period"), c.Params("estate"), c.Params("category"))
	if err != nil {
		return err
	}
	cur, err := d.s.db.CurrentFiling(ctx, k.Period.ID, k.Estate.ID, k.Category)
	if err != nil {
		return err
	}
	lang, now := Lang(c), d.s.now()
	data := form
	data.Key, data.CategoryLabel, data.Current = k, discCategoryLabel(lang, k.Category), cur
	data.CurrentState = discStateOf(k.Period, &cur, now).label(lang)
	data.CurrentAt, data.CurrentBy = discTime(cur.FiledAt), discFiledBy(lang, &cur)
	data.CurrentTables = discTables(&cur, lang)
	data.CanDecide = cur.Status == domain.StatusPending
	if r := cur.Review; r != nil {
		data.Decided = T(lang, "review.decided", T(lang, "disc.status."+r.Status), r.By, discTime(r.At))
	}
	data.Action = k.path("/review/disclosures")
	data.QueueLink = "/review/disclosures?period=" + k.Period.ID
	data.PublicPage = "/estates/" + k.Estate.ID + "/disclosures"
	if co, err := d.s.db.Company(ctx, k.Estate.Company); err == nil {
		data.CompanyName = co.Name
	}
	if di, err := d.s.db.District(ctx, k.Estate.District); err == nil {
		data.DistrictName = di.Name
	}

	// Figures that do not add up can only come from an import: say so before anyone verifies.
	curData, structured := disclosure.Stored(k.Category, cur.Data)
	if structured {
		data.Warnings = append(data.Warnings, disclosure.Check(curData).Messages(lang)...)
	} else {
		data.Warnings = append(data.Warnings, T(lang, "review.unstructured"))
	}

	periods, err := d.s.db.Periods(ctx)
	if err != nil {
		return err
	}
	for i, p := range periods {
		if p.ID != k.Period.ID || i == 0 {
			continue
		}
		prev := periods[i-1]
		data.Previous = &prev
		pf, err := d.s.db.CurrentFiling(ctx, prev.ID, k.Estate.ID, k.Category)
		switch derrors.Code(err) {
		case "":
			data.PreviousState = discStateOf(prev, &pf, now).label(lang)
			data.PreviousAt = discTime(pf.FiledAt)
			data.PreviousTables = discTables(&pf, lang)
			if w := fundContinuity(lang, curData, pf); structured && w != "" {
				data.Warnings = append(data.Warnings, w)
			}
		case derrors.NotFound:
			data.PreviousState = discStateOf(prev, nil, now).label(lang)
		default:
			return err
		}
	}

	hist, err := d.s.db.FilingHistory(ctx, k.Period.ID, k.Estate.ID, k.Category)
	if err != nil {
		return err
	}
	data.History = discHistory(lang, k.Period, hist)
	if data.Audit, err = d.s.objectHistory(c, k.object(), 0); err != nil {
		return err
	}
	objections, err := d.s.db.EstateObjections(ctx, k.Estate.ID, k.Period.ID)
	if err != nil {
		return err
	}
	for _, o := range objections {
		if o.Category == k.Category {
			row := discObjectionRowOf(lang, o, k.Estate.Name)
			row.Household = o.Household
			data.Objections = append(data.Objections, row)
		}
	}
	return d.s.renderStatus(c, status, "disclosure_review", data)
}

// fundContinuity warns when a maintenance fund's opening balance is not the previous
// period's closing balance: money appeared or vanished between two disclosures.
func fundContinuity(lang string, cur disclosure.Data, prev filing.Filing) string {
	fund, ok := cur.(*disclosure.FundData)
	if !ok {
		return ""
	}
	pd, ok := disclosure.Stored(prev.Category, prev.Data)
	if !ok {
		return ""
	}
	before := pd.(*disclosure.FundData)
	if before.ClosingFen == fund.OpeningFen {
		return ""
	}
	return T(lang, "review.fund_gap", fund.OpeningFen.Display(), before.ClosingFen.Display())
}

func (d *disclosureSite) decide(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	k, err := d.discKeyOf(ctx, c, c.Params("period"), c.Params("estate"), c.Params("category"))
	if err != nil {
		return err
	}
	acct, _ := CurrentAccount(c)
	form := discReviewData{Status: c.FormValue("status"), Reason: discLimitText(c.FormValue("reason")), Fields: map[string]string{}}
	version, _ := strconv.Atoi(c.FormValue("version"))
	draft, _ := strconv.Atoi(c.FormValue("draft"))
	switch {
	case form.Status != domain.StatusVerified && form.Status != domain.StatusRejected:
		form.Fields["status"] = Msg(c, "review.status_bad")
	case form.Status == domain.StatusRejected && form.Reason == "":
		form.Fields["reason"] = Msg(c, "review.reason_required")
	case !filing.TextFits(form.Reason):
		form.Fields["reason"] = Msg(c, "review.reason_long")
	}
	if len(form.Fields) > 0 {
		form.Error = Msg(c, "disc.fix")
		return d.showReview(c, fiber.StatusUnprocessableEntity, form)
	}
	decided, err := d.s.filings.Decide(ctx, filing.ReviewDecision{Period: k.Period.ID, Estate: k.Estate.ID, Category: k.Category,
		Version: version, Draft: draft, Status: form.Status, Reason: form.Reason, By: acct.Name, At: d.s.now()})
	switch {
	case errors.Is(err, filing.ErrFilingChanged):
		form.Error = Msg(c, "review.changed")
		return d.showReview(c, fiber.StatusConflict, form)
	case errors.Is(err, filing.ErrReviewed):
		form.Error = Msg(c, "review.already")
		return d.showReview(c, fiber.StatusConflict, form)
	case err != nil:
		return err
	}
	d.cache.put(decided)
	if err := d.s.audited(c, audit.Change{Action: "disclosure.review", Object: k.object(),
		Company: k.Estate.Company, Period: k.Period.ID, Before: map[string]any{"version": version},
		After: map[string]any{"status": form.Status, "version": version}, Reason: form.Reason}); err != nil {
		return err
	}
	d.s.log.Info("disclosure reviewed", "period", k.Period.ID, "estate", k.Estate.ID, "category", k.Category,
		"version", version, "status", form.Status, "by", acct.Name, "request_id", RequestID(c))
	return c.Redirect("/review/disclosures?period="+k.Period.ID+"&ok=decided", fiber.StatusSeeOther)
}

// The compliance dashboard: for each district and company, how many disclosures are owed,
// filed, missing (deadline passed, nothing filed), late (filed after the end of the deadline
// day, +08:00), rejected and pending.

type discCounts struct {
	ID, Name                                               string
	Expected, Filed, Missing, Due, Late, Rejected, Pending int
}

type discIssue struct {
	District, Company, CompanyID, Estate, EstateID, Category, State, FiledAt, Reason string
}

type discCompliance struct {
	Period       domain.Period
	PastDeadline bool
	Total        discCounts
	Districts    []discCounts
	Companies    []discCounts
	Issues       []discIssue // missing, late and rejected, by district, company, estate, category
}

func discComplianceOf(lang string, p domain.Period, estates []domain.Estate, filings []filing.Filing, dir *discDirectory, now time.Time) discCompliance {
	byKey := make(map[string]*filing.Filing, len(filings))
	for i := range filings {
		byKey[filings[i].ID] = &filings[i]
	}
	out := discCompliance{Period: p, PastDeadline: !now.Before(disclosure.DeadlineEnd(p))}
	districts, companies := map[string]*discCounts{}, map[string]*discCounts{}
	counter := func(m map[string]*discCounts, id, name string) *discCounts {
		if m[id] == nil {
			m[id] = &discCounts{ID: id, Name: name}
		}
		return m[id]
	}
	sorted := append([]domain.Estate(nil), estates...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.District != b.District {
			return a.District < b.District
		}
		if a.Company != b.Company {
			return a.Company < b.Company
		}
		return a.ID < b.ID
	})
	for _, e := range sorted {
		di := counter(districts, e.District, dir.districtName(e.District))
		co := counter(companies, e.Company, dir.companyName(e.Company))
		for _, category := range domain.DisclosureCategories {
			f := byKey[filing.FilingKey(p.ID, e.ID, category)]
			st := discStateOf(p, f, now)
			issue := st.Status == "missing" || st.Status == domain.StatusRejected || st.Late
			for _, c := range []*discCounts{di, co, &out.Total} {
				c.Expected++
				switch st.Status {
				case "missing":
					c.Missing++
				case "due":
					c.Due++
				default:
					c.Filed++
				}
				switch {
				case st.Status == domain.StatusRejected:
					c.Rejected++
				case st.Status == domain.StatusPending:
					c.Pending++
				}
				if st.Late && st.Status != domain.StatusRejected {
					c.Late++
				}
			}
			if issue {
				is := discIssue{District: di.Name, Company: co.Name, CompanyID: e.Company, Estate: e.Name, EstateID: e.ID,
					Category: discCategoryLabel(lang, category), State: st.label(lang)}
				if f != nil {
					is.FiledAt = discTime(f.FiledAt)
					if f.Status == domain.StatusRejected && f.Review != nil {
						is.Reason = f.Review.Reason
					}
				}
				out.Issues = append(out.Issues, is)
			}
		}
	}
	for _, m := range []struct {
		src map[string]*discCounts
		dst *[]discCounts
	}{{districts, &out.Districts}, {companies, &out.Companies}} {
		for _, c := range m.src {
			*m.dst = append(*m.dst, *c)
		}
		list := *m.dst
		// Worst first: most missing, then rejected, then late; then by name.
		sort.Slice(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if a.Missing != b.Missing {
				return a.Missing > b.Missing
			}
			if a.Rejected != b.Rejected {
				return a.Rejected > b.Rejected
			}
			if a.Late != b.Late {
				return a.Late > b.Late
			}
			return a.Name < b.Name || a.Name == b.Name && a.ID < b.ID
		})
	}
	return out
}

// maxDashboardIssues bounds the issues listed on the page; the XLSX has them all.
const maxDashboardIssues = 200

type discDashboardData struct {
	NoPeriods bool
	Periods   []discPeriodOption
	Company   string // ?company= filter of the issues
	Report    discCompliance
	Issues    []discIssue
	MoreIssue int
	XLSX      string
}

func (d *disclosureSite) compliance(c *fiber.Ctx) ([]domain.Period, discCompliance, error) {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	periods, p, err := d.discPeriods(ctx, c)
	if err != nil || len(periods) == 0 {
		return nil, discCompliance{}, err
	}
	dir, estates, err := d.directory(ctx)
	if err != nil {
		return nil, discCompliance{}, err
	}
	filings, err := d.cache.filings(ctx, d.s.db, p.ID, d.s.now())
	if err != nil {
		return nil, discCompliance{}, err
	}
	return periods, discComplianceOf(Lang(c), p, estates, filings, dir, d.s.now()), nil
}

func (d *disclosureSite) dashboard(c *fiber.Ctx) error {
	periods, report, err := d.compliance(c)
	if err != nil {
		return err
	}
	if len(periods) == 0 {
		return d.s.render(c, "dashboard_disclosures", discDashboardData{NoPeriods: true})
	}
	data := discDashboardData{Periods: discPeriodOptions(periods, report.Period.ID), Company: c.Query("company"), Report: report,
		XLSX: "/review/dashboard.xlsx?period=" + report.Period.ID}
	for _, is := range report.Issues {
		if data.Company != "" && is.CompanyID != data.Company {
			continue
		}
		if len(data.Issues) == maxDashboardIssues {
			data.MoreIssue++
			continue
		}
		data.Issues = append(data.Issues, is)
	}
	return d.s.render(c, "dashboard_disclosures", data)
}

// dashboardXLSX exports the dashboard: by district, by company, and every issue.
func (d *disclosureSite) dashboardXLSX(c *fiber.Ctx) error {
	periods, report, err := d.compliance(c)
	if err != nil {
		return err
	}
	if len(periods) == 0 {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "disc.no_periods"))
	}
	b, err := discComplianceXLSX(Lang(c), report)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="disclosures-`+report.Period.ID+`.xlsx"`)
	return c.Send(b)
}

func discComplianceXLSX(lang string, r discCompliance) ([]byte, error) {
	book := excelize.NewFile()
	defer book.Close()
	countsHead := func(first ...string) []any {
		var row []any
		for _, h := range first {
			row = append(row, h)
		}
		for _, k := range []string{"dash.expected", "dash.filed", "dash.missing", "dash.due", "dash.late", "dash.rejected", "dash.pending"} {
			row = append(row, T(lang, k))
		}
		return row
	}
	countsRow := func(c discCounts, first ...string) []any {
		var row []any
		for _, v := range first {
			row = append(row, v)
		}
		return append(row, c.Expected, c.Filed, c.Missing, c.Due, c.Late, c.Rejected, c.Pending)
	}
	sheets := []struct {
		name string
		rows [][]any
	}{
		{T(lang, "dash.by_district"), nil},
		{T(lang, "dash.by_company"), nil},
		{T(lang, "dash.issues"), nil},
	}
	sheets[0].rows = append(sheets[0].rows, countsHead(T(lang, "disc.district")))
	for _, c := range r.Districts {
		sheets[0].rows = append(sheets[0].rows, countsRow(c, c.Name))
	}
	sheets[0].rows = append(sheets[0].rows, countsRow(r.Total, T(lang, "disc.total")))
	sheets[1].rows = append(sheets[1].rows, countsHead(T(lang, "disc.company"), T(lang, "dash.uscc")))
	for _, c := range r.Companies {
		sheets[1].rows = append(sheets[1].rows, countsRow(c, c.Name, c.ID))
	}
	sheets[2].rows = append(sheets[2].rows, []any{T(lang, "disc.district"), T(lang, "disc.company"), T(lang, "disc.estate"),
		T(lang, "disc.category"), T(lang, "disc.status"), T(lang, "disc.filed_at"), T(lang, "disc.reason")})
	for _, is := range r.Issues {
		sheets[2].rows = append(sheets[2].rows, []any{is.District, is.Company, is.Estate, is.Category, is.State, is.FiledAt, is.Reason})
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := book.SetSheetName("Sheet1", sh.name); err != nil {
				return nil, err
			}
		} else if _, err := book.NewSheet(sh.name); err != nil {
			return nil, err
		}
		for j, row := range sh.rows {
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			// Names are written as strings, never formulas, whatever they start with.
			if err := book.SetSheetRow(sh.name, cell, &row); err != nil {
				return nil, err
			}
		}
		_ = book.SetColWidth(sh.name, "A", "C", 24)
	}
	var buf bytes.Buffer
	if err := book.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Objections, as reviewers see them: all of them, with the household, to close.

func (d *disclosureSite) reviewObjections(c *fiber.Ctx) error {
	return d.showReviewObjections(c, fiber.StatusOK, "")
}

func (d *disclosureSite) showReviewObjections(c *fiber.Ctx, status int, problem string) error {
	return d.showObjections(c, status, problem, true,
		func(o filing.Objection, e domain.Estate, _ bool, dir *discDirectory) (discObjectionRow, bool) {
			row := discObjectionRowOf(Lang(c), o, e.Name)
			row.Household, row.CompanyName = o.Household, dir.companyName(e.Company) // reviewers only
			return row, true
		})
}

func (d *disclosureSite) closeObjection(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	note := discLimitText(c.FormValue("note"))
	if !filing.TextFits(note) {
		return d.showReviewObjections(c, fiber.StatusUnprocessableEntity, Msg(c, "objection.text_bad"))
	}
	id := c.FormValue("id")
	_, err := d.s.filings.Close(ctx, id, note, acct.Name, d.s.now())
	if derrors.Code(err) == derrors.Conflict {
		return d.showReviewObjections(c, fiber.StatusConflict, Msg(c, "objection.closed"))
	}
	if err != nil {
		return err
	}
	if err := d.s.audited(c, audit.Change{Action: "disclosure.objection.close", Object: "owner-objection/" + id,
		Before: map[string]any{"status": "open"}, After: map[string]any{"status": "closed"}, Reason: note}); err != nil {
		return err
	}
	return c.Redirect("/review/objections?ok=closed", fiber.StatusSeeOther)
}

func init() {
	addMessages(map[string]message{
		"review.queue.title":      {"信息公开审核", "Disclosure review"},
		"review.queue.intro":      {"以下为本期待审核的公开信息，按提交时间排列，先提交的在前。", "Filings of the period that await review, oldest first."},
		"review.queue.empty":      {"本期没有待审核的公开信息。", "Nothing awaits review in this period."},
		"review.queue.objections": {"业主异议", "Owners' objections"},
		"review.queue.count":      {"共 %d 份待审核，显示 %d 份。", "%d await review; %d shown."},
		"review.queue.q":          {"小区或企业名称", "Estate or company name"},
		"review.queue.late":       {"只看逾期提交", "Late filings only"},
		"review.queue.all":        {"全部", "All"},
		"review.queue.filter":     {"筛选", "Filter"},
		"review.queue.none_match": {"没有符合条件的待审核公开信息。", "No filing awaiting review matches."},
		"review.title":            {"审核：%s · %s", "Review: %s · %s"},
		"review.current":          {"本期（%s）", "This period (%s)"},
		"review.previous":         {"上期（%s）", "Previous period (%s)"},
		"review.no_previous":      {"没有上一期。", "There is no previous period."},
		"review.warnings":         {"请注意", "Look out"},
		"review.unstructured":     {"这是导入的非结构化数据，系统无法核对其数额。", "These figures were imported in a free form; the system cannot check their arithmetic."},
		"review.fund_gap":         {"本期期初余额 %s 元与上期期末余额 %s 元不一致。", "The opening balance, %s yuan, is not the previous period's closing balance, %s yuan."},
		"review.decision":         {"审核意见", "Decision"},
		"review.verify":           {"通过", "Verify"},
		"review.reject":           {"退回", "Reject"},
		"review.reason":           {"理由（退回时必填，企业可见）", "Reason (required to reject; the company sees it)"},
		"review.submit":           {"提交审核意见", "Record the decision"},
		"review.status_bad":       {"请选择通过或退回", "Choose verify or reject"},
		"review.reason_required":  {"退回时必须填写理由", "A rejection needs a reason"},
		"review.reason_long":      {"理由不能超过1000字，不能含控制字符", "The reason must be at most 1000 characters, with no control characters"},
		"review.changed":          {"企业在您审核期间重新提交了，请查看最新内容后再审核。", "The company filed again while you were reviewing: look at the new figures first."},
		"review.already":          {"该公开信息已经审核过了。", "This filing has been reviewed already."},
		"review.decided":          {"已审核：%s（%s，%s）", "Reviewed: %s (%s, %s)"},
		"review.objections":       {"业主异议", "Owners' objections"},
		"review.back":             {"返回审核列表", "Back to the queue"},

		"dash.title":       {"信息公开情况", "Disclosure compliance"},
		"dash.intro":       {"逾期指在截止日期（北京时间）当天结束后提交；未公开指截止日期已过仍未提交。", "Late means filed after the end of the deadline day (Beijing time); missing means nothing filed by then."},
		"dash.before":      {"本期公开截止日期尚未到，未提交的计为“待公开”。", "The deadline has not passed yet: what is not filed counts as not yet filed."},
		"dash.expected":    {"应公开", "Owed"},
		"dash.filed":       {"已提交", "Filed"},
		"dash.missing":     {"未公开", "Missing"},
		"dash.due":         {"待公开", "Not yet due"},
		"dash.late":        {"逾期", "Late"},
		"dash.rejected":    {"已退回", "Rejected"},
		"dash.pending":     {"待审核", "Pending"},
		"dash.by_district": {"按区", "By district"},
		"dash.by_company":  {"按企业", "By company"},
		"dash.issues":      {"明细", "Issues"},
		"dash.no_issues":   {"没有未公开、逾期或被退回的公开信息。", "Nothing is missing, late or rejected."},
		"dash.more":        {"另有%d条，请下载Excel查看全部。", "%d more: download the spreadsheet for all of them."},
		"dash.xlsx":        {"下载Excel", "Download the spreadsheet"},
		"dash.uscc":        {"统一社会信用代码", "Credit code"},
		"dash.filter":      {"只看该企业", "Only this company"},
		"dash.all":         {"全部企业", "All companies"},

		"objection.review_title": {"业主异议办结", "Owners' objections"},
		"objection.flat":         {"房号", "Flat"},
		"objection.close":        {"办结意见（选填）", "Closing note (optional)"},
		"objection.close_submit": {"办结", "Close"},
	})
}
