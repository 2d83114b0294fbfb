package rating_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/rating"
)

func TestParseStuffingRules(t *testing.T) {
	changed := rating.DefaultStuffingRules
	changed.Window, changed.Device, changed.EstateFactor, changed.Comment = 15*time.Minute, 6, 12.5, 0
	for _, tc := range []struct {
		in   string
		want rating.StuffingRules
		err  string
	}{
		{"", rating.DefaultStuffingRules, ""},
		{"on", rating.DefaultStuffingRules, ""},
		{"off", rating.StuffingRules{}, ""},
		{"window=15m, device=6,estate-factor=12.5,comment=0", changed, ""},
		{"device", rating.StuffingRules{}, "want name=value"},
		{"devices=3", rating.StuffingRules{}, "unknown threshold"},
		{"device=-1", rating.StuffingRules{}, "negative"},
		{"window=10s", rating.StuffingRules{}, "at least 1m"},
		{"outlier-gap=NaN", rating.StuffingRules{}, "not a number"},
	} {
		got, err := rating.ParseStuffingRules(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseStuffingRules(%q) error %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStuffingRules(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseStuffingRules(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	if !(rating.StuffingRules{}).Off() || rating.DefaultStuffingRules.Off() {
		t.Error("Off: zero rules hold nothing; the defaults hold")
	}
}

func TestCheckHoldDecision(t *testing.T) {
	for _, tc := range []struct {
		outcome, reason string
		want            error
		trimmed         string
	}{
		{rating.HoldReleased, "", nil, ""},
		{rating.HoldRejected, "  同一手机连续提交 ", nil, "同一手机连续提交"},
		{rating.HoldRejected, " \t", rating.ErrHoldReason, ""},
		{"", "x", rating.ErrHoldOutcome, "x"},
		{"superseded", "x", rating.ErrHoldOutcome, "x"},
		{rating.HoldRejected, strings.Repeat("字", 1001), rating.ErrHoldLong, strings.Repeat("字", 1001)},
		{rating.HoldReleased, "ok\u202etxt", rating.ErrHoldLong, "ok\u202etxt"},
	} {
		d := rating.HoldDecision{Outcome: tc.outcome, Reason: tc.reason}
		if err := rating.CheckHoldDecision(&d); err != tc.want || d.Reason != tc.trimmed {
			t.Errorf("CheckHoldDecision(%q, %q) = %v, reason %q; want %v, %q", tc.outcome, tc.reason, err, d.Reason, tc.want, tc.trimmed)
		}
	}
}
