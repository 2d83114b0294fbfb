package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want error
	}{
		{"Tr0ub4dor&3-horse", nil},
		{"物业信用评价系统", nil}, // 8 characters, 24 bytes
		{"物业信用评价", ErrPasswordShort},
		{"abc1234", ErrPasswordShort},
		{"password", ErrPasswordCommon},
		{"PassWord1", ErrPasswordCommon},
		{"12345678", ErrPasswordCommon},
		{"woaini1314", ErrPasswordCommon},
		{"1qaz2wsx", ErrPasswordCommon},
		{"zhang.san", ErrPasswordName},
		{"with\x00nul-inside", ErrPasswordText},
		{"bad\xffutf8-password", ErrPasswordText},
		{strings.Repeat("长", 86), ErrPasswordLong}, // 258 bytes
		{strings.Repeat("长", 85), nil},             // 255 bytes
	} {
		if got := CheckNewPassword(tc.pw, "zhang.san"); !errors.Is(got, tc.want) {
			t.Errorf("CheckNewPassword(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
	if len(common) < 3400 { // 3,546 + ours, less those that differ only in case
		t.Errorf("only %d common passwords loaded", len(common))
	}
}

// Generated one-time passwords pass the rules they are held to.
func TestNewPasswordIsAcceptable(t *testing.T) {
	for range 100 {
		if pw := NewPassword(); CheckNewPassword(pw, "x") != nil {
			t.Fatalf("NewPassword() = %q is refused: %v", pw, CheckNewPassword(pw, "x"))
		}
	}
}
