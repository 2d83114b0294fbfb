package scoring

import "math/big"

// weightedMean accumulates Σ w·x / Σ w exactly, for integer weights w and rationals x.
//
// big.Rat.Add reduces its result, a GCD and a few allocations, after every addition; over a
// large city that was most of the cost of scoring. weightedMean keeps an unreduced numerator
// and denominator instead, and reduces once, in mean. The zero value is an empty mean.
type weightedMean struct {
	num, den big.Int // Σ w·x = num/den; den is 0 until the first term
	weights  big.Int
	w, t     big.Int // scratch
}

func (m *weightedMean) add(weight int64, x *big.Rat) {
	m.w.SetInt64(weight)
	m.weights.Add(&m.weights, &m.w)
	xNum, xDen := x.Num(), x.Denom()
	switch {
	case m.den.Sign() == 0:
		m.num.Mul(&m.w, xNum)
		m.den.Set(xDen)
	case m.den.Cmp(xDen) == 0: // the same denominator: only the numerators add up
		m.num.Add(&m.num, m.t.Mul(&m.w, xNum))
	default: // num/den + w·xNum/xDen = (num·xDen + w·xNum·den) / (den·xDen)
		m.num.Mul(&m.num, xDen)
		m.t.Mul(&m.w, xNum)
		m.num.Add(&m.num, m.t.Mul(&m.t, &m.den))
		m.den.Mul(&m.den, xDen)
	}
}

// mean returns Σ w·x / Σ w, reduced. The sum of the weights must be positive.
func (m *weightedMean) mean() *big.Rat {
	den := new(big.Int).Mul(&m.den, &m.weights)
	return new(big.Rat).SetFrac(&m.num, den)
}
