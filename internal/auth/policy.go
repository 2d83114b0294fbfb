package auth

import (
	"bufio"
	_ "embed"
	"errors"
	"strings"
	"unicode/utf8"
)

// Rules for passwords people choose (ASVS 6.2), the same for the web, the API and the CLI.
const (
	// MinPasswordChars is the shortest password accepted, counted in characters, not bytes:
	// eight Chinese characters are eight.
	MinPasswordChars = 8
	// MaxPasswordBytes is the longest password hashed; longer input is refused.
	MaxPasswordBytes = 256
)

// Why a new password is refused. Adapters turn these into messages in the user's language.
var (
	ErrPasswordShort  = errors.New("the password must be at least 8 characters long")
	ErrPasswordLong   = errors.New("the password must be at most 256 bytes long")
	ErrPasswordCommon = errors.New("the password is one of the most common passwords, which attackers try first")
	ErrPasswordName   = errors.New("the password must not be the account name")
	ErrPasswordText   = errors.New("the password must be valid text without control characters")
)

// The common passwords shipped with the binary: Openwall's list (public domain, 3,546 entries
// from breaches and Unix systems) and our list of the most common on Chinese sites.
var (
	//go:embed common-passwords.txt
	openwallList string
	//go:embed common-passwords-zh.txt
	chineseList string

	common = readList(openwallList, chineseList)
)

func readList(lists ...string) map[string]bool {
	m := map[string]bool{}
	for _, list := range lists {
		sc := bufio.NewScanner(strings.NewReader(list))
		for sc.Scan() {
			if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#!comment") {
				m[strings.ToLower(line)] = true
			}
		}
	}
	return m
}

// CheckNewPassword says why pw may not become the password of the account called name, or
// returns nil.
func CheckNewPassword(pw, name string) error {
	switch {
	case !utf8.ValidString(pw) || strings.ContainsFunc(pw, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return ErrPasswordText
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		return ErrPasswordShort
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordLong
	case strings.EqualFold(pw, name):
		return ErrPasswordName
	case common[strings.ToLower(pw)]:
		return ErrPasswordCommon
	}
	return nil
}
