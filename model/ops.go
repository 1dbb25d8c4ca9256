package model

import "math"

// layerNorm normalizes each of the rows of x (width dim) into dst:
// (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance, as
// torch.nn.LayerNorm does. Statistics accumulate in float64.
func layerNorm(dst, x []float32, rows, dim int, weight, bias []float32, eps float64) {
	for r := 0; r < rows; r++ {
		row := x[r*dim : (r+1)*dim]
		out := dst[r*dim : (r+1)*dim]

		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(dim)
		var sq float64
		for _, v := range row {
			d := float64(v) - mean
			sq += d * d
		}
		inv := 1 / math.Sqrt(sq/float64(dim)+eps)

		for i, v := range row {
			out[i] = float32((float64(v)-mean)*inv)*weight[i] + bias[i]
		}
	}
}

// gelu applies the exact GELU, 0.5·x·(1 + erf(x/√2)), in place. spago's
// activation uses the tanh approximation, which differs by up to 1e-3.
func gelu(x []float32) {
	for i, v := range x {
		x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
}

// softmax replaces x with exp(x - max) / Σ exp(x - max).
func softmax(x []float32) {
	maxValue := x[0]
	for _, v := range x[1:] {
		if v > maxValue {
			maxValue = v
		}
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - maxValue))
		x[i] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] = float32(float64(x[i]) * inv)
	}
}

func addInPlace(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// addScaled adds scale[i%len(scale)]·src[i] to dst[i], the layer-scale
// residual add; a nil scale means 1.
func addScaled(dst, src, scale []float32) {
	if scale == nil {
		addInPlace(dst, src)
		return
	}
	dim := len(scale)
	for i, v := range src {
		dst[i] += scale[i%dim] * v
	}
}

// meanOfRows writes the column means of the first n rows of x (width
// len(dst)) to dst, accumulating in float64.
func meanOfRows(dst, x []float32, n int) {
	dim := len(dst)
	for i := range dst {
		var sum float64
		for r := 0; r < n; r++ {
			sum += float64(x[r*dim+i])
		}
		dst[i] = float32(sum / float64(n))
	}
}
