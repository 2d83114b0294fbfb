package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/evaluate"
	"github.com/propcredit/propcredit/internal/ledger"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/internal/qrcode"
	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// For bid evaluators: the grade in force on a date (evaluate.InForce), for one company or a
// pasted list of bidders (a page, CSV, XLSX and the API), a side-by-side comparison to print,
// and a printable credit certificate whose QR code opens the public /verify page.

var evaluators = Roles(domain.RoleEvaluator, domain.RoleReviewer, domain.RoleAdmin)

// Limits on a look-up.
const (
	maxBidders  = 50
	maxCompare  = 10
	maxAPIGrade = 100
	maxLookup   = 4000 // characters pasted
)

func (l *ledgerSite) evaluatorRoutes() {
	s, r := l.r.s, l.r
	s.handle(fiber.MethodGet, "/bidders", evaluators, l.bidders)
	s.handle(fiber.MethodGet, "/bidders/bidders.csv", evaluators, l.biddersFile("csv"))
	s.handle(fiber.MethodGet, "/bidders/bidders.xlsx", evaluators, l.biddersFile("xlsx"))
	s.handle(fiber.MethodGet, "/bidders/compare", evaluators, l.compare)
	s.handle(fiber.MethodGet, "/certificates/:id", Public, l.certificatePage)
	s.handle(fiber.MethodGet, "/verify", Public, r.limited(l.verifyPage))
	s.handle(fiber.MethodGet, "/api/v1/companies/:id/grade", Public, r.limited(l.apiGrade))
	s.handle(fiber.MethodGet, "/api/v1/grades", Public, r.limited(l.apiGrades))
	s.addNav("nav.bidders", "/bidders", evaluators)
}

// A bidder is one line of a look-up: what was asked, and what is in force for it.
type bidder struct {
	Query   string
	Company string // "" when unknown
	Name    string
	// Status: graded, unrated (known, but not graded by the publication in force), unknown
	// (no such company in the city), ambiguous (a name that matches several), none (nothing
	// was in force on the date).
	Status string
	Note   string
	Pub    *reports.Publication
	Period *reports.PublishedPeriod
	Grade  *scoring.Grade
	Bad    []scoring.EventDetail // bad records in force on the period's end
	Vetoes []scoring.EventDetail
}

// inForce finds the publication in force on date, or nil.
func (l *ledgerSite) inForce(ctx context.Context, st *published, date string) (*reports.PublishedPeriod, error) {
	var cands []evaluate.Candidate
	for _, p := range st.city.Periods() {
		for _, pub := range st.history[p.ID()] {
			cands = append(cands, evaluate.Candidate{Period: p.ID(), PeriodEnd: p.Result.PeriodEnd.String(), Seq: pub.Seq,
				PublishedAt: pub.PublishedAt, Final: pub.Status == publication.StatusFinal, FinalAt: pub.FinalAt})
		}
	}
	best, ok := evaluate.InForce(cands, date)
	if !ok {
		return nil, nil
	}
	return l.r.cache.publication(ctx, st, best.Period, best.Seq)
}

// directory is the city's companies, for resolving what evaluators paste.
type directory struct {
	names  map[string]string   // id → name
	byName map[string][]string // name → ids
}

func (l *ledgerSite) directory(ctx context.Context) (directory, error) {
	companies, err := l.r.s.db.Companies(ctx)
	if err != nil {
		return directory{}, err
	}
	d := directory{names: map[string]string{}, byName: map[string][]string{}}
	for _, c := range companies {
		d.names[c.ID] = c.Name
		d.byName[c.Name] = append(d.byName[c.Name], c.ID)
	}
	return d, nil
}

var usccLike = regexp.MustCompile(`^[0-9A-Za-z]{18}$`)

// splitBidders splits a pasted list: one per line, or separated by commas, semicolons or 、.
func splitBidders(text string) []string {
	f := func(r rune) bool { return strings.ContainsRune("\n\r,，;；、\t", r) }
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.FieldsFunc(text, f) {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// lookUp resolves each query and finds its grade in force on date.
func (l *ledgerSite) lookUp(c *fiber.Ctx, queries []string, date string) ([]bidder, *reports.PublishedPeriod, error) {
	st, err := l.r.published(c)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := l.r.s.dbContext(c)
	defer cancel()
	dir, err := l.directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := l.inForce(ctx, st, date)
	if err != nil {
		return nil, nil, err
	}
	out := make([]bidder, 0, len(queries))
	for _, q := range queries {
		b := bidder{Query: q}
		switch {
		case usccLike.MatchString(q):
			b.Company = strings.ToUpper(q)
		case len(dir.byName[q]) == 1:
			b.Company = dir.byName[q][0]
		case len(dir.byName[q]) > 1:
			b.Status, b.Note = "ambiguous", Msg(c, "bidders.note.ambiguous", strings.Join(dir.byName[q], "、"))
		}
		if b.Status == "" {
			l.fill(c, &b, dir, p, date)
		}
		out = append(out, b)
	}
	return out, p, nil
}

// fill sets a resolved bidder's status and grade in force.
func (l *ledgerSite) fill(c *fiber.Ctx, b *bidder, dir directory, p *reports.PublishedPeriod, date string) {
	name, known := dir.names[b.Company]
	b.Name = name
	switch {
	case !known:
		b.Status, b.Note = "unknown", Msg(c, "bidders.note.unknown", b.Query)
	case p == nil:
		b.Status, b.Note = "none", Msg(c, "bidders.note.none", date)
	default:
		b.Period, b.Pub = p, &p.Pub
		g := p.Grade(b.Company)
		if g == nil {
			b.Status, b.Note = "unrated", Msg(c, "bidders.note.unrated", p.ID(), p.Pub.Seq)
			return
		}
		b.Status, b.Grade = "graded", g
		for _, ev := range g.ActiveEvents {
			if ev.Kind == scoring.KindBad {
				b.Bad = append(b.Bad, ev)
			}
			if ev.Veto {
				b.Vetoes = append(b.Vetoes, ev)
			}
		}
	}
}

// lookUpForm reads the date and the pasted list, with field errors.
func lookUpForm(c *fiber.Ctx, now time.Time) (date, text string, queries []string, fields map[string]string) {
	fields = map[string]string{}
	date = strings.TrimSpace(c.Query("date"))
	if date == "" {
		date = domain.Today(now)
	} else if _, err := time.Parse(domain.DateLayout, date); err != nil {
		fields["date"] = Msg(c, "bidders.bad_date")
	}
	text = c.Query("q")
	switch {
	case utf8.RuneCountInString(text) > maxLookup || !utf8.ValidString(text):
		fields["q"] = Msg(c, "bidders.too_long", maxLookup)
	default:
		queries = splitBidders(text)
		if len(queries) > maxBidders {
			fields["q"] = Msg(c, "bidders.too_many", maxBidders, len(queries))
		}
	}
	return date, text, queries, fields
}

type biddersData struct {
	Date, Text string
	Bidders    []bidder
	InForce    *reports.PublishedPeriod
	Asked      bool
	Fields     map[string]string
	// Links with the look-up's query: built here, since a template would escape the query
	// string's = and & (url.Values.Encode has escaped its values already).
	XLSX, CSV, Compare template.URL
}

func (l *ledgerSite) bidders(c *fiber.Ctx) error {
	date, text, queries, fields := lookUpForm(c, l.r.s.now())
	d := biddersData{Date: date, Text: text, Fields: fields, Asked: len(queries) > 0}
	if len(fields) > 0 {
		return l.r.s.renderStatus(c, fiber.StatusUnprocessableEntity, "bidders", d)
	}
	if d.Asked {
		var err error
		if d.Bidders, d.InForce, err = l.lookUp(c, queries, date); err != nil {
			return err
		}
		q := url.Values{"q": {text}, "date": {date}}.Encode()
		d.XLSX, d.CSV = template.URL("/bidders/bidders.xlsx?"+q), template.URL("/bidders/bidders.csv?"+q)
		d.Compare = template.URL("/bidders/compare?" + q)
	}
	return l.r.s.render(c, "bidders", d)
}

func (l *ledgerSite) biddersFile(ext string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		date, _, queries, fields := lookUpForm(c, l.r.s.now())
		if len(fields) > 0 || len(queries) == 0 {
			return derrors.FieldErrors(Msg(c, "bidders.nothing"), fields)
		}
		bs, _, err := l.lookUp(c, queries, date)
		if err != nil {
			return err
		}
		lang := Lang(c)
		sheet := reports.Sheet{Name: date}
		for _, k := range []string{"bidders.col.query", "report.col.code", "report.col.company", "report.col.grade", "report.col.score",
			"report.col.list", "bidders.col.bad", "bidders.col.vetoes"} {
			sheet.Head = append(sheet.Head, T(lang, k))
		}
		sheet.Head = append(append(sheet.Head, stampHead(lang)...), T(lang, "bidders.col.certificate"), T(lang, "bidders.col.note"))
		for _, b := range bs {
			row := []any{b.Query, b.Company, b.Name, "", "", "", "", ""}
			cert := ""
			if b.Grade != nil {
				row[3], row[4], row[5] = b.Grade.Grade, reports.Float(b.Grade.Score), T(lang, "report.list."+b.Grade.List)
				row[6], row[7] = eventIDs(b.Bad), eventIDs(b.Vetoes)
				cert = l.r.s.publicURL + certificatePath(b.Company, b.Pub.Period, b.Pub.Seq)
			}
			sheet.Rows = append(sheet.Rows, append(append(row, stampCells(lang, b.Pub)...), cert, b.Note))
		}
		var buf bytes.Buffer
		switch ext {
		case "csv":
			c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
			err = sheet.WriteCSV(&buf)
		default:
			c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			err = sheet.WriteXLSX(&buf)
		}
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="bidders-`+date+`.`+ext+`"`)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Send(buf.Bytes())
	}
}

func eventIDs(evs []scoring.EventDetail) string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
		if ev.Description != "" {
			ids[i] += " " + ev.Description
		}
	}
	return strings.Join(ids, "；")
}

func certificatePath(company, period string, seq int) string {
	return "/certificates/" + url.PathEscape(company) + "?" + url.Values{"period": {period}, "publication": {strconv.Itoa(seq)}}.Encode()
}

type compareData struct {
	Date    string
	Bidders []bidder
	History map[string][]reports.HistoryEntry
	Fields  map[string]string
	Printed string
}

func (l *ledgerSite) compare(c *fiber.Ctx) error {
	date, _, queries, fields := lookUpForm(c, l.r.s.now())
	if len(queries) > maxCompare {
		fields["q"] = Msg(c, "bidders.compare_max", maxCompare)
	}
	if len(queries) == 0 && len(fields) == 0 {
		fields["q"] = Msg(c, "bidders.nothing")
	}
	if len(fields) > 0 {
		return derrors.FieldErrors(fields["q"]+fields["date"], fields)
	}
	bs, _, err := l.lookUp(c, queries, date)
	if err != nil {
		return err
	}
	st, err := l.r.published(c)
	if err != nil {
		return err
	}
	d := compareData{Date: date, Bidders: bs, History: map[string][]reports.HistoryEntry{},
		Printed: l.r.s.now().In(domain.Zone).Format("2006-01-02 15:04")}
	for _, b := range bs {
		if b.Company != "" {
			d.History[b.Company] = st.city.CompanyHistory(b.Company)
		}
	}
	return l.r.s.render(c, "bidders_compare", d)
}

// The certificate page and /verify.

// certificateNumber names a leaf for people: its index and the start of its hash, so that a
// number cannot be guessed for a leaf it does not name.
func certificateNumber(index int64, leaf []byte) string {
	h := tlog.RecordHash(leaf)
	return strconv.FormatInt(index, 10) + "-" + hex.EncodeToString(h[:6])
}

// parseCertificateNumber reads "index-hash12", or a verification URL holding n and h.
func parseCertificateNumber(s string) (int64, string, bool) {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Query().Get("n") != "" {
		s = u.Query().Get("n")
	}
	idx, h, ok := strings.Cut(s, "-")
	n, err := strconv.ParseInt(idx, 10, 64)
	if !ok || err != nil || n < 0 || len(h) != 12 {
		return 0, "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return 0, "", false
	}
	return n, strings.ToLower(h), true
}

type certificateData struct {
	Leaf        ledger.ResultLeaf
	Grade       *scoring.Grade
	Pub         reports.Publication
	Number      string
	Index       int64
	VerifyURL   string
	QR          template.HTML
	Checkpoint  ledger.Checkpoint
	Certificate string // the JSON certificate's address
	Printed     string
}

func (l *ledgerSite) certificatePage(c *fiber.Ctx) error {
	id := c.Params("id")
	cert, err := l.certificateFor(c, id, strings.TrimSpace(c.Query("period")), c.Query("publication"))
	if err != nil {
		return err
	}
	leaf, cp, err := ledger.Verify(cert, l.log.Signer().VerifierKey())
	if err != nil {
		return fmt.Errorf("certificate of %s does not verify against this server's own key: %w", id, err)
	}
	st, err := l.r.published(c)
	if err != nil {
		return err
	}
	ctx, cancel := l.r.s.dbContext(c)
	defer cancel()
	p, err := l.r.cache.publication(ctx, st, leaf.Period, leaf.Publication)
	if err != nil {
		return err
	}
	number := certificateNumber(cert.Index, cert.Leaf)
	d := certificateData{Leaf: leaf, Grade: p.Grade(id), Pub: p.Pub, Number: number, Index: cert.Index, Checkpoint: cp,
		Certificate: "/api/v1/companies/" + url.PathEscape(id) + "/certificate?" +
			url.Values{"period": {leaf.Period}, "publication": {strconv.Itoa(leaf.Publication)}}.Encode(),
		Printed: l.r.s.now().In(domain.Zone).Format("2006-01-02 15:04")}
	// The verification address is the site's configured public address, never the request's
	// Host header (which whoever sends the request chooses). Without one, the certificate
	// carries its number only, to be typed into /verify.
	if l.r.s.publicURL != "" {
		d.VerifyURL = l.r.s.publicURL + "/verify?n=" + number
		if d.QR, err = qrcode.SVG(d.VerifyURL, Msg(c, "certificate.qr_label")); err != nil {
			return err
		}
	}
	return l.r.s.render(c, "certificate", d)
}

type verifyData struct {
	Number     string
	Asked      bool
	Error      string
	Leaf       ledger.ResultLeaf
	Checkpoint ledger.Checkpoint
	Current    bool // the leaf's publication is the period's latest
	Latest     *reports.Publication
	Key        string
}

func (l *ledgerSite) verifyPage(c *fiber.Ctx) error {
	d := verifyData{Number: strings.TrimSpace(c.Query("n"))}
	if s := l.log.Signer(); s != nil {
		d.Key = s.VerifierKey()
	}
	if d.Number == "" {
		return l.r.s.render(c, "verify", d)
	}
	d.Asked = true
	index, prefix, ok := parseCertificateNumber(d.Number)
	if !ok {
		d.Error = Msg(c, "verify.bad_number")
		return l.r.s.renderStatus(c, fiber.StatusUnprocessableEntity, "verify", d)
	}
	ctx, cancel := l.r.s.dbContext(c)
	defer cancel()
	cp, err := l.current(ctx, c)
	if err != nil {
		return err
	}
	if index >= cp.Tree.N {
		d.Error = Msg(c, "verify.not_found", d.Number)
		return l.r.s.renderStatus(c, fiber.StatusNotFound, "verify", d)
	}
	cert, err := l.log.CertificateAt(ctx, index, cp)
	if err != nil {
		return err
	}
	// A certificate is of a company's result: the number of another leaf (an approval, a
	// credit record, an audit entry) is no certificate's.
	if certificateNumber(index, cert.Leaf) != strconv.FormatInt(index, 10)+"-"+prefix || cert.Company == "" {
		d.Error = Msg(c, "verify.not_found", d.Number)
		return l.r.s.renderStatus(c, fiber.StatusNotFound, "verify", d)
	}
	// The same check an offline verifier makes: signature, inclusion proof, canonical leaf.
	d.Leaf, d.Checkpoint, err = ledger.Verify(cert, d.Key)
	if err != nil {
		d.Error = Msg(c, "verify.failed", err.Error())
		return l.r.s.renderStatus(c, fiber.StatusConflict, "verify", d)
	}
	if st, err := l.r.published(c); err == nil {
		if p := st.city.Period(d.Leaf.Period); p != nil {
			d.Latest = &p.Pub
			d.Current = p.Pub.Seq == d.Leaf.Publication
		}
	}
	return l.r.s.render(c, "verify", d)
}

// The API.

type apiInForce struct {
	Company     apiCompanyRef `json:"company"`
	Date        string        `json:"date"`
	Status      string        `json:"status"` // graded, unrated, unknown, none
	Note        string        `json:"note,omitempty"`
	InForce     *apiGrade     `json:"in_force"` // null unless graded
	Certificate string        `json:"certificate,omitempty"`
}

func (l *ledgerSite) apiDate(c *fiber.Ctx) (string, error) {
	date := strings.TrimSpace(c.Query("date"))
	if date == "" {
		return domain.Today(l.r.s.now()), nil
	}
	if _, err := time.Parse(domain.DateLayout, date); err != nil {
		return "", derrors.FieldErrors(Msg(c, "bidders.bad_date"), map[string]string{"date": Msg(c, "bidders.bad_date")})
	}
	return date, nil
}

func apiInForceOf(b bidder, date string) apiInForce {
	out := apiInForce{Company: apiCompanyRef{b.Company, b.Name}, Date: date, Status: b.Status, Note: b.Note}
	if out.Company.ID == "" {
		out.Company.ID = b.Query
	}
	if b.Grade != nil {
		g := apiGradeOf(reports.HistoryEntry{Period: b.Period, Grade: b.Grade})
		out.InForce = &g
		out.Certificate = "/api/v1/companies/" + url.PathEscape(b.Company) + "/certificate?" +
			url.Values{"period": {b.Pub.Period}, "publication": {strconv.Itoa(b.Pub.Seq)}}.Encode()
	}
	return out
}

func (l *ledgerSite) apiGrade(c *fiber.Ctx) error {
	date, err := l.apiDate(c)
	if err != nil {
		return err
	}
	bs, _, err := l.lookUp(c, []string{c.Params("id")}, date)
	if err != nil {
		return err
	}
	if bs[0].Status == "unknown" || bs[0].Status == "ambiguous" {
		return derrors.Errorf(derrors.NotFound, "%s", bs[0].Note)
	}
	return sendJSON(c, apiInForceOf(bs[0], date))
}

func (l *ledgerSite) apiGrades(c *fiber.Ctx) error {
	date, err := l.apiDate(c)
	if err != nil {
		return err
	}
	ids := splitBidders(c.Query("ids"))
	switch {
	case len(ids) == 0:
		return derrors.FieldErrors(Msg(c, "api.ids_required"), map[string]string{"ids": Msg(c, "api.ids_required")})
	case len(ids) > maxAPIGrade:
		return derrors.FieldErrors(Msg(c, "api.ids_too_many", maxAPIGrade), map[string]string{"ids": Msg(c, "api.ids_too_many", maxAPIGrade)})
	}
	bs, _, err := l.lookUp(c, ids, date)
	if err != nil {
		return err
	}
	out := struct {
		Date   string       `json:"date"`
		Grades []apiInForce `json:"grades"`
	}{Date: date, Grades: []apiInForce{}}
	for _, b := range bs {
		out.Grades = append(out.Grades, apiInForceOf(b, date))
	}
	return sendJSON(c, out)
}

func init() {
	addMessages(map[string]message{
		"nav.bidders":               {"投标人查询", "Bidder look-up"},
		"bidders.title":             {"投标人信用查询", "Bidder credit look-up"},
		"bidders.intro":             {"粘贴投标文件中的统一社会信用代码或企业名称，每行一个或用逗号分隔（最多%d个）。结果为开标日有效的信用等级。", "Paste the bidders' unified social credit codes or names as the tender file lists them, one per line or separated by commas (at most %d). You get the grade in force on the bid-opening date."},
		"bidders.q":                 {"投标人（代码或名称）", "Bidders (codes or names)"},
		"bidders.date":              {"开标日期", "Bid-opening date"},
		"bidders.submit":            {"查询", "Look up"},
		"bidders.in_force":          {"%s 有效的发布：评价期 %s 第%d次发布（%s）", "In force on %s: period %s, publication %d (%s)"},
		"bidders.none_in_force":     {"%s 没有有效的发布。", "No publication was in force on %s."},
		"bidders.compare":           {"并列比较（可打印）", "Compare side by side (printable)"},
		"bidders.bad_date":          {"日期格式应为 YYYY-MM-DD", "The date must be YYYY-MM-DD"},
		"bidders.too_long":          {"粘贴的内容不能超过%d个字", "Paste at most %d characters"},
		"bidders.too_many":          {"一次最多查询%d个投标人，您粘贴了%d个", "At most %d bidders at a time; you pasted %d"},
		"bidders.compare_max":       {"并列比较最多%d个投标人", "Compare at most %d bidders"},
		"bidders.nothing":           {"请粘贴至少一个统一社会信用代码或企业名称", "Paste at least one credit code or company name"},
		"bidders.note.unknown":      {"本市没有“%s”这家物业企业（请核对代码或名称）", "No property-service company “%s” in this city (check the code or name)"},
		"bidders.note.unrated":      {"本市登记的企业，但评价期 %s 第%d次发布未对其评级（例如当期无在管项目）", "Registered in this city, but not rated by period %s, publication %d (for example, it managed no estate then)"},
		"bidders.note.none":         {"%s 没有已生效的评价结果", "No results were in force on %s"},
		"bidders.note.ambiguous":    {"多家企业同名，请改用统一社会信用代码：%s", "Several companies have this name; use the credit code: %s"},
		"bidders.col.query":         {"查询内容", "Query"},
		"bidders.col.bidder":        {"投标人", "Bidder"},
		"bidders.col.bad":           {"有效不良记录", "Bad records in force"},
		"bidders.col.vetoes":        {"一票否决", "Vetoes"},
		"bidders.col.publication":   {"发布次数", "Publication"},
		"bidders.col.certificate":   {"信用报告", "Certificate"},
		"bidders.col.note":          {"说明", "Note"},
		"bidders.col.history":       {"等级记录", "Grade history"},
		"bidders.download":          {"下载", "Download"},
		"bidders.printed":           {"打印时间 %s", "Printed %s"},
		"certificate.title":         {"物业服务企业信用报告", "Property-service credit certificate"},
		"certificate.number":        {"报告编号", "Certificate number"},
		"certificate.qr_label":      {"扫码核验", "Scan to verify"},
		"certificate.verify_at":     {"核验地址", "Verify at"},
		"certificate.no_public_url": {"本站尚未配置公开网址（--public-url），报告上不印二维码：请在本站 /verify 页面输入报告编号核验。", "This site has no public address configured (--public-url), so the certificate carries no QR code: verify it by typing its number on this site's /verify page."},
		"certificate.records":       {"评价期末有效的信用记录", "Credit records in force at the period's end"},
		"certificate.no_records":    {"无", "None"},
		"certificate.ledger":        {"公示账本", "Transparency ledger"},
		"certificate.ledger_entry":  {"第%d条记录，账本共%d条，根哈希 %s", "Leaf %d of %d, root hash %s"},
		"certificate.json":          {"机器可读的证书（JSON，可用 propcredit verify 离线核验）", "Machine-readable certificate (JSON; check it offline with propcredit verify)"},
		"certificate.superseded":    {"注意：该发布已被更新的发布取代。", "Note: this publication has since been superseded."},
		"verify.title":              {"信用报告核验", "Verify a credit certificate"},
		"verify.intro":              {"输入信用报告上的编号，或扫描报告上的二维码。", "Enter the number printed on the certificate, or scan its QR code."},
		"verify.number":             {"报告编号", "Certificate number"},
		"verify.submit":             {"核验", "Verify"},
		"verify.bad_number":         {"报告编号的格式应为“数字-12位十六进制”，例如 42-0a1b2c3d4e5f", "A certificate number looks like 42-0a1b2c3d4e5f (a number, a dash, 12 hex digits)"},
		"verify.not_found":          {"公示账本中没有编号为 %s 的报告：该报告不是本系统出具的，或编号有误", "The ledger holds no certificate %s: it was not issued here, or the number is wrong"},
		"verify.failed":             {"核验失败：%s", "Verification failed: %s"},
		"verify.ok":                 {"核验通过：该信用报告的内容与公示账本一致。", "Verified: this certificate is what the ledger holds."},
		"verify.current":            {"这是该评价期现行的发布。", "This is the period's current publication."},
		"verify.not_current":        {"该评价期后来有第%d次发布，取代了此结果。", "The period has a later publication (%d) that supersedes this result."},
		"verify.offline":            {"独立核验：下载 JSON 证书与公钥，用任何 tlog 客户端或 propcredit verify --key KEY CERT.json 离线核验。", "Check it yourself: fetch the JSON certificate and the key, and run any tlog client or propcredit verify --key KEY CERT.json offline."},
		"api.ids_required":          {"ids 不能为空：用逗号分隔的统一社会信用代码", "ids is required: credit codes separated by commas"},
		"api.ids_too_many":          {"ids 最多%d个", "ids may list at most %d companies"},
	})
}
