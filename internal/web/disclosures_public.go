package web

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/rating"
)

// The public side: an estate's disclosures of every period that has begun, in plain tables,
// each marked verified, pending, rejected, late or missing, with the owners' open objections;
// and the form on which an owner with a household code objects.

// objectionThrottle bounds objections per client address, counted before the household code
// is checked, so that it also slows guessing codes. It uses the log-in throttle's store
// (slots inserted per window), under its own keys.
var objectionThrottle = domain.ThrottleRule{Limit: 10, Window: time.Hour, Lockout: time.Hour}

type discPublicData struct {
	Estate       domain.Estate
	CompanyName  string
	DistrictName string
	Periods      []discPublicPeriod
	Flash        string

	// The objection form.
	CanObject  bool
	OpenPeriod string
	Filed      []discOption // disclosures that can be objected to: period|category
	Form       discObjectionForm
	Fields     map[string]string
	Error      string
	Action     string
}

type discOption struct{ Value, Label string }

type discObjectionForm struct{ Target, Flat, Text string }

type discPublicPeriod struct {
	ID, Start, End, Deadline string
	Categories               []discPublicCategory
}

type discPublicCategory struct {
	Label, Status, StateLabel, FiledAt string
	Tables                             []disclosure.Table
	// Inconsistent says, in plain words, where the figures shown do not add up (possible only
	// for imported figures): the public sees what the reviewer sees.
	Inconsistent []string
	Objections   []discObjectionRow
}

func (d *disclosureSite) public(c *fiber.Ctx) error {
	return d.showPublic(c, fiber.StatusOK, discPublicData{Flash: discFlash(c)})
}

func (d *disclosureSite) showPublic(c *fiber.Ctx, status int, data discPublicData) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	e, err := d.pathEstate(ctx, c)
	if err != nil {
		return err
	}
	lang, now := Lang(c), d.s.now()
	data.Estate = e
	data.Action = "/estates/" + e.ID + "/objections"
	if co, err := d.s.db.Company(ctx, e.Company); err == nil {
		data.CompanyName = co.Name
	}
	if di, err := d.s.db.District(ctx, e.District); err == nil {
		data.DistrictName = di.Name
	}
	periods, err := d.s.db.Periods(ctx)
	if err != nil {
		return err
	}
	today := domain.Today(now)
	for i := len(periods) - 1; i >= 0; i-- {
		p := periods[i]
		if !disclosure.Started(p, now) {
			continue
		}
		if p.Contains(today) {
			data.CanObject, data.OpenPeriod = true, p.ID
		}
		filings, err := d.s.db.EstateFilings(ctx, p.ID, e.ID)
		if err != nil {
			return err
		}
		objections, err := d.s.db.EstateObjections(ctx, e.ID, p.ID)
		if err != nil {
			return err
		}
		view := discPublicPeriod{ID: p.ID, Start: p.Start, End: p.End, Deadline: p.DisclosureDeadline}
		for _, category := range domain.DisclosureCategories {
			var f *filing.Filing
			if x, ok := filings[category]; ok {
				f = &x
			}
			st := discStateOf(p, f, now)
			pc := discPublicCategory{Label: discCategoryLabel(lang, category), Status: st.Status, StateLabel: st.label(lang)}
			if f != nil {
				pc.FiledAt = discTime(f.FiledAt)
				data.Filed = append(data.Filed, discOption{Value: p.ID + "|" + category, Label: p.ID + " · " + pc.Label})
				// Rejected figures are wrong by the bureau's judgement: they are not shown as if
				// they were the estate's accounts.
				if f.Status != domain.StatusRejected {
					pc.Tables = discTables(f, lang)
					if data, ok := disclosure.Stored(category, f.Data); ok {
						pc.Inconsistent = disclosure.Check(data).Messages(lang)
					}
				}
			}
			// Every objection stays on the page once the bureau closes it, with the company's
			// answers and the bureau's note: the owner learns the outcome, and so do the
			// neighbours. (The flat is never shown.)
			for _, o := range objections {
				if o.Category == category {
					pc.Objections = append(pc.Objections, discObjectionRowOf(lang, o, e.Name))
				}
			}
			view.Categories = append(view.Categories, pc)
		}
		data.Periods = append(data.Periods, view)
	}
	return d.s.renderStatus(c, status, "disclosure_public", data)
}

// pathEstate reads the estate named in the path; an unknown one is a NotFound page.
func (d *disclosureSite) pathEstate(ctx context.Context, c *fiber.Ctx) (domain.Estate, error) {
	e, err := d.s.db.Estate(ctx, c.Params("id"))
	if derrors.Code(err) == derrors.NotFound {
		return e, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
	}
	return e, err
}

// fileObjection files an owner's objection to one of the estate's disclosures. The owner
// proves residence with the household's code for the open period.
func (d *disclosureSite) fileObjection(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	e, err := d.pathEstate(ctx, c)
	if err != nil {
		return err
	}
	now := d.s.now()
	form := discObjectionForm{Target: c.FormValue("target"), Flat: strings.TrimSpace(c.FormValue("flat")), Text: discLimitText(c.FormValue("text"))}
	data := discPublicData{Form: form, Fields: map[string]string{}}
	again := func(status int, message string) error {
		data.Error = message
		return d.showPublic(c, status, data)
	}

	ipHash := d.s.addressHash(ClientIP(c))
	_, until, err := d.s.db.CountLoginAttempt(ctx, now, domain.ThrottleKey{Key: "objection|ip|" + ipHash, Rule: objectionThrottle})
	if err != nil {
		return err
	}
	if !until.IsZero() {
		setRetryAfter(c, until.Sub(now))
		return again(fiber.StatusTooManyRequests, Msg(c, "objection.rate_limited"))
	}

	period, category, _ := strings.Cut(form.Target, "|")
	if _, err := d.s.db.Period(ctx, period); err != nil || !disclosure.IsCategory(category) {
		data.Fields["target"] = Msg(c, "objection.target_bad")
	}
	if !domain.IsIdent(form.Flat) {
		data.Fields["flat"] = Msg(c, "objection.flat_bad")
	}
	if strings.TrimSpace(c.FormValue("code")) == "" {
		data.Fields["code"] = Msg(c, "objection.code_required")
	}
	if form.Text == "" || !filing.TextFits(form.Text) {
		data.Fields["text"] = Msg(c, "objection.text_bad")
	}
	if len(data.Fields) > 0 {
		return again(fiber.StatusUnprocessableEntity, Msg(c, "disc.fix"))
	}
	open, ok, err := d.s.db.OpenPeriod(ctx, domain.Today(now))
	if err != nil {
		return err
	}
	if !ok {
		return again(fiber.StatusConflict, Msg(c, "objection.no_open_period"))
	}
	var limited *rating.LimitedError
	switch err := d.s.ratings.ProveHousehold(ctx, open.ID, e.ID, form.Flat, c.FormValue("code"), ipHash, now); {
	case errors.As(err, &limited):
		setRetryAfter(c, limited.Wait)
		return again(fiber.StatusTooManyRequests, Msg(c, "objection.rate_limited"))
	case errors.Is(err, rating.ErrCodeLocked):
		return again(fiber.StatusTooManyRequests, codeRefusalMessage(c, err))
	case errors.Is(err, rating.ErrCodeWrong):
		data.Fields["code"] = codeRefusalMessage(c, err)
		return again(fiber.StatusForbidden, Msg(c, "objection.code_wrong"))
	case derrors.Code(err) == derrors.Forbidden:
		data.Fields["code"] = Msg(c, "objection.code_wrong")
		return again(fiber.StatusForbidden, Msg(c, "objection.code_wrong"))
	case err != nil:
		return err
	}
	o, err := d.s.filings.FileObjection(ctx, filing.NewObjection{Period: period, Estate: e.ID, Category: category,
		OpenPeriod: open.ID, Household: form.Flat, Text: form.Text, At: now, IPHash: ipHash})
	switch {
	case errors.Is(err, filing.ErrTooManyObjections):
		return again(fiber.StatusTooManyRequests, Msg(c, "objection.too_many", filing.MaxObjectionsPerHousehold))
	case derrors.Code(err) == derrors.NotFound:
		data.Fields["target"] = Msg(c, "objection.target_bad")
		return again(fiber.StatusUnprocessableEntity, Msg(c, "disc.fix"))
	case err != nil:
		return err
	}
	d.s.log.Info("objection filed", "objection", o.ID, "category", category, "request_id", RequestID(c))
	return c.Redirect("/estates/"+e.ID+"/disclosures?ok=objection#objections", fiber.StatusSeeOther)
}

func init() {
	addMessages(map[string]message{
		"public.title":             {"%s · 信息公开", "%s · Disclosures"},
		"public.intro":             {"物业服务企业按期公开的公共水电分摊、物业服务费、专项维修资金和停车场所收益情况。金额单位：元。", "What the property company discloses each period: shared utilities, service fees, the maintenance fund and parking. Amounts in yuan."},
		"public.managed_by":        {"物业服务企业：%s", "Managed by %s"},
		"public.none":              {"还没有开始的评价期。", "No period has started yet."},
		"public.period":            {"%s（%s 至 %s）", "%s (%s to %s)"},
		"public.rejected":          {"该公开信息未通过住建部门审核，等待企业重新公开。", "The bureau rejected these figures; the company must disclose them again."},
		"public.missing":           {"企业未在截止日期前公开。", "The company did not disclose this by the deadline."},
		"public.due":               {"尚未公开，截止日期：%s。", "Not disclosed yet; the deadline is %s."},
		"public.objections":        {"业主异议", "Owners' objection"},
		"public.objection_open":    {"处理中", "Open"},
		"public.objection_closed":  {"已办结", "Closed"},
		"public.no_answer":         {"企业尚未答复。", "The company has not answered yet."},
		"public.inconsistent":      {"注意：以下公开数据前后不一致：", "Note: these figures do not add up:"},
		"objection.title":          {"对公开信息提出异议", "Object to a disclosure"},
		"objection.intro":          {"本小区业主可凭本期住户验证码对公开信息提出异议（例如“这笔分摊不对”），企业将公开答复，住建部门负责办结。异议内容公开显示，房号不公开。", "Owners of the estate may object to a disclosure with their household code for the current period (for example \"this allocation is wrong\"). The company answers in public and the bureau closes it. The text is public; the flat is not."},
		"objection.closed_period":  {"当前没有进行中的评价期，暂不能提出异议。", "No period is open, so objections cannot be filed now."},
		"objection.target":         {"针对的公开信息", "Disclosure"},
		"objection.flat_label":     {"房号", "Flat"},
		"objection.code":           {"住户验证码", "Household code"},
		"objection.text":           {"异议内容（不超过1000字）", "Your objection (at most 1000 characters)"},
		"objection.submit":         {"提交异议", "File the objection"},
		"objection.nothing":        {"还没有可以提出异议的公开信息。", "Nothing has been disclosed to object to."},
		"objection.target_bad":     {"请选择一项已公开的信息", "Choose a disclosure that has been filed"},
		"objection.flat_bad":       {"请填写房号（如 3-2-1201）", "Enter your flat (such as 3-2-1201)"},
		"objection.code_required":  {"请填写住户验证码", "Enter your household code"},
		"objection.code_wrong":     {"房号或住户验证码不正确", "The flat or the household code is wrong"},
		"objection.rate_limited":   {"提交过于频繁，请稍后再试", "Too many objections from your address: try again later"},
		"objection.too_many":       {"每户每期最多提出%d条异议", "A household may file at most %d objections a period"},
		"objection.no_open_period": {"当前没有进行中的评价期，暂不能提出异议", "No period is open, so objections cannot be filed now"},
		"objection.filed_at":       {"提出时间", "Filed"},
	})
}
