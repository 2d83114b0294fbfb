package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// siteCity has one company on each list and one estate with a hostile name.
const siteCity = `{"type":"district","id":"d1","name":"东湖区"}
{"type":"company","id":"91440300MA5S00000A","name":"阳光物业"}
{"type":"company","id":"91440300MA5S00000B","name":"明珠物业"}
{"type":"period","id":"2026Q3","start":"2026-07-01","end":"2026-09-30","disclosure_deadline":"2026-07-15"}
{"type":"estate","id":"a1","name":"翠竹花园","district":"d1","company":"91440300MA5S00000A","households":100,"category":"commodity"}
{"type":"estate","id":"b1","name":"<img src=x onerror=alert(1)>","district":"d1","company":"91440300MA5S00000B","households":100,"category":"commodity"}
{"type":"rating","period":"2026Q3","estate":"a1","household":"1-1-101","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":5,"security":5,"cleaning":5,"greening":5,"maintenance":5,"transparency":5}}
{"type":"rating","period":"2026Q3","estate":"b1","household":"2-1-101","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":3,"security":3,"cleaning":3,"greening":3,"maintenance":3,"transparency":3}}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"utilities","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"fees","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"maintenance_fund","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"parking","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"governance","period":"2026Q3","company":"91440300MA5S00000A","party_org":true,"party_instructor":true,"joint_mechanism":true}
{"type":"event","id":"ev1","company":"91440300MA5S00000B","kind":"bad","points":5,"veto":true,"date":"2026-03-01","description":"弃管"}
`

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
		"company-91440300MA5S00000A.html", "company-91440300MA5S00000B.en.html", "estate-a1.html", "estate-b1.html",
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
	index, _ := os.ReadFile(filepath.Join(site, "index.html"))
	if !bytes.Contains(index, []byte("阳光物业")) || !bytes.Contains(index, []byte("弃管")) {
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
