//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
)

// Row-wise kernels with 256-bit vectors (AVX2 and FMA). Each handles the
// elements past the last multiple of 8 with the scalar code of generic.go
// or approx.go, after clearing the upper vector bits (see matmul_amd64.go).
//
// Vector constants are loaded from the 8-lane arrays in lanes. Building them
// with BroadcastFloat32x8 would compile to a legacy-SSE scalar load and a
// broadcast, and that load is slow once earlier 256-bit instructions have
// left the upper bits dirty.

// splatArray returns v repeated over 8 lanes.
func splatArray(v float32) [8]float32 { return [8]float32{v, v, v, v, v, v, v, v} }

var lanes = struct {
	one, half, negHalf, invSqrt2, geluMaxAbs                       [8]float32
	expMin, log2e, ln2Hi, ln2Lo, exp2, exp3, exp4, exp5, exp6      [8]float32
	erfcx0, erfcx1, erfcx2, erfcx3, erfcx4, erfcx5, erfcx6, erfcx7 [8]float32
	erfcx8, erfcx9                                                 [8]float32
	exponentBias                                                   [8]int32
}{
	one: splatArray(1), half: splatArray(0.5), negHalf: splatArray(-0.5),
	invSqrt2: splatArray(invSqrt2), geluMaxAbs: splatArray(geluMaxAbs),
	expMin: splatArray(expMin), log2e: splatArray(log2e),
	ln2Hi: splatArray(ln2Hi), ln2Lo: splatArray(ln2Lo),
	exp2: splatArray(exp2), exp3: splatArray(exp3), exp4: splatArray(exp4),
	exp5: splatArray(exp5), exp6: splatArray(exp6),
	erfcx0: splatArray(erfcx0), erfcx1: splatArray(erfcx1), erfcx2: splatArray(erfcx2),
	erfcx3: splatArray(erfcx3), erfcx4: splatArray(erfcx4), erfcx5: splatArray(erfcx5),
	erfcx6: splatArray(erfcx6), erfcx7: splatArray(erfcx7), erfcx8: splatArray(erfcx8),
	erfcx9:       splatArray(erfcx9),
	exponentBias: [8]int32{127, 127, 127, 127, 127, 127, 127, 127},
}

func load8s(s []float32) archsimd.Float32x8 { return archsimd.LoadFloat32x8(s) }

func const8(lanes *[8]float32) archsimd.Float32x8 { return archsimd.LoadFloat32x8Array(lanes) }

// splat8 broadcasts a run-time value. The comment on lanes explains why it
// is kept out of loops.
func splat8(v float32) archsimd.Float32x8 { return archsimd.BroadcastFloat32x8(v) }

// hsum8 returns the sum of the lanes of v and clears the upper vector bits:
// the lanes are stored with a vector store and added as scalars afterwards.
func hsum8(v archsimd.Float32x8) float32 {
	var l [8]float32
	v.Store(l[:])
	archsimd.ClearAVXUpperBits()
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

// hmax8 returns the largest lane of v and clears the upper vector bits.
func hmax8(v archsimd.Float32x8) float32 {
	var l [8]float32
	v.Store(l[:])
	archsimd.ClearAVXUpperBits()
	return max(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7])
}

func dotAVX2(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 archsimd.Float32x8
	i := 0
	for ; i+32 <= len(x); i += 32 {
		s0 = load8s(x[i:]).MulAdd(load8s(y[i:]), s0)
		s1 = load8s(x[i+8:]).MulAdd(load8s(y[i+8:]), s1)
		s2 = load8s(x[i+16:]).MulAdd(load8s(y[i+16:]), s2)
		s3 = load8s(x[i+24:]).MulAdd(load8s(y[i+24:]), s3)
	}
	for ; i+8 <= len(x); i += 8 {
		s0 = load8s(x[i:]).MulAdd(load8s(y[i:]), s0)
	}
	sum := hsum8(s0.Add(s1).Add(s2.Add(s3)))
	for ; i < len(x); i++ {
		sum += x[i] * y[i]
	}
	return sum
}

func axpyAVX2(alpha float32, x, y []float32) {
	y = y[:len(x)]
	a := splat8(alpha)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		load8s(x[i:]).MulAdd(a, load8s(y[i:])).Store(y[i:])
	}
	archsimd.ClearAVXUpperBits()
	axpyGeneric(alpha, x[i:], y[i:])
}

func addAVX2(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8s(dst[i:]).Add(load8s(src[i:])).Store(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	addGeneric(dst[i:], src[i:])
}

// mulAddAVX2 adds scale[j]·src[j] to dst[j].
func mulAddAVX2(dst, src, scale []float32) {
	src, scale = src[:len(dst)], scale[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8s(src[i:]).MulAdd(load8s(scale[i:]), load8s(dst[i:])).Store(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < len(dst); i++ {
		dst[i] += scale[i] * src[i]
	}
}

// scaleBiasAVX2 sets row[j] = row[j]·scale[j] + bias[j], or row[j]·scale[j]
// when bias is nil.
func scaleBiasAVX2(row, scale, bias []float32) {
	scale = scale[:len(row)]
	i := 0
	if bias == nil {
		for ; i+8 <= len(row); i += 8 {
			load8s(row[i:]).Mul(load8s(scale[i:])).Store(row[i:])
		}
		archsimd.ClearAVXUpperBits()
		scaleBiasGeneric(row[i:], scale[i:], nil)
		return
	}
	bias = bias[:len(row)]
	for ; i+8 <= len(row); i += 8 {
		load8s(row[i:]).MulAdd(load8s(scale[i:]), load8s(bias[i:])).Store(row[i:])
	}
	archsimd.ClearAVXUpperBits()
	scaleBiasGeneric(row[i:], scale[i:], bias[i:])
}

func layerNormAVX2(dst, x, weight, bias []float32, eps float64) {
	n := len(x)
	dst, weight, bias = dst[:n], weight[:n], bias[:n]

	// The mean: sums of x - x[0] stay near the scale of the deviations
	// even when the mean is far from zero, so float32 partial sums keep
	// their precision.
	shift := x[0]
	shiftV := splat8(shift)
	var s0, s1 archsimd.Float32x8
	i := 0
	for ; i+16 <= n; i += 16 {
		s0 = s0.Add(load8s(x[i:]).Sub(shiftV))
		s1 = s1.Add(load8s(x[i+8:]).Sub(shiftV))
	}
	for ; i+8 <= n; i += 8 {
		s0 = s0.Add(load8s(x[i:]).Sub(shiftV))
	}
	sum := float64(hsum8(s0.Add(s1)))
	for ; i < n; i++ {
		sum += float64(x[i] - shift)
	}
	mean := float64(shift) + sum/float64(n)

	// The variance, with the mean subtracted as meanHi + meanLo so that
	// x - mean is rounded once.
	meanHi := float32(mean)
	meanLo := float32(mean - float64(meanHi))
	hi, lo := splat8(meanHi), splat8(meanLo)
	var q0, q1 archsimd.Float32x8
	i = 0
	for ; i+16 <= n; i += 16 {
		d0 := load8s(x[i:]).Sub(hi).Sub(lo)
		d1 := load8s(x[i+8:]).Sub(hi).Sub(lo)
		q0 = d0.MulAdd(d0, q0)
		q1 = d1.MulAdd(d1, q1)
	}
	for ; i+8 <= n; i += 8 {
		d := load8s(x[i:]).Sub(hi).Sub(lo)
		q0 = d.MulAdd(d, q0)
	}
	squares := float64(hsum8(q0.Add(q1)))
	for ; i < n; i++ {
		d := float64(x[i]-meanHi) - float64(meanLo)
		squares += d * d
	}
	inv := float32(1 / math.Sqrt(squares/float64(n)+eps))

	invV := splat8(inv)
	i = 0
	for ; i+8 <= n; i += 8 {
		d := load8s(x[i:]).Sub(hi).Sub(lo).Mul(invV)
		d.MulAdd(load8s(weight[i:]), load8s(bias[i:])).Store(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		dst[i] = ((x[i]-meanHi)-meanLo)*inv*weight[i] + bias[i]
	}
}

func geluAVX2(x []float32) {
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := load8s(x[i:])
		s := v.Abs().Min(const8(&lanes.geluMaxAbs))
		one := const8(&lanes.one)

		// erfc(t)·e^(t²) for t = s/√2, as in erfcxPoly.
		y := one.Div(s.Mul(const8(&lanes.invSqrt2)).Mul(const8(&lanes.half)).Add(one))
		p := const8(&lanes.erfcx9).MulAdd(y, const8(&lanes.erfcx8))
		p = p.MulAdd(y, const8(&lanes.erfcx7))
		p = p.MulAdd(y, const8(&lanes.erfcx6))
		p = p.MulAdd(y, const8(&lanes.erfcx5))
		p = p.MulAdd(y, const8(&lanes.erfcx4))
		p = p.MulAdd(y, const8(&lanes.erfcx3))
		p = p.MulAdd(y, const8(&lanes.erfcx2))
		p = p.MulAdd(y, const8(&lanes.erfcx1))
		p = p.MulAdd(y, const8(&lanes.erfcx0))

		// e^(-s²/2) with s² = hi + lo exactly, as in gelu32: the fused
		// multiply-add returns the rounding error of s·s.
		hi := s.Mul(s)
		lo := s.MulAdd(s, hi.Neg())
		negHalf := const8(&lanes.negHalf)
		e := exp8(hi.Mul(negHalf))
		e = e.MulAdd(lo.Mul(negHalf), e)

		h := e.Mul(p).Mul(const8(&lanes.half))
		var zero archsimd.Float32x8
		phi := one.Sub(h).IfElse(v.GreaterEqual(zero), h)
		v.Mul(phi).Store(x[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < len(x); i++ {
		x[i] = gelu32(x[i])
	}
}

// exp8 returns e^a for a ≤ 0 lane by lane, as exp32 does.
func exp8(a archsimd.Float32x8) archsimd.Float32x8 {
	a = a.Max(const8(&lanes.expMin))
	n := a.Mul(const8(&lanes.log2e)).Round()
	r := a.Sub(n.Mul(const8(&lanes.ln2Hi))).Sub(n.Mul(const8(&lanes.ln2Lo)))
	one := const8(&lanes.one)
	e := const8(&lanes.exp6).MulAdd(r, const8(&lanes.exp5))
	e = e.MulAdd(r, const8(&lanes.exp4))
	e = e.MulAdd(r, const8(&lanes.exp3))
	e = e.MulAdd(r, const8(&lanes.exp2))
	e = e.MulAdd(r, one)
	e = e.MulAdd(r, one)
	bias := archsimd.LoadInt32x8Array(&lanes.exponentBias)
	return e.Mul(n.ConvertToInt32().Add(bias).ShiftAllLeft(23).AsFloat32x8())
}

func softmaxAVX2(x []float32) {
	n := len(x)
	maxValue := x[0]
	i := 0
	if n >= 8 {
		m := load8s(x)
		for i = 8; i+8 <= n; i += 8 {
			m = m.Max(load8s(x[i:]))
		}
		maxValue = hmax8(m)
	}
	for ; i < n; i++ {
		maxValue = max(maxValue, x[i])
	}

	// e^(x - max). Since x - max ≤ 0, exp8 covers it.
	shift := splat8(maxValue)
	var sums archsimd.Float32x8
	i = 0
	for ; i+8 <= n; i += 8 {
		e := exp8(load8s(x[i:]).Sub(shift))
		e.Store(x[i:])
		sums = sums.Add(e)
	}
	sum := float64(hsum8(sums))
	for ; i < n; i++ {
		e := exp32(x[i] - maxValue)
		x[i] = e
		sum += float64(e)
	}

	inv := float32(1 / sum)
	invV := splat8(inv)
	i = 0
	for ; i+8 <= n; i += 8 {
		load8s(x[i:]).Mul(invV).Store(x[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		x[i] *= inv
	}
}
