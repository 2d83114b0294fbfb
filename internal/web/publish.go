package web

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// Publishing: a reviewer (or an administrator) scores a period into its draft, looks the
// draft over (grades, warnings, the ruleset, the inputs' hash) and publishes it, ticking a box
// that says so. The publication freezes the results and the inputs they came from; the public
// pages show it from then on, and a later publication supersedes it without hiding it.

var publishers = Roles(domain.RoleReviewer, domain.RoleAdmin)

func (r *reportSite) publishRoutes() {
	s := r.s
	s.handle(fiber.MethodGet, "/publish", publishers, r.publishIndex)
	s.handle(fiber.MethodGet, "/publish/:period", publishers, r.publishForm)
	s.handle(fiber.MethodPost, "/publish/:period/score", publishers, r.scoreNow)
	s.handle(fiber.MethodPost, "/publish/:period", publishers, r.publish)
	s.handle(fiber.MethodPost, "/publish/:period/final", publishers, r.finalize)
	s.addNav("nav.publish", "/publish", publishers)
	r.resultObjectionRoutes()
}

type publishRow struct {
	Period       domain.Period
	Draft        *publication.Record // nil: not scored yet
	Publications []publication.Record
}

func (r *reportSite) publishIndex(c *fiber.Ctx) error {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	periods, err := r.s.db.Periods(ctx)
	if err != nil {
		return err
	}
	pubs, err := r.s.pubs.Publications(ctx, "")
	if err != nil {
		return err
	}
	var rows []publishRow
	for i := len(periods) - 1; i >= 0; i-- { // newest first
		row := publishRow{Period: periods[i]}
		if row.Draft, err = r.s.pubs.DraftRecord(ctx, periods[i].ID); err != nil {
			return err
		}
		for _, p := range pubs {
			if p.Period == periods[i].ID {
				row.Publications = append(row.Publications, p)
			}
		}
		rows = append(rows, row)
	}
	return r.s.render(c, "publish_index", rows)
}

type publishData struct {
	Period       domain.Period
	Draft        *publication.Draft // nil: not scored yet
	Result       *scoring.Result    // the draft's
	Publications []reports.Publication
	// SameAsLatest: the draft has the inputs and ruleset of the current publication.
	SameAsLatest bool
	Published    int                           // the publication just made, for the notice
	Final        string                        // the publication just approved as final, for the notice
	Objections   []publication.ResultObjection // to the current publication
	History      auditRowsData                 // the period's audit trail: scoring, publishing, final approval, changes
	Error        string
	Fields       map[string]string
	// Caveats are reasons to wait, in plain words with their numbers: the period has not
	// ended, filings await review. Publishing despite them takes a second confirmation.
	Caveats []string
	// Warnings are the draft's warnings grouped by kind, each with how many and in what words.
	Warnings []warningGroup
}

// warningGroup is the draft's warnings of one kind: a sentence with their number, and each
// warning's own message (the engine writes them in Chinese).
type warningGroup struct {
	Code, Summary string
	Items         []string
}

// groupWarnings groups ws by code, in the order the codes first appear.
func groupWarnings(lang string, ws []scoring.Warning) []warningGroup {
	var out []warningGroup
	at := map[string]int{}
	for _, w := range ws {
		i, ok := at[w.Code]
		if !ok {
			i = len(out)
			at[w.Code] = i
			out = append(out, warningGroup{Code: w.Code})
		}
		out[i].Items = append(out[i].Items, w.Message)
	}
	for i := range out {
		key := "publish.warn." + out[i].Code
		if _, known := messages[key]; !known {
			key = "publish.warn.other"
		}
		out[i].Summary = T(lang, key, len(out[i].Items))
	}
	return out
}

// caveats says why publishing the period now may be early: it has not ended (owners may still
// rate), or filings of it await review (they are scored as filed, unchecked).
func (r *reportSite) caveats(c *fiber.Ctx, p domain.Period) ([]string, error) {
	var out []string
	today := domain.Today(r.s.now())
	if today <= p.End {
		end, err := time.Parse(domain.DateLayout, p.End)
		if err != nil {
			return nil, err
		}
		now, _ := time.Parse(domain.DateLayout, today)
		out = append(out, Msg(c, "publish.caveat.open", p.ID, p.End, int(end.Sub(now).Hours()/24)+1))
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	filings, err := r.s.db.Filings(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	pending := 0
	for _, f := range filings {
		if f.Status == domain.StatusPending {
			pending++
		}
	}
	if pending > 0 {
		out = append(out, Msg(c, "publish.caveat.pending", pending))
	}
	return out, nil
}

// loadPublish gathers the publish page of the period named in the path.
func (r *reportSite) loadPublish(c *fiber.Ctx) (*publishData, error) {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	period, err := r.s.db.Period(ctx, c.Params("period"))
	if err != nil {
		if derrors.Code(err) == derrors.NotFound {
			return nil, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "publish.no_such_period", c.Params("period")))
		}
		return nil, err
	}
	d := &publishData{Period: period}
	if d.Objections, err = r.s.pubs.ResultObjections(ctx, period.ID); err != nil {
		return nil, err
	}
	if d.History, err = r.s.objectHistory(c, "period/"+period.ID, 0); err != nil {
		return nil, err
	}
	pubs, err := r.s.pubs.Publications(ctx, period.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range pubs {
		d.Publications = append(d.Publications, publicationOf(p))
	}
	draft, err := r.s.pubs.Draft(ctx, period.ID)
	switch derrors.Code(err) {
	case "":
	case derrors.NotFound:
		return d, nil
	default:
		return nil, err
	}
	d.Draft, d.Result = draft, draft.Result
	if n := len(pubs); n > 0 {
		last := pubs[n-1]
		d.SameAsLatest = last.InputsHash == draft.InputsHash && last.RulesetHash == draft.RulesetHash
	}
	d.Warnings = groupWarnings(Lang(c), d.Result.Warnings)
	if d.Caveats, err = r.caveats(c, period); err != nil {
		return nil, err
	}
	return d, nil
}

func (r *reportSite) publishForm(c *fiber.Ctx) error {
	d, err := r.loadPublish(c)
	if err != nil {
		return err
	}
	d.Published, _ = strconv.Atoi(c.Query("published"))
	if n, err := strconv.Atoi(c.Query("final")); err == nil {
		d.Final = strconv.Itoa(n)
	}
	return r.s.render(c, "publish", d)
}

// scoreNow scores the period with the built-in ruleset and stores the result as its draft.
func (r *reportSite) scoreNow(c *fiber.Ctx) error {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	period := c.Params("period")
	if _, err := r.s.credit.PrepareScoring(ctx); err != nil { // records whose objection windows closed count
		return err
	}
	acct, _ := CurrentAccount(c)
	res, err := r.s.pubs.Score(ctx, period, scoring.Default(), acct.Name, r.s.now(), nil)
	var unscorable *publication.UnscorableError
	switch {
	case derrors.Code(err) == derrors.NotFound:
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "publish.no_such_period", period))
	case errors.As(err, &unscorable):
		// The data cannot be scored (the engine says why); nothing was stored.
		return derrors.Errorf(derrors.Conflict, "%s", Msg(c, "publish.score_failed", unscorable.Err.Error()))
	case err != nil:
		return err
	}
	if err := r.s.audited(c, audit.Change{Action: "results.score", Object: "period/" + period, Period: period,
		After: map[string]any{"ruleset": res.Ruleset, "companies": len(res.Grades)}}); err != nil {
		return err
	}
	r.s.log.Info("scored", "period", period, "by", acct.Name, "companies", len(res.Grades), "request_id", RequestID(c))
	return c.Redirect("/publish/"+period, fiber.StatusSeeOther)
}

// publish publishes the draft the reviewer looked at: the form carries the draft's inputs
// hash and creation time, so that a draft scored again in the meantime is not published
// unseen.
func (r *reportSite) publish(c *fiber.Ctx) error {
	d, err := r.loadPublish(c)
	if err != nil {
		return err
	}
	if d.Draft == nil {
		d.Error = Msg(c, "publish.no_draft")
		return r.s.renderStatus(c, fiber.StatusConflict, "publish", d)
	}
	if c.FormValue("draft") != d.Draft.Version() {
		d.Error = Msg(c, "publish.draft_changed")
		return r.s.renderStatus(c, fiber.StatusConflict, "publish", d)
	}
	d.Fields = map[string]string{}
	if c.FormValue("confirm") != "yes" {
		d.Fields["confirm"] = Msg(c, "publish.confirm_required")
	}
	if len(d.Caveats) > 0 && c.FormValue("early") != "yes" {
		d.Fields["early"] = Msg(c, "publish.early_required")
	}
	if len(d.Fields) > 0 {
		// Said at the top of the page too, where the reviewer lands, not only by the boxes.
		d.Error = Msg(c, "publish.fix")
		for _, k := range []string{"confirm", "early"} {
			if m := d.Fields[k]; m != "" {
				d.Error += " " + m + Msg(c, "punct.period")
			}
		}
		return r.s.renderStatus(c, fiber.StatusUnprocessableEntity, "publish", d)
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	pub, err := r.s.pubs.Publish(ctx, d.Period.ID, d.Draft.Version(), acct.Name, r.s.now())
	r.cache.invalidate() // even on error: the publication may have been written
	if errors.Is(err, publication.ErrDraftChanged) {
		d.Error = Msg(c, "publish.draft_changed")
		return r.s.renderStatus(c, fiber.StatusConflict, "publish", d)
	} else if err != nil {
		return err
	}
	if err := r.s.audited(c, audit.Change{Action: "results.publish", Object: "period/" + pub.Period, Period: pub.Period,
		After: map[string]any{"publication": pub.Seq, "inputs_hash": pub.InputsHash, "ruleset": pub.Ruleset}}); err != nil {
		return err
	}
	r.s.log.Info("published", "period", pub.Period, "publication", pub.Seq, "by", acct.Name, "inputs_hash", pub.InputsHash, "request_id", RequestID(c))
	return c.Redirect("/publish/"+d.Period.ID+"?published="+strconv.Itoa(pub.Seq), fiber.StatusSeeOther)
}
