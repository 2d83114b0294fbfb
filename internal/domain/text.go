package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The one rule for text that people type or import: names, comments, reasons, objections. Text
// must be valid UTF-8 and carry no character that changes how other text is shown:
//   - control characters (C0, DEL, C1: NUL, ESC and the like), which break pages, logs and
//     terminals; a multi-line text may hold line feeds, tabs and CR LF line ends;
//   - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which
//     make a name read backwards on the rankings (U+202E, RIGHT-TO-LEFT OVERRIDE);
//   - the line and paragraph separators U+2028 and U+2029, and a byte order mark.
// IsLine is the rule for one-line fields (names); IsText for multi-line ones.

// IsLine reports whether s is a valid one-line text.
func IsLine(s string) bool { return textOK(s, false) }

// IsText reports whether s is a valid multi-line text.
func IsText(s string) bool { return textOK(s, true) }

func textOK(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case multiline && r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
		case unicode.IsControl(r), isFormatting(r):
			return false
		}
	}
	return true
}

func isFormatting(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	switch r {
	case 0x200E, 0x200F, 0x061C, 0x2028, 0x2029, 0xFEFF:
		return true
	}
	return false
}
