package disclosure

import (
	"strconv"
	"strings"
)

// Fen is an amount of money in fen (分, 1/100 yuan). Amounts are integers from the moment they
// are read until they are shown: never float64, so that sums are exact.
type Fen int64

// Bounds on what one amount or count may be. 13 digits of yuan is ten trillion, far beyond any
// estate, and keeps the sum of every line of a file (at most MaxRows) well inside int64.
const (
	maxYuanDigits = 13
	maxCount      = 1_000_000
)

// String writes the amount in yuan with two decimals and no separators: "1234.56".
func (f Fen) String() string { return f.format(false) }

// Display writes the amount in yuan with two decimals and thousands separators: "1,234.56",
// the way Chinese financial tables show money.
func (f Fen) Display() string { return f.format(true) }

func (f Fen) format(separators bool) string {
	neg := f < 0
	u := uint64(f)
	if neg {
		u = uint64(-f)
	}
	whole := strconv.FormatUint(u/100, 10)
	if separators {
		whole = group(whole)
	}
	s := whole + "." + strconv.FormatUint(u%100/10, 10) + strconv.FormatUint(u%10, 10)
	if neg {
		s = "-" + s
	}
	return s
}

// group puts a comma between every three digits from the right.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Reasons a number is refused. Each names what is wrong; the caller adds which field.
var (
	errEmpty        = Text{"不能为空", "is required"}
	errNotNumber    = Text{"不是有效的数字（例如 1234.56）", "is not a number (write it like 1234.56)"}
	errDecimals     = Text{"最多两位小数（精确到分）", "must have at most 2 decimal places (whole fen)"}
	errNegative     = Text{"不能为负数", "must not be negative"}
	errTooLarge     = Text{"金额过大", "is too large"}
	errNotCount     = Text{"必须是非负整数", "must be a whole number, 0 or more"}
	errCountTooHigh = Text{"数量过大", "is too large"}
)

// cleanNumber trims what people and spreadsheets put around a number: spaces (also the
// full-width and non-breaking ones), a currency sign, a trailing 元.
func cleanNumber(s string) string {
	s = strings.TrimFunc(s, isSpace)
	s = strings.TrimSuffix(s, "元")
	for _, sign := range []string{"¥", "￥"} {
		s = strings.TrimPrefix(s, sign)
	}
	return strings.TrimFunc(s, isSpace)
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u3000' || r == '\r' || r == '\n'
}

// ParseYuan reads an amount of yuan written as a decimal, exactly: "1234.56", "1,234.56",
// "¥1234.5", "1234". More than two decimal places are refused unless the extra ones are zeros
// ("1.500" is 1.50 yuan; "1.005" is refused), as are negative amounts, exponents and anything
// that is not a plain decimal.
func ParseYuan(s string) (Fen, *Text) {
	s = cleanNumber(s)
	if s == "" {
		return 0, &errEmpty
	}
	if s[0] == '-' || strings.HasPrefix(s, "−") || s[0] == '(' && strings.HasSuffix(s, ")") {
		if _, err := ParseYuan(strings.Trim(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "−"), "()")); err == nil {
			return 0, &errNegative
		}
		return 0, &errNotNumber
	}
	s = strings.TrimPrefix(s, "+")
	whole, frac, hasPoint := strings.Cut(s, ".")
	whole, ok := ungroup(whole)
	if !ok || !allDigits(frac) || whole == "" && frac == "" || hasPoint && strings.Contains(frac, ".") {
		return 0, &errNotNumber
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 {
		return 0, &errDecimals
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxYuanDigits {
		return 0, &errTooLarge
	}
	frac += strings.Repeat("0", 2-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, &errNotNumber
	}
	return Fen(n), nil
}

// ParseCount reads a whole number of things (parking spaces), 0 or more.
func ParseCount(s string) (int, *Text) {
	s = strings.TrimFunc(s, isSpace)
	if s == "" {
		return 0, &errEmpty
	}
	if s[0] == '-' || strings.HasPrefix(s, "−") {
		return 0, &errNegative
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "+"), ".")
	whole, ok := ungroup(whole)
	if !ok || whole == "" || !allDigits(frac) || strings.Trim(frac, "0") != "" {
		return 0, &errNotCount
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 7 {
		return 0, &errCountTooHigh
	}
	n, _ := strconv.Atoi("0" + whole)
	if n > maxCount {
		return 0, &errCountTooHigh
	}
	return n, nil
}

// ungroup removes thousands separators, which must sit between groups of exactly three
// digits ("1,234,567"); "12,34" is not a number.
func ungroup(s string) (string, bool) {
	if !strings.Contains(s, ",") {
		return s, allDigits(s)
	}
	parts := strings.Split(s, ",")
	if len(parts[0]) == 0 || len(parts[0]) > 3 || !allDigits(parts[0]) {
		return "", false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 || !allDigits(p) {
			return "", false
		}
	}
	return strings.Join(parts, ""), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// excelNumber turns the raw text of a numeric spreadsheet cell into the decimal the
// spreadsheet shows for it. A spreadsheet keeps numbers as binary doubles and shows them to 15
// significant digits, so 1234.56 typed into a cell may be stored as "1234.5599999999999" and
// a sum of cells as "1234.5600000000002"; both show as 1234.56, which is what the company
// meant and what it saw. The result is a plain decimal string for ParseYuan or ParseCount,
// which then decide exactly; ok is false for text that is not a finite number.
func excelNumber(raw string) (string, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || f != f || f > 1e300 || f < -1e300 {
		return "", false
	}
	// d.dddddddddddddde±XX: exactly 15 significant digits.
	e := strconv.FormatFloat(f, 'e', 14, 64)
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	neg := strings.HasPrefix(mant, "-")
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1) // 15 digits
	point := 1 + exp                                                     // digits before the point
	var whole, frac string
	switch {
	case point <= 0:
		whole, frac = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		whole = digits + strings.Repeat("0", point-len(digits))
	default:
		whole, frac = digits[:point], digits[point:]
	}
	frac = strings.TrimRight(frac, "0")
	s := whole
	if frac != "" {
		s += "." + frac
	}
	if neg && strings.Trim(s, "0.") != "" {
		s = "-" + s
	}
	return s, true
}
