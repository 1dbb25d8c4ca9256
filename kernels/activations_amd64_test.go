//go:build goexperiment.simd && amd64

package kernels

import (
	"math/rand/v2"
	"testing"
)

// roundingCases returns a row with ties, values next to ties, the largest
// magnitude, zeros and random values, and its inverse step.
func roundingCases(n int, levels int32) (row []float32, inverse float32) {
	rng := rand.New(rand.NewPCG(9, 10))
	row = make([]float32, n)
	for k := range row {
		switch k % 4 {
		case 0:
			row[k] = float32(k%9) - 4.5 // a tie
		case 1:
			row[k] = float32(k%9) - 4.5 + 1.0/1024
		case 2:
			row[k] = 0
		default:
			row[k] = float32(rng.NormFloat64() * 1000)
		}
	}
	row[0] = float32(levels)
	row[n-1] = -float32(levels)
	// An inverse step of 1 keeps the ties at .5 after scaling.
	return row, 1
}

func TestQuantizeRowAVX512MatchesScalar(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 64, 771} {
		levels := activationLevels(n)
		row, inverse := roundingCases(n, levels)
		ldq := (n + int16Chunk - 1) / int16Chunk * int16Chunk
		dst := make([]int16, ldq)
		for i := range dst {
			dst[i] = 7 // the padding must be cleared
		}
		quantizeRowAVX512(dst, row, inverse, levels)
		for k, got := range dst {
			var value float32 // zero in the padding past n
			if k < n {
				value = row[k]
			}
			want := int16(roundActivation(value, inverse, levels))
			if got != want {
				t.Fatalf("n=%d: element %d (x = %v) rounds to %d, want %d", n, k, value, got, want)
			}
		}
	}
}
