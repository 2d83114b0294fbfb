package domain

import "testing"

func TestTextRule(t *testing.T) {
	for _, tc := range []struct {
		in         string
		line, text bool
	}{
		{"万润物业服务有限公司", true, true},
		{"A&B <Property> \"Co\"", true, true},
		{"", true, true},
		{"第一行\n第二行", false, true},
		{"第一行\r\n第二行\t缩进", false, true},
		{"bare\rreturn", false, false},
		{"nul\x00", false, false},
		{"esc\x1b[31m", false, false},
		{"del\x7f", false, false},
		{"c1\u0085", false, false},
		{"物业\u202e司公", false, false},
		{"isolate\u2067x\u2069", false, false},
		{"mark\u200f", false, false},
		{"sep\u2028x", false, false},
		{"bom\ufeff", false, false},
		{"bad \xff utf8", false, false},
		{"emoji 👍 and 𠀀", true, true},
	} {
		if got := IsLine(tc.in); got != tc.line {
			t.Errorf("IsLine(%q) = %v, want %v", tc.in, got, tc.line)
		}
		if got := IsText(tc.in); got != tc.text {
			t.Errorf("IsText(%q) = %v, want %v", tc.in, got, tc.text)
		}
	}
}
