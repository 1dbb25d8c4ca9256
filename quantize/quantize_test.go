package quantize

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/d2vgo/d2v/kernels"
)

func TestChannelErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	out, in := 17, 33
	w := make([]float32, out*in)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	for k := 0; k < in; k++ {
		w[5*in+k] = 0 // an all-zero channel
	}
	q, scale := Channel(w, out, in)
	for o := 0; o < out; o++ {
		var maxAbs float64
		var sawExtreme bool
		for k := 0; k < in; k++ {
			maxAbs = math.Max(maxAbs, math.Abs(float64(w[o*in+k])))
			v := q[o*in+k]
			if v == -128 {
				t.Fatalf("channel %d uses -128", o)
			}
			if v == 127 || v == -127 {
				sawExtreme = true
			}
			// Rounding to the nearest step errs by at most half a step.
			if d := math.Abs(float64(v)*float64(scale[o]) - float64(w[o*in+k])); d > float64(scale[o])/2*(1+1e-6) {
				t.Fatalf("channel %d element %d: error %g exceeds half a step %g", o, k, d, scale[o]/2)
			}
		}
		if maxAbs > 0 && !sawExtreme {
			t.Errorf("channel %d does not use ±127, so its scale wastes range", o)
		}
	}
}

func TestLinearMatchesDequantizedProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows, in, out := 3, 40, 9
	w := make([]float32, out*in)
	x := make([]float32, rows*in)
	bias := make([]float32, out)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range bias {
		bias[i] = float32(rng.NormFloat64())
	}
	q, scale := Channel(w, out, in)
	l, err := NewLinear(q, scale, bias, out, in)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, rows*out)
	l.Forward(new(kernels.Workspace), dst, x, rows)
	for r := 0; r < rows; r++ {
		// Kernels that round activations to int16 move each by at most
		// half a step of the row's largest magnitude.
		var halfStep float64
		if levels := kernels.ActivationLevels(in); levels > 0 {
			for _, v := range x[r*in : (r+1)*in] {
				halfStep = math.Max(halfStep, math.Abs(float64(v))/float64(levels)/2)
			}
		}
		for o := 0; o < out; o++ {
			want := float64(bias[o])
			var weights float64
			for k := 0; k < in; k++ {
				want += float64(x[r*in+k]) * float64(q[o*in+k]) * float64(scale[o])
				weights += math.Abs(float64(q[o*in+k]) * float64(scale[o]))
			}
			if d := math.Abs(float64(dst[r*out+o]) - want); d > 1e-4+halfStep*weights {
				t.Errorf("row %d output %d: %g, want %g", r, o, dst[r*out+o], want)
			}
		}
	}
}

func TestNewLinearRejectsBadSizes(t *testing.T) {
	if _, err := NewLinear(make([]int8, 6), make([]float32, 2), nil, 2, 4); err == nil {
		t.Error("weight of 6 values for 2x4 accepted")
	}
	if _, err := NewLinear(make([]int8, 8), make([]float32, 3), nil, 2, 4); err == nil {
		t.Error("3 scales for 2 channels accepted")
	}
	if _, err := NewLinear(make([]int8, 8), []float32{1, float32(math.NaN())}, nil, 2, 4); err == nil {
		t.Error("NaN scale accepted")
	}
}
