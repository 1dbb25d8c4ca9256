package kernels

import "math"

// Scalar kernels. Every build compiles them: they are the only kernels
// without GOEXPERIMENT=simd, and the fallback on amd64 CPUs without AVX2.

// genericChannelAlign is the number of output channels whose int8 weights
// int8RangeGeneric expands to float32 at a time. Four channels of a
// 3072-wide row are 48 KiB, which stays in L2 while every activation row
// streams past it.
const genericChannelAlign = 4

// genericRowAlign is the number of rows of a that floatRangeGeneric
// multiplies at a time.
const genericRowAlign = 2

// int8RangeGeneric computes output channels [from, to) of p.
func int8RangeGeneric(p *int8Product, from, to int, scratch *[]float32) {
	in, out := p.in, p.out
	panel := grow(scratch, genericChannelAlign*in)
	rows := [genericChannelAlign][]float32{panel[:in], panel[in : 2*in], panel[2*in : 3*in], panel[3*in : 4*in]}

	for o := from; o < to; o += genericChannelAlign {
		n := min(genericChannelAlign, to-o)
		// Expand the panel's int8 weights once, for every row of x to reuse.
		for j, row := range rows {
			if j >= n {
				clear(row)
				continue
			}
			for k, v := range p.w[(o+j)*in : (o+j+1)*in] {
				row[k] = float32(v)
			}
		}

		r := 0
		for ; r+1 < p.rows; r += 2 {
			sums := dot2x4(p.x[r*in:(r+1)*in], p.x[(r+1)*in:(r+2)*in], rows[0], rows[1], rows[2], rows[3])
			storeScaled(p.dst[r*out+o:r*out+o+n], sums[0][:n], p.scale[o:o+n], p.bias, o)
			storeScaled(p.dst[(r+1)*out+o:(r+1)*out+o+n], sums[1][:n], p.scale[o:o+n], p.bias, o)
		}
		if r < p.rows {
			x := p.x[r*in : (r+1)*in]
			sums := dot2x4(x, x, rows[0], rows[1], rows[2], rows[3])
			storeScaled(p.dst[r*out+o:r*out+o+n], sums[0][:n], p.scale[o:o+n], p.bias, o)
		}
	}
}

// storeScaled sets dst[j] = sums[j]·scale[j] + bias[offset+j].
func storeScaled(dst, sums, scale, bias []float32, offset int) {
	for j, s := range sums {
		v := s * scale[j]
		if bias != nil {
			v += bias[offset+j]
		}
		dst[j] = v
	}
}

// dot2x4 returns the dot products of two rows with four others: eight
// independent accumulators keep the floating-point pipeline full.
func dot2x4(x0, x1, w0, w1, w2, w3 []float32) [2][4]float32 {
	n := len(x0)
	x1 = x1[:n]
	w0, w1, w2, w3 = w0[:n], w1[:n], w2[:n], w3[:n]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for k := 0; k < n; k++ {
		a0, a1 := x0[k], x1[k]
		b0, b1, b2, b3 := w0[k], w1[k], w2[k], w3[k]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	return [2][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
}

// floatRangeGeneric computes rows [from, to) of p, which must have transB
// set.
func floatRangeGeneric(p *floatProduct, from, to int, _ *[]float32) {
	k := p.k
	bRow := func(j int) []float32 { return p.b[j*p.ldb : j*p.ldb+k] }
	for i := from; i < to; i += genericRowAlign {
		pair := i+1 < to
		a0 := p.a[i*p.lda : i*p.lda+k]
		a1 := a0
		if pair {
			a1 = p.a[(i+1)*p.lda : (i+1)*p.lda+k]
		}
		c0 := p.dst[i*p.ldc : i*p.ldc+p.n]
		var c1 []float32
		if pair {
			c1 = p.dst[(i+1)*p.ldc : (i+1)*p.ldc+p.n]
		}

		j := 0
		for ; j+3 < p.n; j += 4 {
			sums := dot2x4(a0, a1, bRow(j), bRow(j+1), bRow(j+2), bRow(j+3))
			for q := 0; q < 4; q++ {
				c0[j+q] = p.alpha * sums[0][q]
				if pair {
					c1[j+q] = p.alpha * sums[1][q]
				}
			}
		}
		for ; j < p.n; j++ {
			c0[j] = p.alpha * dotGeneric(a0, bRow(j))
			if pair {
				c1[j] = p.alpha * dotGeneric(a1, bRow(j))
			}
		}
	}
}

// transposeB rewrites a product with b [k, n] into one with b stored
// transposed, [n, k], in ws.shared, for the variants whose kernels read both
// operands along k.
func transposeB(p *floatProduct, ws *Workspace) {
	if p.transB {
		return
	}
	bt := grow(&ws.shared, p.n*p.k)
	for q := 0; q < p.k; q++ {
		row := p.b[q*p.ldb : q*p.ldb+p.n]
		for j, v := range row {
			bt[j*p.k+q] = v
		}
	}
	p.b, p.ldb, p.transB = bt, p.k, true
}

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+3 < len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func addGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// addScaledGeneric adds scale[j]·src[r·n+j] to dst[r·n+j] for each row r of
// width n = len(scale).
func addScaledGeneric(dst, src, scale []float32) {
	n := len(scale)
	for r := 0; r+n <= len(dst); r += n {
		d, s := dst[r:r+n], src[r:r+n]
		for j, w := range scale {
			d[j] += w * s[j]
		}
	}
}

// addRowGeneric adds row to each row of x of width len(row).
func addRowGeneric(x, row []float32) {
	n := len(row)
	for r := 0; r+n <= len(x); r += n {
		d := x[r : r+n]
		for j, v := range row {
			d[j] += v
		}
	}
}

// scaleBiasGeneric sets row[j] = row[j]·scale[j] + bias[j], or row[j]·scale[j]
// when bias is nil.
func scaleBiasGeneric(row, scale, bias []float32) {
	scale = scale[:len(row)]
	if bias == nil {
		for j := range row {
			row[j] *= scale[j]
		}
		return
	}
	bias = bias[:len(row)]
	for j := range row {
		row[j] = row[j]*scale[j] + bias[j]
	}
}

// layerNormGeneric normalizes one row. Its statistics accumulate in float64.
func layerNormGeneric(dst, x, weight, bias []float32, eps float64) {
	n := float64(len(x))
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / n
	var squares float64
	for _, v := range x {
		d := float64(v) - mean
		squares += d * d
	}
	inv := 1 / math.Sqrt(squares/n+eps)
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = float32((float64(v)-mean)*inv)*weight[i] + bias[i]
	}
}

func geluGeneric(x []float32) {
	for i, v := range x {
		x[i] = gelu32(v)
	}
}

func softmaxGeneric(x []float32) {
	maxValue := x[0]
	for _, v := range x[1:] {
		maxValue = max(maxValue, v)
	}
	var sum float64
	for i, v := range x {
		e := exp32(v - maxValue)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}
