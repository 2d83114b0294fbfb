package web

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/domain"
)

// The site speaks zh-CN, and English to browsers that ask for it first or to anyone who picks
// it with ?lang=en (remembered in a cookie).

const langCookie = "pc_lang"

// Lang returns the language of the request: domain.LangZH or domain.LangEN.
func Lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(localLang).(string); ok {
		return l
	}
	l := detectLang(c)
	c.Locals(localLang, l)
	return l
}

func detectLang(c *fiber.Ctx) string {
	if l := langParam(c.Query("lang")); l != "" {
		return l
	}
	if l := c.Cookies(langCookie); l == domain.LangZH || l == domain.LangEN {
		return l
	}
	if strings.HasPrefix(preferredLanguage(c.Get(fiber.HeaderAcceptLanguage)), "en") {
		return domain.LangEN
	}
	return domain.LangZH
}

// langParam reads ?lang= as people and other sites write it: "zh", "zh-CN", "zh_cn", "cn",
// "en", "en-US"... It returns domain.LangZH, domain.LangEN or "" for anything else.
func langParam(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	switch {
	case q == "zh" || q == "cn" || strings.HasPrefix(q, "zh-") || strings.HasPrefix(q, "zh_"):
		return domain.LangZH
	case q == "en" || strings.HasPrefix(q, "en-") || strings.HasPrefix(q, "en_"):
		return domain.LangEN
	}
	return ""
}

// preferredLanguage returns the lower-cased tag with the highest q in an Accept-Language
// header; among equals, the first.
func preferredLanguage(header string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if tag = strings.ToLower(strings.TrimSpace(tag)); tag != "" && q > bestQ {
			best, bestQ = tag, q
		}
	}
	return best
}

// language fixes the request's language and remembers an explicit ?lang= choice.
func (s *Server) language(c *fiber.Ctx) error {
	l := Lang(c)
	if q := langParam(c.Query("lang")); q == l && c.Cookies(langCookie) != l {
		c.Cookie(&fiber.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			Expires: s.now().Add(365 * 24 * time.Hour), Secure: s.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	}
	return c.Next()
}

// message is one UI string in both languages.
type message struct{ ZH, EN string }

// messages is the catalogue of UI strings. Add a feature's strings from its own file with
// addMessages in an init function, so that files do not collide on one map literal.
var messages = map[string]message{}

func addMessages(m map[string]message) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("web: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

// T returns the UI string key in lang, formatted with args as by fmt.Sprintf. An unknown key
// comes back as itself, so a typo shows on the page instead of vanishing.
func T(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	text := m.ZH
	if lang == domain.LangEN {
		text = m.EN
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

// Msg is T in the language of the request.
func Msg(c *fiber.Ctx, key string, args ...any) string { return T(Lang(c), key, args...) }

// messageKeys lists the catalogue's keys, sorted, for tests.
func messageKeys() []string {
	keys := make([]string, 0, len(messages))
	for k := range messages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// roleLabel names a role for people.
func roleLabel(lang, role string) string { return T(lang, "role."+role) }

func init() {
	addTemplateFuncs(map[string]any{
		// colon and paren punctuate in the page's language: "提交时间：" but "Filed: ",
		// "（CSV）" but " (CSV)".
		"colon": func(lang string) string { return T(lang, "punct.colon") },
		"paren": func(lang, s string) string {
			if lang == domain.LangEN {
				return " (" + s + ")"
			}
			return "（" + s + "）"
		},
	})
	addMessages(map[string]message{
		"site.name":    {"物业服务信用评价系统", "Property Service Credit Evaluation"},
		"site.tagline": {"物业服务企业信用评价与红黑榜", "Credit evaluation and red/black lists of property-service companies"},
		"site.footer":  {"住房和城乡建设局 · 物业服务信用评价", "Housing and Urban-Rural Development Bureau · Property service credit evaluation"},
		"lang.switch":  {"English", "中文"},

		// Punctuation between words differs: full-width in Chinese, ASCII and a space in
		// English ("Filed: ", not "Filed：").
		"punct.colon":     {"：", ": "},
		"punct.list":      {"、", ", "},
		"punct.semicolon": {"；", "; "},
		"punct.period":    {"。", "."},

		"nav.home":           {"首页", "Home"},
		"nav.account":        {"我的账号", "My account"},
		"nav.admin_accounts": {"账号管理", "Accounts"},
		"nav.login":          {"登录", "Log in"},
		"nav.logout":         {"退出登录", "Log out"},

		"role.admin":     {"系统管理员", "Administrator"},
		"role.reviewer":  {"住建局审核人员", "Bureau reviewer"},
		"role.company":   {"物业服务企业", "Property-service company"},
		"role.evaluator": {"评标专家", "Bid evaluator"},

		"home.title": {"首页", "Home"},
		"home.intro": {"本系统汇集业主对所在小区物业服务企业的评价、企业的费用公开情况和信用记录，按统一规则评定企业信用等级（AAA至C），并发布红黑榜，供业主查询和招投标评审参考。",
			"This system collects owners' ratings of the property-service company of their estate, the companies' cost disclosures and credit records, grades each company (AAA to C) by one set of rules, and publishes red and black lists for owners and for bid evaluation."},
		"home.staff": {"住建局工作人员、物业服务企业和评标专家请登录使用。", "Bureau staff, property-service companies and bid evaluators: please log in."},

		"login.title":    {"登录", "Log in"},
		"login.name":     {"用户名", "User name"},
		"login.password": {"密码", "Password"},
		"login.submit":   {"登录", "Log in"},
		"login.failed":   {"用户名或密码错误", "Wrong user name or password"},
		"login.locked":   {"登录失败次数过多，请在%d分钟后再试", "Too many failed log-ins. Try again in %d minutes."},
		"login.disabled": {"该账号已停用，请联系系统管理员", "This account is disabled. Please contact the administrator."},
		"login.wait":     {"登录失败次数较多，请等待%d秒后再试", "Several failed log-ins. Wait %d seconds, then try again."},
		"login.no_audit": {"暂时无法登录：登录记录未能写入审计日志，请稍后再试", "You cannot log in just now: the log-in could not be recorded in the audit trail. Please try again later."},
		"login.then":     {"。", ". "},

		"account.title":   {"我的账号", "My account"},
		"account.name":    {"用户名", "User name"},
		"account.role":    {"角色", "Role"},
		"account.company": {"所属企业", "Company"},
		"account.created": {"创建时间", "Created"},

		"admin.accounts.title":        {"账号管理", "Accounts"},
		"admin.accounts.create":       {"新建账号", "New account"},
		"admin.accounts.company_hint": {"仅物业服务企业账号需要填写统一社会信用代码", "Only company accounts: the unified social credit code"},
		"admin.accounts.submit":       {"创建", "Create"},
		"admin.accounts.created":      {"账号“%s”已创建。一次性密码如下，只显示这一次，请当面或通过安全渠道交给使用人：", "Account “%s” created. Its one-time password is shown only this once; hand it over in person or by a safe channel:"},
		"admin.accounts.none":         {"还没有账号", "No accounts yet"},
		"admin.accounts.status":       {"状态", "Status"},
		"admin.accounts.active":       {"正常", "Active"},
		"admin.accounts.disabled":     {"已停用", "Disabled"},
		"admin.accounts.disable":      {"停用", "Disable"},
		"admin.accounts.enable":       {"启用", "Enable"},
		"admin.accounts.not_self":     {"不能停用自己正在使用的账号", "You cannot disable the account you are using"},
		"admin.accounts.no_company":   {"企业不存在", "No such company"},

		"csrf.failed": {"表单已过期，请刷新页面后重试", "The form has expired. Reload the page and try again."},

		"error.title":        {"出错了", "Something went wrong"},
		"error.request_id":   {"请求编号", "Request id"},
		"error.home":         {"返回首页", "Back to the home page"},
		"error.login":        {"请登录", "Please log in"},
		"error.bad_request":  {"请求有误", "The request is not valid"},
		"error.unauthorized": {"请先登录", "Please log in first"},
		"error.forbidden":    {"您没有权限访问此页面", "You may not use this page"},
		"error.not_found":    {"页面不存在", "Page not found"},
		"error.method":       {"不支持该请求方法", "Method not allowed"},
		"error.timeout":      {"请求超时", "The request timed out"},
		"error.conflict":     {"操作与当前数据冲突", "The request conflicts with the current data"},
		"error.too_large":    {"提交的内容太大", "The upload is too large"},
		"error.media_type":   {"请求体必须是JSON（Content-Type: application/json）", "The body must be JSON (Content-Type: application/json)"},
		"error.rate_limited": {"请求过于频繁，请稍后再试", "Too many requests. Try again later."},
		"error.internal":     {"服务器内部错误，请稍后再试", "Internal server error. Please try again later."},
		"error.unavailable":  {"服务暂时不可用，请稍后再试", "The service is unavailable. Please try again later."},
	})
}
