package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/publication"
)

// Final publication (正式发布): a publication opens publicity (公示); once it has ended, a
// reviewer or admin other than the one who published approves it as final
// (publication.Service.Finalize says no, and why, otherwise).

func (r *reportSite) finalize(c *fiber.Ctx) error {
	d, err := r.loadPublish(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		d.Fields = map[string]string{"final_confirm": Msg(c, "publish.confirm_required")}
		return r.s.renderStatus(c, fiber.StatusUnprocessableEntity, "publish", d)
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	pub, err := r.s.pubs.Finalize(ctx, d.Period.ID, acct.Name, r.s.now())
	r.cache.invalidate()
	var de *derrors.Error
	if errors.As(err, &de) && de.Code == derrors.Conflict && de.Fields["reason"] != "" {
		d.Error = finalRefusal(c, de.Fields["reason"], d)
		return r.s.renderStatus(c, fiber.StatusConflict, "publish", d)
	} else if err != nil {
		return err
	}
	if err := r.s.audited(c, audit.Change{Action: "results.final", Object: "period/" + pub.Period, Period: pub.Period,
		Before: map[string]any{"publication": pub.Seq, "status": publication.StatusPublicity, "published_by": pub.CreatedBy},
		After:  map[string]any{"publication": pub.Seq, "status": publication.StatusFinal}}); err != nil {
		return err
	}
	r.s.log.Info("publication final", "period", pub.Period, "publication", pub.Seq, "by", acct.Name, "request_id", RequestID(c))
	return c.Redirect("/publish/"+d.Period.ID+"?final="+strconv.Itoa(pub.Seq), fiber.StatusSeeOther)
}

// finalRefusal words Finalize's refusal in the request's language.
func finalRefusal(c *fiber.Ctx, reason string, d *publishData) string {
	if reason == publication.RefusedPublicity && len(d.Publications) > 0 {
		return Msg(c, reason, when(d.Publications[len(d.Publications)-1].PublicityEnds))
	}
	return Msg(c, reason)
}

func init() {
	addTemplateFuncs(map[string]any{"lastPub": func(d *publishData) any {
		if len(d.Publications) == 0 {
			return nil
		}
		return d.Publications[len(d.Publications)-1]
	}})
	addMessages(map[string]message{
		"publication.final.none":        {"本期还没有发布，无法正式发布", "The period has not been published; there is nothing to approve"},
		"publication.final.already":     {"本期结果已正式发布", "The period's results are final already"},
		"publication.final.same_person": {"发布公示的人员不能同时批准正式发布，须由另一名审核人员或管理员批准", "Whoever opened the publicity cannot also approve the final publication: another reviewer or admin must"},
		"publication.final.publicity":   {"公示期至 %s 结束，结束后才能正式发布", "The publicity runs until %s; the results can be final after that"},
		"publish.publicity":             {"公示与正式发布", "Publicity and final publication"},
		"publish.status.publicity":      {"公示中，至 %s", "In publicity until %s"},
		"publish.status.final":          {"已正式发布", "Final"},
		"publish.final":                 {"批准正式发布", "Approve the final publication"},
		"publish.final_intro":           {"公示期结束后，由发布人以外的审核人员或管理员批准正式发布。", "After the publicity, a reviewer or admin other than whoever published approves the final publication."},
		"publish.final_confirm":         {"我已核对第%d次发布的公示情况，批准正式发布", "I have checked the publicity of publication %d and approve it as final"},
		"publish.finalized":             {"第%s次发布已正式发布。", "Publication %s is final."},
		"publish.final_by":              {"批准人：%s，%s", "Approved by %s, %s"},
	})
}
