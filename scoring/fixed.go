package scoring

import (
	"fmt"
	"math/big"
	"strings"
)

// Fixed is a reported number: an exact value rounded to hundredths, held as a count of
// hundredths so that it prints, compares and sorts exactly. 87.45 is Fixed(8745).
type Fixed int64

// Round rounds r to hundredths, half away from zero (84.995 → 85.00, −0.125 → −0.13).
// It panics if the result does not fit in a Fixed; Score keeps its inputs far from that.
func Round(r *big.Rat) Fixed {
	// |r|·100 = q + rem/den with 0 ≤ rem < den; round up when rem/den ≥ 1/2.
	if num, den := r.Num(), r.Denom(); num.IsInt64() && den.IsInt64() {
		// The same in int64, when it cannot overflow: the common case, and much faster.
		if n, d := num.Int64(), den.Int64(); n > -maxInt64/200 && n < maxInt64/200 && d < maxInt64/2 {
			abs := n
			if abs < 0 {
				abs = -abs
			}
			q, rem := abs*100/d, abs*100%d
			if 2*rem >= d {
				q++
			}
			if n < 0 {
				return Fixed(-q)
			}
			return Fixed(q)
		}
	}
	num := new(big.Int).Abs(r.Num())
	num.Mul(num, big.NewInt(100))
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		panic(fmt.Sprintf("scoring: %s is too large to report", r.FloatString(2)))
	}
	if r.Sign() < 0 {
		return Fixed(-q.Int64())
	}
	return Fixed(q.Int64())
}

const maxInt64 = 1<<63 - 1

// Rat returns f as an exact rational.
func (f Fixed) Rat() *big.Rat {
	return big.NewRat(int64(f), 100)
}

// String writes f with exactly two decimals: "87.45", "95.00", "-0.50". Explanations use it.
func (f Fixed) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes f as a JSON number with the fewest decimals that keep it exact, but at
// least one, as INTERCHANGE.md shows: 87.45, 95.0, 2.5, 0.0.
func (f Fixed) MarshalJSON() ([]byte, error) {
	s := f.String()
	s = strings.TrimSuffix(s, "0") // 95.00 → 95.0, 2.50 → 2.5, 87.45 stays
	return []byte(s), nil
}

// UnmarshalJSON reads a JSON number with at most two decimals, such as an exported score.
func (f *Fixed) UnmarshalJSON(b []byte) error {
	s := string(b)
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, `"eE/`) {
		return fmt.Errorf("fixed: %s is not a decimal number", s)
	}
	if Round(r).Rat().Cmp(r) != 0 {
		return fmt.Errorf("fixed: %s has more than two decimals", s)
	}
	*f = Round(r)
	return nil
}

// decimalString writes a rational that has a finite decimal expansion (every number read from a
// ruleset or a decimal in the data does) with no more decimals than it needs: 20, 0.6, 0.25.
// A rational without one (1/3) is cut off after 12 decimals and marked "…".
func decimalString(r *big.Rat) string {
	return truncatedDecimal(r, 12)
}

// truncatedDecimal writes r exactly when at most `places` decimals do, and otherwise cut off (not
// rounded) after `places` decimals and followed by "…", so that 84.9949999… is never shown as
// 84.995.
func truncatedDecimal(r *big.Rat, places int) string {
	if p, ok := placesNeeded(r, places); ok {
		return r.FloatString(p)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	q := new(big.Int).Mul(new(big.Int).Abs(r.Num()), scale)
	q.Quo(q, r.Denom())
	digits := fmt.Sprintf("%0*s", places+1, q.String())
	out := digits[:len(digits)-places] + "." + digits[len(digits)-places:] + "…"
	if r.Sign() < 0 {
		out = "-" + out
	}
	return out
}

// placesNeeded returns how many decimals write r exactly, if at most max do: r·10^p is an integer
// exactly when r's (reduced) denominator divides 10^p.
func placesNeeded(r *big.Rat, max int) (int, bool) {
	pow, rem, ten := big.NewInt(1), new(big.Int), big.NewInt(10)
	for p := 0; p <= max; p++ {
		if rem.Rem(pow, r.Denom()).Sign() == 0 {
			return p, true
		}
		pow.Mul(pow, ten)
	}
	return 0, false
}

// mustRat reads a decimal that is known to be well formed.
func mustRat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(fmt.Sprintf("scoring: %q is not a number", s))
	}
	return r
}
