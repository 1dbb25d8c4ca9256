// Package kernels holds the numeric inner loops of the model: matrix
// products with int8 weights and float32 activations.
package kernels

import (
	"runtime"
	"sync"
)

// panelWidth is the number of output channels whose int8 weights are
// expanded to float32 at a time. Four channels of a 3072-wide row are 48 KiB,
// which stays in L2 while every activation row streams past it.
const panelWidth = 4

// parallelThreshold is the number of multiply-adds below which a product runs
// on one goroutine; under it, starting workers costs more than it saves.
const parallelThreshold = 1 << 20

// MatMulInt8 computes dst[r, o] = scale[o] · Σ_k x[r, k]·w[o, k] + bias[o]
// for rows r of x [rows, in] and output channels o of w [out, in]. bias may
// be nil. dst is [rows, out].
//
// Work is split over output channels among GOMAXPROCS goroutines when the
// product is large enough.
func MatMulInt8(dst, x []float32, w []int8, scale, bias []float32, rows, in, out int) {
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || rows*in*out < parallelThreshold {
		matMulInt8Range(dst, x, w, scale, bias, rows, in, out, 0, out)
		return
	}
	// Give each worker a whole number of panels.
	panels := (out + panelWidth - 1) / panelWidth
	per := (panels + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < out; start += per * panelWidth {
		end := min(start+per*panelWidth, out)
		wg.Add(1)
		go func() {
			defer wg.Done()
			matMulInt8Range(dst, x, w, scale, bias, rows, in, out, start, end)
		}()
	}
	wg.Wait()
}

// matMulInt8Range computes output channels [from, to).
func matMulInt8Range(dst, x []float32, w []int8, scale, bias []float32, rows, in, out, from, to int) {
	var panelBuf [panelWidth][]float32
	for p := range panelBuf {
		panelBuf[p] = make([]float32, in)
	}

	for o := from; o < to; o += panelWidth {
		n := min(panelWidth, to-o)
		// Expand the panel's int8 weights once; every row reuses them.
		for p := 0; p < n; p++ {
			src := w[(o+p)*in : (o+p+1)*in]
			panel := panelBuf[p]
			for k, v := range src {
				panel[k] = float32(v)
			}
		}
		if n < panelWidth {
			for p := n; p < panelWidth; p++ {
				clear(panelBuf[p])
			}
		}

		var s, b [panelWidth]float32
		for p := 0; p < n; p++ {
			s[p] = scale[o+p]
			if bias != nil {
				b[p] = bias[o+p]
			}
		}

		r := 0
		for ; r+1 < rows; r += 2 {
			sums := dot2x4(x[r*in:(r+1)*in], x[(r+1)*in:(r+2)*in], &panelBuf)
			for p := 0; p < n; p++ {
				dst[r*out+o+p] = sums[0][p]*s[p] + b[p]
				dst[(r+1)*out+o+p] = sums[1][p]*s[p] + b[p]
			}
		}
		if r < rows {
			row := x[r*in : (r+1)*in]
			sums := dot2x4(row, row, &panelBuf)
			for p := 0; p < n; p++ {
				dst[r*out+o+p] = sums[0][p]*s[p] + b[p]
			}
		}
	}
}

// dot2x4 returns the dot products of two activation rows with four weight
// panels: eight independent accumulators keep the FPU pipeline full.
func dot2x4(x0, x1 []float32, panel *[panelWidth][]float32) [2][panelWidth]float32 {
	p0, p1, p2, p3 := panel[0], panel[1], panel[2], panel[3]
	n := len(x0)
	x1 = x1[:n]
	p0, p1, p2, p3 = p0[:n], p1[:n], p2[:n], p3[:n]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for k := 0; k < n; k++ {
		a0, a1 := x0[k], x1[k]
		w0, w1, w2, w3 := p0[k], p1[k], p2[k], p3[k]
		c00 += a0 * w0
		c01 += a0 * w1
		c02 += a0 * w2
		c03 += a0 * w3
		c10 += a1 * w0
		c11 += a1 * w1
		c12 += a1 * w2
		c13 += a1 * w3
	}
	return [2][panelWidth]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
}

// Variant names the kernel implementation compiled in.
func Variant() string { return "scalar" }
