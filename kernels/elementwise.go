package kernels

import "fmt"

// Dot returns Σ x[i]·y[i] over the len(x) elements of x, accumulated in
// float32. y must be at least as long as x.
func Dot(x, y []float32) float32 {
	checkLen("Dot", "y", len(y), len(x))
	return dotImpl(x, y[:len(x)])
}

// Axpy adds alpha·x[i] to y[i] for each element of x. y must be at least as
// long as x.
func Axpy(alpha float32, x, y []float32) {
	checkLen("Axpy", "y", len(y), len(x))
	axpyImpl(alpha, x, y[:len(x)])
}

// Add adds src[i] to dst[i] for each element of dst, the residual
// connection. src must be at least as long as dst.
func Add(dst, src []float32) {
	checkLen("Add", "src", len(src), len(dst))
	addImpl(dst, src[:len(dst)])
}

// AddScaled adds scale[j]·src[r·n+j] to dst[r·n+j] for each row r of dst,
// where n = len(scale): the residual connection with a per-channel layer
// scale. len(dst) must be a multiple of n, and a nil scale means 1, as in
// Add.
func AddScaled(dst, src, scale []float32) {
	if scale == nil {
		Add(dst, src)
		return
	}
	checkRows("AddScaled", "dst", len(dst), len(scale))
	checkLen("AddScaled", "src", len(src), len(dst))
	addScaledImpl(dst, src[:len(dst)], scale)
}

// AddBias adds bias to each row of x, whose rows are len(bias) wide.
// len(x) must be a multiple of len(bias).
func AddBias(x, bias []float32) {
	checkRows("AddBias", "x", len(x), len(bias))
	addRowImpl(x, bias)
}

// LayerNorm normalizes each row of x [rows, dim] into dst:
// (x - mean)/√(var + eps)·weight + bias, with the biased variance, as
// torch.nn.LayerNorm computes it. dst may be x.
//
// The scalar variant accumulates the statistics in float64. The SIMD
// variants accumulate float32 partial sums of x - x[0] and combine them in
// float64, and they subtract the mean as a two-part float32 value. Against
// a float64 reference, the tests allow every variant an absolute error of
// 2e-6 on outputs of magnitude about 1 (a few float32 ulp), including rows
// whose mean is 10⁴ standard deviations from zero.
func LayerNorm(dst, x []float32, rows, dim int, weight, bias []float32, eps float64) {
	const name = "LayerNorm"
	checkShape(name, "rows", rows)
	checkShape(name, "dim", dim)
	checkLen(name, "x", len(x), rows*dim)
	checkLen(name, "dst", len(dst), rows*dim)
	checkLen(name, "weight", len(weight), dim)
	checkLen(name, "bias", len(bias), dim)
	if dim == 0 {
		return
	}
	for r := 0; r < rows; r++ {
		layerNormImpl(dst[r*dim:(r+1)*dim], x[r*dim:(r+1)*dim], weight[:dim], bias[:dim], eps)
	}
}

// GELU replaces each x[i] with the exact GELU, x·(1 + erf(x/√2))/2, not the
// tanh approximation. It evaluates erfc with a polynomial approximation
// (approx.go). Against a float64 reference the tests allow a relative error
// of 1e-6 for x ≥ -13 and measure at most 4.6e-7 over [-10, 10].
func GELU(x []float32) {
	geluImpl(x)
}

// Softmax replaces x with exp(x[i] - max)/Σ_j exp(x[j] - max). The sum
// accumulates in float64 and exp has a relative error of a few float32 ulp.
// An empty x is left as is.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	softmaxImpl(x)
}

// checkRows checks that a slice of length size holds whole rows of width
// n > 0.
func checkRows(function, name string, size, n int) {
	if n == 0 && size == 0 {
		return
	}
	if n == 0 || size%n != 0 {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d is not a multiple of the row width %d", function, name, size, n))
	}
}
