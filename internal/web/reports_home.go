package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// The home page leads owners in: a search for their estate or a company, the latest red and
// black lists at a glance, and a box to look a receipt up. Search finds estates and companies
// of the published results (kept in memory), so a public search costs no database read.

// homeListSize is how many companies of each list the home page shows.
const homeListSize = 5

// maxSearchText bounds a search's text; maxSearchHits each kind of result.
const (
	maxSearchText = 100
	maxSearchHits = 50
)

type homeData struct {
	Period       string // the latest published period; "" before any
	Red, Black   []*scoring.Grade
	RedN, BlackN int
	Link         links
}

func (r *reportSite) home(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	d := homeData{Link: siteLinks}
	if p := st.city.Latest(); p != nil {
		d.Period = p.ID()
		red, black := p.Result.RedList(), p.Result.BlackList()
		d.RedN, d.BlackN = len(red), len(black)
		for _, g := range red[:min(len(red), homeListSize)] {
			d.Red = append(d.Red, p.Grade(g.Company))
		}
		for _, g := range black[:min(len(black), homeListSize)] {
			d.Black = append(d.Black, p.Grade(g.Company))
		}
	}
	return r.s.render(c, "home", d)
}

type searchData struct {
	Q         string
	Estates   []reports.EstateMatch
	Companies []reports.CompanyMatch
	More      bool // some hits were left out
	Link      links
}

// search finds estates by name and companies by name or credit code.
func (r *reportSite) search(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.ToValidUTF8(c.Query("q"), ""))
	if len([]rune(q)) > maxSearchText {
		q = string([]rune(q)[:maxSearchText])
	}
	d := searchData{Q: strings.Clone(q), Link: siteLinks}
	d.Estates = st.city.SearchEstates(q, maxSearchHits+1)
	d.Companies = st.city.Search(q, maxSearchHits+1)
	if len(d.Estates) > maxSearchHits || len(d.Companies) > maxSearchHits {
		d.More = true
		d.Estates, d.Companies = d.Estates[:min(len(d.Estates), maxSearchHits)], d.Companies[:min(len(d.Companies), maxSearchHits)]
	}
	return r.s.render(c, "search", d)
}

func init() {
	addMessages(map[string]message{
		"home.search":         {"查找小区或物业服务企业", "Find an estate or a property-service company"},
		"home.search_hint":    {"小区名称、企业名称或统一社会信用代码", "Estate name, company name or credit code"},
		"home.search_submit":  {"搜索", "Search"},
		"home.latest":         {"最新红黑榜（%s）", "Latest red and black lists (%s)"},
		"home.all_lists":      {"查看完整红黑榜", "See the full lists"},
		"home.red_n":          {"红榜 %d 家", "Red list: %d"},
		"home.black_n":        {"黑榜 %d 家", "Black list: %d"},
		"home.none_published": {"尚未发布评价结果。", "No results have been published yet."},
		"home.receipt":        {"查询评价回执", "Look up a rating receipt"},
		"home.receipt_hint":   {"提交评价后得到的回执编号", "The receipt number you got when you rated"},
		"home.receipt_submit": {"查询", "Look up"},
		"home.rate":           {"业主评价：扫描评价码纸条上的二维码，或搜索您的小区，进入小区页面后点击“为本小区的物业服务打分”。", "Owners: scan the QR code on your slip, or search for your estate and choose “Rate this estate's property service” on its page."},
		"search.title":        {"搜索", "Search"},
		"search.estates":      {"小区", "Estates"},
		"search.companies":    {"物业服务企业", "Companies"},
		"search.none":         {"没有找到名称包含“%s”的小区或企业。", "No estate or company has “%s” in its name."},
		"search.more":         {"结果较多，只列出前%d个，请输入更完整的名称。", "Only the first %d are listed; type more of the name."},
		"search.managed_by":   {"物业服务企业：%s", "Managed by %s"},
		"search.estate_page":  {"评价结果", "Results"},
		"search.disclosures":  {"信息公开", "Disclosures"},
		"search.rate":         {"去评价", "Rate"},
		"search.latest_grade": {"%s 信用等级", "%s grade"},
	})
}
