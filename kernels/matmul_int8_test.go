package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// referenceMatMulInt8 is the definition of MatMulInt8 in float64.
func referenceMatMulInt8(x []float32, w []int8, scale, bias []float32, rows, in, out int) []float64 {
	dst := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var sum float64
			for k := 0; k < in; k++ {
				sum += float64(x[r*in+k]) * float64(w[o*in+k])
			}
			sum *= float64(scale[o])
			if bias != nil {
				sum += float64(bias[o])
			}
			dst[r*out+o] = sum
		}
	}
	return dst
}

func TestMatMulInt8MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []struct{ rows, in, out int }{
		{1, 1, 1}, {3, 5, 7}, {2, 16, 4}, {197, 64, 96}, {50, 128, 64}, {7, 768, 130},
	}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, s := range shapes {
			x := make([]float32, s.rows*s.in)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			w := make([]int8, s.out*s.in)
			for i := range w {
				w[i] = int8(rng.IntN(255) - 127)
			}
			scale := make([]float32, s.out)
			bias := make([]float32, s.out)
			for i := range scale {
				scale[i] = float32(rng.Float64() * 0.01)
				bias[i] = float32(rng.NormFloat64())
			}
			for _, withBias := range []bool{true, false} {
				b := bias
				if !withBias {
					b = nil
				}
				dst := make([]float32, s.rows*s.out)
				MatMulInt8(dst, x, w, scale, b, s.rows, s.in, s.out)
				want := referenceMatMulInt8(x, w, scale, b, s.rows, s.in, s.out)
				for i := range dst {
					// float32 accumulation over in terms of size ~127·|x|·scale.
					tol := 1e-5 * math.Sqrt(float64(s.in)) * 127 * 0.01 * 4
					if d := math.Abs(float64(dst[i]) - want[i]); d > tol+1e-6 {
						t.Fatalf("GOMAXPROCS=%d shape %+v bias=%v: element %d is %g, want %g", procs, s, withBias, i, dst[i], want[i])
					}
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}
