package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// int16Reference computes MatMulInt8 as the int16 variants define it, with
// the scalar rounding of activations.go and exact integer sums. It also
// returns, per element, the sum of the magnitudes of its terms.
func int16Reference(x []float32, w []int8, scale, bias []float32, rows, in, out int) (want, magnitude []float64) {
	levels := activationLevels(in)
	want = make([]float64, rows*out)
	magnitude = make([]float64, rows*out)
	q := make([]int64, in)
	for r := 0; r < rows; r++ {
		row := x[r*in : (r+1)*in]
		var largest float32
		for _, v := range row {
			largest = max(largest, float32(math.Abs(float64(v))))
		}
		step, inverse := rowQuantization(largest, levels)
		for k, v := range row {
			q[k] = int64(roundActivation(v, inverse, levels))
		}
		for o := 0; o < out; o++ {
			var sum, abs int64
			for k := range row {
				term := q[k] * int64(w[o*in+k])
				sum += term
				abs += max(term, -term)
			}
			factor := float64(step) * float64(scale[o])
			v := float64(sum) * factor
			m := float64(abs) * math.Abs(factor)
			if bias != nil {
				v += float64(bias[o])
				m += math.Abs(float64(bias[o]))
			}
			want[r*out+o] = v
			magnitude[r*out+o] = m
		}
	}
	return want, magnitude
}

// TestInt16VariantsRoundLikeReference checks that the int16 variants compute
// the integers that activations.go defines, so that they agree with each
// other up to float32 rounding. Row 1 has ties: its largest value is the
// number of levels, so each x·inverse is x, and ±2.5 must round to ±2.
func TestInt16VariantsRoundLikeReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range []struct{ rows, in, out int }{{4, 40, 9}, {7, 517, 12}, {5, 3072, 8}} {
			if variantActivationLevels(s.in) == 0 {
				t.Skipf("variant %s multiplies float32 activations", Variant())
			}
			x := randomFloats(rng, s.rows*s.in, 0, 1)
			row := x[s.in : 2*s.in]
			for k := range row {
				row[k] = float32(k%7) - 3.5 // ties at ±0.5, ±1.5, ±2.5, ±3.5
			}
			row[0] = float32(activationLevels(s.in))
			// Row 2 is tiny: levels / 1e-36 exceeds MaxFloat32.
			for k := range s.in {
				x[2*s.in+k] *= 1e-36
			}
			w := randomInt8s(rng, s.out*s.in)
			scale := randomFloats(rng, s.out, 0.01, 0.002)
			bias := randomFloats(rng, s.out, 0, 1)

			var ws Workspace
			dst := make([]float32, s.rows*s.out)
			ws.MatMulInt8(dst, x, w, scale, bias, s.rows, s.in, s.out)
			want, magnitude := int16Reference(x, w, scale, bias, s.rows, s.in, s.out)
			for i, got := range dst {
				// The integers are exact. Only float32 rounding differs: of
				// the scaling, and of the sums of k blocks' int32 partial
				// sums, a few ulp of the terms' magnitudes.
				tolerance := 5e-7 * magnitude[i]
				if d := math.Abs(float64(got) - want[i]); d > tolerance {
					t.Fatalf("in=%d: element %d (row %d, channel %d) is %g, want %g", s.in, i, i/s.out, i%s.out, got, want[i])
				}
			}
		}
	})
}

// TestMatMulInt8NaNRow checks that a NaN or an infinity in a row of x makes
// that row's outputs NaN and leaves the other rows finite, in every variant.
func TestMatMulInt8NaNRow(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			rng := rand.New(rand.NewPCG(7, 8))
			rows, in, out := 5, 70, 9
			x := randomFloats(rng, rows*in, 0, 1)
			x[2*in+33] = bad
			w := randomInt8s(rng, out*in)
			scale := randomFloats(rng, out, 0.01, 0.002)
			dst := make([]float32, rows*out)
			var ws Workspace
			ws.MatMulInt8(dst, x, w, scale, nil, rows, in, out)
			for i, v := range dst {
				isBad := math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
				if r := i / out; r == 2 && !isBad {
					t.Errorf("x contains %v in row 2, but output %d of that row is %v", bad, i%out, v)
				} else if r != 2 && isBad {
					t.Errorf("x contains %v in row 2 only, but row %d, output %d is %v", bad, r, i%out, v)
				}
			}
		}
	})
}

// TestMatMulInt8TinyAndLongRows checks two ends of the int16 rounding in
// every variant: a row whose values are near 1e-36, for which levels/max|x|
// overflows float32, and rows of 2²⁴ values, too long for int16 rounding.
func TestMatMulInt8TinyAndLongRows(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		// Identity weights: output k is x[k].
		const in = 40
		x := make([]float32, in)
		for k := range x {
			x[k] = float32(k%5-2) * 1e-36
		}
		w := make([]int8, in*in)
		scale := make([]float32, in)
		for k := range in {
			w[k*in+k] = 1
			scale[k] = 1
		}
		dst := make([]float32, in)
		var ws Workspace
		ws.MatMulInt8(dst, x, w, scale, nil, 1, in, in)
		for k, got := range dst {
			tolerance := quantizationTolerance(x, w, scale, in, 0, k) + 1e-6*math.Abs(float64(x[k]))
			if d := math.Abs(float64(got) - float64(x[k])); d > tolerance {
				t.Errorf("tiny row: output %d is %g, want %g within %g", k, got, x[k], tolerance)
			}
		}

		const long = 1 << 24
		if levels := variantActivationLevels(long); levels != 0 {
			t.Fatalf("rows of %d values get %d levels, want 0", long, levels)
		}
		ones := make([]float32, long)
		weights := make([]int8, long)
		for k := range ones {
			ones[k] = 1
			weights[k] = 1
		}
		var sum [1]float32
		ws.MatMulInt8(sum[:], ones, weights, []float32{1}, nil, 1, long, 1)
		if sum[0] != long {
			t.Errorf("row of %d ones times ones: %v, want %d", long, sum[0], long)
		}
	})
}
