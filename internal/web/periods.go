package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Periods in the app: reviewers create a period and change its dates and disclosure deadline
// (internal/periods checks and audits); the rating window of a period is its dates.

func (s *Server) periodRoutes() {
	s.handle(fiber.MethodGet, "/periods", creditStaff, s.periodsPage)
	s.handle(fiber.MethodPost, "/periods", creditStaff, s.periodSave(true))
	s.handle(fiber.MethodGet, "/periods/:id", creditStaff, s.periodPage)
	s.handle(fiber.MethodPost, "/periods/:id", creditStaff, s.periodSave(false))
	s.addNav("nav.periods", "/periods", creditStaff)
}

type periodsData struct {
	Periods []domain.Period
	Form    domain.Period
	Edit    bool
	OK      string
	Error   string
	Fields  map[string]string
	History auditRowsData
}

func (s *Server) showPeriods(c *fiber.Ctx, status int, d periodsData) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	var err error
	if d.Periods, err = s.db.Periods(ctx); err != nil {
		return err
	}
	if d.Edit {
		if d.History, err = s.objectHistory(c, "period/"+d.Form.ID, 0); err != nil {
			return err
		}
	}
	if d.OK == "" {
		d.OK = c.Query("ok")
	}
	return s.renderStatus(c, status, "periods", d)
}

func (s *Server) periodsPage(c *fiber.Ctx) error {
	return s.showPeriods(c, fiber.StatusOK, periodsData{})
}

func (s *Server) periodPage(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	p, err := s.db.Period(ctx, c.Params("id"))
	if derrors.Code(err) == derrors.NotFound {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "credit.err.no_period"))
	} else if err != nil {
		return err
	}
	return s.showPeriods(c, fiber.StatusOK, periodsData{Form: p, Edit: true})
}

func (s *Server) periodSave(create bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := domain.Period{ID: c.FormValue("id"), Start: c.FormValue("start"), End: c.FormValue("end"), DisclosureDeadline: c.FormValue("disclosure_deadline")}
		if !create {
			p.ID = c.Params("id")
		}
		ctx, cancel := s.dbContext(c)
		defer cancel()
		err := s.periods.Save(ctx, actor(c), p, create, Lang(c))
		if err == nil {
			return c.Redirect("/periods?ok=saved", fiber.StatusSeeOther)
		}
		var de *derrors.Error
		if !errors.As(err, &de) {
			return err
		}
		d := periodsData{Form: p, Edit: !create, Error: de.Message, Fields: de.Fields}
		switch de.Code {
		case derrors.Invalid:
			return s.showPeriods(c, fiber.StatusUnprocessableEntity, d)
		case derrors.Conflict:
			d.Error = Msg(c, "periods.conflict")
			return s.showPeriods(c, fiber.StatusConflict, d)
		case derrors.NotFound:
			return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "credit.err.no_period"))
		}
		return err
	}
}

func init() {
	addMessages(map[string]message{
		"nav.periods":         {"评价期", "Periods"},
		"periods.title":       {"评价期管理", "Periods"},
		"periods.intro":       {"评价期的起止日期即业主评价的开放时间；信息公开截止日决定公开是否按时。评价期不能重叠，每次修改都记入审计日志。", "A period's dates are when owners may rate; the disclosure deadline decides whether filings are on time. Periods may not overlap; every change is audited."},
		"periods.id":          {"编号（如 2027Q1）", "Id (such as 2027Q1)"},
		"periods.start":       {"开始日期", "Start"},
		"periods.end":         {"结束日期", "End"},
		"periods.deadline":    {"信息公开截止日", "Disclosure deadline"},
		"periods.create":      {"新建评价期", "New period"},
		"periods.edit":        {"修改评价期 %s", "Change period %s"},
		"periods.save":        {"保存", "Save"},
		"periods.saved":       {"已保存。", "Saved."},
		"periods.conflict":    {"该评价期已存在或刚被他人修改，请刷新后重试", "The period exists already or was changed meanwhile; reload and retry"},
		"periods.none":        {"还没有评价期", "No periods yet"},
		"periods.change_link": {"修改", "Change"},
	})
}
