package filing

import (
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		required bool
		want     string // error code, "" for none
	}{
		{"ok", "物业费公示不清", true, ""},
		{"empty, required", "  \n ", true, derrors.Invalid},
		{"empty, optional", "", false, ""},
		{"exactly the limit, in characters not bytes", strings.Repeat("字", MaxTextRunes), true, ""},
		{"one over", strings.Repeat("字", MaxTextRunes+1), true, derrors.Invalid},
		{"spaces around do not count", " " + strings.Repeat("a", MaxTextRunes) + " ", true, ""},
		{"bad UTF-8", "ab\xff", true, derrors.Invalid},
		{"NUL", "ab\x00c", true, derrors.Invalid},
		{"ESC", "\x1b[2Jcleared", true, derrors.Invalid},
		{"right-to-left override", "物业\u202e费", true, derrors.Invalid},
		{"line breaks are text", "第一点\r\n第二点", true, ""},
	} {
		if got := derrors.Code(CheckText(tc.text, tc.required)); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckDecision(t *testing.T) {
	for _, tc := range []struct {
		name, status, reason string
		want, wantReason     string
	}{
		{"verified, no reason", domain.StatusVerified, "", "", ""},
		{"rejected with a reason, trimmed", domain.StatusRejected, "  金额不符 ", "", "金额不符"},
		{"rejected without a reason", domain.StatusRejected, "   ", derrors.Invalid, ""},
		{"not a decision", domain.StatusPending, "", derrors.Invalid, ""},
		{"reason too long", domain.StatusRejected, strings.Repeat("长", MaxTextRunes+1), derrors.Invalid, strings.Repeat("长", MaxTextRunes+1)},
	} {
		rd := ReviewDecision{Status: tc.status, Reason: tc.reason}
		if got := derrors.Code(CheckDecision(&rd)); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.want)
		}
		if rd.Reason != tc.wantReason {
			t.Errorf("%s: reason %q, want %q", tc.name, rd.Reason, tc.wantReason)
		}
	}
}
