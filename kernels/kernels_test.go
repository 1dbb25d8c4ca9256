package kernels

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var variantFlag = flag.String("variant", "", "run tests and benchmarks with this kernel variant only (see Variant)")

func TestMain(m *testing.M) {
	flag.Parse()
	if *variantFlag != "" && !selectVariant(*variantFlag) {
		fmt.Fprintf(os.Stderr, "variant %q is not available here; available: %s\n", *variantFlag, strings.Join(variants, ", "))
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// forEachVariant runs f once per kernel variant that this build and CPU
// support, or only for the -variant flag's, and restores the current
// variant.
func forEachVariant(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	previous := currentVariant()
	defer selectVariant(previous)
	names := variants
	if *variantFlag != "" {
		names = []string{*variantFlag}
	}
	for _, name := range names {
		if !selectVariant(name) {
			t.Fatalf("variant %s is listed but cannot be selected", name)
		}
		t.Run(name, f)
	}
}

func randomFloats(rng *rand.Rand, n int, mean, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(mean + std*rng.NormFloat64())
	}
	return x
}

func randomInt8s(rng *rand.Rand, n int) []int8 {
	w := make([]int8, n)
	for i := range w {
		w[i] = int8(rng.IntN(255) - 127)
	}
	return w
}

// sumTolerance bounds the float32 rounding error of a sum of n terms whose
// absolute values add up to magnitude.
func sumTolerance(n int, magnitude float64) float64 {
	return 1e-6*(2+math.Sqrt(float64(n)))*magnitude + 1e-30
}

// referenceMatMulInt8 is MatMulInt8 in float64. It also returns, per
// element, the sum of the absolute values of the terms, which scales the
// rounding error.
func referenceMatMulInt8(x []float32, w []int8, scale, bias []float32, rows, in, out int) (want, magnitude []float64) {
	want = make([]float64, rows*out)
	magnitude = make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var sum, abs float64
			for k := 0; k < in; k++ {
				term := float64(x[r*in+k]) * float64(w[o*in+k])
				sum += term
				abs += math.Abs(term)
			}
			s := float64(scale[o])
			sum *= s
			abs *= math.Abs(s)
			if bias != nil {
				sum += float64(bias[o])
				abs += math.Abs(float64(bias[o]))
			}
			want[r*out+o] = sum
			magnitude[r*out+o] = abs
		}
	}
	return want, magnitude
}

// quantizationTolerance bounds the error that rounding activations to int16
// adds to element (r, o) of MatMulInt8: half a step of row r times
// Σ_k |w[o, k]·scale[o]|. It is 0 for the variants that multiply float32
// activations.
func quantizationTolerance(x []float32, w []int8, scale []float32, in, r, o int) float64 {
	levels := variantActivationLevels(in)
	if levels == 0 {
		return 0
	}
	var largest float32
	var weights float64
	for k := 0; k < in; k++ {
		largest = max(largest, float32(math.Abs(float64(x[r*in+k]))))
		weights += math.Abs(float64(w[o*in+k]) * float64(scale[o]))
	}
	step, _ := rowQuantization(largest, levels)
	return 0.5 * float64(step) * weights
}

func TestMatMulInt8MatchesReference(t *testing.T) {
	shapes := []struct{ rows, in, out int }{
		{1, 1, 1}, {3, 5, 7}, {2, 3, 4}, {5, 16, 9}, {4, 17, 8},
		{7, 64, 13}, {13, 64, 96}, {2, 770, 12}, {197, 768, 130},
		{3, 3072, 20}, {6, 3072, 64}, {1, 768, 1000},
	}
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, procs := range []int{1, 2} {
			previous := runtime.GOMAXPROCS(procs)
			for _, s := range shapes {
				x := randomFloats(rng, s.rows*s.in, 0, 1)
				w := randomInt8s(rng, s.out*s.in)
				scale := randomFloats(rng, s.out, 0.01, 0.002)
				bias := randomFloats(rng, s.out, 0, 1)
				var ws Workspace
				for _, withBias := range []bool{true, false} {
					b := bias
					if !withBias {
						b = nil
					}
					dst := make([]float32, s.rows*s.out)
					ws.MatMulInt8(dst, x, w, scale, b, s.rows, s.in, s.out)
					want, magnitude := referenceMatMulInt8(x, w, scale, b, s.rows, s.in, s.out)
					for i := range dst {
						tolerance := sumTolerance(s.in, magnitude[i]) + quantizationTolerance(x, w, scale, s.in, i/s.out, i%s.out)
						if d := math.Abs(float64(dst[i]) - want[i]); d > tolerance {
							t.Fatalf("GOMAXPROCS=%d rows=%d in=%d out=%d bias=%v: element %d (row %d, channel %d) is %g, want %g",
								procs, s.rows, s.in, s.out, withBias, i, i/s.out, i%s.out, dst[i], want[i])
						}
					}
				}
			}
			runtime.GOMAXPROCS(previous)
		}
	})
}

func TestMatMulInt8PackageFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows, in, out := 5, 40, 11
	x := randomFloats(rng, rows*in, 0, 1)
	w := randomInt8s(rng, out*in)
	scale := randomFloats(rng, out, 0.01, 0.002)
	bias := randomFloats(rng, out, 0, 1)
	got := make([]float32, rows*out)
	MatMulInt8(got, x, w, scale, bias, rows, in, out)
	var ws Workspace
	want := make([]float32, rows*out)
	ws.MatMulInt8(want, x, w, scale, bias, rows, in, out)
	if !slices.Equal(got, want) {
		t.Fatalf("package-level MatMulInt8 = %v, Workspace.MatMulInt8 = %v", got, want)
	}
}

func TestMatMulInt8EmptyInput(t *testing.T) {
	dst := []float32{9, 9, 9, 9}
	var ws Workspace
	ws.MatMulInt8(dst, nil, nil, []float32{1, 1}, []float32{3, 4}, 2, 0, 2)
	if want := []float32{3, 4, 3, 4}; !slices.Equal(dst, want) {
		t.Fatalf("in = 0 with bias gives %v, want %v", dst, want)
	}
	ws.MatMulInt8(dst, nil, nil, []float32{1, 1}, nil, 2, 0, 2)
	if want := []float32{0, 0, 0, 0}; !slices.Equal(dst, want) {
		t.Fatalf("in = 0 without bias gives %v, want %v", dst, want)
	}
}

func TestMatMulInt8RejectsShortSlices(t *testing.T) {
	defer func() {
		message, _ := recover().(string)
		if !strings.Contains(message, "len(w)") {
			t.Fatalf("panic message %q does not name w", message)
		}
	}()
	var ws Workspace
	ws.MatMulInt8(make([]float32, 4), make([]float32, 4), make([]int8, 3), make([]float32, 2), nil, 2, 2, 2)
}

// floatCase is a float32 product whose operands are column ranges of wider
// matrices, as one attention head is.
type floatCase struct{ m, n, k, lda, ldb, ldc int }

var floatCases = []floatCase{
	{1, 1, 1, 1, 1, 1}, {2, 3, 5, 5, 5, 3}, {3, 4, 16, 20, 16, 9},
	{4, 9, 17, 17, 30, 9}, {5, 8, 64, 768, 768, 8}, {7, 13, 65, 70, 66, 20},
	{197, 197, 64, 768, 768, 197}, {197, 64, 197, 197, 768, 768},
}

func TestMatMulTransBMatchesReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, procs := range []int{1, 2} {
			previous := runtime.GOMAXPROCS(procs)
			for _, c := range floatCases {
				a := randomFloats(rng, (c.m-1)*c.lda+c.k, 0, 1)
				b := randomFloats(rng, (c.n-1)*c.ldb+c.k, 0, 1)
				dst := randomFloats(rng, (c.m-1)*c.ldc+c.n+3, 0, 1)
				untouched := slices.Clone(dst)
				alpha := float32(0.125)
				var ws Workspace
				ws.MatMulTransB(dst, a, b, c.m, c.n, c.k, c.lda, c.ldb, c.ldc, alpha)
				for i := 0; i < c.m; i++ {
					for j := 0; j < c.ldc && i*c.ldc+j < len(dst); j++ {
						got := dst[i*c.ldc+j]
						if j >= c.n {
							if got != untouched[i*c.ldc+j] {
								t.Fatalf("%+v: element (%d, %d) outside the product changed", c, i, j)
							}
							continue
						}
						var want, magnitude float64
						for q := 0; q < c.k; q++ {
							term := float64(a[i*c.lda+q]) * float64(b[j*c.ldb+q])
							want += term
							magnitude += math.Abs(term)
						}
						want *= float64(alpha)
						magnitude *= float64(alpha)
						if d := math.Abs(float64(got) - want); d > sumTolerance(c.k, magnitude) {
							t.Fatalf("GOMAXPROCS=%d %+v: element (%d, %d) is %g, want %g", procs, c, i, j, got, want)
						}
					}
				}
			}
			runtime.GOMAXPROCS(previous)
		}
	})
}

func TestMatMulMatchesReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, procs := range []int{1, 2} {
			previous := runtime.GOMAXPROCS(procs)
			for _, c := range floatCases {
				// b is [k, n] here, so its stride must cover n columns.
				ldb := max(c.ldb, c.n)
				a := randomFloats(rng, (c.m-1)*c.lda+c.k, 0, 1)
				b := randomFloats(rng, (c.k-1)*ldb+c.n, 0, 1)
				dst := make([]float32, (c.m-1)*c.ldc+c.n)
				var ws Workspace
				ws.MatMul(dst, a, b, c.m, c.n, c.k, c.lda, ldb, c.ldc)
				for i := 0; i < c.m; i++ {
					for j := 0; j < c.n; j++ {
						var want, magnitude float64
						for q := 0; q < c.k; q++ {
							term := float64(a[i*c.lda+q]) * float64(b[q*ldb+j])
							want += term
							magnitude += math.Abs(term)
						}
						got := dst[i*c.ldc+j]
						if d := math.Abs(float64(got) - want); d > sumTolerance(c.k, magnitude) {
							t.Fatalf("GOMAXPROCS=%d %+v ldb=%d: element (%d, %d) is %g, want %g", procs, c, ldb, i, j, got, want)
						}
					}
				}
			}
			runtime.GOMAXPROCS(previous)
		}
	})
}

func TestMatMulTransBZeroDepth(t *testing.T) {
	dst := []float32{1, 2, 3, 4}
	var ws Workspace
	ws.MatMulTransB(dst, nil, nil, 2, 2, 0, 0, 0, 2, 1)
	if want := []float32{0, 0, 0, 0}; !slices.Equal(dst, want) {
		t.Fatalf("k = 0 gives %v, want %v", dst, want)
	}
}

func TestMatMulTransBRejectsShortStride(t *testing.T) {
	defer func() {
		message, _ := recover().(string)
		if !strings.Contains(message, "row stride of b") {
			t.Fatalf("panic message %q does not name the stride of b", message)
		}
	}()
	var ws Workspace
	ws.MatMulTransB(make([]float32, 4), make([]float32, 8), make([]float32, 8), 2, 2, 4, 4, 3, 2, 1)
}

// lengths covers empty input, each vector tail and the unrolled loops.
var lengths = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 197, 768, 771}

func TestDotMatchesReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range lengths {
			x := randomFloats(rng, n, 0, 1)
			y := randomFloats(rng, n+2, 0, 1)
			var want, magnitude float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				magnitude += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if got := Dot(x, y); math.Abs(float64(got)-want) > sumTolerance(n, magnitude) {
				t.Fatalf("n=%d: Dot = %g, want %g", n, got, want)
			}
		}
	})
}

func TestAxpyAddAndScaledAdds(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range lengths {
			x := randomFloats(rng, n, 0, 1)
			y := randomFloats(rng, n, 0, 1)

			got := slices.Clone(y)
			Axpy(0.75, x, got)
			for i := range got {
				want := float64(y[i]) + 0.75*float64(x[i])
				if math.Abs(float64(got[i])-want) > 2e-7*(math.Abs(float64(y[i]))+math.Abs(float64(x[i]))) {
					t.Fatalf("n=%d: Axpy element %d is %g, want %g", n, i, got[i], want)
				}
			}

			got = slices.Clone(y)
			Add(got, x)
			for i := range got {
				if want := y[i] + x[i]; got[i] != want {
					t.Fatalf("n=%d: Add element %d is %g, want %g", n, i, got[i], want)
				}
			}
		}

		for _, width := range []int{1, 3, 4, 8, 13, 768} {
			rows := 3
			dst := randomFloats(rng, rows*width, 0, 1)
			src := randomFloats(rng, rows*width, 0, 1)
			scale := randomFloats(rng, width, 0, 0.1)

			got := slices.Clone(dst)
			AddScaled(got, src, scale)
			for i := range got {
				want := float64(dst[i]) + float64(scale[i%width])*float64(src[i])
				if math.Abs(float64(got[i])-want) > 2e-7*(math.Abs(float64(dst[i]))+math.Abs(float64(src[i]))) {
					t.Fatalf("width=%d: AddScaled element %d is %g, want %g", width, i, got[i], want)
				}
			}

			got = slices.Clone(dst)
			AddScaled(got, src, nil)
			for i := range got {
				if want := dst[i] + src[i]; got[i] != want {
					t.Fatalf("width=%d: AddScaled with nil scale, element %d is %g, want %g", width, i, got[i], want)
				}
			}

			got = slices.Clone(dst)
			AddBias(got, scale)
			for i := range got {
				if want := dst[i] + scale[i%width]; got[i] != want {
					t.Fatalf("width=%d: AddBias element %d is %g, want %g", width, i, got[i], want)
				}
			}
		}
	})
}

func TestAddBiasRejectsPartialRow(t *testing.T) {
	defer func() {
		message, _ := recover().(string)
		if !strings.Contains(message, "not a multiple") {
			t.Fatalf("panic message %q does not report the partial row", message)
		}
	}()
	AddBias(make([]float32, 5), make([]float32, 2))
}

func referenceLayerNorm(x, weight, bias []float32, eps float64) []float64 {
	n := float64(len(x))
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / n
	var squares float64
	for _, v := range x {
		squares += (float64(v) - mean) * (float64(v) - mean)
	}
	inv := 1 / math.Sqrt(squares/n+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (float64(v)-mean)*inv*float64(weight[i]) + float64(bias[i])
	}
	return out
}

func TestLayerNormMatchesReference(t *testing.T) {
	// A few float32 ulp of outputs of magnitude about 1.
	const tolerance = 2e-6
	cases := []struct {
		dim       int
		mean, std float64
	}{
		{1, 0, 1}, {3, 0, 1}, {5, 2, 3}, {64, 0, 1},
		{768, 0, 1}, {771, -1, 0.5}, {768, 0, 1e-3},
		// Rows far from zero: the output must not lose the digits of the
		// deviations.
		{768, 100, 1}, {768, 1000, 10}, {768, 1e4, 1},
	}
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, c := range cases {
			rows := 3
			x := randomFloats(rng, rows*c.dim, c.mean, c.std)
			weight := randomFloats(rng, c.dim, 1, 0.2)
			bias := randomFloats(rng, c.dim, 0, 0.2)
			dst := make([]float32, len(x))
			LayerNorm(dst, x, rows, c.dim, weight, bias, 1e-12)
			var worst float64
			for r := 0; r < rows; r++ {
				want := referenceLayerNorm(x[r*c.dim:(r+1)*c.dim], weight, bias, 1e-12)
				for i, w := range want {
					worst = max(worst, math.Abs(float64(dst[r*c.dim+i])-w))
				}
			}
			if worst > tolerance {
				t.Fatalf("dim=%d mean=%g std=%g: largest error %g, want at most %g", c.dim, c.mean, c.std, worst, tolerance)
			}

			// In place, as the model may call it.
			inPlace := slices.Clone(x)
			LayerNorm(inPlace, inPlace, rows, c.dim, weight, bias, 1e-12)
			if !slices.Equal(inPlace, dst) {
				t.Fatalf("dim=%d: LayerNorm in place differs from LayerNorm into another slice", c.dim)
			}
		}
	})
}

// referenceGELU is x·Φ(x) in float64, with Φ computed from erfc so that it
// keeps its relative precision for negative x.
func referenceGELU(x float64) float64 {
	return 0.5 * x * math.Erfc(-x/math.Sqrt2)
}

// geluInputs returns a dense grid over [-10, 10], its tails, and values
// around 0.
func geluInputs() []float32 {
	var xs []float32
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float32(i)/20000)
	}
	xs = append(xs, 1e-30, -1e-30, 1e-8, -1e-8, 0, -12, -13.5, -20, 12, 30, 1e4)
	return xs
}

func TestGELUMatchesReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		xs := geluInputs()
		got := slices.Clone(xs)
		GELU(got)
		var worstRelative, worstAbsolute float64
		for i, x := range xs {
			want := referenceGELU(float64(x))
			d := math.Abs(float64(got[i]) - want)
			worstAbsolute = max(worstAbsolute, d)
			// Below -9.5·√2 the result is clamped to a tiny value, so
			// only the absolute error is meaningful there.
			if x >= -13 && want != 0 {
				worstRelative = max(worstRelative, d/math.Abs(want))
			}
		}
		t.Logf("GELU over [-10, 10] and tails: max relative error %.3g (x ≥ -13), max absolute error %.3g", worstRelative, worstAbsolute)
		if worstRelative > 1e-6 {
			t.Errorf("max relative error %g, want at most 1e-6", worstRelative)
		}
		if worstAbsolute > 5e-6 {
			t.Errorf("max absolute error %g, want at most 5e-6", worstAbsolute)
		}
	})
}

func TestErfApproximation(t *testing.T) {
	var worst float64
	worstAt := 0.0
	for i := -400000; i <= 400000; i++ {
		x := float32(i) / 40000
		d := math.Abs(float64(erf32(x)) - math.Erf(float64(x)))
		if d > worst {
			worst, worstAt = d, float64(x)
		}
	}
	t.Logf("erf32 over [-10, 10]: max absolute error %.3g at x = %g", worst, worstAt)
	if worst > 3.5e-7 {
		t.Errorf("max absolute error %g at x = %g, want at most 3.5e-7", worst, worstAt)
	}
}

func TestExpApproximation(t *testing.T) {
	var worst float64
	for i := -87000; i <= 88000; i++ {
		x := float32(i) / 1000
		want := math.Exp(float64(x))
		worst = max(worst, math.Abs(float64(exp32(x))-want)/want)
	}
	t.Logf("exp32 over [-87, 88]: max relative error %.3g", worst)
	if worst > 5e-7 {
		t.Errorf("max relative error %g, want at most 5e-7", worst)
	}
}

func TestSoftmaxMatchesReference(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, n := range lengths[1:] {
			for _, spread := range []float64{1, 10, 60} {
				x := randomFloats(rng, n, 3, spread)
				got := slices.Clone(x)
				Softmax(got)

				maxValue := math.Inf(-1)
				for _, v := range x {
					maxValue = max(maxValue, float64(v))
				}
				var sum float64
				for _, v := range x {
					sum += math.Exp(float64(v) - maxValue)
				}
				for i, v := range x {
					want := math.Exp(float64(v)-maxValue) / sum
					// Softmax rounds x - max to float32, which changes
					// the result by a relative 6e-8·|x - max|. Below the smallest normal float32
					// the result is clamped, so only the absolute error
					// counts there.
					tolerance := want * (5e-7 + 1.2e-7*math.Abs(float64(v)-maxValue))
					if d := math.Abs(float64(got[i]) - want); d > tolerance && d > 1e-37 {
						t.Fatalf("n=%d spread=%g: element %d is %g, want %g", n, spread, i, got[i], want)
					}
				}
			}
		}
	})
}

func TestVariantName(t *testing.T) {
	known := []string{"amd64-avx512", "amd64-avx2", "wasm-simd128", "scalar"}
	if !slices.Contains(known, Variant()) {
		t.Fatalf("Variant() = %q, want one of %v", Variant(), known)
	}
	if runtime.GOARCH == "wasm" && strings.Contains(os.Getenv("GOEXPERIMENT"), "simd") && Variant() != "wasm-simd128" {
		t.Fatalf("Variant() = %q under GOEXPERIMENT=simd on wasm, want wasm-simd128", Variant())
	}
	t.Logf("variant %s; available here: %v", Variant(), variants)
}

// TestSteadyStateCallsDoNotAllocate covers the Workspace methods and the
// row-wise functions. The package-level MatMulInt8 is left out: its
// sync.Pool may drop a Workspace at any garbage collection, and under the
// race detector at random.
func TestSteadyStateCallsDoNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	rows, in, out := 197, 768, 64
	x := randomFloats(rng, rows*in, 0, 1)
	w := randomInt8s(rng, out*in)
	scale := randomFloats(rng, out, 0.01, 0.002)
	dst := make([]float32, rows*out)
	scores := make([]float32, rows*rows)
	context := make([]float32, rows*64)
	weight := randomFloats(rng, in, 1, 0.1)

	forEachVariant(t, func(t *testing.T) {
		for _, procs := range []int{1, 2} {
			previous := runtime.GOMAXPROCS(procs)
			var ws Workspace
			checks := []struct {
				name string
				call func()
			}{
				{"Workspace.MatMulInt8", func() { ws.MatMulInt8(dst, x, w, scale, scale, rows, in, out) }},
				{"MatMulTransB", func() { ws.MatMulTransB(scores, x, x[64:], rows, rows, 64, in, in, rows, 0.125) }},
				{"MatMul", func() { ws.MatMul(context, scores, x[128:], rows, 64, rows, rows, in, 64) }},
				{"LayerNorm", func() { LayerNorm(x[:4*in], x[:4*in], 4, in, weight, weight, 1e-12) }},
				{"GELU", func() { GELU(dst) }},
				{"Softmax", func() { Softmax(scores[:rows]) }},
				{"AddScaled", func() { AddScaled(x[:2*in], x[2*in:4*in], weight) }},
				{"Dot", func() { Dot(x[:in], weight) }},
			}
			for _, c := range checks {
				c.call() // grow the Workspace buffers
				if allocs := testing.AllocsPerRun(5, c.call); allocs != 0 {
					t.Errorf("GOMAXPROCS=%d: %s allocates %v times per call in steady state", procs, c.name, allocs)
				}
			}
			runtime.GOMAXPROCS(previous)
		}
	})
}
