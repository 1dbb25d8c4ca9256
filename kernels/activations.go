package kernels

import "math"

// The int16 variants of MatMulInt8 (amd64-avx512 and wasm-simd128) round
// each row of x to integers of at most levels in magnitude before
// multiplying, with one scale per row:
//
//	levels  = min(32767, ⌊(2³¹−1) / (128·in)⌋)
//	inverse = min(levels / max_k |x[r, k]|, MaxFloat32), rounded to float32
//	step    = 1 / inverse, rounded to float32
//	q[k]    = x[r, k] · inverse in float32, rounded to the nearest integer
//	          (ties to even) and clamped to ±levels
//
// The result is step·Σ_k q[k]·w[o, k]. levels is chosen so that no sum of in
// products of at most levels·128 in magnitude (int8 weights reach -128) can
// overflow int32: 32767 up to in = 512, 5461 for in = 3072. amd64-avx512
// sums all of k in int32, wasm-simd128 sums blocks of 256 columns in int32
// and adds the blocks in float32. For rows of finite values, both variants
// compute the same integers from the same x.
//
// Longer rows get fewer levels: below 256 (coarser than int8) past 65536
// values, none at all from 2²⁴ values on. The int16 variants multiply
// float32 activations for rows without levels.

// activationLevels returns the largest magnitude that a row of in values is
// rounded to, or 0 when in is too large for int16 rounding.
func activationLevels(in int) int32 {
	return int32(min(math.MaxInt16, math.MaxInt32/(128*max(in, 1))))
}

// rowQuantization returns the step (the value of one integer) and the
// factor that maps a row whose largest magnitude is largest onto integers.
// The inverse is capped at MaxFloat32, so that rows of tiny values still get
// a finite factor (and a step of 1/MaxFloat32). A row of zeros gets step 0
// and inverse 0. A row with an infinite or NaN value gets step NaN and
// inverse 0, so that its results are NaN.
func rowQuantization(largest float32, levels int32) (step, inverse float32) {
	switch {
	case largest == 0:
		return 0, 0
	case largest <= math.MaxFloat32:
		inverse = float32(min(float64(levels)/float64(largest), math.MaxFloat32))
		return float32(1 / float64(inverse)), inverse
	default:
		return float32(math.NaN()), 0
	}
}

// roundActivation rounds v·inverse to the nearest integer, ties to even,
// and clamps it to ±levels: float32 rounding of v·inverse can exceed levels
// by a fraction. NaN becomes 0.
func roundActivation(v, inverse float32, levels int32) int32 {
	q := math.RoundToEven(float64(v * inverse))
	if q != q {
		return 0
	}
	return int32(max(-float64(levels), min(float64(levels), q)))
}
