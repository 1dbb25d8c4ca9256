//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// The amd64 products are computed in dot-product form. A tile of rows of x
// (or a) is multiplied by four rows of w (or columns of b), both read along
// k, with one vector accumulator per pair. The accumulators are summed
// horizontally at the end. The tiles keep all accumulators in registers:
// 3×4 16-lane accumulators with AVX-512 (of 32 vector registers), 2×4
// 8-lane ones with AVX2 (of 16).
//
// In the AVX2 int8 product and in the float32 products, the four rows of w
// (or columns of b) are first copied, as float32, into a panel that
// interleaves them in chunks of one vector along k:
// panel[(q/L)·4L + j·L + q%L] = w[j][q] for L lanes, zero past k. One
// base pointer and one offset then address all four rows, which leaves the
// compiler enough general-purpose registers to keep its loop free of
// spills. Rows of x are read in place.

// amd64KBlock is the depth of the blocks into which the AVX2 MatMulInt8
// splits k. A 4×768 float32 weight panel (12 KiB) and the two 768-wide rows
// of x of a tile (6 KiB) fit together in a 32 KiB L1 data cache.
const amd64KBlock = 768

// lanesFor returns the float32 lanes of one vector: 16 for AVX-512 (wide),
// 8 for AVX2.
func lanesFor(wide bool) int {
	if wide {
		return 16
	}
	return 8
}

// panelSize returns the length of a panel of four rows of depth k.
func panelSize(k, lanes int) int {
	return (k + lanes - 1) / lanes * lanes * 4
}

// int8RangeAVX2 computes output channels [from, to) of p with the AVX2
// float32 kernels. The AVX-512 level multiplies int16 activations instead
// (matmul_int16_amd64.go).
func int8RangeAVX2(p *int8Product, from, to int, scratch *[]float32) {
	in, out, rows := p.in, p.out, p.rows
	const lanes, tileRows = 8, 2
	panel := grow(scratch, panelSize(min(in, amd64KBlock), lanes))
	var tile [12]float32

	for k0 := 0; k0 < in; k0 += amd64KBlock {
		kb := min(amd64KBlock, in-k0)
		first := k0 == 0
		block := panel[:panelSize(kb, lanes)]
		for o := from; o < to; o += 4 {
			channels := min(4, to-o)
			// Expand the int8 weights of four channels once, for every
			// row of x to reuse.
			packInt8PanelAVX2(block, p.w[o*in+k0:], in, kb, channels)

			r := 0
			for ; r+tileRows <= rows; r += tileRows {
				dotTile2x4AVX2(kb, p.x[r*in+k0:], in, block, &tile)
				accumulateTile(p.dst[r*out+o:], out, tile[:tileRows*4], tileRows, channels, first)
			}
			for ; r < rows; r++ {
				dotTile1x4AVX2(kb, p.x[r*in+k0:], block, &tile)
				accumulateTile(p.dst[r*out+o:], out, tile[:4], 1, channels, first)
			}
		}
	}

	var bias []float32
	if p.bias != nil {
		bias = p.bias[from:to]
	}
	for r := 0; r < rows; r++ {
		scaleBiasAVX2(p.dst[r*out+from:r*out+to], p.scale[from:to], bias)
	}
}

// prepareFloatAVX packs b into panels of four columns of B, one after the
// other in p.packedB, for floatRangeAVX.
func prepareFloatAVX(p *floatProduct, ws *Workspace, wide bool) {
	lanes := lanesFor(wide)
	size := panelSize(p.k, lanes)
	groups := (p.n + 3) / 4
	p.packedB = grow(&ws.shared, groups*size)
	for g := 0; g < groups; g++ {
		packFloatPanel(p.packedB[g*size:(g+1)*size], p, 4*g, lanes)
	}
}

// floatRangeAVX computes rows [from, to) of p, whose b prepareFloatAVX has
// packed.
func floatRangeAVX(p *floatProduct, from, to int, wide bool) {
	tileRows := 2
	if wide {
		tileRows = 3
	}
	size := panelSize(p.k, lanesFor(wide))
	alpha := archsimd.BroadcastFloat32x4(p.alpha)
	var tile, single [12]float32

	for i := from; i < to; i += tileRows {
		m := min(tileRows, to-i)
		a := p.a[i*p.lda:]
		for j := 0; j < p.n; j += 4 {
			panel := p.packedB[j/4*size : (j/4+1)*size]
			switch {
			case m == tileRows && wide:
				dotTile3x4AVX512(p.k, a, p.lda, panel, &tile)
			case m == tileRows:
				dotTile2x4AVX2(p.k, a, p.lda, panel, &tile)
			default:
				// Fewer rows are left than a tile holds.
				for r := 0; r < m; r++ {
					if wide {
						dotTile1x4AVX512(p.k, a[r*p.lda:], panel, &single)
					} else {
						dotTile1x4AVX2(p.k, a[r*p.lda:], panel, &single)
					}
					copy(tile[r*4:r*4+4], single[:4])
				}
			}

			cols := min(4, p.n-j)
			for r := 0; r < m; r++ {
				d := p.dst[(i+r)*p.ldc+j : (i+r)*p.ldc+j+cols]
				if cols < 4 {
					for c := range d {
						d[c] = p.alpha * tile[r*4+c]
					}
					continue
				}
				sums := archsimd.LoadFloat32x4Array((*[4]float32)(tile[r*4 : r*4+4]))
				sums.Mul(alpha).StoreArray((*[4]float32)(d))
			}
		}
	}
}

// packInt8PanelAVX2 fills panel with the first k weights of rows w[0:],
// w[in:], w[2·in:] and w[3·in:] as float32, interleaved in chunks of 8 as
// dotTile2x4AVX2 reads them. Rows from channels on are zero.
func packInt8PanelAVX2(panel []float32, w []int8, in, k, channels int) {
	const lanes = 8
	chunks := k / lanes
	clear(panel[chunks*4*lanes:])
	chunk := func(c, j int) []float32 { return panel[(4*c+j)*lanes : (4*c+j+1)*lanes] }
	for j := 0; j < 4; j++ {
		if j >= channels {
			for c := 0; c < chunks; c++ {
				clear(chunk(c, j))
			}
			continue
		}
		row := w[j*in : j*in+k]
		c := 0
		// Two 8-lane chunks per 16-byte load.
		for ; c+1 < chunks; c += 2 {
			src := archsimd.LoadInt8x16(row[c*8 : (c+2)*8]).ExtendToInt16()
			src.GetLo().ExtendToInt32().ConvertToFloat32().Store(chunk(c, j))
			src.GetHi().ExtendToInt32().ConvertToFloat32().Store(chunk(c+1, j))
		}
		archsimd.ClearAVXUpperBits()
		// A last 8-lane chunk without a 16-byte load, and the elements
		// past the last whole chunk.
		for q := c * lanes; q < k; q++ {
			panel[(4*(q/lanes)+j)*lanes+q%lanes] = float32(row[q])
		}
	}
}

// packFloatPanel fills panel with columns col, …, col+3 of B, interleaved
// as the tile kernels read them. Columns past n are zero.
func packFloatPanel(panel []float32, p *floatProduct, col, lanes int) {
	cols := min(4, p.n-col)
	if cols < 4 {
		clear(panel)
	}
	if !p.transB {
		// Row q of b holds element q of each column.
		for q := 0; q < p.k; q++ {
			base := (4*(q/lanes))*lanes + q%lanes
			for j, v := range p.b[q*p.ldb+col : q*p.ldb+col+cols] {
				panel[base+j*lanes] = v
			}
		}
		return
	}
	for j := 0; j < cols; j++ {
		row := p.b[(col+j)*p.ldb : (col+j)*p.ldb+p.k]
		for c := 0; c*lanes < p.k; c++ {
			copy(panel[(4*c+j)*lanes:(4*c+j+1)*lanes], row[c*lanes:min((c+1)*lanes, p.k)])
		}
	}
	// The tail chunk of a full panel keeps zeros past k.
	if tail := p.k % lanes; tail != 0 && cols == 4 {
		c := p.k / lanes
		for j := 0; j < 4; j++ {
			clear(panel[(4*c+j)*lanes+tail : (4*c+j+1)*lanes])
		}
	}
}

// accumulateTile stores (first) or adds (later k blocks) a tile of rows×4
// sums into the first channels columns of rows consecutive rows of dst,
// which start ldc elements apart.
func accumulateTile(dst []float32, ldc int, tile []float32, rows, channels int, first bool) {
	for i := 0; i < rows; i++ {
		d := dst[i*ldc : i*ldc+channels]
		t := tile[i*4 : i*4+channels]
		if channels < 4 {
			for j, v := range t {
				if first {
					d[j] = v
				} else {
					d[j] += v
				}
			}
			continue
		}
		sums := archsimd.LoadFloat32x4Array((*[4]float32)(t))
		if !first {
			sums = sums.Add(archsimd.LoadFloat32x4Array((*[4]float32)(d)))
		}
		sums.StoreArray((*[4]float32)(d))
	}
}

// addTailSums adds the terms q in [from, k) to a tile of rows×4 sums: the
// part of k past the last whole vector, which the vector loops leave over.
func addTailSums(tile *[12]float32, rows, from, k int, x []float32, ldx int, panel []float32, lanes int) {
	chunk := panel[from*4:]
	for i := 0; i < rows; i++ {
		xr := x[i*ldx+from : i*ldx+k]
		for j := 0; j < 4; j++ {
			wr := chunk[j*lanes : j*lanes+len(xr)]
			var s float32
			for q, v := range xr {
				s += v * wr[q]
			}
			tile[i*4+j] += s
		}
	}
}

// The tile kernels below read through unsafe pointers, which removes the
// bounds checks from their inner loops. Each first checks, with one
// indexing expression per operand, that the last element it reads is
// inside the slice. They form each address as a base pointer plus an
// offset below the end of the slice, never a pointer past its end, which
// Go's unsafe rules forbid and checkptr (go test -race) rejects.
//
// Every function here and in elementwise_amd64.go that uses 256- or 512-bit
// vectors calls archsimd.ClearAVXUpperBits (VZEROUPPER) before it returns
// or runs scalar code. Go 1.27 encodes scalar float operations and 128-bit
// spills as legacy SSE instructions, which are slow while the upper bits of
// the vector registers are dirty. On the Intel Xeon (KVM guest) these
// kernels were measured on, one 128-bit reload after each 512-bit kernel
// call cut MatMulTransB from 50 to 8.4 GFLOP/s.

func load16(p unsafe.Pointer, offset uintptr) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16Array((*[16]float32)(unsafe.Add(p, offset)))
}

func load8(p unsafe.Pointer, offset uintptr) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(p, offset)))
}

// dotTile3x4AVX512 sets tile[i·4+j] = Σ_{q<k} x[i·ldx+q]·w[j][q] for i < 3
// and j < 4, where panel holds the rows w[j] interleaved in chunks of 16.
func dotTile3x4AVX512(k int, x []float32, ldx int, panel []float32, tile *[12]float32) {
	if k == 0 {
		*tile = [12]float32{}
		return
	}
	_ = x[2*ldx+k-1]
	_ = panel[panelSize(k, 16)-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	x1 := unsafe.Add(x0, ldx*4)
	x2 := unsafe.Add(x0, 2*ldx*4)
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23 archsimd.Float32x16
	vectorEnd := k &^ 15
	// off is the byte offset into the rows of x, 4·off the one into the
	// panel.
	for off := uintptr(0); off < uintptr(vectorEnd)*4; off += 64 {
		a0 := load16(x0, off)
		a1 := load16(x1, off)
		a2 := load16(x2, off)
		w0 := load16(w, 4*off)
		c00 = a0.MulAdd(w0, c00)
		c10 = a1.MulAdd(w0, c10)
		c20 = a2.MulAdd(w0, c20)
		w1 := load16(w, 4*off+64)
		c01 = a0.MulAdd(w1, c01)
		c11 = a1.MulAdd(w1, c11)
		c21 = a2.MulAdd(w1, c21)
		w2 := load16(w, 4*off+128)
		c02 = a0.MulAdd(w2, c02)
		c12 = a1.MulAdd(w2, c12)
		c22 = a2.MulAdd(w2, c22)
		w3 := load16(w, 4*off+192)
		c03 = a0.MulAdd(w3, c03)
		c13 = a1.MulAdd(w3, c13)
		c23 = a2.MulAdd(w3, c23)
	}
	sum4x16(c00, c01, c02, c03).StoreArray((*[4]float32)(tile[0:4]))
	sum4x16(c10, c11, c12, c13).StoreArray((*[4]float32)(tile[4:8]))
	sum4x16(c20, c21, c22, c23).StoreArray((*[4]float32)(tile[8:12]))
	archsimd.ClearAVXUpperBits()
	if vectorEnd < k {
		addTailSums(tile, 3, vectorEnd, k, x, ldx, panel, 16)
	}
}

// dotTile1x4AVX512 sets tile[j] = Σ_{q<k} x[q]·w[j][q] for j < 4.
func dotTile1x4AVX512(k int, x, panel []float32, tile *[12]float32) {
	if k == 0 {
		*tile = [12]float32{}
		return
	}
	_ = x[k-1]
	_ = panel[panelSize(k, 16)-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c0, c1, c2, c3 archsimd.Float32x16
	vectorEnd := k &^ 15
	for off := uintptr(0); off < uintptr(vectorEnd)*4; off += 64 {
		a0 := load16(x0, off)
		c0 = a0.MulAdd(load16(w, 4*off), c0)
		c1 = a0.MulAdd(load16(w, 4*off+64), c1)
		c2 = a0.MulAdd(load16(w, 4*off+128), c2)
		c3 = a0.MulAdd(load16(w, 4*off+192), c3)
	}
	sum4x16(c0, c1, c2, c3).StoreArray((*[4]float32)(tile[0:4]))
	archsimd.ClearAVXUpperBits()
	if vectorEnd < k {
		addTailSums(tile, 1, vectorEnd, k, x, 0, panel, 16)
	}
}

// dotTile2x4AVX2 sets tile[i·4+j] = Σ_{q<k} x[i·ldx+q]·w[j][q] for i < 2
// and j < 4, where panel holds the rows w[j] interleaved in chunks of 8.
func dotTile2x4AVX2(k int, x []float32, ldx int, panel []float32, tile *[12]float32) {
	if k == 0 {
		*tile = [12]float32{}
		return
	}
	_ = x[ldx+k-1]
	_ = panel[panelSize(k, 8)-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	x1 := unsafe.Add(x0, ldx*4)
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c00, c01, c02, c03, c10, c11, c12, c13 archsimd.Float32x8
	vectorEnd := k &^ 7
	for off := uintptr(0); off < uintptr(vectorEnd)*4; off += 32 {
		a0 := load8(x0, off)
		a1 := load8(x1, off)
		w0 := load8(w, 4*off)
		c00 = a0.MulAdd(w0, c00)
		c10 = a1.MulAdd(w0, c10)
		w1 := load8(w, 4*off+32)
		c01 = a0.MulAdd(w1, c01)
		c11 = a1.MulAdd(w1, c11)
		w2 := load8(w, 4*off+64)
		c02 = a0.MulAdd(w2, c02)
		c12 = a1.MulAdd(w2, c12)
		w3 := load8(w, 4*off+96)
		c03 = a0.MulAdd(w3, c03)
		c13 = a1.MulAdd(w3, c13)
	}
	sum4x8(c00, c01, c02, c03).StoreArray((*[4]float32)(tile[0:4]))
	sum4x8(c10, c11, c12, c13).StoreArray((*[4]float32)(tile[4:8]))
	archsimd.ClearAVXUpperBits()
	if vectorEnd < k {
		addTailSums(tile, 2, vectorEnd, k, x, ldx, panel, 8)
	}
}

// dotTile1x4AVX2 sets tile[j] = Σ_{q<k} x[q]·w[j][q] for j < 4.
func dotTile1x4AVX2(k int, x, panel []float32, tile *[12]float32) {
	if k == 0 {
		*tile = [12]float32{}
		return
	}
	_ = x[k-1]
	_ = panel[panelSize(k, 8)-1]
	x0 := unsafe.Pointer(unsafe.SliceData(x))
	w := unsafe.Pointer(unsafe.SliceData(panel))

	var c0, c1, c2, c3 archsimd.Float32x8
	vectorEnd := k &^ 7
	for off := uintptr(0); off < uintptr(vectorEnd)*4; off += 32 {
		a0 := load8(x0, off)
		c0 = a0.MulAdd(load8(w, 4*off), c0)
		c1 = a0.MulAdd(load8(w, 4*off+32), c1)
		c2 = a0.MulAdd(load8(w, 4*off+64), c2)
		c3 = a0.MulAdd(load8(w, 4*off+96), c3)
	}
	sum4x8(c0, c1, c2, c3).StoreArray((*[4]float32)(tile[0:4]))
	archsimd.ClearAVXUpperBits()
	if vectorEnd < k {
		addTailSums(tile, 1, vectorEnd, k, x, 0, panel, 8)
	}
}

// sum4x16 returns the horizontal sums of a, b, c and d, in that order.
func sum4x16(a, b, c, d archsimd.Float32x16) archsimd.Float32x4 {
	return sum4x8(a.GetLo().Add(a.GetHi()), b.GetLo().Add(b.GetHi()),
		c.GetLo().Add(c.GetHi()), d.GetLo().Add(d.GetHi()))
}

// sum4x8 returns the horizontal sums of a, b, c and d, in that order.
func sum4x8(a, b, c, d archsimd.Float32x8) archsimd.Float32x4 {
	a4 := a.GetLo().Add(a.GetHi())
	b4 := b.GetLo().Add(b.GetHi())
	c4 := c.GetLo().Add(c.GetHi())
	d4 := d.GetLo().Add(d.GetHi())
	// Each ConcatAddPairs halves the number of partial sums per input.
	return a4.ConcatAddPairs(b4).ConcatAddPairs(c4.ConcatAddPairs(d4))
}
