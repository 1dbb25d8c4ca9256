//go:build goexperiment.simd && wasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

func TestQuantizeRowGroupsMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kb := range []int{1, 2, 3, 4, 5, 9, 256} {
		rows, ld := 7, kb+3
		levels := activationLevels(ld)
		x := make([]float32, rows*ld)
		for i := range x {
			switch i % 3 {
			case 0:
				x[i] = float32(i%9) - 4.5 // a tie
			case 1:
				x[i] = float32(rng.NormFloat64() * 1000)
			}
		}
		// An inverse step of 1 keeps the ties at .5 after scaling.
		inverses := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
		pairs := (kb + 1) / 2
		dst := make([]int32, 2*pairs*wasmGroupSize)
		quantizeRowGroups(dst, inverses, x, rows, ld, 1, kb, levels)
		for r := range 2 * wasmTileRows {
			g, i := r/wasmTileRows, r%wasmTileRows
			for q := range pairs {
				var want [2]int32
				for half := range 2 {
					if k := 2*q + half; r < rows && k < kb {
						want[half] = roundActivation(x[r*ld+1+k], 1, levels)
					}
				}
				word := int32(uint32(uint16(want[0])) | uint32(want[1])<<16)
				for lane := range 4 {
					if got := dst[((g*pairs+q)*wasmTileRows+i)*4+lane]; got != word {
						t.Fatalf("kb=%d: row %d, pair %d, lane %d is %#x, want %#x", kb, r, q, lane, got, word)
					}
				}
			}
		}
	}
}
