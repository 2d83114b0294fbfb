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
