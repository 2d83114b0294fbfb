package disclosure

import "testing"

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Fen
		err  *Text
	}{
		{"1234.56", 123456, nil},
		{"0", 0, nil},
		{"0.1", 10, nil},
		{"1234", 123400, nil},
		{"1234.", 123400, nil},
		{".5", 50, nil},
		{"1,234,567.89", 123456789, nil},
		{" ¥1234.50 ", 123450, nil},
		{"￥12元", 1200, nil},
		{"1.500", 150, nil},     // trailing zeros are not precision
		{"+3.20", 320, nil},     // an explicit sign
		{"00012.30", 1230, nil}, // leading zeros
		{"9999999999999.99", 999999999999999, nil},
		{"", 0, &errEmpty},
		{"  ", 0, &errEmpty},
		{"1.005", 0, &errDecimals},
		{"0.001", 0, &errDecimals},
		{"-1", 0, &errNegative},
		{"−12.5", 0, &errNegative}, // U+2212 minus sign
		{"(12.50)", 0, &errNegative},
		{"-abc", 0, &errNotNumber},
		{"1e3", 0, &errNotNumber},
		{"1,23", 0, &errNotNumber},
		{"12,3456", 0, &errNotNumber},
		{",123", 0, &errNotNumber},
		{"1.2.3", 0, &errNotNumber},
		{"12 34", 0, &errNotNumber},
		{"一百", 0, &errNotNumber},
		{"NaN", 0, &errNotNumber},
		{"0x10", 0, &errNotNumber},
		{".", 0, &errNotNumber},
		{"10000000000000", 0, &errTooLarge},
	} {
		got, err := ParseYuan(tc.in)
		if got != tc.want || (err == nil) != (tc.err == nil) || err != nil && *err != *tc.err {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestFenFormats(t *testing.T) {
	for _, tc := range []struct {
		f                Fen
		plain, displayed string
	}{
		{0, "0.00", "0.00"},
		{5, "0.05", "0.05"},
		{123456, "1234.56", "1,234.56"},
		{100000000, "1000000.00", "1,000,000.00"},
		{-123456, "-1234.56", "-1,234.56"},
	} {
		if got := tc.f.String(); got != tc.plain {
			t.Errorf("Fen(%d).String() = %q, want %q", tc.f, got, tc.plain)
		}
		if got := tc.f.Display(); got != tc.displayed {
			t.Errorf("Fen(%d).Display() = %q, want %q", tc.f, got, tc.displayed)
		}
		if tc.f >= 0 {
			if back, err := ParseYuan(tc.f.Display()); err != nil || back != tc.f {
				t.Errorf("ParseYuan(%q) = %d, %v; want it back", tc.f.Display(), back, err)
			}
		}
	}
}

func TestParseCount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"120", 120, true}, {"1,200", 1200, true}, {"12.0", 12, true},
		{"12.5", 0, false}, {"-1", 0, false}, {"", 0, false}, {"abc", 0, false}, {"99999999", 0, false},
	} {
		got, err := ParseCount(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseCount(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// A spreadsheet stores 1234.56 as the nearest double and shows 15 significant digits; the
// reader must see what the company saw, and still refuse a third decimal that shows.
func TestExcelNumber(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"1234.56", "1234.56"},
		{"1234.5599999999999", "1234.56"},
		{"1234.5600000000002", "1234.56"},
		{"0.30000000000000004", "0.3"},
		{"100", "100"},
		{"1E+3", "1000"},
		{"1.5E-2", "0.015"},
		{"123456789012.345", "123456789012.345"},
		{"-5", "-5"},
		{"0", "0"},
	} {
		got, ok := excelNumber(tc.raw)
		if !ok || got != tc.want {
			t.Errorf("excelNumber(%q) = %q, %v; want %q", tc.raw, got, ok, tc.want)
		}
	}
	for _, raw := range []string{"", "abc", "NaN", "Inf", "1e400"} {
		if got, ok := excelNumber(raw); ok {
			t.Errorf("excelNumber(%q) = %q, want refusal", raw, got)
		}
	}
}
