//go:build goexperiment.simd && wasm

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// The WebAssembly products are computed in outer-product form: a tile of 6
// rows × 8 columns of the result stays in twelve 4-lane accumulators, and
// each step along k adds a[row][q] times b[q][8 columns]. Both operands are
// first repacked so that each step reads them contiguously: b in panels of
// eight columns ([k][8]), and the rows of a in groups of six with each value
// repeated in all four lanes ([k][6][4]). The int8 product steps two columns
// of k at a time, as int16 pairs in int32 words, and the float32 products
// of attention one column.
//
// The repetition replaces a broadcast per row and step with a plain load.
// V8 compiles f32x4.splat to a shuffle on x86, which competes with the
// additions for the same execution ports; a load does not. Under Node 20 on
// an Intel Xeon the 6×8 float32 kernel with repeated rows ran at 35 GFLOP/s
// with its operands in cache, a 4×8 kernel with broadcasts at 26.
const (
	wasmTileRows = 6
	wasmTileCols = 8
	// wasmGroupSize is the number of 4-byte values that one step along k
	// reads from a packed row group: six rows of four lanes.
	wasmGroupSize = wasmTileRows * 4
	// wasmKBlock is the depth of the blocks into which MatMulInt8 splits
	// k. One block of x in the repeated layout is 198 rows × 128 pairs × 16
	// bytes = 0.4 MB, which stays in a 2 MB L2 cache while all weight
	// panels pass it; one panel of 128 pairs × 8 channels is 4 KiB.
	wasmKBlock = 256
)

// prepareInt8 does nothing: each job rounds x to int16 one k block at a time.
func prepareInt8(*int8Product, *Workspace) {}

// int8Range computes output channels [from, to) of p with int16 products,
// rounding x as described in activations.go. dotKernel6x8 sums the products
// in int32 with i32x4.dot_i16x8_s, which multiplies and adds eight pairs in
// one instruction, and accumulateIntTile adds each k block's sums, times
// the row's step, to dst.
func int8Range(p *int8Product, from, to int, scratch *[]float32) {
	in, out, rows := p.in, p.out, p.rows
	levels := activationLevels(in)
	if levels == 0 {
		// Rows too long for int16 rounding.
		int8RangeGeneric(p, from, to, scratch)
		return
	}
	groups := (rows + wasmTileRows - 1) / wasmTileRows
	padded := groups * wasmTileRows
	maxPairs := (min(in, wasmKBlock) + 1) / 2
	buf := grow(scratch, maxPairs*wasmTileCols+groups*wasmGroupSize*maxPairs+2*padded)
	words := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf))
	panel := words[:maxPairs*wasmTileCols]
	packedX := words[len(panel) : len(panel)+groups*wasmGroupSize*maxPairs]
	steps := buf[len(panel)+len(packedX):][:padded]
	inverses := buf[len(panel)+len(packedX)+padded:][:padded]
	var tile [wasmTileRows * wasmTileCols]int32

	for r := range padded {
		steps[r], inverses[r] = 0, 0
		if r < rows {
			steps[r], inverses[r] = rowQuantization(maxAbsSIMD128(p.x[r*in:(r+1)*in]), levels)
		}
	}

	for k0 := 0; k0 < in; k0 += wasmKBlock {
		kb := min(wasmKBlock, in-k0)
		pairs := (kb + 1) / 2
		first := k0 == 0
		quantizeRowGroups(packedX, inverses, p.x, rows, in, k0, kb, levels)
		for o := from; o < to; o += wasmTileCols {
			channels := min(wasmTileCols, to-o)
			b := panel[:pairs*wasmTileCols]
			packInt16PairPanel(b, p.w, in, o, channels, k0, kb)
			for g := range groups {
				r := g * wasmTileRows
				a := packedX[g*pairs*wasmGroupSize : (g+1)*pairs*wasmGroupSize]
				dotKernel6x8(pairs, &a[0], &b[0], &tile)
				accumulateIntTile(p.dst[r*out+o:], out, &tile, steps[r:r+wasmTileRows], min(wasmTileRows, rows-r), channels, first)
			}
		}
	}

	var bias []float32
	if p.bias != nil {
		bias = p.bias[from:to]
	}
	for r := range rows {
		scaleBiasSIMD128(p.dst[r*out+from:r*out+to], p.scale[from:to], bias)
	}
}

// variantActivationLevels returns the largest magnitude that MatMulInt8 rounds
// a row of in activations to.
func variantActivationLevels(in int) int32 { return activationLevels(in) }

// Constants of quantizeRowGroups: the low and high 16 bits of each int32
// lane, and the byte indices that repeat lane 0 or lane 2 in all four.
var (
	lowHalves   = archsimd.BroadcastInt32x4(0x0000FFFF)
	highHalves  = archsimd.BroadcastInt32x4(-0x10000)
	repeatLane0 = archsimd.LoadInt8x16Array(&[16]int8{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3})
	repeatLane2 = archsimd.LoadInt8x16Array(&[16]int8{8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11})
)

//go:noescape
func dotKernel6x8(pairs int, a, b *int32, tile *[wasmTileRows * wasmTileCols]int32)

// quantizeRowGroups rounds columns [k0, k0+kb) of the rows of x, whose rows
// start ld elements apart, to integers (x times the row's inverse step) and
// stores them in groups of six rows as int16 pairs. Each int32 word holds
// two columns, the even one in the low half, and is repeated in four lanes:
// dst[((g·pairs + p)·6 + i)·4 + lane] holds columns k0+2p and k0+2p+1 of row
// 6g+i, where pairs = ⌈kb/2⌉. Rows past rows, and the odd column past kb,
// are zero.
func quantizeRowGroups(dst []int32, inverses, x []float32, rows, ld, k0, kb int, levels int32) {
	pairs := (kb + 1) / 2
	groups := (rows + wasmTileRows - 1) / wasmTileRows
	for r := range groups * wasmTileRows {
		g, i := r/wasmTileRows, r%wasmTileRows
		block := dst[g*pairs*wasmGroupSize : (g+1)*pairs*wasmGroupSize]
		if r >= rows {
			for q := range pairs {
				archsimd.Int32x4{}.StoreArray((*[4]int32)(block[(q*wasmTileRows+i)*4:]))
			}
			continue
		}

		row := x[r*ld+k0 : r*ld+k0+kb]
		inverse := inverses[r]
		q := 0
		// Two pairs at a time. Within each 64-bit lane, the odd column's
		// low half is shifted next to the even column's, and each of the
		// two words is then repeated in four lanes by a byte swizzle.
		scale := archsimd.BroadcastFloat32x4(inverse)
		upper := archsimd.BroadcastFloat32x4(float32(levels))
		lower := archsimd.BroadcastFloat32x4(-float32(levels))
		for ; 2*q+4 <= kb; q += 2 {
			v := load4s(row[2*q:]).Mul(scale).Round().Min(upper).Max(lower).ConvertToInt32()
			shifted := v.ToBits().ReshapeToUint64s().ShiftAllRight(16).ReshapeToUint32s().BitsToInt32()
			words := v.And(lowHalves).Or(shifted.And(highHalves)).ToBits().ReshapeToUint8s().BitsToInt8()
			words.LookupOrZero(repeatLane0).ToBits().ReshapeToUint32s().BitsToInt32().StoreArray((*[4]int32)(block[(q*wasmTileRows+i)*4:]))
			words.LookupOrZero(repeatLane2).ToBits().ReshapeToUint32s().BitsToInt32().StoreArray((*[4]int32)(block[((q+1)*wasmTileRows+i)*4:]))
		}
		for ; q < pairs; q++ {
			lo := roundActivation(row[2*q], inverse, levels)
			hi := int32(0)
			if 2*q+1 < kb {
				hi = roundActivation(row[2*q+1], inverse, levels)
			}
			word := int32(uint32(uint16(lo)) | uint32(hi)<<16)
			archsimd.BroadcastInt32x4(word).StoreArray((*[4]int32)(block[(q*wasmTileRows+i)*4:]))
		}
	}
}

// packInt16PairPanel widens the k block [k0, k0+kb) of the int8 weight rows o,
// …, o+7 of w [·, in] to int16, two columns per int32 word as in
// quantizeRowGroups: dst[p·8 + j] holds w[o+j, k0+2p] and w[o+j, k0+2p+1].
// Channels past o+channels and the odd column past kb are zero.
func packInt16PairPanel(dst []int32, w []int8, in, o, channels, k0, kb int) {
	pairs := (kb + 1) / 2
	for j := range wasmTileCols {
		if j >= channels {
			for q := range pairs {
				dst[q*wasmTileCols+j] = 0
			}
			continue
		}
		row := w[(o+j)*in+k0 : (o+j)*in+k0+kb]
		q := 0
		// Eight pairs at a time: one load, two sign extensions, and the
		// eight words stored eight apart.
		for ; 2*q+16 <= kb; q += 8 {
			b := archsimd.LoadInt8x16(row[2*q : 2*q+16])
			lo := b.ExtendLo8ToInt16().ToBits().ReshapeToUint32s().BitsToInt32()
			hi := b.ExtendHi8ToInt16().ToBits().ReshapeToUint32s().BitsToInt32()
			d := dst[q*wasmTileCols+j : (q+7)*wasmTileCols+j+1]
			d[0] = lo.GetElem(0)
			d[wasmTileCols] = lo.GetElem(1)
			d[2*wasmTileCols] = lo.GetElem(2)
			d[3*wasmTileCols] = lo.GetElem(3)
			d[4*wasmTileCols] = hi.GetElem(0)
			d[5*wasmTileCols] = hi.GetElem(1)
			d[6*wasmTileCols] = hi.GetElem(2)
			d[7*wasmTileCols] = hi.GetElem(3)
		}
		for ; 2*q+1 < kb; q++ {
			dst[q*wasmTileCols+j] = int32(uint32(uint16(int16(row[2*q]))) | uint32(int32(row[2*q+1]))<<16)
		}
		if q < pairs {
			dst[q*wasmTileCols+j] = int32(uint16(int16(row[2*q])))
		}
	}
}

// accumulateIntTile stores (first) or adds (later k blocks) rows×cols int32
// sums of a 6×8 tile, each multiplied by its row's step, into rows of dst
// that start ldc elements apart.
func accumulateIntTile(dst []float32, ldc int, tile *[wasmTileRows * wasmTileCols]int32, steps []float32, rows, cols int, first bool) {
	for i := range rows {
		t := tile[i*wasmTileCols : (i+1)*wasmTileCols]
		if cols < wasmTileCols {
			d := dst[i*ldc : i*ldc+cols]
			for j := range d {
				v := float32(t[j]) * steps[i]
				if first {
					d[j] = v
				} else {
					d[j] += v
				}
			}
			continue
		}
		d := dst[i*ldc : i*ldc+wasmTileCols]
		s := archsimd.BroadcastFloat32x4(steps[i])
		lo := archsimd.LoadInt32x4(t[0:4]).ConvertToFloat32().Mul(s)
		hi := archsimd.LoadInt32x4(t[4:8]).ConvertToFloat32().Mul(s)
		if !first {
			lo = lo.Add(archsimd.LoadFloat32x4(d[0:4]))
			hi = hi.Add(archsimd.LoadFloat32x4(d[4:8]))
		}
		lo.Store(d[0:4])
		hi.Store(d[4:8])
	}
}

func prepareFloat(p *floatProduct, ws *Workspace) {
	groups := (p.m + wasmTileRows - 1) / wasmTileRows
	panels := (p.n + wasmTileCols - 1) / wasmTileCols
	sizeA := groups * p.k * wasmGroupSize
	buf := grow(&ws.shared, sizeA+panels*p.k*wasmTileCols)
	p.packedA, p.packedB = buf[:sizeA], buf[sizeA:]
	packRowGroups(p.packedA, p.a, p.m, p.lda, 0, p.k)
	packFloatPanels(p.packedB, p)
}

// floatRange computes rows [from, to) of p, where from is a multiple of 6.
func floatRange(p *floatProduct, from, to int, _ *[]float32) {
	k := p.k
	var tile [wasmTileRows * wasmTileCols]float32
	for r := from; r < to; r += wasmTileRows {
		g := r / wasmTileRows
		a := p.packedA[g*k*wasmGroupSize : (g+1)*k*wasmGroupSize]
		for c := 0; c < p.n; c += wasmTileCols {
			b := p.packedB[c*k : (c+wasmTileCols)*k]
			kernel6x8(k, a, b, &tile)
			storeTile(p.dst[r*p.ldc+c:], p.ldc, &tile, min(wasmTileRows, to-r), min(wasmTileCols, p.n-c), p.alpha)
		}
	}
}

// packRowGroups stores columns [k0, k0+kb) of the m rows of a, whose rows
// start lda elements apart, in groups of six rows. Within a group the values
// are ordered by column, then row, and each is repeated in four lanes:
// dst[((g·kb + q)·6 + i)·4 + lane] = a[(6g+i)·lda + k0 + q]. The rows past m
// in the last group are zero.
func packRowGroups(dst, a []float32, m, lda, k0, kb int) {
	var zero archsimd.Float32x4
	for g := 0; g*wasmTileRows < m; g++ {
		block := dst[g*kb*wasmGroupSize : (g+1)*kb*wasmGroupSize]
		for i := range wasmTileRows {
			r := g*wasmTileRows + i
			if r >= m {
				for q := range kb {
					zero.StoreArray((*[4]float32)(block[(q*wasmTileRows+i)*4:]))
				}
				continue
			}
			for q, v := range a[r*lda+k0 : r*lda+k0+kb] {
				archsimd.BroadcastFloat32x4(v).StoreArray((*[4]float32)(block[(q*wasmTileRows+i)*4:]))
			}
		}
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

// storeTile stores alpha times rows×cols sums of a 6×8 tile into rows of dst
// that start ldc elements apart.
func storeTile(dst []float32, ldc int, tile *[wasmTileRows * wasmTileCols]float32, rows, cols int, alpha float32) {
	a := archsimd.BroadcastFloat32x4(alpha)
	for i := range rows {
		t := tile[i*wasmTileCols : i*wasmTileCols+cols]
		d := dst[i*ldc : i*ldc+cols]
		if cols < wasmTileCols {
			for j, v := range t {
				d[j] = alpha * v
			}
			continue
		}
		archsimd.LoadFloat32x4(t[0:4]).Mul(a).Store(d[0:4])
		archsimd.LoadFloat32x4(t[4:8]).Mul(a).Store(d[4:8])
	}
}

func load4(p unsafe.Pointer, offset uintptr) archsimd.Float32x4 {
	return archsimd.LoadFloat32x4Array((*[4]float32)(unsafe.Add(p, offset)))
}

// kernel6x8 sets tile[i·8+j] = Σ_{q<k} a[(q·6+i)·4]·b[q·8+j], where a is a
// row group packed by packRowGroups and b a panel of eight columns. It reads
// a and b through unsafe pointers: bounds checks would cost about a third of
// its speed under V8. The two indexing expressions at the top check that the
// last elements read are inside the slices.
//
// The twelve accumulators, two panel vectors and one row vector use 15 of
// the 16 vector registers of Go's WebAssembly backend, so the loop is not
// unrolled further.
func kernel6x8(k int, a, b []float32, tile *[wasmTileRows * wasmTileCols]float32) {
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 archsimd.Float32x4
	if k > 0 {
		_ = a[k*wasmGroupSize-1]
		_ = b[k*wasmTileCols-1]
		pa := unsafe.Pointer(unsafe.SliceData(a))
		pb := unsafe.Pointer(unsafe.SliceData(b))
		for q := 0; ; {
			b0 := load4(pb, 0)
			b1 := load4(pb, 16)
			x := load4(pa, 0)
			c00 = c00.Add(x.Mul(b0))
			c01 = c01.Add(x.Mul(b1))
			x = load4(pa, 16)
			c10 = c10.Add(x.Mul(b0))
			c11 = c11.Add(x.Mul(b1))
			x = load4(pa, 32)
			c20 = c20.Add(x.Mul(b0))
			c21 = c21.Add(x.Mul(b1))
			x = load4(pa, 48)
			c30 = c30.Add(x.Mul(b0))
			c31 = c31.Add(x.Mul(b1))
			x = load4(pa, 64)
			c40 = c40.Add(x.Mul(b0))
			c41 = c41.Add(x.Mul(b1))
			x = load4(pa, 80)
			c50 = c50.Add(x.Mul(b0))
			c51 = c51.Add(x.Mul(b1))

			// The pointers advance only when another step follows,
			// because Go's unsafe rules forbid pointers past the end of
			// a slice.
			q++
			if q == k {
				break
			}
			pa = unsafe.Add(pa, wasmGroupSize*4)
			pb = unsafe.Add(pb, wasmTileCols*4)
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
	c40.StoreArray((*[4]float32)(tile[32:36]))
	c41.StoreArray((*[4]float32)(tile[36:40]))
	c50.StoreArray((*[4]float32)(tile[40:44]))
	c51.StoreArray((*[4]float32)(tile[44:48]))
}
