package kernels

import "math"

// Polynomial approximations of exp and erfc used by Softmax and GELU in every
// variant. The SIMD variants evaluate the same formulas lane by lane with the
// same float32 constants, so all variants agree to a few ulp.
//
// The coefficients are Chebyshev fits computed in 40-digit arithmetic with
// mpmath (testdata/fit_coefficients.py), rounded to float32.

const (
	log2e = 1.44269504 // 1/ln 2
	// ln2Hi + ln2Lo = ln 2. ln2Hi has 9 trailing zero bits, so n·ln2Hi is
	// exact for the |n| ≤ 128 that occur, and the reduced argument keeps
	// full precision.
	ln2Hi = 0.693145751953125
	ln2Lo = 1.428606765330187e-06

	// expMin and expMax bound the argument of exp32, so that 2^n stays a
	// normal float32. exp32(x) for x < expMin returns about 1.2e-38, not 0
	// or a subnormal.
	expMin = -87.33
	expMax = 88.0

	// e^r ≈ exp0 + exp1·r + … + exp6·r⁶ for |r| ≤ ln2/2, with a relative
	// error of 2.5e-9 in exact arithmetic.
	exp0 = 1.0
	exp1 = 1.0
	exp2 = 0.5
	exp3 = 0.16666415333747864
	exp4 = 0.04166635125875473
	exp5 = 0.00837512593716383
	exp6 = 0.0013941108481958508
)

const (
	invSqrt2 = 0.70710677

	// erfcMaxArg clamps t in erfc(t). Beyond it, e^(-t²) is below the
	// smallest normal float32, so erfc is 0 to float32 precision, and the
	// result stays tiny but is not exactly 0.
	erfcMaxArg = 9.5

	// erfc(t)·e^(t²) ≈ Σ erfcx_i·yⁱ with y = 1/(1 + t/2), for 0 ≤ t ≤ 9.5,
	// with a relative error of 1.3e-7 in exact arithmetic. The substitution
	// maps [0, ∞) onto (0, 1], where the function is smooth enough for a
	// degree-9 polynomial.
	erfcx0 = -2.0473391487030312e-05
	erfcx1 = 0.28254038095474243
	erfcx2 = 0.27812430262565613
	erfcx3 = 0.2651863694190979
	erfcx4 = 0.13242104649543762
	erfcx5 = 0.1157865822315216
	erfcx6 = 0.09364087134599686
	erfcx7 = -0.33956050872802734
	erfcx8 = 0.21806389093399048
	erfcx9 = -0.04618247225880623
)

// exp32 returns e^x for x in [expMin, expMax] with a relative error of a few
// float32 ulp, and saturates outside it. It splits x = n·ln2 + r with
// |r| ≤ ln2/2 and returns 2^n·e^r.
func exp32(x float32) float32 {
	x = min(max(x, expMin), expMax)
	// Adding and subtracting 1.5·2²³ rounds to the nearest integer, ties
	// to even, as the SIMD kernels' Round does. It needs |x·log2e| < 2²²,
	// which the clamp above ensures.
	const roundingBias = 12582912
	n := float32(x*log2e+roundingBias) - roundingBias
	// The float32 conversions keep compilers that fuse x - n·c into one
	// rounding from changing the result.
	r := x - float32(n*ln2Hi)
	r = r - float32(n*ln2Lo)
	p := float32(exp6)
	p = p*r + exp5
	p = p*r + exp4
	p = p*r + exp3
	p = p*r + exp2
	p = p*r + exp1
	p = p*r + exp0
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// erfcPositive returns erfc(t) for t ≥ 0.
func erfcPositive(t float32) float32 {
	t = min(t, erfcMaxArg)
	return exp32(-(t * t)) * erfcxPoly(t)
}

// erfcxPoly returns erfc(t)·e^(t²) for 0 ≤ t ≤ erfcMaxArg.
func erfcxPoly(t float32) float32 {
	y := 1 / (1 + 0.5*t)
	p := float32(erfcx9)
	p = p*y + erfcx8
	p = p*y + erfcx7
	p = p*y + erfcx6
	p = p*y + erfcx5
	p = p*y + erfcx4
	p = p*y + erfcx3
	p = p*y + erfcx2
	p = p*y + erfcx1
	p = p*y + erfcx0
	return p
}

// geluMaxAbs is erfcMaxArg·√2: gelu32 clamps |x| to it.
const geluMaxAbs = 13.435029

// gelu32 returns x·Φ(x), where Φ(x) = (1 + erf(x/√2))/2 = erfc(-x/√2)/2 is
// the standard normal distribution function. Computing Φ from erfc keeps its
// relative precision for negative x, where 1 + erf(x/√2) would cancel.
//
// The factor e^(-x²/2) of erfc is evaluated from x² split exactly into
// hi + lo: rounding x² or x/√2 to float32 first would change e^(-x²/2) by a
// relative 6e-8·x²/2, which is 5e-6 at x = -13.
func gelu32(x float32) float32 {
	s := min(float32(math.Abs(float64(x))), geluMaxAbs)
	// s has 24 significant bits, so s²/2 is exact in float64.
	square := float64(s) * float64(s) / 2
	hi := float32(square)
	lo := float32(square - float64(hi))
	// e^(-hi - lo) = e^(-hi)·(1 - lo) to float32 precision, as |lo| ≤ 4e-6.
	e := exp32(-hi) * (1 - lo) * erfcxPoly(s*invSqrt2)
	half := 0.5 * e
	if x >= 0 {
		return x * (1 - half)
	}
	return x * half
}

// erf32 returns erf(x) with the approximation behind gelu32. Only tests use
// it, to measure that approximation against math.Erf.
func erf32(x float32) float32 {
	e := erfcPositive(float32(math.Abs(float64(x))))
	if x >= 0 {
		return 1 - e
	}
	return e - 1
}
