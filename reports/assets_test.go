package reports

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestEChartsBundle checks the committed ECharts bundle against the pin. `make echarts` let npm
// check the package against package-lock.json's sha512 integrity and wrote, in
// echarts.min.js.sum, that integrity and the sha512 of the dist/echarts.min.js it copied. This
// test fails if the lock moves to another package without `make echarts`, if the sum file is
// edited, or if the embedded bytes are not the ones copied.
func TestEChartsBundle(t *testing.T) {
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	b, err := os.ReadFile("assets/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	pinned, ok := lock.Packages["node_modules/echarts"]
	if !ok || !strings.HasPrefix(pinned.Integrity, "sha512-") {
		t.Fatalf("package-lock.json pins no sha512 for echarts: %+v", pinned)
	}

	sum, err := os.ReadFile("assets/echarts.min.js.sum")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sum)), "\n")
	if len(lines) != 2 {
		t.Fatalf("echarts.min.js.sum has %d lines, want 2", len(lines))
	}
	if want := "echarts " + pinned.Version + " " + pinned.Integrity; lines[0] != want {
		t.Errorf("echarts.min.js.sum was made from another package:\n got %s\nwant %s\n(run `make echarts`)", lines[0], want)
	}
	h := sha512.Sum512(echartsJS)
	if want := "dist/echarts.min.js sha512-" + base64.StdEncoding.EncodeToString(h[:]); lines[1] != want {
		t.Errorf("the embedded echarts.min.js is not the file `make echarts` copied:\n got %s\nwant %s", want, lines[1])
	}
	if !strings.Contains(string(echartsJS), `version="`+pinned.Version+`"`) && !strings.Contains(string(echartsJS), `"`+pinned.Version+`"`) {
		t.Errorf("echarts.min.js does not name version %s", pinned.Version)
	}
}
