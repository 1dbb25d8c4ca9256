package kernels

import "math"

// The int16 variants of MatMulInt8 (amd64-avx512 and wasm-simd128) round
// each row of x to int16 before multiplying, with one scale per row:
//
//	levels = min(32767, ⌊(2³¹−1) / (128·in)⌋)
//	step   = max_k |x[r, k]| / levels
//	q[k]   = x[r, k] · (levels / max_k |x[r, k]|), rounded to the nearest
//	         integer, ties to even, in float32
//
// and sum q[k]·w[o, k] exactly in int32. levels is chosen so that no sum of
// in products of at most levels·128 in magnitude (int8 weights reach -128)
// can overflow int32: 32767 up to in = 512, 5461 for in = 3072. Every int16
// variant computes the same integers from the same x.

// activationLevels returns the largest magnitude that a row of in values
// is rounded to.
func activationLevels(in int) int32 {
	return int32(min(math.MaxInt16, math.MaxInt32/(128*max(in, 1))))
}

// rowQuantization returns the step (the value of one integer) and its
// inverse for a row whose largest magnitude is largest. A row of zeros gets
// step 0 and inverse 0. A row with an infinite or NaN value gets step NaN
// and inverse 0, so that its results are NaN as with float32 products.
func rowQuantization(largest float32, levels int32) (step, inverse float32) {
	switch {
	case largest == 0:
		return 0, 0
	case largest <= math.MaxFloat32:
		return largest / float32(levels), float32(levels) / largest
	default:
		return float32(math.NaN()), 0
	}
}

// roundActivation rounds v·inverse to the nearest integer, ties to even,
// and clamps it to ±levels (float32 rounding of v·inverse can exceed levels
// by a fraction).
func roundActivation(v, inverse float32, levels int32) int32 {
	q := int32(math.RoundToEven(float64(v * inverse)))
	return max(-levels, min(levels, q))
}
