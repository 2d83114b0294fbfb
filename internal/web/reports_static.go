package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/reports"
)

// The static export: a period's public pages as files that work opened from disk (file://)
// or from any static host. Every page sits in one directory and links its neighbours by
// relative file name; the scripts and stylesheets are under assets/. Chinese pages are
// NAME.html and English ones NAME.en.html.
//
//	index.html           the red and black lists (also lists.html)
//	rankings.html        the first page of the rankings; rankings.csv and rankings.xlsx have all
//	report.html          the city report
//	company-ID.html      every graded company
//	estate-ID.html       every scored estate
//	assets/              ECharts, charts.js, reports.css, site.css

// staticLayout replaces the site's layout in the export: no log-in, no absolute links.
const staticLayout = `{{define "layout" -}}
{{template "doc-start" .}}
<link rel="stylesheet" href="{{.Data.Link.SiteCSS}}">
{{- block "head" .}}{{end}}
</head>
<body>
<header class="site-header">
  <a class="brand" href="{{.Data.Link.Home}}">{{t .Lang "site.name"}}</a>
  <nav class="site-nav">
    <a href="{{.Data.Link.Lists ""}}">{{t .Lang "nav.lists"}}</a>
    <a href="{{.Data.Link.Rankings ""}}">{{t .Lang "nav.rankings"}}</a>
    <a href="{{.Data.Link.Report ""}}">{{t .Lang "nav.reports"}}</a>
  </nav>
  <div class="site-user">
    <a href="{{.Data.Link.Switch .Data.Self}}" lang="{{if eq .OtherLang "en"}}en{{else}}zh-CN{{end}}">{{t .Lang "lang.switch"}}</a>
  </div>
</header>
<main>
{{template "content" .}}
</main>
<footer class="site-footer">{{t .Lang "site.footer"}} · {{t .Lang "static.note"}}</footer>
</body>
</html>
{{- end}}`

// ExportSite writes the public pages of period's latest publication (the latest published
// period when period is "") as a static site in dir, which must not exist or be empty. It
// writes into a temporary sibling directory and renames it into place, so that a failed
// export leaves nothing behind. It returns the number of files written.
func ExportSite(ctx context.Context, pubs *publication.Service, districts Districts, dir, period string) (int, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, derrors.Errorf(derrors.Conflict, "%s", T(domain.LangEN, "static.exists", dir))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	st, err := newPublishedCache(pubs, districts, time.Now, slog.Default()).get(ctx)
	if err != nil {
		return 0, err
	}
	p := st.city.Latest()
	if period != "" {
		p = st.city.Period(period)
	}
	if p == nil {
		if period == "" {
			return 0, derrors.Errorf(derrors.NotFound, "nothing is published yet")
		}
		return 0, derrors.Errorf(derrors.NotFound, "period %s has no published results", period)
	}
	tpl, err := staticPages()
	if err != nil {
		return 0, err
	}

	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp) // after the rename, nothing is left to remove
	w := &siteWriter{root: tmp, pages: tpl}
	if err := w.site(st.city, p); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, err
	}
	_ = os.Remove(dir) // empty, if it exists
	if err := os.Rename(tmp, dir); err != nil {
		return 0, err
	}
	return w.files, nil
}

// staticPages are the report page templates with the static layout.
func staticPages() (pages, error) {
	all, err := parsePages()
	if err != nil {
		return nil, err
	}
	if err := addPartials(all, reportPages); err != nil {
		return nil, err
	}
	out := pages{}
	for _, name := range reportPages {
		t, err := all[name].Clone()
		if err == nil {
			_, err = t.Parse(staticLayout)
		}
		if err != nil {
			return nil, fmt.Errorf("web: static %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

type siteWriter struct {
	root  string
	pages pages
	files int
}

func (w *siteWriter) write(name string, body []byte) error {
	path := filepath.Join(w.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w.files++
	return os.WriteFile(path, body, 0o644)
}

func (w *siteWriter) page(file, name, lang string, data any) error {
	var buf bytes.Buffer
	if err := w.pages[name].ExecuteTemplate(&buf, "layout", &Page{Lang: lang, Data: data}); err != nil {
		return fmt.Errorf("web: static %s: %w", file, err)
	}
	return w.write(file, buf.Bytes())
}

func (w *siteWriter) site(city *reports.City, p *reports.PublishedPeriod) error {
	for _, a := range reports.Assets() {
		if err := w.write(reports.StaticAssetsDir+a.Name, a.Body); err != nil {
			return err
		}
	}
	css, err := fs.ReadFile(assets, "static/site.css")
	if err != nil {
		return err
	}
	if err := w.write(reports.StaticAssetsDir+"site.css", css); err != nil {
		return err
	}
	for _, lang := range []string{domain.LangZH, domain.LangEN} {
		l := links{static: true}
		if lang == domain.LangEN {
			l.suffix = ".en"
		}
		lists := listsPage(l, city, p)
		if err := w.page(l.file("lists"), "lists", lang, lists); err != nil {
			return err
		}
		lists.Self = "index"
		if err := w.page(l.file("index"), "lists", lang, lists); err != nil {
			return err
		}
		if err := w.page(l.file("rankings"), "rankings", lang, rankingsPage(l, city, p, rankingFilter{Page: 1})); err != nil {
			return err
		}
		for _, ext := range []string{"csv", "xlsx"} {
			resp, err := rankingsDownload(lang, city, p, rankingFilter{}, ext)
			if err != nil {
				return err
			}
			if err := w.write(l.Download(p.ID(), ext, ""), resp.body); err != nil {
				return err
			}
		}
		report, err := reportPage(l, lang, city, p)
		if err != nil {
			return err
		}
		if err := w.page(l.file("report"), "report", lang, report); err != nil {
			return err
		}
		for _, g := range p.Result.Grades {
			d, err := companyPage(l, lang, city, g.Company, p)
			if err != nil {
				return err
			}
			if err := w.page(l.file("company-"+g.Company), "company", lang, d); err != nil {
				return err
			}
		}
		for _, e := range p.Estates() {
			d, err := estatePage(l, lang, city, e.EstateDetail.Estate, p, nil)
			if err != nil {
				return err
			}
			if err := w.page(l.file("estate-"+e.EstateDetail.Estate), "estate", lang, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func init() {
	addMessages(map[string]message{
		"static.note":   {"本页为已发布结果的静态副本", "A static copy of the published results"},
		"static.exists": {"目录 %s 已存在且不为空；请指定新目录或先删除它", "%s exists and is not empty; name a new directory or remove it first"},
	})
}
