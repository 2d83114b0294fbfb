package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// siteCity is the hand-scored city, which has one company on each list, with a hostile estate
// name.
var siteCity = strings.Replace(handCity, `"name":"锦绣华庭"`, `"name":"<img src=x onerror=alert(1)>"`, 1)

// runSite runs `propcredit export ARGS`, which hands --site to exportSite.
func runSite(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if !siteRequested(args) {
		t.Fatalf("siteRequested(%q) = false", args)
	}
	return run(t, nil, "", append([]string{"export"}, args...)...)
}

var attrPattern = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

func TestExportSiteCommand(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"import", "--data", data, writeFile(t, "city.jsonl", siteCity)},
		{"score", "--data", data, "--period", "2026Q3"},
	} {
		if _, stderr, code := run(t, nil, "", args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
		}
	}
	site := filepath.Join(t.TempDir(), "site")
	if _, stderr, code := runSite(t, "--data", data, "--site", site, "--period", "2026Q3"); code != 1 || !strings.Contains(stderr, "no published results") {
		t.Errorf("export before publishing: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, nil, "", "publish", "--data", data, "--period", "2026Q3"); code != 0 {
		t.Fatalf("publish: exit %d: %s", code, stderr)
	}

	stdout, stderr, code := runSite(t, "--data", data, "--site", site, "--period", "2026Q3")
	if code != 0 || !strings.HasPrefix(stdout, "wrote ") {
		t.Fatalf("export --site: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, f := range []string{"index.html", "lists.en.html", "rankings.html", "rankings.csv", "rankings.xlsx", "report.html",
		"company-91440300MA5D00000A.html", "company-91440300MA5D00000B.en.html", "estate-a1.html", "estate-b1.html",
		"assets/echarts.min.js", "assets/charts.js", "assets/site.css"} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(site, "*.html"))
	for _, page := range pages {
		body, _ := os.ReadFile(page)
		if bytes.Contains(body, []byte("<img src=x")) {
			t.Errorf("%s: hostile estate name unescaped", page)
		}
		for _, m := range attrPattern.FindAllStringSubmatch(string(body), -1) {
			target := m[1]
			if strings.HasPrefix(target, "#") { // a jump within the page: its target must be there
				if !bytes.Contains(body, []byte(`id="`+target[1:]+`"`)) {
					t.Errorf("%s: %s names no element of the page", filepath.Base(page), m[0])
				}
				continue
			}
			if strings.Contains(target, "//") || strings.HasPrefix(target, "/") || strings.Contains(target, ":") {
				t.Errorf("%s: %s is not a relative link", filepath.Base(page), m[0])
				continue
			}
			if _, err := os.Stat(filepath.Join(site, target)); err != nil {
				t.Errorf("%s: %s names no file of the site", filepath.Base(page), m[0])
			}
		}
	}
	if b1, _ := os.ReadFile(filepath.Join(site, "estate-b1.html")); !bytes.Contains(b1, []byte("&lt;img src=x onerror=alert(1)&gt;")) {
		t.Error("estate-b1.html lacks the hostile estate name, escaped")
	}
	index, _ := os.ReadFile(filepath.Join(site, "index.html"))
	if !bytes.Contains(index, []byte("阳光物业")) || !bytes.Contains(index, []byte("消防通道堵塞")) {
		t.Error("index.html lacks the lists")
	}

	// Into a directory that is not empty: refused, and the message says why.
	if _, stderr, code := runSite(t, "--data", data, "--site", site); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("export into a full directory: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runSite(t, "--data", data, "--site"); code != 2 {
		t.Errorf("--site without a directory: exit %d, %q", code, stderr)
	}
}

func TestSiteRequested(t *testing.T) {
	for args, want := range map[string]bool{
		"--site out":                true,
		"-site=out --period 2026Q3": true,
		"--format jsonl":            false,
		"--out site":                false,
		"-- --site":                 false,
	} {
		if got := siteRequested(strings.Fields(args)); got != want {
			t.Errorf("siteRequested(%q) = %v", args, got)
		}
	}
}
