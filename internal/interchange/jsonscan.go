package interchange

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A line is checked by validJSON and then walked by the functions below, which, knowing the
// syntax is sound, only find where values begin and end. This reads a line without decoding
// it into maps or through float64, and about twice as fast as encoding/json; FuzzJSONScan
// holds validJSON and unquote to encoding/json's behaviour.

// maxNestingDepth is encoding/json's limit, kept so that both accept the same documents.
const maxNestingDepth = 10000

// validJSON reports whether b is one JSON value (RFC 8259), with whitespace around it
// allowed. Like json.Valid it does not check UTF-8; ParseLine does that first.
func validJSON(b []byte) bool {
	end, ok := validValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, end) == len(b)
}

func validValue(b []byte, i, depth int) (end int, ok bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '{':
		return validContainer(b, i, depth+1, '}', true)
	case '[':
		return validContainer(b, i, depth+1, ']', false)
	case '"':
		return validString(b, i)
	case 't':
		return validLiteral(b, i, "true")
	case 'f':
		return validLiteral(b, i, "false")
	case 'n':
		return validLiteral(b, i, "null")
	}
	return validNumber(b, i)
}

// validContainer checks an object (named members) or an array starting at b[i].
func validContainer(b []byte, i, depth int, closer byte, named bool) (int, bool) {
	if depth > maxNestingDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if named {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = validString(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i, ok = validValue(b, i, depth); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closer:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func validString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		case c < ' ':
			return i, false
		}
	}
	return i, false
}

func validLiteral(b []byte, i int, literal string) (int, bool) {
	if len(b)-i < len(literal) || string(b[i:i+len(literal)]) != literal {
		return i, false
	}
	return i + len(literal), true
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = skipDigits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = skipDigits(b, i)
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// member is one name/value pair of a JSON object.
type member struct {
	name  []byte // unescaped
	value []byte // the raw JSON value, exactly as written
}

// splitObject returns the members of b in the order written, or ok = false when b (valid
// JSON) is not an object. The slices may point into b.
func splitObject(b []byte, dst []member) (members []member, ok bool) {
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return dst, true
	}
	for {
		nameEnd := skipString(b, i)
		name := unquote(b[i:nameEnd])
		i = skipSpace(b, skipSpace(b, nameEnd)+1) // past the ':'
		valueEnd := skipValue(b, i)
		dst = append(dst, member{name: name, value: b[i:valueEnd]})
		i = skipSpace(b, valueEnd)
		if b[i] == '}' {
			return dst, true
		}
		i = skipSpace(b, i+1) // past the ','
	}
}

// duplicateName returns a name that occurs more than once among members, if any.
func duplicateName(members []member) (string, bool) {
	const pairwiseLimit = 16 // beyond this a map is cheaper than comparing every pair
	if len(members) <= pairwiseLimit {
		for i := range members {
			for j := range i {
				if bytes.Equal(members[i].name, members[j].name) {
					return string(members[i].name), true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, dup := seen[string(m.name)]; dup {
			return string(m.name), true
		}
		seen[string(m.name)] = struct{}{}
	}
	return "", false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped character cannot end the string
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(b) && !isDelimiter(b[i]) {
			i++
		}
		return i
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// unquote returns the contents of the valid JSON string s (quotes included). Without escapes
// it is a subslice of s, which is the common case and costs nothing. Like encoding/json, it
// turns an unpaired surrogate escape into U+FFFD.
func unquote(s []byte) []byte {
	s = s[1 : len(s)-1]
	escape := bytes.IndexByte(s, '\\')
	if escape < 0 {
		return s
	}
	out := make([]byte, escape, len(s))
	copy(out, s)
	for i := escape; i < len(s); {
		if s[i] != '\\' {
			out = append(out, s[i])
			i++
			continue
		}
		c := s[i+1]
		i += 2
		switch c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					r = pair
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\' and '/' stand for themselves
			out = append(out, c)
		}
	}
	return out
}

func hex4(s []byte) rune {
	n, _ := strconv.ParseUint(string(s[:4]), 16, 32)
	return rune(n)
}

func isNumber(raw []byte) bool { return raw[0] == '-' || ('0' <= raw[0] && raw[0] <= '9') }

func isNull(raw []byte) bool { return string(raw) == "null" }

// maxDataDepth bounds the nesting of a disclosure's data object. MongoDB allows 100 levels in
// a document and the data object already sits inside the disclosure, so 64 leaves room.
const maxDataDepth = 64

// dataProblem says why the database would refuse a data object.
type dataProblem struct {
	msg  text
	args []any
}

// checkData walks the data value starting at b[i] (valid JSON) and returns the index past it,
// or the first thing the document database would refuse: nested arrays, keys with '.', a
// leading '$' or NUL, duplicate keys, numbers beyond float64 (the database has no bigger
// number type), and very deep nesting.
func checkData(b []byte, i, depth int) (int, *dataProblem) {
	if depth > maxDataDepth {
		return 0, &dataProblem{msgTooDeep, []any{maxDataDepth}}
	}
	switch b[i] {
	case '{':
		var seen map[string]struct{}
		i = skipSpace(b, i+1)
		if b[i] == '}' {
			return i + 1, nil
		}
		for {
			nameEnd := skipString(b, i)
			name := string(unquote(b[i:nameEnd]))
			if name != "" && (name[0] == '$' || strings.ContainsAny(name, ".\x00")) {
				return 0, &dataProblem{msgBadDataKey, []any{shorten(name)}}
			}
			if _, dup := seen[name]; dup {
				return 0, &dataProblem{msgDupDataKey, []any{shorten(name)}}
			}
			if seen == nil {
				seen = make(map[string]struct{})
			}
			seen[name] = struct{}{}
			i = skipSpace(b, skipSpace(b, nameEnd)+1)
			var p *dataProblem
			var end bool
			if i, end, p = checkItem(b, i, depth, '}'); p != nil || end {
				return i, p
			}
		}
	case '[':
		i = skipSpace(b, i+1)
		if b[i] == ']' {
			return i + 1, nil
		}
		for {
			if b[i] == '[' {
				return 0, &dataProblem{msgNestedArray, nil}
			}
			var p *dataProblem
			var end bool
			if i, end, p = checkItem(b, i, depth, ']'); p != nil || end {
				return i, p
			}
		}
	default:
		end := skipValue(b, i)
		if isNumber(b[i:end]) {
			if _, err := strconv.ParseFloat(string(b[i:end]), 64); err != nil {
				return 0, &dataProblem{msgBigNumber, []any{shorten(string(b[i:end]))}}
			}
		}
		return end, nil
	}
}

// checkItem checks the value of an object's member or an array's element at b[i], in a
// container at depth closed by closing, and moves past it: past the container's end (end),
// or past the comma to the next item.
func checkItem(b []byte, i, depth int, closing byte) (next int, end bool, p *dataProblem) {
	if i, p = checkData(b, i, depth+1); p != nil {
		return 0, false, p
	}
	i = skipSpace(b, i)
	if b[i] == closing {
		return i + 1, true, nil
	}
	return skipSpace(b, i+1), false, nil
}
