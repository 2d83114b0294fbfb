package scoring

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	if got, err := ParseDate("2026-02-28"); err != nil || got != (Date{2026, time.February, 28}) {
		t.Errorf("ParseDate(2026-02-28) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "2026-2-28", "2026-02-30", "2026/02/28", "2026-02-28T00:00:00Z", "26-02-28"} {
		if got, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", bad, got)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := MustParseDate
	tests := []struct {
		from string
		days int
		want string
	}{
		{"2026-01-01", 365, "2027-01-01"},
		{"2028-01-01", 365, "2028-12-31"}, // leap year
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-10-15", 31, "2026-11-15"},
	}
	for _, tt := range tests {
		if got := d(tt.from).AddDays(tt.days); got != d(tt.want) {
			t.Errorf("%s + %d days = %s, want %s", tt.from, tt.days, got, tt.want)
		}
	}
	if !d("2026-12-30").Before(d("2026-12-31")) || d("2026-12-31").Before(d("2026-12-31")) || !d("2027-01-01").After(d("2026-12-31")) {
		t.Error("Before/After disagree with the calendar")
	}
	if got := []int{d("2025-12-31").Compare(d("2026-01-01")), d("2026-02-01").Compare(d("2026-01-31")), d("2026-01-01").Compare(d("2026-01-01"))}; !cmp.Equal(got, []int{-1, 1, 0}) {
		t.Errorf("Compare = %v", got)
	}
	if (Date{}).IsValid() || !d("2026-01-01").IsValid() || (Date{2026, 2, 30}).IsValid() {
		t.Error("IsValid is wrong")
	}
}

func TestDateJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Date }{MustParseDate("2026-10-05")})
	if err != nil || string(b) != `{"D":"2026-10-05"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ D Date }
	if err := json.Unmarshal(b, &back); err != nil || back.D != MustParseDate("2026-10-05") {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"D":"2026-13-01"}`), &back); err == nil {
		t.Error("Unmarshal accepted month 13")
	}
}
