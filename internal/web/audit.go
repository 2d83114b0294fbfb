package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// The audit trail: administrators browse it per object, per account, per company and per
// period, and export what they selected as CSV, XLSX or JSON Lines. Handlers record their
// actions with s.audited.

var auditors = Roles(domain.RoleAdmin)

func (s *Server) auditRoutes() {
	if err := addPartialsFrom(s.pages, creditPartials, "", []string{"admin_audit"}); err != nil {
		panic(err) // the embedded templates are broken: a build problem, found by any test
	}
	s.handle(fiber.MethodGet, "/admin/audit", auditors, s.auditBrowse)
	s.handle(fiber.MethodGet, "/admin/audit/export", auditors, s.auditExport)
	s.addNav("nav.audit", "/admin/audit", auditors)
}

// actor is the current account as the audit trail names it.
func actor(c *fiber.Ctx) audit.Actor {
	if acct, ok := CurrentAccount(c); ok {
		return audit.Actor{Name: acct.Name, Role: acct.Role}
	}
	return audit.Actor{Name: "anonymous", Role: "anonymous"}
}

// audited appends ch to the trail as the current account's action. The action has happened
// by then, so a failure to record it is logged loudly and returned: the person sees an error
// and the log says what was not recorded.
func (s *Server) audited(c *fiber.Ctx, ch audit.Change) error { return s.auditedAs(c, actor(c), ch) }

// auditedAs appends ch as who's action, for requests without a session: a log-in, and the API,
// whose token acts for the company account that issued it.
func (s *Server) auditedAs(c *fiber.Ctx, who audit.Actor, ch audit.Change) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	if err := s.audit.Record(ctx, who, ch); err != nil {
		s.log.Error("audit entry not written", "action", ch.Action, "object", ch.Object, "err", err, "request_id", RequestID(c))
		return err
	}
	return nil
}

type auditData struct {
	Filter  auditForm
	Entries []audit.Entry
	Limit   int
	Error   string
	Fields  map[string]string
}

type auditForm struct {
	Object, Actor, Company, Period, Since, Until string
}

// auditBrowseLimit bounds the entries one page shows; the export has no bound.
const auditBrowseLimit = 500

// auditFilter reads the filter from the query. since and until are dates (+08:00) or RFC 3339
// times.
func (s *Server) auditFilter(c *fiber.Ctx) (auditForm, audit.Filter, map[string]string) {
	form := auditForm{
		Object: strings.TrimSpace(c.Query("object")), Actor: strings.TrimSpace(c.Query("actor")),
		Company: strings.ToUpper(strings.TrimSpace(c.Query("company"))), Period: strings.TrimSpace(c.Query("period")),
		Since: strings.TrimSpace(c.Query("since")), Until: strings.TrimSpace(c.Query("until")),
	}
	f := audit.Filter{Object: form.Object, Actor: form.Actor, Company: form.Company, Period: form.Period}
	fields := map[string]string{}
	var err error
	if f.Since, err = audit.ParseTime(form.Since); err != nil {
		fields["since"] = Msg(c, "audit.bad_time")
	}
	if f.Until, err = audit.ParseTime(form.Until); err != nil {
		fields["until"] = Msg(c, "audit.bad_time")
	}
	return form, f, fields
}

func (s *Server) auditBrowse(c *fiber.Ctx) error {
	form, f, fields := s.auditFilter(c)
	d := auditData{Filter: form, Limit: auditBrowseLimit}
	if len(fields) > 0 {
		d.Fields, d.Error = fields, Msg(c, "audit.bad_filter")
		return s.renderStatus(c, fiber.StatusBadRequest, "admin_audit", d)
	}
	f.Limit = auditBrowseLimit
	ctx, cancel := s.dbContext(c)
	defer cancel()
	var err error
	if d.Entries, err = s.audit.Entries(ctx, f); err != nil {
		return err
	}
	return s.render(c, "admin_audit", d)
}

func (s *Server) auditExport(c *fiber.Ctx) error {
	_, f, fields := s.auditFilter(c)
	if len(fields) > 0 {
		return &derrors.Error{Code: derrors.Invalid, Message: Msg(c, "audit.bad_filter"), Fields: fields}
	}
	format := c.Query("format", audit.FormatJSONL)
	types := map[string]string{
		audit.FormatJSONL: "application/x-ndjson; charset=utf-8",
		audit.FormatCSV:   "text/csv; charset=utf-8",
		audit.FormatXLSX:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	}
	if types[format] == "" {
		return derrors.Errorf(derrors.Invalid, "%s", Msg(c, "audit.bad_format"))
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	entries, err := s.audit.Entries(ctx, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == audit.FormatCSV {
		buf.WriteString("\ufeff") // so that spreadsheet programs read UTF-8
	}
	if err := audit.Write(&buf, format, entries); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, types[format])
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit-`+s.now().In(domain.Zone).Format("20060102-150405")+`.`+format+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// objectHistory reads the trail of one object, oldest first, for the "history" partial of the
// object's own page: its newest limit entries, or all of them when limit is 0.
func (s *Server) objectHistory(c *fiber.Ctx, object string, limit int) (auditRowsData, error) {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	entries, err := s.audit.Entries(ctx, audit.Filter{Object: object, Limit: limit})
	if limit > 0 {
		slices.Reverse(entries) // a limit reads the newest first
	}
	return auditRowsData{Lang: Lang(c), Entries: entries}, err
}

// auditRowsData is what the audit-table partial gets.
type auditRowsData struct {
	Lang    string
	Entries []audit.Entry
	ID      string // the history section's id on a page with several; "" is "history"
}

// creditPartials is the file of partials shared by the credit pages and the audit trail.
const creditPartials = "templates/pages/credit_partials.html"

func init() {
	addTemplateFuncs(map[string]any{
		"auditRows": func(lang string, entries []audit.Entry) auditRowsData {
			return auditRowsData{Lang: lang, Entries: entries}
		},
	})
}

// auditChange is one changed key of an entry: what it was and what it became.
type auditChange struct{ Key, Before, After string }

// changesOf lists the keys whose values differ between an entry's before and after, in key
// order, so that a history shows what changed rather than two whole states. Texts that are not
// JSON objects are shown whole under the key "".
func changesOf(e audit.Entry) []auditChange {
	var before, after map[string]any
	if e.Before != "" && json.Unmarshal([]byte(e.Before), &before) != nil ||
		e.After != "" && json.Unmarshal([]byte(e.After), &after) != nil {
		return []auditChange{{Before: e.Before, After: e.After}}
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []auditChange
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		b, bok := before[k]
		a, aok := after[k]
		if bok && aok && reflect.DeepEqual(a, b) {
			continue
		}
		c := auditChange{Key: k}
		if bok {
			c.Before = fmt.Sprint(b)
		}
		if aok {
			c.After = fmt.Sprint(a)
		}
		out = append(out, c)
	}
	return out
}

func init() { addTemplateFuncs(map[string]any{"changesOf": changesOf}) }

func init() {
	addMessages(map[string]message{
		"nav.audit":          {"审计日志", "Audit trail"},
		"audit.title":        {"审计日志", "Audit trail"},
		"audit.intro":        {"每一项人员操作都记录在此，只增不改。可按对象、账号、企业和期间筛选并导出。", "Every action by a person is recorded here; entries are never changed or removed. Filter by object, account, company and period, and export."},
		"audit.object":       {"对象", "Object"},
		"audit.actor":        {"操作人", "Account"},
		"audit.role":         {"角色", "Role"},
		"audit.company":      {"企业", "Company"},
		"audit.period":       {"期间", "Period"},
		"audit.since":        {"起始（含）", "From (inclusive)"},
		"audit.until":        {"截止（不含）", "Until (exclusive)"},
		"audit.at":           {"时间", "When"},
		"audit.action":       {"操作", "Action"},
		"audit.change":       {"变更（前 → 后）", "Change (before → after)"},
		"audit.reason":       {"理由", "Reason"},
		"audit.filter":       {"筛选", "Filter"},
		"audit.export":       {"导出", "Export"},
		"audit.none":         {"没有符合条件的记录", "No entries match"},
		"audit.shown":        {"显示最近 %d 条", "Showing the newest %d"},
		"audit.bad_time":     {"请填写日期（如 2026-12-01）或带时区的时间", "Enter a date (such as 2026-12-01) or a time with its offset"},
		"audit.bad_filter":   {"筛选条件有误", "The filter is not valid"},
		"audit.bad_format":   {"导出格式只能是 csv、xlsx 或 jsonl", "The export format must be csv, xlsx or jsonl"},
		"audit.history":      {"操作记录", "History"},
		"audit.history_none": {"暂无操作记录", "No history yet"},
	})
}
