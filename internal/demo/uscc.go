package demo

import "strings"

// usccAlphabet is the character set of a unified social credit code (GB 32100-2015): digits
// and upper-case letters except I, O, Z, S and V, which are too easily misread. A character's
// value is its index here.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31 for the first 17 positions (GB 32100-2015, 5.3).
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidUSCC reports whether s is a unified social credit code whose 18th character is the
// GB 32100-2015 check character of the first 17. domain.IsUSCC only checks the shape.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	check, ok := usccCheck(s[:17])
	return ok && s[17] == check
}

// usccCheck computes the check character of the first 17 characters of a code, or reports
// false when one of them is not in the alphabet.
func usccCheck(first17 string) (byte, bool) {
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// orgCodeCheck computes the check character of an 8-character organisation code body
// (GB 11714-1997), which positions 9-17 of a credit code embed: digits count as themselves,
// letters A-Z as 10-35.
func orgCodeCheck(body string) byte {
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 8 {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}
