package reports

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"path"
	"slices"
)

// The app serves these files itself, at AssetsPath on the site and under assets/ in the
// static export: report pages load nothing from any other host.
//
// echarts.min.js is committed: ECharts' own build, at the version pinned in
// assets/package-lock.json. `make echarts` refreshes it from the npm registry and writes
// assets/echarts.min.js.sum, which TestEChartsBundle checks against the file and the lock.

//go:embed assets/echarts.min.js
var echartsJS []byte

//go:embed assets/charts.js
var chartsJS []byte

//go:embed assets/reports.css
var reportsCSS []byte

// AssetsPath is where the site serves the assets; go-echarts' AssetsHost on the site.
const AssetsPath = "/assets/"

// StaticAssetsDir is the assets' directory in the static export, relative to its pages.
const StaticAssetsDir = "assets/"

// Asset is a file the report pages need.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	ETag        string // strong, from the content
}

var assets = func() map[string]Asset {
	m := map[string]Asset{}
	for name, body := range map[string][]byte{
		"echarts.min.js": echartsJS,
		"charts.js":      chartsJS,
		"reports.css":    reportsCSS,
	} {
		sum := sha256.Sum256(body)
		ct := "text/javascript; charset=utf-8"
		if path.Ext(name) == ".css" {
			ct = "text/css; charset=utf-8"
		}
		m[name] = Asset{Name: name, ContentType: ct, Body: body, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return m
}()

// AssetNamed returns the asset called name, if there is one.
func AssetNamed(name string) (Asset, bool) {
	a, ok := assets[name]
	return a, ok
}

// Assets returns every asset, by name.
func Assets() []Asset {
	out := make([]Asset, 0, len(assets))
	for _, a := range assets {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Asset) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// PageScripts returns the scripts a page with charts loads, in order: what the charts ask
// for (ECharts, from go-echarts' JSAssets, under the host they were built for), then
// charts.js, which draws them, under the same host. No charts, no scripts.
func PageScripts(host string, cs ...Chart) []string {
	var out []string
	for _, c := range cs {
		for _, s := range c.Scripts {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) > 0 {
		out = append(out, host+"charts.js")
	}
	return out
}
