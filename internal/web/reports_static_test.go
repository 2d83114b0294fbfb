package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/propcredit/propcredit/internal/derrors"
)

func TestExportSite(t *testing.T) {
	e := newPublishedEnv(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "site")
	n, err := ExportSite(ctx, e.s.pubs, e.db, dir, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"assets/charts.js", "assets/echarts.min.js", "assets/reports.css", "assets/site.css"}
	for _, stem := range []string{"index", "lists", "rankings", "report", "company-" + reportRed, "company-" + reportVeto,
		"company-" + reportPlain, "company-" + reportHostile, "estate-e1", "estate-e2", "estate-e3", "estate-e4"} {
		want = append(want, stem+".html", stem+".en.html")
	}
	want = append(want, "rankings.csv", "rankings.xlsx", "rankings.en.csv", "rankings.en.xlsx")
	var got []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) || n != len(want) {
		t.Errorf("files (%d reported):\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, problem := range checkStaticSite(t, dir) {
		t.Error(problem)
	}

	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, s := range []string{"阳光物业", "弃管物业", "一票否决", "default@1", `href="company-` + reportRed + `.html"`, `href="index.en.html"`} {
		if !strings.Contains(string(index), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	report, _ := os.ReadFile(filepath.Join(dir, "report.en.html"))
	if !strings.Contains(string(report), `src="assets/echarts.min.js"`) || !strings.Contains(string(report), "Grade distribution") {
		t.Error("report.en.html does not load ECharts from assets/ or is not in English")
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "rankings.csv"))
	if lines := strings.Count(string(csv), "\r\n"); lines != 5 {
		t.Errorf("rankings.csv has %d lines, want 5", lines)
	}

	// The directory must be new or empty; nothing is half written.
	if _, err := ExportSite(ctx, e.s.pubs, e.db, dir, "2026Q4"); derrors.Code(err) != derrors.Conflict {
		t.Errorf("export into a full directory: %v", err)
	}
	empty := t.TempDir()
	if _, err := ExportSite(ctx, e.s.pubs, e.db, empty, ""); err != nil {
		t.Errorf("export of the latest period into an empty directory: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := ExportSite(ctx, e.s.pubs, e.db, missing, "2025Q1"); derrors.Code(err) != derrors.NotFound {
		t.Errorf("export of an unpublished period: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(missing)); len(entries) != 0 {
		t.Errorf("a failed export left %v behind", entries)
	}
}

// checkStaticSite checks every HTML file of a static site: nothing external, no absolute
// paths, every link and source names a file of the site, no inline script.
func checkStaticSite(t *testing.T, dir string) []string {
	t.Helper()
	var problems []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	if len(files) == 0 {
		return []string{"no HTML files"}
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		for _, p := range checkHTML(string(body), true) {
			problems = append(problems, name+": "+p)
		}
		if strings.Contains(string(body), "<script>alert") {
			problems = append(problems, name+": unescaped hostile name")
		}
		doc, err := html.Parse(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			for _, a := range n.Attr {
				if a.Key != "href" && a.Key != "src" {
					continue
				}
				target, _, _ := strings.Cut(a.Val, "#")
				target, _, _ = strings.Cut(target, "?")
				if target == "" {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err != nil {
					problems = append(problems, name+": "+a.Key+"="+a.Val+" names no file of the site")
				}
			}
			for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
				walk(ch)
			}
		}
		walk(doc)
	}
	return problems
}
