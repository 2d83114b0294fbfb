package web

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ratelimit"
	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// The public report pages: red and black lists, rankings, company and estate profiles and the
// city overview, for anyone without logging in. They show published results only, each with
// its publication (when, which ruleset, which inputs), from the publishedCache.
//
// Pages for anonymous visitors are the same for everyone, so each is rendered once per
// publication and language and then served from memory; logged-in users get the same content
// in a layout with their name.

// reportSite is the reports, publishing and API feature: its routes share the cache.
type reportSite struct {
	s       *Server
	cache   *publishedCache
	limiter ratelimit.Limiter
}

// reportPages are the page templates of this feature; they share templates/pages/report_partials.html.
var reportPages = []string{"lists", "rankings", "company", "estate", "report", "report_none"}

const partialsFile = "templates/pages/report_partials.html"

func (s *Server) reportRoutes() {
	r := &reportSite{s: s, cache: newPublishedCache(s.pubs, s.db, s.now, s.log), limiter: s.limits.Make("api", apiLimit)}
	if err := addPartials(s.pages, reportPages); err != nil {
		panic(err) // the embedded templates are broken: a build problem, found by any test
	}
	s.handle(fiber.MethodGet, "/", Public, r.home)
	s.handle(fiber.MethodGet, "/search", Public, r.search)
	s.handle(fiber.MethodGet, "/assets/:name", Public, r.asset)
	s.handle(fiber.MethodGet, "/lists", Public, r.latest("/lists/"))
	s.handle(fiber.MethodGet, "/lists/:period", Public, r.lists)
	s.handle(fiber.MethodGet, "/rankings", Public, r.latest("/rankings/"))
	s.handle(fiber.MethodGet, "/rankings/:period", Public, r.rankings)
	s.handle(fiber.MethodGet, "/rankings/:period/rankings.csv", Public, r.rankingsFile("csv"))
	s.handle(fiber.MethodGet, "/rankings/:period/rankings.xlsx", Public, r.rankingsFile("xlsx"))
	s.handle(fiber.MethodGet, "/reports", Public, r.latest("/reports/"))
	s.handle(fiber.MethodGet, "/reports/:period", Public, r.report)
	s.handle(fiber.MethodGet, "/companies/:id", Public, r.company)
	s.handle(fiber.MethodGet, "/estates/:id", Public, r.estate)
	s.addNav("nav.lists", "/lists", Public)
	s.addNav("nav.rankings", "/rankings", Public)
	s.addNav("nav.reports", "/reports", Public)
	r.publishRoutes()
	r.apiRoutes()
	r.ledgerRoutes()
}

// addPartials adds the shared report partials to each of the named page templates, whose
// head is the partial report-head.
func addPartials(p pages, names []string) error {
	return addPartialsFrom(p, partialsFile, "report-head", names)
}

// addPartialsFrom adds the partials of file to each of the named page templates. head, unless
// empty, names the partial that is each of these pages' head (their stylesheets).
func addPartialsFrom(p pages, file, head string, names []string) error {
	for _, name := range names {
		t, ok := p[name]
		if !ok {
			return fmt.Errorf("web: no page template %q", name)
		}
		t, err := t.Clone()
		if err == nil {
			_, err = t.ParseFS(assets, file)
		}
		if err == nil && head != "" {
			_, err = t.Parse(`{{define "head"}}{{template "` + head + `" .}}{{end}}`)
		}
		if err != nil {
			return fmt.Errorf("web: page %s: %w", name, err)
		}
		p[name] = t
	}
	return nil
}

// links makes the report pages' links: absolute paths on the site, and relative file names in
// the static export, where every page sits in one directory.
type links struct {
	static bool
	// suffix is the static export's language suffix of file names: "" (zh) or ".en".
	suffix string
}

var siteLinks = links{}

func (l links) file(stem string) string { return stem + l.suffix + ".html" }

// AssetsHost is where the pages load the report assets from.
func (l links) AssetsHost() string {
	if l.static {
		return reports.StaticAssetsDir
	}
	return reports.AssetsPath
}

func (l links) Asset(name string) string { return l.AssetsHost() + name }

// SiteCSS is the site's stylesheet (the static export copies it).
func (l links) SiteCSS() string {
	if l.static {
		return reports.StaticAssetsDir + "site.css"
	}
	return "/static/site.css"
}

func (l links) Home() string {
	if l.static {
		return l.file("index")
	}
	return "/"
}

func (l links) Lists(period string) string {
	if l.static {
		return l.file("lists")
	}
	return "/lists/" + url.PathEscape(period)
}

// Publication links to the lists as publication seq had them; none in the static export,
// which holds only the latest.
func (l links) Publication(period string, seq int) string {
	if l.static {
		return ""
	}
	return "/lists/" + url.PathEscape(period) + "?pub=" + strconv.Itoa(seq)
}

func (l links) Rankings(period string) string {
	if l.static {
		return l.file("rankings")
	}
	return "/rankings/" + url.PathEscape(period)
}

func (l links) Report(period string) string {
	if l.static {
		return l.file("report")
	}
	return "/reports/" + url.PathEscape(period)
}

// Company links to a company's page as of a period. The static export has company pages for
// its own period only; the others are not linked (period "" means the export's).
func (l links) Company(id, period string) string {
	if l.static {
		return l.file("company-" + id)
	}
	return "/companies/" + url.PathEscape(id) + "?period=" + url.QueryEscape(period)
}

func (l links) Estate(id, period string) string {
	if l.static {
		return l.file("estate-" + id)
	}
	return "/estates/" + url.PathEscape(id) + "?period=" + url.QueryEscape(period)
}

// Rate links to an estate's rating form, which only the site has.
func (l links) Rate(id string) string {
	if l.static {
		return ""
	}
	return "/rate/" + url.PathEscape(id)
}

// Disclosures links to an estate's disclosures, which only the site has.
func (l links) Disclosures(id string) string {
	if l.static {
		return ""
	}
	return "/estates/" + url.PathEscape(id) + "/disclosures"
}

// Download links to the rankings as a file (ext csv or xlsx), filtered as query says.
func (l links) Download(period, ext, query string) string {
	if l.static {
		return "rankings" + l.suffix + "." + ext
	}
	u := "/rankings/" + url.PathEscape(period) + "/rankings." + ext
	if query != "" {
		u += "?" + query
	}
	return u
}

// Switch links to the same static page in the other language.
func (l links) Switch(stem string) string {
	if l.suffix == "" {
		return stem + ".en.html"
	}
	return stem + ".html"
}

// Static reports whether the links are the static export's.
func (l links) Static() bool { return l.static }

// pageBase is what every report page's data has.
type pageBase struct {
	Link    links
	Scripts []string // JavaScript files to load, in order
	Self    string   // the static page's file stem, for the language switch
}

// withCharts sets the scripts the page's charts need.
func (b *pageBase) withCharts(cs ...reports.Chart) {
	b.Scripts = reports.PageScripts(b.Link.AssetsHost(), cs...)
}

// pubView is a page's publication: the one shown, and the period's history.
type pubView struct {
	Pub     reports.Publication
	History []reports.Publication
	// Latest is false when the page shows a superseded publication.
	Latest bool
	// Periods are every published period, newest first, for links between them (the site
	// only: the static export holds one period).
	Periods []string
}

// withPeriods lists the city's published periods, newest first, for the links between them.
func (v *pubView) withPeriods(l links, city *reports.City) {
	if l.static {
		return
	}
	ps := city.Periods()
	for i := len(ps) - 1; i >= 0; i-- {
		v.Periods = append(v.Periods, ps[i].ID())
	}
}

func pubViewOf(p *reports.PublishedPeriod) pubView {
	return pubView{Pub: p.Pub, History: p.History, Latest: !p.Pub.Superseded()}
}

// renderReport renders a report page. Anonymous visitors get the page from the cache, keyed by
// key (which must name everything the page depends on besides the language); build makes
// the page's data on a miss. path is the page's canonical path, with the query that key
// covers, for the language switch: routing ignores case, and a page cached for /LISTS/…
// must not link there.
func (r *reportSite) renderReport(c *fiber.Ctx, st *published, name, key, path string, build func(lang string) (any, error)) error {
	lang := Lang(c)
	if _, loggedIn := CurrentAccount(c); loggedIn {
		data, err := build(lang)
		if err != nil {
			return err
		}
		return r.s.renderPage(c, fiber.StatusOK, name, data, false)
	}
	return sendResponse(c, st, "page|"+lang+"|"+key, func() (*cachedResponse, error) {
		data, err := build(lang)
		if err != nil {
			return nil, err
		}
		body, err := r.s.renderAnonymous(name, lang, path, data)
		if err != nil {
			return nil, err
		}
		return newCachedResponse(fiber.MIMETextHTMLCharsetUTF8, body, true), nil
	})
}

// renderAnonymous renders page name as an anonymous visitor sees it: no user, no CSRF token,
// no request id, nothing that differs between requests.
func (s *Server) renderAnonymous(name, lang, path string, data any) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", name)
	}
	path, query, _ := strings.Cut(path, "?")
	p := &Page{Lang: lang, Path: path, Query: query, Data: data}
	for _, n := range s.nav {
		if n.Access.Allows("") {
			p.Nav = append(p.Nav, n)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// sendResponse sends the response cached under key (see published.response), building it on a
// miss.
func sendResponse(c *fiber.Ctx, st *published, key string, build func() (*cachedResponse, error)) error {
	resp, err := st.response(key, build)
	if err != nil {
		return err
	}
	return sendCached(c, resp)
}

// sendJSON sends v as the API's JSON, uncompressed and not kept: the compress middleware
// compresses it per request.
func sendJSON(c *fiber.Ctx, v any) error {
	resp, err := jsonResponse(v, false)
	if err != nil {
		return err
	}
	return sendCached(c, resp)
}

// sendCached sends a cached response, or 304 Not Modified when the client has it. Anonymous
// pages may be stored by browsers but must be revalidated: a new publication changes them.
func sendCached(c *fiber.Ctx, resp *cachedResponse) error {
	// Already compressed: the compress middleware leaves a body with a Content-Encoding alone.
	// The two encodings are two representations, so each has its own (strong) ETag.
	body, etag := resp.body, resp.etag
	gzipped := resp.gz != nil && c.Request().Header.HasAcceptEncoding("gzip")
	if gzipped {
		body, etag = resp.gz, gzipETag(resp.etag)
	}
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderVary, "Accept-Encoding, Accept-Language, Cookie")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, resp.contentType)
	if resp.disposition != "" {
		c.Set(fiber.HeaderContentDisposition, resp.disposition)
	}
	if gzipped {
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	return c.Send(body)
}

// gzipETag is the ETag of the gzipped representation of the body whose ETag is etag.
func gzipETag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-gz"` }

// etagMatches reports whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}

// published returns the current publications, with the request's context.
func (r *reportSite) published(c *fiber.Ctx) (*published, error) {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	return r.cache.get(ctx)
}

// period returns the latest publication of the period named in the path, or a NotFound error
// that says the period has no published results.
func (r *reportSite) period(c *fiber.Ctx, st *published, id string) (*reports.PublishedPeriod, error) {
	if p := st.city.Period(id); p != nil {
		return p, nil
	}
	return nil, derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.no_such_period", id))
}

// publishedPeriod returns the current publications and the latest publication of the period
// named in the path (see period).
func (r *reportSite) publishedPeriod(c *fiber.Ctx) (*published, *reports.PublishedPeriod, error) {
	st, err := r.published(c)
	if err != nil {
		return nil, nil, err
	}
	p, err := r.period(c, st, c.Params("period"))
	return st, p, err
}

// asset serves ECharts and the report pages' script and stylesheet. They change only with the
// binary, so browsers may keep them for a day and then revalidate.
func (r *reportSite) asset(c *fiber.Ctx) error {
	a, ok := reports.AssetNamed(c.Params("name"))
	if !ok {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
	}
	c.Set(fiber.HeaderETag, a.ETag)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), a.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	return c.Send(a.Body)
}

// latest sends /lists, /rankings and /reports to the latest published period's page, or says
// that nothing is published yet.
func (r *reportSite) latest(prefix string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, err := r.published(c)
		if err != nil {
			return err
		}
		if p := st.city.Latest(); p != nil {
			return c.Redirect(prefix+url.PathEscape(p.ID()), fiber.StatusSeeOther)
		}
		return r.renderReport(c, st, "report_none", "none|"+prefix, strings.TrimSuffix(prefix, "/"), func(string) (any, error) {
			return pageBase{Link: siteLinks}, nil
		})
	}
}

// listEntry is a company on the red or black list.
type listEntry struct {
	Grade  *scoring.Grade
	Reason reports.BlackReason
}

type listsData struct {
	pageBase
	pubView
	Period *reports.PublishedPeriod
	Red    []listEntry
	Black  []listEntry
}

func (r *reportSite) lists(c *fiber.Ctx) error {
	st, latest, err := r.publishedPeriod(c)
	if err != nil {
		return err
	}
	seq := 0
	if q := c.Query("pub"); q != "" {
		if seq, err = strconv.Atoi(q); err != nil || seq < 1 {
			return derrors.Errorf(derrors.Invalid, "%s", Msg(c, "report.bad_pub"))
		}
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	p, err := r.cache.publication(ctx, st, latest.ID(), seq)
	if derrors.Code(err) == derrors.NotFound {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.no_such_pub", latest.ID(), seq))
	} else if err != nil {
		return err
	}
	return r.renderReport(c, st, "lists", "lists|"+p.Pub.ID, siteLinks.Lists(p.ID()), func(string) (any, error) {
		return listsPage(siteLinks, st.city, p), nil
	})
}

func listsPage(l links, city *reports.City, p *reports.PublishedPeriod) listsData {
	d := listsData{pageBase: pageBase{Link: l, Self: "lists"}, pubView: pubViewOf(p), Period: p}
	d.withPeriods(l, city)
	for _, g := range p.Result.RedList() {
		d.Red = append(d.Red, listEntry{Grade: p.Grade(g.Company)})
	}
	for _, g := range p.Result.BlackList() {
		gp := p.Grade(g.Company)
		d.Black = append(d.Black, listEntry{Grade: gp, Reason: reports.BlackReasonOf(gp)})
	}
	return d
}

// Rankings.

const (
	rankingsPageSize = 50
	maxQueryLen      = 100 // characters of a search
)

// rankingFilter is what the rankings are filtered by.
type rankingFilter struct {
	Q, District, Grade string
	Page               int
}

// query is the filter as a query string, without the page.
func (f rankingFilter) query() string {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.District != "" {
		v.Set("district", f.District)
	}
	if f.Grade != "" {
		v.Set("grade", f.Grade)
	}
	return v.Encode()
}

func (r *reportSite) filter(c *fiber.Ctx) (rankingFilter, error) {
	f := rankingFilter{Q: strings.TrimSpace(c.Query("q")), District: c.Query("district"), Grade: c.Query("grade"), Page: 1}
	if utf8.RuneCountInString(f.Q) > maxQueryLen || !utf8.ValidString(f.Q) {
		return f, derrors.FieldErrors(Msg(c, "report.bad_filter"), map[string]string{"q": Msg(c, "report.q_too_long", maxQueryLen)})
	}
	if len(f.District) > 64 || len(f.Grade) > 16 {
		return f, derrors.Errorf(derrors.Invalid, "%s", Msg(c, "report.bad_filter"))
	}
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, derrors.FieldErrors(Msg(c, "report.bad_filter"), map[string]string{"page": Msg(c, "report.bad_page")})
		}
		f.Page = n
	}
	return f, nil
}

// rankedCompanies returns the period's grades that pass the filter, in rank order.
func rankedCompanies(p *reports.PublishedPeriod, f rankingFilter) []*scoring.Grade {
	q := strings.ToUpper(f.Q)
	var out []*scoring.Grade
	for i := range p.Result.Grades {
		g := &p.Result.Grades[i]
		if f.Grade != "" && g.Grade != f.Grade {
			continue
		}
		if f.District != "" && !slices.Contains(p.CompanyDistricts(g.Company), f.District) {
			continue
		}
		if q != "" && !strings.HasPrefix(g.Company, q) && !strings.Contains(strings.ToUpper(g.Name), q) && !managesEstateNamed(g, q) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// managesEstateNamed reports whether one of the company's scored estates has q (upper case)
// in its name: owners search rankings for their estate, not for a company they do not know.
func managesEstateNamed(g *scoring.Grade, q string) bool {
	for _, e := range g.EstateDetails {
		if strings.Contains(strings.ToUpper(e.Name), q) {
			return true
		}
	}
	return false
}

type option struct{ Value, Label string }

type rankingRow struct {
	*scoring.Grade
	Districts []string // names
}

type rankingsData struct {
	pageBase
	pubView
	Period           *reports.PublishedPeriod
	Filter           rankingFilter
	Districts        []option
	Grades           []string
	Rows             []rankingRow
	Total, Pages     int
	Prev, Next       string // links to the neighbouring pages, if any
	CSV, XLSX, Reset string
}

func (r *reportSite) rankings(c *fiber.Ctx) error {
	st, p, f, err := r.rankingsQuery(c)
	if err != nil {
		return err
	}
	key := "rankings|" + p.Pub.ID + "|" + f.query() + "|" + strconv.Itoa(f.Page)
	// The language switch keeps the filter and the page (the cache key holds both).
	self := siteLinks.Rankings(p.ID())
	if q := f.query(); q != "" || f.Page > 1 {
		v, _ := url.ParseQuery(q)
		if f.Page > 1 {
			v.Set("page", strconv.Itoa(f.Page))
		}
		self += "?" + v.Encode()
	}
	return r.renderReport(c, st, "rankings", key, self, func(string) (any, error) {
		return rankingsPage(siteLinks, st.city, p, f), nil
	})
}

// rankingsQuery reads what the rankings page and its files show: the period's latest
// publication and the filter.
func (r *reportSite) rankingsQuery(c *fiber.Ctx) (*published, *reports.PublishedPeriod, rankingFilter, error) {
	st, p, err := r.publishedPeriod(c)
	if err != nil {
		return nil, nil, rankingFilter{}, err
	}
	f, err := r.filter(c)
	return st, p, f, err
}

func rankingsPage(l links, city *reports.City, p *reports.PublishedPeriod, f rankingFilter) rankingsData {
	all := rankedCompanies(p, f)
	d := rankingsData{pageBase: pageBase{Link: l, Self: "rankings"}, pubView: pubViewOf(p), Period: p, Filter: f, Total: len(all)}
	d.withPeriods(l, city)
	d.Pages = max(1, (len(all)+rankingsPageSize-1)/rankingsPageSize)
	d.Filter.Page = min(f.Page, d.Pages)
	start := (d.Filter.Page - 1) * rankingsPageSize
	for _, g := range all[start:min(start+rankingsPageSize, len(all))] {
		row := rankingRow{Grade: g}
		for _, id := range p.CompanyDistricts(g.Company) {
			row.Districts = append(row.Districts, city.DistrictName(id))
		}
		d.Rows = append(d.Rows, row)
	}
	seen := map[string]bool{}
	for _, s := range p.Districts() {
		seen[s.District] = true
		d.Districts = append(d.Districts, option{s.District, city.DistrictName(s.District)})
	}
	for _, c := range p.GradeCounts() {
		d.Grades = append(d.Grades, c.Label)
	}
	q := f.query()
	d.CSV, d.XLSX = l.Download(p.ID(), "csv", q), l.Download(p.ID(), "xlsx", q)
	if !l.static {
		page := func(n int) string {
			v, _ := url.ParseQuery(q)
			v.Set("page", strconv.Itoa(n))
			return l.Rankings(p.ID()) + "?" + v.Encode()
		}
		if d.Filter.Page > 1 {
			d.Prev = page(d.Filter.Page - 1)
		}
		if d.Filter.Page < d.Pages {
			d.Next = page(d.Filter.Page + 1)
		}
		d.Reset = l.Rankings(p.ID())
	}
	return d
}

// rankingsFile serves the filtered rankings (all pages) as CSV or XLSX.
func (r *reportSite) rankingsFile(ext string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, p, f, err := r.rankingsQuery(c)
		if err != nil {
			return err
		}
		lang := Lang(c)
		return sendResponse(c, st, "file|"+lang+"|"+p.Pub.ID+"|"+ext+"|"+f.query(), func() (*cachedResponse, error) {
			return rankingsDownload(lang, st.city, p, f, ext)
		})
	}
}

// rankingsDownload renders the rankings file.
func rankingsDownload(lang string, city *reports.City, p *reports.PublishedPeriod, f rankingFilter, ext string) (*cachedResponse, error) {
	sheet := rankingsSheet(lang, city, p, rankedCompanies(p, f))
	var buf bytes.Buffer
	var ctype string
	switch ext {
	case "csv":
		ctype = "text/csv; charset=utf-8"
		if err := sheet.WriteCSV(&buf); err != nil {
			return nil, err
		}
	case "xlsx":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if err := sheet.WriteXLSX(&buf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("web: no rankings format %q", ext)
	}
	resp := newCachedResponse(ctype, buf.Bytes(), true)
	resp.disposition = `attachment; filename="rankings-` + p.ID() + `.` + ext + `"`
	return resp, nil
}

func rankingsSheet(lang string, city *reports.City, p *reports.PublishedPeriod, grades []*scoring.Grade) reports.Sheet {
	s := reports.Sheet{Name: p.ID()}
	for _, k := range []string{"report.col.rank", "report.col.code", "report.col.company", "report.col.grade", "report.col.score",
		"report.col.list", "report.col.satisfaction", "report.col.disclosure", "report.col.governance", "report.col.bonus",
		"report.col.deduction", "report.col.estates", "report.col.ratings", "report.col.districts"} {
		s.Head = append(s.Head, T(lang, k))
	}
	s.Head = append(s.Head, stampHead(lang)...)
	stamp := stampCells(lang, &p.Pub)
	for _, g := range grades {
		var districts []string
		for _, id := range p.CompanyDistricts(g.Company) {
			districts = append(districts, city.DistrictName(id))
		}
		c := g.Components
		s.Rows = append(s.Rows, append([]any{g.Rank, g.Company, g.Name, g.Grade, reports.Float(g.Score), T(lang, "report.list."+g.List),
			reports.Float(c.Satisfaction), reports.Float(c.Disclosure), reports.Float(c.Governance), reports.Float(c.Bonus),
			reports.Float(c.Deduction), g.Estates, g.Ratings, strings.Join(districts, "、")}, stamp...))
	}
	return s
}

// Company pages.

type estateRow struct {
	reports.Estate
	DistrictName string
}

type companyData struct {
	pageBase
	pubView
	ID, Name string
	Focus    *reports.PublishedPeriod // the period shown
	Grade    *scoring.Grade           // its grade then
	Timeline []reports.HistoryEntry   // its grade in every published period
	Estates  []estateRow
	// Explanation is scoring.Explain's text (zh-CN); empty when the ruleset is not this
	// binary's, in which case the structured breakdown still shows.
	Explanation  string
	HistoryChart reports.Chart
	RadarChart   reports.Chart
	Weights      *scoring.Ruleset
}

func (r *reportSite) company(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	history := st.city.CompanyHistory(id)
	i, err := focusIndex(c, history, func(h reports.HistoryEntry) string { return h.Period.ID() }, "report.no_such_company", "report.company_not_in_period", id)
	if err != nil {
		return err
	}
	focus := history[i]
	return r.renderReport(c, st, "company", "company|"+id+"|"+focus.Period.Pub.ID, "/companies/"+url.PathEscape(id), func(lang string) (any, error) {
		return companyPage(siteLinks, lang, st.city, id, focus.Period)
	})
}

// focusIndex picks which of a company's or an estate's periods (oldest first, each named by
// periodOf) its page shows: the one ?period= names, else the latest. None at all is a NotFound
// that says noSuch about id; a ?period= it was not scored in is one that says notIn.
func focusIndex[T any](c *fiber.Ctx, periods []T, periodOf func(T) string, noSuch, notIn, id string) (int, error) {
	if len(periods) == 0 {
		return 0, derrors.Errorf(derrors.NotFound, "%s", Msg(c, noSuch, id))
	}
	q := c.Query("period")
	if q == "" {
		return len(periods) - 1, nil
	}
	i := -1
	for j, p := range periods {
		if periodOf(p) == q {
			i = j
		}
	}
	if i < 0 {
		return 0, derrors.Errorf(derrors.NotFound, "%s", Msg(c, notIn, id, q))
	}
	return i, nil
}

func companyPage(l links, lang string, city *reports.City, id string, p *reports.PublishedPeriod) (companyData, error) {
	g := p.Grade(id)
	d := companyData{pageBase: pageBase{Link: l, Self: "company-" + id}, pubView: pubViewOf(p), ID: id, Name: g.Name, Focus: p, Grade: g,
		Timeline: city.CompanyHistory(id)}
	if l.static { // the export has this period only
		d.Timeline = []reports.HistoryEntry{{Period: p, Grade: g}}
	}
	for _, ed := range g.EstateDetails {
		e, _ := p.Estate(ed.Estate)
		d.Estates = append(d.Estates, estateRow{Estate: e, DistrictName: city.DistrictName(ed.District)})
	}
	if rs := scoring.Default(); rs.Hash() == p.Result.RulesetHash {
		d.Weights = rs
		if text, err := scoring.Explain(p.Result, rs, id); err == nil {
			d.Explanation = text
		}
	}
	var err error
	if d.HistoryChart, err = historyChart(l, lang, d.Timeline); err != nil {
		return d, err
	}
	if d.RadarChart, err = radarChart(l, lang, p, id, g.Name); err != nil {
		return d, err
	}
	d.withCharts(d.HistoryChart, d.RadarChart)
	return d, nil
}

// Estate pages.

type estateData struct {
	pageBase
	pubView
	Estate       reports.Estate
	DistrictName string
	Focus        *reports.PublishedPeriod
	Periods      []*reports.PublishedPeriod // every published period that scored it
	Chart        reports.Chart
}

func (r *reportSite) estate(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	periods := st.city.EstatePeriods(id)
	i, err := focusIndex(c, periods, (*reports.PublishedPeriod).ID, "report.no_such_estate", "report.estate_not_in_period", id)
	if err != nil {
		return err
	}
	focus := periods[i]
	return r.renderReport(c, st, "estate", "estate|"+id+"|"+focus.Pub.ID, "/estates/"+url.PathEscape(id), func(lang string) (any, error) {
		return estatePage(siteLinks, lang, st.city, id, focus, periods)
	})
}

func estatePage(l links, lang string, city *reports.City, id string, p *reports.PublishedPeriod, periods []*reports.PublishedPeriod) (estateData, error) {
	e, _ := p.Estate(id)
	d := estateData{pageBase: pageBase{Link: l, Self: "estate-" + id}, pubView: pubViewOf(p), Estate: e,
		DistrictName: city.DistrictName(e.District), Focus: p, Periods: periods}
	if l.static {
		d.Periods = []*reports.PublishedPeriod{p}
	}
	var err error
	if d.Chart, err = estateChart(l, lang, p, e); err != nil {
		return d, err
	}
	d.withCharts(d.Chart)
	return d, nil
}

// The city report.

type reportData struct {
	pageBase
	pubView
	Period  *reports.PublishedPeriod
	Summary reports.Summary
	Charts  []reports.Chart
}

func (r *reportSite) report(c *fiber.Ctx) error {
	st, p, err := r.publishedPeriod(c)
	if err != nil {
		return err
	}
	return r.renderReport(c, st, "report", "report|"+p.Pub.ID, siteLinks.Report(p.ID()), func(lang string) (any, error) {
		return reportPage(siteLinks, lang, st.city, p)
	})
}

func reportPage(l links, lang string, city *reports.City, p *reports.PublishedPeriod) (reportData, error) {
	d := reportData{pageBase: pageBase{Link: l, Self: "report"}, pubView: pubViewOf(p), Period: p, Summary: p.Summary()}
	d.withPeriods(l, city)
	trends := city.Trends()
	if l.static {
		trends = []reports.Summary{p.Summary()}
	}
	var err error
	d.Charts, err = cityCharts(l, lang, city, p, trends)
	d.withCharts(d.Charts...)
	return d, err
}

// Formatting for the report templates.

func init() {
	addTemplateFuncs(map[string]any{
		"fixed": func(f scoring.Fixed) string { return f.String() },
		"num2":  num2,
		"pct":   pct,
		"when":  when,
		"short": func(s string) string { return s[:min(12, len(s))] },
		// rulesetVersion is the version of a ruleset named "name@version", as people read it:
		// "default@1" is version 1 (the name stays in a title attribute).
		"rulesetVersion": func(id string) string {
			if i := strings.LastIndexByte(id, '@'); i >= 0 {
				return id[i+1:]
			}
			return id
		},
		// rat writes an exact number of the rules or a record (a weight, points) as a decimal.
		"rat": func(r interface{ FloatString(int) string }) string {
			return strings.TrimRight(strings.TrimRight(r.FloatString(2), "0"), ".")
		},
		"eventArgs": func(lang string, ev scoring.EventDetail) eventArgs { return eventArgs{lang, ev} },
	})
}

// addTemplateFuncs adds functions for every page template; a name taken twice is a bug.
func addTemplateFuncs(m map[string]any) {
	for name, f := range m {
		if _, dup := templateFuncs[name]; dup {
			panic("web: template function " + name + " defined twice")
		}
		templateFuncs[name] = f
	}
}

// eventArgs is what the event-row template needs: the language and the record.
type eventArgs struct {
	Lang  string
	Event scoring.EventDetail
}

// num2 writes a number with two decimals, or "—" when there is none (NaN).
func num2(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// pct writes a fraction as a percentage with one decimal.
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// when writes a time in the bureau's zone.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(domain.Zone).Format("2006-01-02 15:04 (UTC+8)")
}
