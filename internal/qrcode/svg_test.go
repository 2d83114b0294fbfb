package qrcode_test

import (
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/qrcode"
	"github.com/propcredit/propcredit/internal/qrcode/qrcodetest"
)

func TestSVGScansBackToTheText(t *testing.T) {
	for _, text := range []string{
		"https://pingjia.example.gov.cn/rate/E0001?flat=3-2-1201",
		"http://localhost:8080/rate/e2?flat=-2-102",
		"HTTP://A.B/RATE/E1", // alphanumeric mode
		"12345678901234567890",
		strings.Repeat("https://x.example/rate/e?flat=a", 8), // a larger version
	} {
		svg, err := qrcode.SVG(text, "label")
		if err != nil {
			t.Fatalf("SVG(%q): %v", text, err)
		}
		got, err := qrcodetest.Decode(string(svg))
		if err != nil {
			t.Fatalf("decode the code of %q: %v", text, err)
		}
		if got != text {
			t.Errorf("scanned %q, want %q", got, text)
		}
	}
}

func TestSVGEscapesTheLabel(t *testing.T) {
	svg, err := qrcode.SVG("x", `"><script>alert(1)</script>`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(svg), "<script") || !strings.Contains(string(svg), `aria-label="&#34;&gt;&lt;script&gt;`) {
		t.Errorf("label not escaped: %s", svg)
	}
}
