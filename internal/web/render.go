package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/domain"
)

//go:embed templates static
var assets embed.FS

// Page is what every template gets. The page's own data is in Data; the rest is filled in by
// render. Templates reach UI strings with {{t .Lang "key"}}.
type Page struct {
	Lang      string // domain.LangZH or domain.LangEN
	Path      string // the request path, for the language switch
	Query     string // the request's query without lang and ok, for the language switch
	User      *Account
	Nav       []navItem
	CSRF      string // {{template "csrf" .}} puts it in a hidden _csrf field
	Nonce     string // for <script nonce="{{.Nonce}}">; inline scripts without it are blocked
	RequestID string
	Data      any
}

// HTMLLang is the value of the lang attribute.
func (p *Page) HTMLLang() string {
	if p.Lang == domain.LangEN {
		return "en"
	}
	return "zh-CN"
}

// SwitchURL is this page in the other language: the same path and query, lang changed.
func (p *Page) SwitchURL() string {
	q := "lang=" + p.OtherLang()
	if p.Query != "" {
		q = p.Query + "&" + q
	}
	return p.Path + "?" + q
}

// OtherLang is the language the switch in the header offers.
func (p *Page) OtherLang() string {
	if p.Lang == domain.LangEN {
		return domain.LangZH
	}
	return domain.LangEN
}

// pages maps a page name to its template: the layout and partials, plus the page's file.
type pages map[string]*template.Template

var templateFuncs = template.FuncMap{
	// t is T that fails the page for an unknown key, so a typo is found by any test that
	// renders the page.
	"t": func(lang, key string, args ...any) (string, error) {
		if _, ok := messages[key]; !ok {
			return "", fmt.Errorf("unknown message %q", key)
		}
		return T(lang, key, args...), nil
	},
	// outcome words what a form just did (?ok=key under prefix), or "" for a key it does not
	// know: the query string is the visitor's to change.
	"outcome": func(lang, prefix, key string) string {
		if _, ok := messages[prefix+key]; !ok || key == "" {
			return ""
		}
		return T(lang, prefix+key)
	},
	"roleLabel": roleLabel,
	"pageArg":   func(p *Page, arg string) pageArg { return pageArg{p, arg} },
	"listTable": func(p *Page, id, class string, rows any, none string) listTableArgs {
		return listTableArgs{p, id, class, rows, none}
	},
	"rateInput": func(p *Page, name, value string, maxLen int, capitalize string) rateInputArgs {
		return rateInputArgs{p, name, value, maxLen, capitalize}
	},
}

// pageArg is what a partial gets that needs the Page and one more value, such as a form's
// action.
type pageArg struct {
	Page *Page
	Arg  string
}

// listTableArgs is what the list-table partial gets: the Page, the table's id and class, the
// rows (only whether there are any matters: the page's "list-rows" shows them) and the key of
// the words for none.
type listTableArgs struct {
	Page      *Page
	ID, Class string
	Rows      any
	None      string
}

// rateInputArgs is what the rate-input partial gets: the Page (its .Data.Fields has the
// form's errors), the field's name, its value, its maxlength and its autocapitalize.
type rateInputArgs struct {
	Page       *Page
	Name       string
	Value      string
	MaxLen     int
	Capitalize string
}

// parsePages reads templates/layout.html (the layout and shared partials) and makes one
// template per templates/pages/*.html, each of which defines "title" and "content".
func parsePages() (pages, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	files, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	out := pages{}
	for _, f := range files {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(assets, f)
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", f, err)
		}
		out[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return out, nil
}

// render writes page name with status 200. data becomes .Data.
func (s *Server) render(c *fiber.Ctx, name string, data any) error {
	return s.renderPage(c, fiber.StatusOK, name, data, true)
}

// renderStatus is render with another status, such as 422 for a form shown again with
// messages.
func (s *Server) renderStatus(c *fiber.Ctx, status int, name string, data any) error {
	return s.renderPage(c, status, name, data, true)
}

// switchQuery is the request's query string without lang (the switch sets it) and ok (a
// one-time notice after a redirect).
func switchQuery(c *fiber.Ctx) string {
	var parts []string
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if key := string(k); key != "lang" && key != "ok" {
			parts = append(parts, url.QueryEscape(key)+"="+url.QueryEscape(string(v)))
		}
	})
	return strings.Join(parts, "&")
}

// renderPage renders into a buffer first, so that a template error becomes a clean 500 page
// instead of half a page. withCSRF false leaves the token out (error pages must not set
// cookies); a logged-in user's token needs no cookie and is always there.
func (s *Server) renderPage(c *fiber.Ctx, status int, name string, data any, withCSRF bool) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	p := &Page{Lang: Lang(c), Path: c.Path(), Query: switchQuery(c), Nonce: Nonce(c), RequestID: RequestID(c), Data: data}
	if acct, ok := CurrentAccount(c); ok {
		p.User = acct
	}
	role := ""
	if p.User != nil {
		role = p.User.Role
	}
	for _, n := range s.nav {
		if n.Access.Allows(role) {
			p.Nav = append(p.Nav, n)
		}
	}
	if withCSRF || p.User != nil {
		p.CSRF = s.csrfToken(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	c.Type("html", "utf-8")
	return c.Status(status).Send(buf.Bytes())
}
