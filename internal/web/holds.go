package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

// The reviewers' queue of held ratings (rating/holds.go): ratings that look stuffed, with the
// evidence, to release (they count from then on) or reject (they never count). Both are
// audited. It has the disclosure queue's shape and roles.

func (s *Server) holdRoutes() {
	h := &holdSite{s: s, d: &disclosureSite{s: s}}
	s.handle(fiber.MethodGet, "/review/ratings", discReviewers, h.queue)
	s.handle(fiber.MethodPost, "/review/ratings", discReviewers, h.decide)
	s.addNav("nav.rating_review", "/review/ratings", discReviewers)
}

type holdSite struct {
	s *Server
	d *disclosureSite // for the period selection the review pages share
}

type holdsData struct {
	NoPeriods bool
	Periods   []discPeriodOption
	Period    domain.Period
	Pending   []holdRow
	Decided   []holdRow
	Flash     string
	Error     string
	Reason    string
}

type holdRow struct {
	Version, EstateName, Household, At, Marks, Comment, Receipt string
	Signals                                                     []string
	Outcome, Decided, Reason                                    string
}

func (h *holdSite) queue(c *fiber.Ctx) error {
	return h.show(c, fiber.StatusOK, holdsData{})
}

func (h *holdSite) show(c *fiber.Ctx, status int, form holdsData) error {
	ctx, cancel := h.s.dbContext(c)
	defer cancel()
	periods, p, err := h.d.discPeriods(ctx, c)
	if err != nil {
		return err
	}
	if len(periods) == 0 {
		return h.s.renderStatus(c, status, "rating_holds", holdsData{NoPeriods: true})
	}
	dir, _, err := h.d.directory(ctx)
	if err != nil {
		return err
	}
	holds, err := h.s.ratings.Holds(ctx, p.ID)
	if err != nil {
		return err
	}
	lang := Lang(c)
	data := form
	data.Periods, data.Period = discPeriodOptions(periods, p.ID), p
	if data.Flash == "" {
		if ok := c.Query("ok"); ok == rating.HoldReleased || ok == rating.HoldRejected || ok == rating.HoldSuperseded {
			data.Flash = Msg(c, "holds.ok."+ok)
		}
	}
	for _, hd := range holds {
		marks := make([]string, len(hd.Scores))
		for i, m := range hd.Scores {
			marks[i] = strconv.Itoa(m)
		}
		row := holdRow{Version: hd.Version, EstateName: dir.estates[hd.Estate].Name, Household: hd.Household, At: discTime(hd.At),
			Marks: strings.Join(marks, " · "), Comment: hd.Comment, Receipt: hd.Receipt}
		if row.EstateName == "" {
			row.EstateName = hd.Estate
		}
		for _, sg := range hd.Signals {
			row.Signals = append(row.Signals, T(lang, "holds.signal."+sg.Kind, sg.Since.In(domain.Zone).Format("15:04"), sg.Count, sg.Threshold))
		}
		if hd.Outcome == rating.HoldPending {
			data.Pending = append(data.Pending, row)
			continue
		}
		row.Outcome = T(lang, "holds.outcome."+hd.Outcome)
		row.Decided = T(lang, "holds.decided", hd.DecidedBy, discTime(hd.DecidedAt))
		row.Reason = hd.Reason
		data.Decided = append(data.Decided, row)
	}
	return h.s.renderStatus(c, status, "rating_holds", data)
}

func (h *holdSite) decide(c *fiber.Ctx) error {
	ctx, cancel := h.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	dec := rating.HoldDecision{Version: c.FormValue("version"), Outcome: c.FormValue("outcome"), By: acct.Name, At: h.s.now(),
		Reason: c.FormValue("reason")}
	form := holdsData{Reason: discLimitText(dec.Reason)}
	// The rule is the use case's (rating.CheckHoldDecision); the page words it.
	if err := rating.CheckHoldDecision(&dec); err != nil {
		form.Error = Msg(c, map[error]string{rating.ErrHoldOutcome: "holds.outcome_bad", rating.ErrHoldReason: "holds.reason_required",
			rating.ErrHoldLong: "review.reason_long"}[err])
		return h.show(c, fiber.StatusUnprocessableEntity, form)
	}
	form.Reason = dec.Reason
	hd, err := h.s.ratings.DecideHold(ctx, dec)
	switch {
	case errors.Is(err, rating.ErrHoldDecided):
		form.Error = Msg(c, "holds.already")
		return h.show(c, fiber.StatusConflict, form)
	case errors.Is(err, rating.ErrHoldUnknown):
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "holds.unknown"))
	case err != nil:
		return err
	}
	if err := h.s.audited(c, audit.Change{Action: "rating.hold." + dec.Outcome, Object: "rating/" + hd.Version, Period: hd.Period,
		Before: map[string]any{"state": rating.HoldHeld}, After: map[string]any{"outcome": hd.Outcome, "receipt": hd.Receipt},
		Reason: form.Reason}); err != nil {
		return err
	}
	h.s.log.Info("held rating decided", "version", hd.Version, "outcome", hd.Outcome, "by", acct.Name, "request_id", RequestID(c))
	return c.Redirect("/review/ratings?period="+hd.Period+"&ok="+hd.Outcome, fiber.StatusSeeOther)
}

func init() {
	addMessages(map[string]message{
		"nav.rating_review":        {"评价审核", "Held ratings"},
		"holds.title":              {"待审核的评价", "Ratings held for review"},
		"holds.intro":              {"以下评价疑似刷票，审核前既不计入得分也不计入公开的评价人数。放行后计入；驳回后永不计入。", "These ratings look stuffed. Until reviewed they count in neither the score nor the public count. Released, they count; rejected, they never do."},
		"holds.count":              {"共 %d 条待审核。", "%d await review."},
		"holds.empty":              {"本期没有待审核的评价。", "No rating of this period awaits review."},
		"holds.decided_title":      {"已审核", "Reviewed"},
		"holds.at":                 {"提交时间", "Submitted"},
		"holds.estate":             {"小区", "Estate"},
		"holds.flat":               {"房号", "Flat"},
		"holds.marks":              {"六项评分", "Six marks"},
		"holds.comment":            {"留言", "Comment"},
		"holds.evidence":           {"疑点", "Evidence"},
		"holds.receipt":            {"回执编号", "Receipt"},
		"holds.reason":             {"理由（驳回时必填）", "Reason (required to reject)"},
		"holds.release":            {"放行（计入）", "Release (count it)"},
		"holds.reject":             {"驳回（不计入）", "Reject (never count it)"},
		"holds.outcome":            {"结果", "Outcome"},
		"holds.outcome_bad":        {"请选择放行或驳回", "Choose release or reject"},
		"holds.reason_required":    {"驳回时必须填写理由", "A rejection needs a reason"},
		"holds.already":            {"该评价已经审核过了。", "This rating has been reviewed already."},
		"holds.unknown":            {"没有这条待审核的评价。", "No such held rating."},
		"holds.decided":            {"%s，%s", "%s, %s"},
		"holds.outcome.released":   {"已放行，已计入", "Released: counted"},
		"holds.outcome.rejected":   {"已驳回，不计入", "Rejected: not counted"},
		"holds.outcome.superseded": {"同一住户之后又提交了评价，以最后一次为准", "The flat rated again later; the last rating counts"},
		"holds.ok.released":        {"已放行，该评价现已计入。", "Released: the rating counts now."},
		"holds.ok.rejected":        {"已驳回，该评价不计入。", "Rejected: the rating does not count."},
		"holds.ok.superseded":      {"同一住户之后又提交了评价，以最后一次为准，本条不再计入。", "The flat rated again since; its last rating counts, not this one."},
		"holds.signal.address":     {"同一网络地址在%s起的时段内提交了%d份评价（上限%d）", "One address sent %[2]d ratings in the window from %[1]s (limit %[3]d)"},
		"holds.signal.device":      {"同一设备（地址与浏览器相同）在%s起的时段内提交了%d份评价（上限%d）", "One device (address and browser) sent %[2]d ratings in the window from %[1]s (limit %[3]d)"},
		"holds.signal.comment":     {"相同留言在%s起的时段内出现了%d次（上限%d）", "The same comment came %[2]d times in the window from %[1]s (limit %[3]d)"},
		"holds.signal.vector":      {"本小区相同的六项评分在%s起的时段内出现了%d次（上限%d）", "The same six marks came %[2]d times for this estate in the window from %[1]s (limit %[3]d)"},
		"holds.signal.estate":      {"本小区在%s起的时段内收到%d份评价，远超以往（上限%d）", "The estate had %[2]d ratings in the window from %[1]s, far above its history (limit %[3]d)"},
		"holds.signal.outlier":     {"在%s起的时段内有%d份评价与本小区平均分相差很大（上限%d）", "%[2]d ratings in the window from %[1]s were far from the estate's mean (limit %[3]d)"},
		"rate.done.thanks_held":    {"感谢您的评价！", "Thank you for your rating!"},
		"receipt.held":             {"审核中：该评价正在人工审核，审核通过前不计入本期结果。", "Under review: this rating is being checked and does not count until a reviewer releases it."},
		"receipt.rejected":         {"该评价经审核未予计入。", "After review, this rating was not counted."},
	})
}
