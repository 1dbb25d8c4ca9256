//go:build goexperiment.simd && wasm

package kernels

import (
	"math"
	"simd/archsimd"
)

// Row-wise kernels with 128-bit WebAssembly SIMD. Each handles the elements
// past the last multiple of 4 with the scalar code of generic.go or
// approx.go. WebAssembly SIMD has no fused multiply-add, so each product is
// rounded before it is added, as in the scalar code. The vector constants
// are built before the loops, because the compiler does not hoist them.

func load4s(s []float32) archsimd.Float32x4 { return archsimd.LoadFloat32x4(s) }

func splat4(v float32) archsimd.Float32x4 { return archsimd.BroadcastFloat32x4(v) }

// hsum4 returns the sum of the lanes of v.
func hsum4(v archsimd.Float32x4) float32 {
	return (v.GetElem(0) + v.GetElem(1)) + (v.GetElem(2) + v.GetElem(3))
}

func dotSIMD128(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1 archsimd.Float32x4
	i := 0
	for ; i+8 <= len(x); i += 8 {
		s0 = s0.Add(load4s(x[i:]).Mul(load4s(y[i:])))
		s1 = s1.Add(load4s(x[i+4:]).Mul(load4s(y[i+4:])))
	}
	for ; i+4 <= len(x); i += 4 {
		s0 = s0.Add(load4s(x[i:]).Mul(load4s(y[i:])))
	}
	sum := hsum4(s0.Add(s1))
	for ; i < len(x); i++ {
		sum += x[i] * y[i]
	}
	return sum
}

func axpySIMD128(alpha float32, x, y []float32) {
	y = y[:len(x)]
	a := splat4(alpha)
	i := 0
	for ; i+4 <= len(x); i += 4 {
		load4s(y[i:]).Add(load4s(x[i:]).Mul(a)).Store(y[i:])
	}
	axpyGeneric(alpha, x[i:], y[i:])
}

func addSIMD128(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		load4s(dst[i:]).Add(load4s(src[i:])).Store(dst[i:])
	}
	addGeneric(dst[i:], src[i:])
}

// mulAddSIMD128 adds scale[j]·src[j] to dst[j].
func mulAddSIMD128(dst, src, scale []float32) {
	src, scale = src[:len(dst)], scale[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		load4s(dst[i:]).Add(load4s(src[i:]).Mul(load4s(scale[i:]))).Store(dst[i:])
	}
	for ; i < len(dst); i++ {
		dst[i] += scale[i] * src[i]
	}
}

// scaleBiasSIMD128 sets row[j] = row[j]·scale[j] + bias[j], or row[j]·scale[j]
// when bias is nil.
func scaleBiasSIMD128(row, scale, bias []float32) {
	scale = scale[:len(row)]
	i := 0
	if bias == nil {
		for ; i+4 <= len(row); i += 4 {
			load4s(row[i:]).Mul(load4s(scale[i:])).Store(row[i:])
		}
		scaleBiasGeneric(row[i:], scale[i:], nil)
		return
	}
	bias = bias[:len(row)]
	for ; i+4 <= len(row); i += 4 {
		load4s(row[i:]).Mul(load4s(scale[i:])).Add(load4s(bias[i:])).Store(row[i:])
	}
	scaleBiasGeneric(row[i:], scale[i:], bias[i:])
}

func layerNormSIMD128(dst, x, weight, bias []float32, eps float64) {
	n := len(x)
	dst, weight, bias = dst[:n], weight[:n], bias[:n]

	// The mean: sums of x - x[0] stay near the scale of the deviations
	// even when the mean is far from zero, so float32 partial sums keep
	// their precision.
	shift := x[0]
	shiftV := splat4(shift)
	var s0, s1 archsimd.Float32x4
	i := 0
	for ; i+8 <= n; i += 8 {
		s0 = s0.Add(load4s(x[i:]).Sub(shiftV))
		s1 = s1.Add(load4s(x[i+4:]).Sub(shiftV))
	}
	for ; i+4 <= n; i += 4 {
		s0 = s0.Add(load4s(x[i:]).Sub(shiftV))
	}
	sum := float64(hsum4(s0.Add(s1)))
	for ; i < n; i++ {
		sum += float64(x[i] - shift)
	}
	mean := float64(shift) + sum/float64(n)

	// The variance, with the mean subtracted as meanHi + meanLo so that
	// x - mean is rounded once.
	meanHi := float32(mean)
	meanLo := float32(mean - float64(meanHi))
	hi, lo := splat4(meanHi), splat4(meanLo)
	var q0, q1 archsimd.Float32x4
	i = 0
	for ; i+8 <= n; i += 8 {
		d0 := load4s(x[i:]).Sub(hi).Sub(lo)
		d1 := load4s(x[i+4:]).Sub(hi).Sub(lo)
		q0 = q0.Add(d0.Mul(d0))
		q1 = q1.Add(d1.Mul(d1))
	}
	for ; i+4 <= n; i += 4 {
		d := load4s(x[i:]).Sub(hi).Sub(lo)
		q0 = q0.Add(d.Mul(d))
	}
	squares := float64(hsum4(q0.Add(q1)))
	for ; i < n; i++ {
		d := float64(x[i]-meanHi) - float64(meanLo)
		squares += d * d
	}
	inv := float32(1 / math.Sqrt(squares/float64(n)+eps))

	invV := splat4(inv)
	i = 0
	for ; i+4 <= n; i += 4 {
		d := load4s(x[i:]).Sub(hi).Sub(lo).Mul(invV)
		d.Mul(load4s(weight[i:])).Add(load4s(bias[i:])).Store(dst[i:])
	}
	for ; i < n; i++ {
		dst[i] = ((x[i]-meanHi)-meanLo)*inv*weight[i] + bias[i]
	}
}

func geluSIMD128(x []float32) {
	var (
		zero     archsimd.Float32x4
		one      = splat4(1)
		half     = splat4(0.5)
		negHalf  = splat4(-0.5)
		scaleT   = splat4(invSqrt2)
		maxS     = splat4(geluMaxAbs)
		splitter = splat4(4097)
		lowest   = splat4(expMin)
		log2eV   = splat4(log2e)
		ln2HiV   = splat4(ln2Hi)
		ln2LoV   = splat4(ln2Lo)
		bias127  = archsimd.BroadcastInt32x4(127)
	)
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := load4s(x[i:])
		s := v.Abs().Min(maxS)

		// erfc(t)·e^(t²) for t = s/√2, as in erfcxPoly.
		y := one.Div(s.Mul(scaleT).Mul(half).Add(one))
		p := splat4(erfcx9).Mul(y).Add(splat4(erfcx8))
		p = p.Mul(y).Add(splat4(erfcx7))
		p = p.Mul(y).Add(splat4(erfcx6))
		p = p.Mul(y).Add(splat4(erfcx5))
		p = p.Mul(y).Add(splat4(erfcx4))
		p = p.Mul(y).Add(splat4(erfcx3))
		p = p.Mul(y).Add(splat4(erfcx2))
		p = p.Mul(y).Add(splat4(erfcx1))
		p = p.Mul(y).Add(splat4(erfcx0))

		// e^(-s²/2) with s² = hi + lo exactly, as in gelu32. Without a
		// fused multiply-add, lo comes from Dekker's product: s splits
		// into two 12-bit halves whose products are exact.
		c := s.Mul(splitter)
		sHi := c.Sub(c.Sub(s))
		sLo := s.Sub(sHi)
		hi := s.Mul(s)
		cross := sHi.Mul(sLo)
		lo := sHi.Mul(sHi).Sub(hi).Add(cross.Add(cross)).Add(sLo.Mul(sLo))
		a := hi.Mul(negHalf).Max(lowest)
		n := a.Mul(log2eV).Round()
		r := a.Sub(n.Mul(ln2HiV)).Sub(n.Mul(ln2LoV))
		e := splat4(exp6).Mul(r).Add(splat4(exp5))
		e = e.Mul(r).Add(splat4(exp4))
		e = e.Mul(r).Add(splat4(exp3))
		e = e.Mul(r).Add(splat4(exp2))
		e = e.Mul(r).Add(one)
		e = e.Mul(r).Add(one)
		e = e.Mul(n.ConvertToInt32().Add(bias127).ShiftAllLeft(23).ToBits().BitsToFloat32())
		e = e.Add(e.Mul(lo.Mul(negHalf)))

		h := e.Mul(p).Mul(half)
		phi := one.Sub(h).IfElse(v.GreaterEqual(zero), h)
		v.Mul(phi).Store(x[i:])
	}
	for ; i < len(x); i++ {
		x[i] = gelu32(x[i])
	}
}

func softmaxSIMD128(x []float32) {
	n := len(x)
	maxValue := x[0]
	i := 0
	if n >= 4 {
		m := load4s(x)
		for i = 4; i+4 <= n; i += 4 {
			m = m.Max(load4s(x[i:]))
		}
		maxValue = max(m.GetElem(0), m.GetElem(1), m.GetElem(2), m.GetElem(3))
	}
	for ; i < n; i++ {
		maxValue = max(maxValue, x[i])
	}

	var (
		one     = splat4(1)
		shift   = splat4(maxValue)
		lowest  = splat4(expMin)
		log2eV  = splat4(log2e)
		ln2HiV  = splat4(ln2Hi)
		ln2LoV  = splat4(ln2Lo)
		bias127 = archsimd.BroadcastInt32x4(127)
		sums    archsimd.Float32x4
	)
	i = 0
	for ; i+4 <= n; i += 4 {
		// e^(x - max), as in exp32. x - max ≤ 0, so only the lower bound
		// applies.
		a := load4s(x[i:]).Sub(shift).Max(lowest)
		k := a.Mul(log2eV).Round()
		r := a.Sub(k.Mul(ln2HiV)).Sub(k.Mul(ln2LoV))
		e := splat4(exp6).Mul(r).Add(splat4(exp5))
		e = e.Mul(r).Add(splat4(exp4))
		e = e.Mul(r).Add(splat4(exp3))
		e = e.Mul(r).Add(splat4(exp2))
		e = e.Mul(r).Add(one)
		e = e.Mul(r).Add(one)
		e = e.Mul(k.ConvertToInt32().Add(bias127).ShiftAllLeft(23).ToBits().BitsToFloat32())
		e.Store(x[i:])
		sums = sums.Add(e)
	}
	sum := float64(hsum4(sums))
	for ; i < n; i++ {
		e := exp32(x[i] - maxValue)
		x[i] = e
		sum += float64(e)
	}

	inv := float32(1 / sum)
	invV := splat4(inv)
	i = 0
	for ; i+4 <= n; i += 4 {
		load4s(x[i:]).Mul(invV).Store(x[i:])
	}
	for ; i < n; i++ {
		x[i] *= inv
	}
}

// maxAbsSIMD128 returns the largest |x[i]|, 0 for an empty x, and NaN when
// x holds a NaN: f32x4.max propagates NaN.
func maxAbsSIMD128(x []float32) float32 {
	var m archsimd.Float32x4
	i := 0
	for ; i+4 <= len(x); i += 4 {
		m = m.Max(load4s(x[i:]).Abs())
	}
	var lanes [4]float32
	m.StoreArray(&lanes)
	largest := max(lanes[0], lanes[1], lanes[2], lanes[3])
	for _, v := range x[i:] {
		largest = max(largest, float32(math.Abs(float64(v))))
	}
	return largest
}
