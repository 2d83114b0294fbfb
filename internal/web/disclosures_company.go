package web

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// The company's side: an overview of what it owes for a period, the filing form of one
// estate and category (with upload, template and export), its API tokens, and the owners'
// objections it must answer.

type discIndexData struct {
	NoPeriods bool
	Periods   []discPeriodOption
	Period    domain.Period
	Started   bool
	Deadline  string
	Estates   []discIndexEstate
	Flash     string
	// Unanswered counts the open objections to the company's disclosures that it has not
	// answered yet.
	Unanswered int
}

type discIndexEstate struct {
	ID, Name string
	Cells    []discIndexCell
}

type discIndexCell struct {
	Label, Status, StatusLabel, Link string
}

func (d *disclosureSite) companyIndex(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	periods, p, err := d.discPeriods(ctx, c)
	if err != nil {
		return err
	}
	if len(periods) == 0 {
		return d.s.render(c, "disclosure_index", discIndexData{NoPeriods: true})
	}
	estates, err := d.s.db.Estates(ctx)
	if err != nil {
		return err
	}
	lang, now := Lang(c), d.s.now()
	data := discIndexData{Periods: discPeriodOptions(periods, p.ID), Period: p, Started: disclosure.Started(p, now),
		Deadline: p.DisclosureDeadline, Flash: discFlash(c)}
	managed := managedEstates(estates, acct.Company)
	if data.Unanswered, err = d.unanswered(ctx, managed); err != nil {
		return err
	}
	// A few estates: four reads by _id each. Many: one scan of the period's filings is
	// cheaper than hundreds of reads.
	var all map[string]*filing.Filing
	if len(managed) > discScanAbove {
		filings, err := d.cache.filings(ctx, d.s.db, p.ID, now)
		if err != nil {
			return err
		}
		all = make(map[string]*filing.Filing, len(filings))
		for i := range filings {
			all[filings[i].ID] = &filings[i]
		}
	}
	for _, e := range managed {
		filings := map[string]filing.Filing{}
		if all == nil {
			if filings, err = d.s.db.EstateFilings(ctx, p.ID, e.ID); err != nil {
				return err
			}
		}
		row := discIndexEstate{ID: e.ID, Name: e.Name}
		for _, category := range domain.DisclosureCategories {
			var f *filing.Filing
			if x, ok := filings[category]; ok {
				f = &x
			} else if all != nil {
				f = all[filing.FilingKey(p.ID, e.ID, category)]
			}
			st := discStateOf(p, f, now)
			k := discKey{Period: p, Estate: e, Category: category}
			row.Cells = append(row.Cells, discIndexCell{Label: discCategoryLabel(lang, category), Status: st.Status,
				StatusLabel: st.label(lang), Link: k.path("/company/disclosures")})
		}
		data.Estates = append(data.Estates, row)
	}
	return d.s.render(c, "disclosure_index", data)
}

// discScanAbove is how many estates a company may manage before its overview reads the
// period's filings in one scan instead of four reads by _id per estate. (A variable, so that
// tests can take either path.)
var discScanAbove = 100

// The filing form shows each item of the category's schema: an input per single figure, a
// table of lines per list with a few blank lines to fill in. Without JavaScript, "more lines"
// is a submit button that shows the form again with five more blank lines.

type discFormItem struct {
	Code, Label, NameLabel, Unit string
	IsLines, IsCount             bool
	Value, Error                 string
	Lines                        []discFormLine
}

type discFormLine struct {
	Index, Number         int
	NameField, ValueField string
	Name, Value, Error    string
}

type discFormData struct {
	Key           discKey
	CategoryLabel string
	Started       bool
	PastDeadline  bool
	Deadline      string

	Current      *filing.Filing
	CurrentState string
	CurrentAt    string
	CurrentBy    string
	History      []discHistoryRow
	Audit        auditRowsData // the filing's audit trail

	Items        []discFormItem
	Problems     []string
	FileProblems []string
	Flash        string

	Action, UploadAction, ExportCSV, ExportXLSX, TemplateCSV, TemplateXLSX, PublicPage string
	MaxFileMB                                                                          int
}

type discHistoryRow struct {
	Version, Draft      int
	Status, StatusLabel string
	FiledAt, FiledBy    string
	Reason, By, At      string
}

func discHistory(lang string, p domain.Period, hist []filing.Filing) []discHistoryRow {
	out := make([]discHistoryRow, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- { // newest first
		h := hist[i]
		row := discHistoryRow{Version: h.Version, Draft: h.Draft, Status: h.Status,
			StatusLabel: discStateAt(p, h.Status, h.FiledAt).label(lang),
			FiledAt:     discTime(h.FiledAt), FiledBy: discFiledBy(lang, &h)}
		if h.Review != nil {
			row.Reason, row.By, row.At = h.Review.Reason, h.Review.By, discTime(h.Review.At)
		}
		out = append(out, row)
	}
	return out
}

// discFormState is what the form shows: the rows (posted or stored), extra blank lines asked
// for, and problems.
type discFormState struct {
	rows         []disclosure.Row
	posted       bool   // rows are the form as posted: shown as they were, no lines added
	more         string // the lines item that asked for more blank lines
	problems     disclosure.Problems
	fileProblems disclosure.Problems
	fileNote     string
}

func (d *disclosureSite) filingForm(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	k, err := d.discKeyOf(ctx, c, c.Params("period"), c.Params("estate"), c.Params("category"))
	if err != nil {
		return err
	}
	return d.showForm(c, fiber.StatusOK, k, discFormState{})
}

// showForm renders the filing form of k with status; st.rows nil means "the current filing's
// figures, or an empty template".
func (d *disclosureSite) showForm(c *fiber.Ctx, status int, k discKey, st discFormState) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	lang, now := Lang(c), d.s.now()
	cur, err := d.s.db.CurrentFiling(ctx, k.Period.ID, k.Estate.ID, k.Category)
	var current *filing.Filing
	switch derrors.Code(err) {
	case "":
		current = &cur
	case derrors.NotFound:
	default:
		return err
	}
	hist, err := d.s.db.FilingHistory(ctx, k.Period.ID, k.Estate.ID, k.Category)
	if err != nil {
		return err
	}
	rows := st.rows
	if rows == nil && current != nil {
		if data, ok := disclosure.Stored(k.Category, current.Data); ok {
			rows = disclosure.Rows(data)
		}
	}
	if rows == nil {
		// Nothing to start from (or figures imported in another form): the template, whose
		// example names are hints for files, not figures, so the lines start blank.
		rows = disclosure.TemplateRows(k.Category)
		for i := range rows {
			rows[i].Name = ""
		}
	}
	base := k.path("/company/disclosures")
	data := discFormData{
		Key: k, CategoryLabel: discCategoryLabel(lang, k.Category),
		Started: disclosure.Started(k.Period, now), PastDeadline: !now.Before(disclosure.DeadlineEnd(k.Period)),
		Deadline: k.Period.DisclosureDeadline, Current: current,
		History:  discHistory(lang, k.Period, hist),
		Items:    discFormItems(lang, k.Category, rows, st.problems.Fields(lang), st.posted, st.more),
		Problems: st.problems.Messages(lang), FileProblems: st.fileProblems.Messages(lang),
		Flash:  discFlash(c),
		Action: base, UploadAction: base + "/upload", ExportCSV: base + "/export?format=csv", ExportXLSX: base + "/export?format=xlsx",
		TemplateCSV: "/disclosures/templates/" + k.Category + ".csv", TemplateXLSX: "/disclosures/templates/" + k.Category + ".xlsx",
		PublicPage: "/estates/" + k.Estate.ID + "/disclosures", MaxFileMB: disclosure.MaxFileBytes >> 20,
	}
	if data.Audit, err = d.s.objectHistory(c, k.object(), 0); err != nil {
		return err
	}
	if st.fileNote != "" {
		data.FileProblems = append(data.FileProblems, st.fileNote)
	}
	if current != nil {
		data.CurrentState = discStateOf(k.Period, current, now).label(lang)
		data.CurrentAt = discTime(current.FiledAt)
		data.CurrentBy = discFiledBy(lang, current)
	}
	return d.s.renderStatus(c, status, "disclosure_form", data)
}

// discFormItems lays rows out as the form's items, with fields' messages beside them. Stored
// or template rows get a few blank lines to add to; posted rows come back as they were, so
// that a form never grows because of an error, and only the "more lines" button adds lines.
func discFormItems(lang, category string, rows []disclosure.Row, fields map[string]string, posted bool, more string) []discFormItem {
	var items []discFormItem
	for _, it := range disclosure.SchemaOf(category).Items {
		item := discFormItem{Code: it.Code, Label: it.Label.In(lang), NameLabel: it.Name.In(lang), Unit: it.Unit.In(lang),
			IsLines: it.Kind == disclosure.Lines, IsCount: it.Kind == disclosure.Count, Error: fields[it.Code]}
		for _, r := range rows {
			if r.Item != it.Code {
				continue
			}
			if !item.IsLines {
				item.Value = r.Value
				continue
			}
			i := len(item.Lines)
			item.Lines = append(item.Lines, discFormLine{Index: i, Name: r.Name, Value: r.Value})
		}
		if item.IsLines {
			blank := 2
			if len(item.Lines) == 0 {
				blank = 3
			}
			if posted {
				blank = 0
			}
			if more == it.Code {
				blank += 5
			}
			for range blank {
				if len(item.Lines) >= disclosure.MaxLines {
					break
				}
				item.Lines = append(item.Lines, discFormLine{Index: len(item.Lines)})
			}
			for i := range item.Lines {
				l := &item.Lines[i]
				l.Number = i + 1
				l.NameField = fmt.Sprintf("%s.name.%d", it.Code, i)
				l.ValueField = fmt.Sprintf("%s.value.%d", it.Code, i)
				l.Error = fields[fmt.Sprintf("%s.%d", it.Code, i)]
			}
		}
		items = append(items, item)
	}
	return items
}

// discFormRows reads the posted form back into rows, blank lines included, so that the form
// shows again as it was and line numbers in messages match it; filledRows drops the blank
// lines before the figures are read.
func discFormRows(c *fiber.Ctx, category string) []disclosure.Row {
	var rows []disclosure.Row
	for _, it := range disclosure.SchemaOf(category).Items {
		if it.Kind != disclosure.Lines {
			rows = append(rows, disclosure.Row{Field: it.Code, Item: it.Code, Value: c.FormValue("v." + it.Code)})
			continue
		}
		n, _ := strconv.Atoi(c.FormValue("n." + it.Code))
		n = max(0, min(n, disclosure.MaxLines))
		for i := range n {
			rows = append(rows, disclosure.Row{
				Field: fmt.Sprintf("%s.%d", it.Code, i),
				Where: disclosure.Text{ZH: fmt.Sprintf("第%d行", i+1), EN: fmt.Sprintf("line %d", i+1)},
				Item:  it.Code,
				Name:  c.FormValue(fmt.Sprintf("%s.name.%d", it.Code, i)),
				Value: c.FormValue(fmt.Sprintf("%s.value.%d", it.Code, i)),
			})
		}
	}
	return rows
}

// filledRows drops the lines a person left entirely blank (no name, no amount): a form offers
// more lines than most filings need, and an empty list (a fund with no withdrawals) is a
// true answer. A line with only one of the two is kept, and its problem named.
func filledRows(rows []disclosure.Row) []disclosure.Row {
	out := make([]disclosure.Row, 0, len(rows))
	for _, r := range rows {
		if r.Where.ZH != "" && strings.TrimSpace(r.Name) == "" && strings.TrimSpace(r.Value) == "" {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (d *disclosureSite) fileForm(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	k, err := d.discKeyOf(ctx, c, c.Params("period"), c.Params("estate"), c.Params("category"))
	if err != nil {
		return err
	}
	rows := discFormRows(c, k.Category)
	if more := c.FormValue("more"); more != "" {
		return d.showForm(c, fiber.StatusOK, k, discFormState{rows: rows, posted: true, more: more})
	}
	if err := d.checkStarted(c, k); err != nil {
		return err
	}
	data, ps := disclosure.Parse(k.Category, filledRows(rows))
	if len(ps) > 0 {
		return d.showForm(c, fiber.StatusUnprocessableEntity, k, discFormState{rows: rows, posted: true, problems: ps})
	}
	return d.store(c, k, data, filing.FiledWeb)
}

// checkStarted refuses filings for a period that has not begun. Late filings for a period
// that has ended are accepted: the scoring counts them as late.
func (d *disclosureSite) checkStarted(c *fiber.Ctx, k discKey) error {
	if !disclosure.Started(k.Period, d.s.now()) {
		return derrors.Errorf(derrors.Conflict, "%s", Msg(c, "disc.not_started", k.Period.ID, k.Period.Start))
	}
	return nil
}

// store files checked figures and sends the company back to the form.
func (d *disclosureSite) store(c *fiber.Ctx, k discKey, data disclosure.Data, source string) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	res, err := d.s.filings.FileDisclosure(ctx, filing.NewFiling{Period: k.Period.ID, Estate: k.Estate.ID, Category: k.Category,
		Data: disclosure.Marshal(data), FiledBy: acct.Name, Source: source, At: d.s.now()})
	if err != nil {
		return err
	}
	d.cache.put(res.Filing)
	if err := d.s.audited(c, filedChange(k, res.Filing, source, "")); err != nil {
		return err
	}
	d.s.log.Info("disclosure filed", "period", k.Period.ID, "estate", k.Estate.ID, "category", k.Category,
		"version", res.Filing.Version, "draft", res.Filing.Draft, "source", source, "by", acct.Name, "request_id", RequestID(c))
	ok := "filed"
	if res.ReplacedDraft {
		ok = "replaced"
	}
	return c.Redirect(k.path("/company/disclosures")+"?ok="+ok, fiber.StatusSeeOther)
}

// object is the filing's name in the audit trail.
func (k discKey) object() string {
	return "disclosure/" + k.Period.ID + "|" + k.Estate.ID + "|" + k.Category
}

// filedChange is the audit entry of a filing, from the web or (with the token's ref) the API.
func filedChange(k discKey, f filing.Filing, source, token string) audit.Change {
	after := map[string]any{"version": f.Version, "draft": f.Draft, "source": source}
	if token != "" {
		after["token"] = token
	}
	return audit.Change{Action: "disclosure.file", Object: k.object(), Company: k.Estate.Company, Period: k.Period.ID, After: after}
}

// fileUpload files a CSV or XLSX file. Its size is checked before it is read; the readers
// bound what it may unpack to and how many rows it may have.
func (d *disclosureSite) fileUpload(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	k, err := d.discKeyOf(ctx, c, c.Params("period"), c.Params("estate"), c.Params("category"))
	if err != nil {
		return err
	}
	if err := d.checkStarted(c, k); err != nil {
		return err
	}
	refuse := func(status int, key string, args ...any) error {
		ps := disclosure.Problems{{Field: "file", Text: disclosure.Text{ZH: T(domain.LangZH, key, args...), EN: T(domain.LangEN, key, args...)}}}
		return d.showForm(c, status, k, discFormState{fileProblems: ps})
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return refuse(fiber.StatusBadRequest, "disc.upload.none")
	}
	if fh.Size > disclosure.MaxFileBytes {
		return refuse(fiber.StatusRequestEntityTooLarge, "disc.upload.too_large", (fh.Size+1023)>>10, disclosure.MaxFileBytes>>10)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(f, disclosure.MaxFileBytes+1))
	f.Close()
	if err != nil {
		return err
	}
	file, ps := disclosure.ReadFile(path.Base(fh.Filename), body)
	if len(ps) == 0 {
		var data disclosure.Data
		if data, ps = disclosure.Parse(k.Category, file.Rows); len(ps) == 0 {
			return d.store(c, k, data, filing.FiledUpload)
		}
	}
	st := discFormState{fileProblems: ps}
	if file.Encoding != "" && file.Encoding != "UTF-8" {
		st.fileNote = Msg(c, "disc.upload.gbk")
	}
	return d.showForm(c, fiber.StatusUnprocessableEntity, k, st)
}

// exportFiling downloads the current figures as the same file the template is, to edit and
// upload again.
func (d *disclosureSite) exportFiling(c *fiber.Ctx) error {
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
	data, ok := disclosure.Stored(k.Category, cur.Data)
	if !ok {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "disc.export.none"))
	}
	name := fmt.Sprintf("%s-%s-%s", k.Category, k.Period.ID, k.Estate.ID)
	return discSendFile(c, name, c.Query("format"), k.Category, disclosure.Rows(data))
}

func discSendFile(c *fiber.Ctx, name, format, category string, rows []disclosure.Row) error {
	switch format {
	case "xlsx":
		b, err := disclosure.XLSX(category, rows)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.xlsx"`)
		return c.Send(b)
	case "csv", "":
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
		return c.Send(disclosure.CSV(category, rows))
	}
	return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
}

// template downloads the empty template of a category: /disclosures/templates/fees.xlsx.
func (d *disclosureSite) template(c *fiber.Ctx) error {
	file := c.Params("file")
	category, format, _ := strings.Cut(file, ".")
	if !disclosure.IsCategory(category) || (format != "csv" && format != "xlsx") {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
	}
	if err := discSendFile(c, category+"-template", format, category, disclosure.TemplateRows(category)); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return nil
}

// API tokens: a company issues a token for its own systems (shown once) and revokes it.

type discTokensData struct {
	Tokens   []discTokenRow
	NewToken string
	NewName  string
	Error    string
	Flash    string
}

type discTokenRow struct {
	Ref, Name, CreatedAt, CreatedBy, RevokedAt string
	Revoked                                    bool
}

func (d *disclosureSite) tokens(c *fiber.Ctx) error {
	return d.showTokens(c, fiber.StatusOK, discTokensData{Flash: discFlash(c)})
}

func (d *disclosureSite) showTokens(c *fiber.Ctx, status int, data discTokensData) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	tokens, err := d.s.db.Tokens(ctx, acct.Company)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		row := discTokenRow{Ref: t.Ref, Name: t.Name, CreatedAt: discTime(t.CreatedAt), CreatedBy: t.CreatedBy, Revoked: t.Revoked()}
		if t.RevokedAt != nil {
			row.RevokedAt = discTime(*t.RevokedAt)
		}
		data.Tokens = append(data.Tokens, row)
	}
	return d.s.renderStatus(c, status, "disclosure_tokens", data)
}

func (d *disclosureSite) issueToken(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	name := discLimitText(c.FormValue("name"))
	if name == "" || len([]rune(name)) > 100 {
		return d.showTokens(c, fiber.StatusUnprocessableEntity, discTokensData{NewName: name, Error: Msg(c, "token.name_bad")})
	}
	token, t, err := d.s.db.IssueToken(ctx, acct.Company, name, acct.Name, d.s.now())
	if err != nil {
		return err
	}
	if err := d.s.audited(c, audit.Change{Action: "token.issue", Object: "token/" + t.Ref, Company: acct.Company,
		After: map[string]any{"ref": t.Ref, "name": t.Name}}); err != nil {
		return err
	}
	d.s.log.Info("API token issued", "company", acct.Company, "ref", t.Ref, "by", acct.Name, "request_id", RequestID(c))
	return d.showTokens(c, fiber.StatusCreated, discTokensData{NewToken: token, NewName: t.Name})
}

func (d *disclosureSite) revokeToken(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	ref := c.FormValue("ref")
	if err := d.s.db.RevokeToken(ctx, acct.Company, ref, acct.Name, d.s.now()); err != nil {
		return err
	}
	if err := d.s.audited(c, audit.Change{Action: "token.revoke", Object: "token/" + ref, Company: acct.Company,
		Before: map[string]any{"revoked": false}, After: map[string]any{"revoked": true}}); err != nil {
		return err
	}
	d.s.log.Info("API token revoked", "company", acct.Company, "ref", ref, "by", acct.Name, "request_id", RequestID(c))
	return c.Redirect("/company/tokens?ok=revoked", fiber.StatusSeeOther)
}

// Objections, as the company sees them: those to its estates' disclosures, without the
// owners' flats, each with a form to answer while it is open.

type discObjectionRow struct {
	ID, Estate, EstateName, Period, Category, CategoryLabel string
	Text, At                                                string
	Answers                                                 []discReplyRow
	Closing                                                 *discReplyRow
	Household                                               string // reviewers only
	CompanyName                                             string // reviewers only
	Link                                                    string
}

type discReplyRow struct{ Text, By, At string }

func discObjectionRowOf(lang string, o filing.Objection, estateName string) discObjectionRow {
	row := discObjectionRow{ID: o.ID, Estate: o.Estate, EstateName: estateName, Period: o.Period, Category: o.Category,
		CategoryLabel: discCategoryLabel(lang, o.Category), Text: o.Text, At: discTime(o.At),
		Link: "/estates/" + o.Estate + "/disclosures?period=" + o.Period}
	for _, a := range o.Answers {
		row.Answers = append(row.Answers, discReplyRow{Text: a.Text, By: a.By, At: discTime(a.At)})
	}
	if o.Closing != nil {
		row.Closing = &discReplyRow{Text: o.Closing.Text, By: o.Closing.By, At: discTime(o.Closing.At)}
	}
	return row
}

type discObjectionsData struct {
	Review       bool // the reviewers' page, not the company's
	Open, Closed []discObjectionRow
	Flash, Error string
}

// unanswered counts the open objections to the disclosures of estates that no answer has met.
func (d *disclosureSite) unanswered(ctx context.Context, estates []domain.Estate) (int, error) {
	ids := map[string]bool{}
	for _, e := range estates {
		ids[e.ID] = true
	}
	all, err := d.s.db.AllObjections(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range all {
		if ids[o.Estate] && o.Open() && len(o.Answers) == 0 {
			n++
		}
	}
	return n, nil
}

func (d *disclosureSite) companyObjections(c *fiber.Ctx) error {
	return d.showCompanyObjections(c, fiber.StatusOK, "")
}

func (d *disclosureSite) showCompanyObjections(c *fiber.Ctx, status int, problem string) error {
	acct, _ := CurrentAccount(c)
	return d.showObjections(c, status, problem, false,
		func(o filing.Objection, e domain.Estate, known bool, _ *discDirectory) (discObjectionRow, bool) {
			if !known || e.Company != acct.Company {
				return discObjectionRow{}, false
			}
			return discObjectionRowOf(Lang(c), o, e.Name), true
		})
}

// showObjections renders the objections page (the reviewers' if review, else the company's) with
// the objections rowFor keeps, open ones and closed ones apart.
func (d *disclosureSite) showObjections(c *fiber.Ctx, status int, problem string, review bool,
	rowFor func(o filing.Objection, e domain.Estate, known bool, dir *discDirectory) (discObjectionRow, bool)) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	dir, _, err := d.directory(ctx)
	if err != nil {
		return err
	}
	all, err := d.s.db.AllObjections(ctx)
	if err != nil {
		return err
	}
	data := discObjectionsData{Review: review, Flash: discFlash(c), Error: problem}
	for _, o := range all {
		e, known := dir.estates[o.Estate]
		row, keep := rowFor(o, e, known, dir)
		switch {
		case !keep:
		case o.Open():
			data.Open = append(data.Open, row)
		default:
			data.Closed = append(data.Closed, row)
		}
	}
	return d.s.renderStatus(c, status, "objections", data)
}

func (d *disclosureSite) answerObjection(c *fiber.Ctx) error {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	acct, _ := CurrentAccount(c)
	o, err := d.s.db.Objection(ctx, c.FormValue("id"))
	if err != nil {
		return err
	}
	e, err := d.s.db.Estate(ctx, o.Estate)
	if err != nil {
		return err
	}
	if err := CheckCompany(c, e.Company); err != nil {
		return err
	}
	text := discLimitText(c.FormValue("text"))
	if text == "" || !filing.TextFits(text) {
		return d.showCompanyObjections(c, fiber.StatusUnprocessableEntity, Msg(c, "objection.text_bad"))
	}
	if _, err := d.s.filings.Answer(ctx, o.ID, text, acct.Name, d.s.now()); err != nil {
		if derrors.Code(err) == derrors.Conflict {
			return d.showCompanyObjections(c, fiber.StatusConflict, Msg(c, "objection.closed"))
		}
		return err
	}
	return c.Redirect("/company/objections?ok=answered", fiber.StatusSeeOther)
}

func init() {
	addMessages(map[string]message{
		"disc.index.title":          {"信息公开填报", "Cost disclosures"},
		"disc.index.intro":          {"请按期为所管理的每个小区公开以下四类信息。逾期提交会降低信用评分；未提交或被退回的不得分。", "Disclose these four categories for each estate you manage, each period. Late filings lower the score; missing or rejected ones score nothing."},
		"disc.index.none":           {"本企业目前没有管理的小区。", "Your company manages no estates."},
		"disc.index.tokens":         {"接口令牌（API）", "API tokens"},
		"disc.index.objections":     {"业主异议", "Owners' objections"},
		"disc.index.unanswered":     {"有 %d 条业主异议等待您答复，请及时公开答复。", "%d owners' objections await your answer: answer them in public."},
		"disc.not_started":          {"评价期%s尚未开始（%s开始），不能提前公开", "Period %s has not started (it starts on %s); disclosures cannot be filed in advance"},
		"disc.not_started_note":     {"本期尚未开始，开始后方可填报。", "This period has not started; filing opens on its first day."},
		"disc.late_note":            {"已过公开截止日期：现在提交将按逾期计分。", "The deadline has passed: a filing now counts as late."},
		"disc.refile_note.verified": {"本项已审核通过。重新提交将成为新版本，需重新审核，并按新的提交时间计算是否逾期。", "This filing has been verified. Filing again makes a new version, which needs a new review and counts as filed now."},
		"disc.refile_note.rejected": {"本项已退回，请按审核意见修改下方内容后重新提交。重新提交将成为新版本，需重新审核，并按新的提交时间计算是否逾期。", "This filing was rejected: correct the figures below as the reviewer asks and file again. Filing again makes a new version, which needs a new review and counts as filed now."},
		"disc.form.title":           {"%s · %s", "%s · %s"},
		"disc.form.current":         {"当前公开", "Current filing"},
		"disc.form.none":            {"尚未提交。", "Nothing filed yet."},
		"disc.form.rejected":        {"审核未通过，理由：", "Rejected. The reviewer's reason:"},
		"disc.form.heading":         {"在线填报", "Fill in the form"},
		"disc.form.amounts":         {"金额单位为元，最多两位小数；明细合计须与对应合计一致。", "Amounts in yuan with at most 2 decimals; lines must add up to their totals."},
		"disc.form.more":            {"增加5行", "5 more lines"},
		"disc.form.submit":          {"提交公开", "File"},
		"disc.form.line_name":       {"名称", "Name"},
		"disc.form.amount":          {"金额（元）", "Amount (yuan)"},
		"disc.form.number":          {"数量", "Number"},
		"disc.upload.heading":       {"上传文件", "Upload a file"},
		"disc.upload.intro":         {"可下载模板填写后上传CSV或Excel（.xlsx）文件，文件不超过%d MB。Excel中的公式不会被重新计算，以保存时的计算结果为准。", "Download a template, fill it in and upload it as CSV or Excel (.xlsx), at most %d MB. Formulas are not recalculated: the results saved in the file count."},
		"disc.upload.file":          {"文件", "File"},
		"disc.upload.submit":        {"上传并提交", "Upload and file"},
		"disc.upload.none":          {"请选择要上传的文件", "Choose a file to upload"},
		"disc.upload.too_large":     {"文件大小 %d KB，超过上限 %d KB", "The file is %d KB, more than the %d KB allowed"},
		"disc.upload.gbk":           {"文件按GBK编码读取；如上面的内容是乱码，请在Excel中另存为“CSV UTF-8（逗号分隔）”后重新上传。", "The file was read as GBK; if the text above is garbled, save it as \"CSV UTF-8 (Comma delimited)\" and upload again."},
		"disc.upload.problems":      {"文件有以下问题，未提交：", "The file was not filed, because:"},
		"disc.template":             {"下载模板", "Templates"},
		"disc.export":               {"下载当前数据", "Download the current figures"},
		"disc.export.none":          {"没有可下载的数据", "There are no figures to download"},
		"disc.public_page":          {"查看公示页面", "See the public page"},

		"token.title":      {"接口令牌", "API tokens"},
		"token.intro":      {"企业的财务或物业管理系统可以用令牌通过接口 POST /api/v1/disclosures 提交公开信息（金额以分为单位的整数）。令牌只在生成时显示一次，系统只保存其摘要；泄露后请立即作废。", "Your company's systems can file disclosures with a token through POST /api/v1/disclosures (amounts as integers of fen). A token is shown only when it is issued, and only its hash is kept; revoke it at once if it leaks."},
		"token.name":       {"用途说明", "Name"},
		"token.issue":      {"生成新令牌", "Issue a token"},
		"token.issued":     {"新令牌（“%s”）如下，只显示这一次，请立即保存到使用它的系统中：", "The new token (“%s”) is shown only this once; store it in the system that uses it now:"},
		"token.ref":        {"编号", "Ref"},
		"token.created":    {"生成时间", "Issued"},
		"token.created_by": {"生成人", "Issued by"},
		"token.state":      {"状态", "State"},
		"token.active":     {"有效", "Active"},
		"token.revoked":    {"已作废（%s）", "Revoked (%s)"},
		"token.revoke":     {"作废", "Revoke"},
		"token.none":       {"还没有令牌。", "No tokens yet."},
		"token.name_bad":   {"请填写用途说明（不超过100字）", "Give the token a name (at most 100 characters)"},

		"objection.company_title": {"业主异议", "Owners' objections"},
		"objection.open":          {"待办结", "Open"},
		"objection.closed_list":   {"已办结", "Closed"},
		"objection.none":          {"没有异议。", "No objections."},
		"objection.answer":        {"答复", "Answer"},
		"objection.answer_submit": {"发布答复", "Publish the answer"},
		"objection.answers":       {"企业答复", "The company's answer"},
		"objection.new":           {"待答复", "Awaiting your answer"},
		"objection.closing":       {"住建部门办结意见", "The bureau's outcome"},
		"objection.text_bad":      {"请填写内容（不超过1000字，不能含控制字符）", "Write something (at most 1000 characters, no control characters)"},
		"objection.closed":        {"该异议已办结", "The objection has been closed"},
	})
}
