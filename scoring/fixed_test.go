package scoring

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRound(t *testing.T) {
	tests := []struct {
		in   string
		want Fixed
	}{
		{"84.995", 8500}, // half rounds away from zero
		{"84.994", 8499},
		{"84.9949999999", 8499},
		{"84.99500000001", 8500},
		{"79.995", 8000},
		{"0.005", 1},
		{"0.004", 0},
		{"-0.005", -1}, // away from zero, not up
		{"-0.125", -13},
		{"1/3", 33},
		{"2/3", 67},
		{"100", 10000},
		{"0", 0},
		{"31250/400", 7813}, // 78.125
	}
	for _, tt := range tests {
		if got := Round(rat(tt.in)); got != tt.want {
			t.Errorf("Round(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFixedJSON(t *testing.T) {
	tests := []struct {
		in   Fixed
		want string
	}{
		{8745, "87.45"},
		{9500, "95.0"},
		{250, "2.5"},
		{0, "0.0"},
		{10000, "100.0"},
		{-50, "-0.5"},
		{1, "0.01"},
		{-1, "-0.01"},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("json.Marshal(Fixed(%d)) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
		var back Fixed
		if err := json.Unmarshal(got, &back); err != nil || back != tt.in {
			t.Errorf("json.Unmarshal(%s) = %d, %v; want %d", got, back, err, tt.in)
		}
	}
	for _, bad := range []string{`"1.0"`, `1.005`, `1e2`, `true`} {
		var f Fixed
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("json.Unmarshal(%s) = %d, want an error", bad, f)
		}
	}
}

func TestFixedString(t *testing.T) {
	got := []string{Fixed(8745).String(), Fixed(9500).String(), Fixed(-50).String(), Fixed(7).String()}
	want := []string{"87.45", "95.00", "-0.50", "0.07"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Fixed.String (-want +got):\n%s", diff)
	}
}

func TestTruncatedDecimal(t *testing.T) {
	tests := []struct {
		in     string
		places int
		want   string
	}{
		{"20", 4, "20"},
		{"0.6", 4, "0.6"},
		{"78.125", 4, "78.125"},
		{"475/6", 4, "79.1666…"}, // cut off, not rounded to 79.1667
		{"84.99499", 4, "84.9949…"},
		{"1/3", 2, "0.33…"},
		{"-1/3", 2, "-0.33…"},
		{"1/300", 2, "0.00…"},
	}
	for _, tt := range tests {
		if got := truncatedDecimal(rat(tt.in), tt.places); got != tt.want {
			t.Errorf("truncatedDecimal(%s, %d) = %q, want %q", tt.in, tt.places, got, tt.want)
		}
	}
}
