//go:build goexperiment.simd && wasm

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// The WebAssembly products are computed in outer-product form: a tile of 4
// rows × 8 columns of the result stays in eight 4-lane accumulators, and
// each step along k adds a[row][q] (broadcast) times b[q][8 columns]. Both
// operands are first repacked so that each step reads them contiguously:
// the rows of a in groups of four interleaved along k ([k][4]), and b in
// panels of eight columns ([k][8]). This form needs no horizontal sums. Under
// Node 20 its 4×8 kernel ran at about 30 GFLOP/s and a 2×4 dot-product
// kernel, the form of the amd64 kernels, at about 26.

const (
	wasmTileRows = 4
	wasmTileCols = 8
	// wasmKBlock is the depth of the blocks into which MatMulInt8 splits
	// k: a panel of 768×8 float32 weights is 24 KiB, which stays in a
	// 32 KiB L1 data cache while all row groups of x stream past it. Under
	// Node 20 on an Intel Xeon, 768 ran 5% faster than 256, which adds
	// partial sums into dst three times as often.
	wasmKBlock = 768
)

func prepareInt8(p *int8Product, ws *Workspace) {
	groups := (p.rows + wasmTileRows - 1) / wasmTileRows
	p.packedX = grow(&ws.shared, groups*p.in*wasmTileRows)
	packRows4(p.packedX, p.x, p.rows, p.in, p.in)
}

// int8Range computes output channels [from, to) of p.
func int8Range(p *int8Product, from, to int, scratch *[]float32) {
	in, out, rows := p.in, p.out, p.rows
	panel := grow(scratch, min(in, wasmKBlock)*wasmTileCols)
	var tile [wasmTileRows * wasmTileCols]float32

	for k0 := 0; k0 < in; k0 += wasmKBlock {
		kb := min(wasmKBlock, in-k0)
		first := k0 == 0
		for o := from; o < to; o += wasmTileCols {
			channels := min(wasmTileCols, to-o)
			b := panel[:kb*wasmTileCols]
			packInt8Panel(b, p.w, in, o, channels, k0)
			for r := 0; r < rows; r += wasmTileRows {
				start := (r*in + k0*wasmTileRows)
				a := p.packedX[start : start+kb*wasmTileRows]
				kernel4x8(kb, a, b, &tile)
				accumulateTile4x8(p.dst[r*out+o:], out, &tile, min(wasmTileRows, rows-r), channels, first)
			}
		}
	}

	var bias []float32
	if p.bias != nil {
		bias = p.bias[from:to]
	}
	for r := 0; r < rows; r++ {
		scaleBiasSIMD128(p.dst[r*out+from:r*out+to], p.scale[from:to], bias)
	}
}

func prepareFloat(p *floatProduct, ws *Workspace) {
	groups := (p.m + wasmTileRows - 1) / wasmTileRows
	panels := (p.n + wasmTileCols - 1) / wasmTileCols
	sizeA := groups * p.k * wasmTileRows
	buf := grow(&ws.shared, sizeA+panels*p.k*wasmTileCols)
	p.packedA, p.packedB = buf[:sizeA], buf[sizeA:]
	packRows4(p.packedA, p.a, p.m, p.k, p.lda)
	packFloatPanels(p.packedB, p)
}

// floatRange computes rows [from, to) of p, where from is a multiple of 4.
func floatRange(p *floatProduct, from, to int, _ *[]float32) {
	k := p.k
	var tile [wasmTileRows * wasmTileCols]float32
	for r := from; r < to; r += wasmTileRows {
		a := p.packedA[r*k : (r+wasmTileRows)*k]
		for c := 0; c < p.n; c += wasmTileCols {
			b := p.packedB[c*k : (c+wasmTileCols)*k]
			kernel4x8(k, a, b, &tile)
			storeTile4x8(p.dst[r*p.ldc+c:], p.ldc, &tile, min(wasmTileRows, to-r), min(wasmTileCols, p.n-c), p.alpha)
		}
	}
}

// packRows4 stores the rows of a [m, k], whose rows start lda apart, in
// groups of four interleaved along k: dst[(g·k + q)·4 + i] = a[(4g+i)·lda + q].
// The rows past m in the last group are zero.
func packRows4(dst, a []float32, m, k, lda int) {
	for g := 0; g*wasmTileRows < m; g++ {
		block := dst[g*k*wasmTileRows : (g+1)*k*wasmTileRows]
		for i := 0; i < wasmTileRows; i++ {
			r := g*wasmTileRows + i
			if r >= m {
				for q := 0; q < k; q++ {
					block[q*wasmTileRows+i] = 0
				}
				continue
			}
			for q, v := range a[r*lda : r*lda+k] {
				block[q*wasmTileRows+i] = v
			}
		}
	}
}

// packInt8Panel stores the k-block [k0, k0 + len(dst)/8) of the int8 weight
// rows o, …, o+7 of w [·, in] as float32, interleaved along k:
// dst[q·8 + j] = w[(o+j)·in + k0 + q]. Channels past o+channels are zero.
func packInt8Panel(dst []float32, w []int8, in, o, channels, k0 int) {
	kb := len(dst) / wasmTileCols
	if channels < wasmTileCols {
		for q := 0; q < kb; q++ {
			d := dst[q*wasmTileCols : (q+1)*wasmTileCols]
			for j := range d {
				d[j] = 0
				if j < channels {
					d[j] = float32(w[(o+j)*in+k0+q])
				}
			}
		}
		return
	}
	row := func(j int) []int8 { return w[(o+j)*in+k0 : (o+j)*in+k0+kb] }
	w0, w1, w2, w3 := row(0), row(1), row(2), row(3)
	w4, w5, w6, w7 := row(4), row(5), row(6), row(7)
	for q := 0; q < kb; q++ {
		d := dst[q*wasmTileCols : (q+1)*wasmTileCols : (q+1)*wasmTileCols]
		d[0] = float32(w0[q])
		d[1] = float32(w1[q])
		d[2] = float32(w2[q])
		d[3] = float32(w3[q])
		d[4] = float32(w4[q])
		d[5] = float32(w5[q])
		d[6] = float32(w6[q])
		d[7] = float32(w7[q])
	}
}

// packFloatPanels stores the columns of B in panels of eight:
// dst[(c·k + q)·8 + j] = B[q, 8c + j], zero past column n.
func packFloatPanels(dst []float32, p *floatProduct) {
	k := p.k
	for c := 0; c < p.n; c += wasmTileCols {
		panel := dst[c*k : (c+wasmTileCols)*k]
		cols := min(wasmTileCols, p.n-c)
		if cols < wasmTileCols {
			clear(panel)
		}
		if p.transB {
			// Column j of the panel is row c+j of b.
			for j := 0; j < cols; j++ {
				row := p.b[(c+j)*p.ldb : (c+j)*p.ldb+k]
				for q, v := range row {
					panel[q*wasmTileCols+j] = v
				}
			}
			continue
		}
		for q := 0; q < k; q++ {
			copy(panel[q*wasmTileCols:q*wasmTileCols+cols], p.b[q*p.ldb+c:q*p.ldb+c+cols])
		}
	}
}

// accumulateTile4x8 stores (first) or adds (later k blocks) rows×cols sums
// of a 4×8 tile into rows of dst that start ldc elements apart.
func accumulateTile4x8(dst []float32, ldc int, tile *[32]float32, rows, cols int, first bool) {
	for i := 0; i < rows; i++ {
		t := tile[i*wasmTileCols : (i+1)*wasmTileCols]
		if cols < wasmTileCols {
			d := dst[i*ldc : i*ldc+cols]
			for j := range d {
				if first {
					d[j] = t[j]
				} else {
					d[j] += t[j]
				}
			}
			continue
		}
		d := dst[i*ldc : i*ldc+wasmTileCols]
		lo := archsimd.LoadFloat32x4(t[0:4])
		hi := archsimd.LoadFloat32x4(t[4:8])
		if !first {
			lo = lo.Add(archsimd.LoadFloat32x4(d[0:4]))
			hi = hi.Add(archsimd.LoadFloat32x4(d[4:8]))
		}
		lo.Store(d[0:4])
		hi.Store(d[4:8])
	}
}

// storeTile4x8 stores alpha times rows×cols sums of a 4×8 tile into rows of
// dst that start ldc elements apart.
func storeTile4x8(dst []float32, ldc int, tile *[32]float32, rows, cols int, alpha float32) {
	for i := 0; i < rows; i++ {
		t := tile[i*wasmTileCols : i*wasmTileCols+cols]
		d := dst[i*ldc : i*ldc+cols]
		if cols < wasmTileCols {
			for j, v := range t {
				d[j] = alpha * v
			}
			continue
		}
		a := archsimd.BroadcastFloat32x4(alpha)
		archsimd.LoadFloat32x4(t[0:4]).Mul(a).Store(d[0:4])
		archsimd.LoadFloat32x4(t[4:8]).Mul(a).Store(d[4:8])
	}
}

func load4(p unsafe.Pointer, offset uintptr) archsimd.Float32x4 {
	return archsimd.LoadFloat32x4Array((*[4]float32)(unsafe.Add(p, offset)))
}

func splat4At(p unsafe.Pointer, offset uintptr) archsimd.Float32x4 {
	return archsimd.BroadcastFloat32x4(*(*float32)(unsafe.Add(p, offset)))
}

// kernel4x8 sets tile[i·8+j] = Σ_{q<k} a[q·4+i]·b[q·8+j]. It reads a and b
// through unsafe pointers: bounds checks would cost about a third of its
// speed under V8. The two indexing expressions at the top check that the
// last elements read are inside the slices.
func kernel4x8(k int, a, b []float32, tile *[32]float32) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x4
	if k > 0 {
		_ = a[k*wasmTileRows-1]
		_ = b[k*wasmTileCols-1]
		pa := unsafe.Pointer(unsafe.SliceData(a))
		pb := unsafe.Pointer(unsafe.SliceData(b))
		// Two steps per iteration: Go's WebAssembly backend enters every
		// loop iteration through a br_table dispatch, which the unrolling
		// halves. The pointers advance only when another step follows,
		// because Go's unsafe rules forbid pointers past the end of a slice.
		q := 0
		for q+2 <= k {
			b0 := load4(pb, 0)
			b1 := load4(pb, 16)
			x := splat4At(pa, 0)
			c00 = c00.Add(x.Mul(b0))
			c01 = c01.Add(x.Mul(b1))
			x = splat4At(pa, 4)
			c10 = c10.Add(x.Mul(b0))
			c11 = c11.Add(x.Mul(b1))
			x = splat4At(pa, 8)
			c20 = c20.Add(x.Mul(b0))
			c21 = c21.Add(x.Mul(b1))
			x = splat4At(pa, 12)
			c30 = c30.Add(x.Mul(b0))
			c31 = c31.Add(x.Mul(b1))

			b0 = load4(pb, 32)
			b1 = load4(pb, 48)
			x = splat4At(pa, 16)
			c00 = c00.Add(x.Mul(b0))
			c01 = c01.Add(x.Mul(b1))
			x = splat4At(pa, 20)
			c10 = c10.Add(x.Mul(b0))
			c11 = c11.Add(x.Mul(b1))
			x = splat4At(pa, 24)
			c20 = c20.Add(x.Mul(b0))
			c21 = c21.Add(x.Mul(b1))
			x = splat4At(pa, 28)
			c30 = c30.Add(x.Mul(b0))
			c31 = c31.Add(x.Mul(b1))

			q += 2
			if q == k {
				break
			}
			pa = unsafe.Add(pa, 32)
			pb = unsafe.Add(pb, 64)
		}
		if q < k {
			b0 := load4(pb, 0)
			b1 := load4(pb, 16)
			x := splat4At(pa, 0)
			c00 = c00.Add(x.Mul(b0))
			c01 = c01.Add(x.Mul(b1))
			x = splat4At(pa, 4)
			c10 = c10.Add(x.Mul(b0))
			c11 = c11.Add(x.Mul(b1))
			x = splat4At(pa, 8)
			c20 = c20.Add(x.Mul(b0))
			c21 = c21.Add(x.Mul(b1))
			x = splat4At(pa, 12)
			c30 = c30.Add(x.Mul(b0))
			c31 = c31.Add(x.Mul(b1))
		}
	}
	c00.StoreArray((*[4]float32)(tile[0:4]))
	c01.StoreArray((*[4]float32)(tile[4:8]))
	c10.StoreArray((*[4]float32)(tile[8:12]))
	c11.StoreArray((*[4]float32)(tile[12:16]))
	c20.StoreArray((*[4]float32)(tile[16:20]))
	c21.StoreArray((*[4]float32)(tile[20:24]))
	c30.StoreArray((*[4]float32)(tile[24:28]))
	c31.StoreArray((*[4]float32)(tile[28:32]))
}
