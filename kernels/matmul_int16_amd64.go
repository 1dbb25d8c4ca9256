//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// The amd64-avx512 int8 product rounds x to int16 as described in
// activations.go and multiplies it with VPMADDWD, which multiplies 32 int16
// pairs and adds adjacent products into 16 int32 lanes. A VPMADDWD and a
// VPADDD do 32 multiply-adds where one float32 FMA does 16. These kernels
// were measured on one vCPU of an Intel Xeon. There a 3×4 tile of this form
// ran at 1.75 times the speed of the float32 tile with its data in L1, and
// the whole 768×768 product at 1.5 times (BENCHMARKS.md).
//
// The layout follows the float32 kernels in matmul_amd64.go: dot-product
// tiles of 3 rows × 4 channels, the rows of the rounded x read in place and
// the four weight rows interleaved in a panel, here in chunks of 32 int16.
// The whole of k is one block. At k = 3072 the panel (24 KiB) and the three
// rows of a tile (18 KiB) fit in a 48 KiB L1 data cache, and the int32 sums
// cannot overflow (see activationLevels).

// int16Chunk is the number of int16 values in one 512-bit vector.
const int16Chunk = 32

// prepareInt16 rounds the rows of x to int16 into p.quantized, each row
// padded with zeros to p.ldq, a multiple of int16Chunk, and sets p.steps.
func prepareInt16(p *int8Product, ws *Workspace) {
	ldq := (p.in + int16Chunk - 1) / int16Chunk * int16Chunk
	if cap(ws.int16s) < p.rows*ldq {
		ws.int16s = make([]int16, p.rows*ldq)
	}
	p.quantized = ws.int16s[:p.rows*ldq]
	p.ldq = ldq
	p.steps = grow(&ws.steps, p.rows)

	levels := activationLevels(p.in)
	for r := range p.rows {
		row := p.x[r*p.in : (r+1)*p.in]
		var inverse float32
		p.steps[r], inverse = rowQuantization(maxAbsAVX512(row), levels)
		quantizeRowAVX512(p.quantized[r*ldq:(r+1)*ldq], row, inverse, levels)
	}
}

// maxAbsAVX512 returns the largest |x[i]|, or NaN when x contains a NaN or
// an infinity. Either makes rowQuantization return a NaN step.
func maxAbsAVX512(x []float32) float32 {
	// VMAXPS does not propagate NaN from both operands, so NaN is tracked
	// apart: 0·v is 0 for every finite v and NaN otherwise.
	var m, nan archsimd.Float32x16
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := archsimd.LoadFloat32x16(x[i : i+16]).Abs()
		m = m.Max(v)
		nan = nan.Add(v.Mul(zero))
	}
	var lanes, check [16]float32
	m.StoreArray(&lanes)
	nan.StoreArray(&check)
	archsimd.ClearAVXUpperBits()
	largest := lanes[0]
	for l, v := range lanes {
		largest = max(largest, v, check[l])
	}
	for _, v := range x[i:] {
		largest = max(largest, float32(math.Abs(float64(v))))
	}
	return largest
}

// roundingBias is 1.5·2²³: adding it to a float32 of magnitude below 2²²
// and subtracting it again rounds to an integer, ties to even, in the
// default rounding mode, the same as math.RoundToEven.
const roundingBias = 12582912

// quantizeRowAVX512 sets dst[k] = roundActivation(row[k], inverse, levels)
// for k < len(row) and zero for the rest of dst.
func quantizeRowAVX512(dst []int16, row []float32, inverse float32, levels int32) {
	scale := archsimd.BroadcastFloat32x16(inverse)
	bias := archsimd.BroadcastFloat32x16(roundingBias)
	upper := archsimd.BroadcastFloat32x16(float32(levels))
	lower := archsimd.BroadcastFloat32x16(-float32(levels))
	k := 0
	for ; k+16 <= len(row); k += 16 {
		v := archsimd.LoadFloat32x16(row[k : k+16]).Mul(scale)
		v = v.Add(bias).Sub(bias).Min(upper).Max(lower)
		v.ConvertToInt32().SaturateToInt16().Store(dst[k : k+16])
	}
	archsimd.ClearAVXUpperBits()
	for ; k < len(row); k++ {
		dst[k] = int16(roundActivation(row[k], inverse, levels))
	}
	clear(dst[len(row):])
}

// int8RangeInt16AVX512 computes output channels [from, to) of p, whose x
// prepareInt16 has rounded.
func int8RangeInt16AVX512(p *int8Product, from, to int, scratch *[]float32) {
	in, out, rows, ldq := p.in, p.out, p.rows, p.ldq
	// The panel of four rows of ldq int16 lives in the float32 scratch.
	buf := grow(scratch, 2*ldq)
	panel := unsafe.Slice((*int16)(unsafe.Pointer(unsafe.SliceData(buf))), 4*ldq)
	var tile [12]int32

	for o := from; o < to; o += 4 {
		channels := min(4, to-o)
		packInt16PanelAVX512(panel, p.w[o*in:], in, channels)

		r := 0
		for ; r+3 <= rows; r += 3 {
			dotTile3x4Int16AVX512(ldq, p.quantized[r*ldq:], ldq, panel, &tile)
			storeIntTile(p.dst[r*out+o:], out, &tile, p.steps[r:r+3], 3, channels)
		}
		for ; r < rows; r++ {
			dotTile1x4Int16AVX512(ldq, p.quantized[r*ldq:(r+1)*ldq], panel, &tile)
			storeIntTile(p.dst[r*out+o:], out, &tile, p.steps[r:r+1], 1, channels)
		}
	}

	var bias []float32
	if p.bias != nil {
		bias = p.bias[from:to]
	}
	for r := range rows {
		scaleBiasAVX2(p.dst[r*out+from:r*out+to], p.scale[from:to], bias)
	}
}

// packInt16PanelAVX512 widens rows w[0:], w[in:], w[2·in:] and w[3·in:] of
// the int8 weights to int16, interleaved in chunks of 32:
// panel[(c·4 + j)·32 + t] = w[j·in + 32c + t], zero past in and for rows
// from channels on. len(panel) is 4 times the padded row length.
func packInt16PanelAVX512(panel []int16, w []int8, in, channels int) {
	chunks := len(panel) / (4 * int16Chunk)
	whole := in / int16Chunk
	for j := range 4 {
		if j >= channels {
			for c := range chunks {
				clear(panel[(c*4+j)*int16Chunk : (c*4+j+1)*int16Chunk])
			}
			continue
		}
		row := w[j*in : j*in+in]
		for c := range whole {
			src := archsimd.LoadInt8x32(row[c*int16Chunk : (c+1)*int16Chunk])
			src.ExtendToInt16().StoreArray((*[int16Chunk]int16)(panel[(c*4+j)*int16Chunk:]))
		}
		archsimd.ClearAVXUpperBits()
		for c := whole; c < chunks; c++ {
			dst := panel[(c*4+j)*int16Chunk : (c*4+j+1)*int16Chunk]
			for t := range dst {
				dst[t] = 0
				if q := c*int16Chunk + t; q < in {
					dst[t] = int16(row[q])
				}
			}
		}
	}
}

// storeIntTile stores the rows×channels int32 sums of a tile of rows×4,
// each times its row's step, into rows of dst that start ldc elements apart.
func storeIntTile(dst []float32, ldc int, tile *[12]int32, steps []float32, rows, channels int) {
	for i := range rows {
		d := dst[i*ldc : i*ldc+channels]
		t := tile[i*4 : i*4+channels]
		if channels < 4 {
			for j, v := range t {
				d[j] = float32(v) * steps[i]
			}
			continue
		}
		sums := archsimd.LoadInt32x4Array((*[4]int32)(t)).ConvertToFloat32()
		sums.Mul(archsimd.BroadcastFloat32x4(steps[i])).StoreArray((*[4]float32)(d))
	}
}

func loadInt16x32(p unsafe.Pointer, offset uintptr) archsimd.Int16x32 {
	return archsimd.LoadInt16x32Array((*[int16Chunk]int16)(unsafe.Add(p, offset)))
}

// dotTile3x4Int16AVX512 sets tile[i·4+j] = Σ_{q<k} x[i·ldx+q]·w[j][q] for
// i < 3 and j < 4, with w interleaved in panel as packInt16PanelAVX512
// writes it. k is a multiple of 32. It reads through unsafe pointers, as
// the float32 tiles do.
func dotTile3x4Int16AVX512(k int, x []int16, ldx int, panel []int16, tile *[12]int32) {
	_ = x[2*ldx+k-1]
	_ = panel[4*k-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	x1 := unsafe.Add(x0, ldx*2)
	x2 := unsafe.Add(x0, 2*ldx*2)
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23 archsimd.Int32x16
	// off is the byte offset into the rows of x, 4·off the one into the
	// panel.
	for off := uintptr(0); off < uintptr(k)*2; off += 64 {
		a0 := loadInt16x32(x0, off)
		a1 := loadInt16x32(x1, off)
		a2 := loadInt16x32(x2, off)
		w0 := loadInt16x32(w, 4*off)
		c00 = c00.Add(a0.DotProductPairs(w0))
		c10 = c10.Add(a1.DotProductPairs(w0))
		c20 = c20.Add(a2.DotProductPairs(w0))
		w1 := loadInt16x32(w, 4*off+64)
		c01 = c01.Add(a0.DotProductPairs(w1))
		c11 = c11.Add(a1.DotProductPairs(w1))
		c21 = c21.Add(a2.DotProductPairs(w1))
		w2 := loadInt16x32(w, 4*off+128)
		c02 = c02.Add(a0.DotProductPairs(w2))
		c12 = c12.Add(a1.DotProductPairs(w2))
		c22 = c22.Add(a2.DotProductPairs(w2))
		w3 := loadInt16x32(w, 4*off+192)
		c03 = c03.Add(a0.DotProductPairs(w3))
		c13 = c13.Add(a1.DotProductPairs(w3))
		c23 = c23.Add(a2.DotProductPairs(w3))
	}
	sumInt4x16(c00, c01, c02, c03).StoreArray((*[4]int32)(tile[0:4]))
	sumInt4x16(c10, c11, c12, c13).StoreArray((*[4]int32)(tile[4:8]))
	sumInt4x16(c20, c21, c22, c23).StoreArray((*[4]int32)(tile[8:12]))
	archsimd.ClearAVXUpperBits()
}

// dotTile1x4Int16AVX512 sets tile[j] = Σ_{q<k} x[q]·w[j][q] for j < 4.
func dotTile1x4Int16AVX512(k int, x []int16, panel []int16, tile *[12]int32) {
	_ = x[k-1]
	_ = panel[4*k-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c0, c1, c2, c3 archsimd.Int32x16
	for off := uintptr(0); off < uintptr(k)*2; off += 64 {
		a := loadInt16x32(x0, off)
		c0 = c0.Add(a.DotProductPairs(loadInt16x32(w, 4*off)))
		c1 = c1.Add(a.DotProductPairs(loadInt16x32(w, 4*off+64)))
		c2 = c2.Add(a.DotProductPairs(loadInt16x32(w, 4*off+128)))
		c3 = c3.Add(a.DotProductPairs(loadInt16x32(w, 4*off+192)))
	}
	sumInt4x16(c0, c1, c2, c3).StoreArray((*[4]int32)(tile[0:4]))
	archsimd.ClearAVXUpperBits()
}

// sumInt4x16 returns the horizontal sums of a, b, c and d, in that order.
func sumInt4x16(a, b, c, d archsimd.Int32x16) archsimd.Int32x4 {
	half := func(v archsimd.Int32x16) archsimd.Int32x4 {
		v8 := v.GetLo().Add(v.GetHi())
		return v8.GetLo().Add(v8.GetHi())
	}
	// Each ConcatAddPairs halves the number of partial sums per input.
	return half(a).ConcatAddPairs(half(b)).ConcatAddPairs(half(c).ConcatAddPairs(half(d)))
}
