//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// level is the instruction set that the amd64 kernels use.
type level int

const (
	levelScalar level = iota
	levelAVX2
	levelAVX512
)

var levelNames = [...]string{
	levelScalar: "scalar",
	levelAVX2:   "amd64-avx2",
	levelAVX512: "amd64-avx512",
}

// cpuLevel is the best level this CPU supports. currentLevel is the one in
// use, which tests lower to cover every variant.
var (
	cpuLevel     = detectLevel()
	currentLevel = cpuLevel
	variants     = supportedVariants()
)

func detectLevel() level {
	switch {
	case archsimd.X86.AVX512():
		return levelAVX512
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return levelAVX2
	}
	return levelScalar
}

func supportedVariants() []string {
	var names []string
	for l := cpuLevel; l >= levelScalar; l-- {
		names = append(names, levelNames[l])
	}
	return names
}

func currentVariant() string { return levelNames[currentLevel] }

// selectVariant makes the named variant the current one and reports whether
// it can run on this CPU. Tests use it to cover every variant.
func selectVariant(name string) bool {
	for l := levelScalar; l <= cpuLevel; l++ {
		if levelNames[l] == name {
			currentLevel = l
			return true
		}
	}
	return false
}

// variantActivationLevels returns the largest magnitude that MatMulInt8 rounds
// a row of in activations to, or 0 when the current variant multiplies
// float32 activations: only amd64-avx512 rounds them to int16.
func variantActivationLevels(in int) int32 {
	if currentLevel == levelAVX512 {
		return activationLevels(in)
	}
	return 0
}

func int8ChannelAlign() int { return 4 }

func floatRowAlign() int {
	switch currentLevel {
	case levelAVX512:
		return 3
	case levelAVX2:
		return 2
	}
	return genericRowAlign
}

func prepareInt8(p *int8Product, ws *Workspace) {
	if variantActivationLevels(p.in) > 0 {
		prepareInt16(p, ws)
	}
}

func int8Range(p *int8Product, from, to int, scratch *[]float32) {
	switch {
	case variantActivationLevels(p.in) > 0:
		int8RangeInt16AVX512(p, from, to, scratch)
	case currentLevel >= levelAVX2:
		// Also AVX-512 CPUs, for rows too long for int16 rounding.
		int8RangeAVX2(p, from, to, scratch)
	default:
		int8RangeGeneric(p, from, to, scratch)
	}
}

func prepareFloat(p *floatProduct, ws *Workspace) {
	switch currentLevel {
	case levelAVX512:
		prepareFloatAVX(p, ws, true)
	case levelAVX2:
		prepareFloatAVX(p, ws, false)
	default:
		transposeB(p, ws)
	}
}

func floatRange(p *floatProduct, from, to int, scratch *[]float32) {
	switch currentLevel {
	case levelAVX512:
		floatRangeAVX(p, from, to, true)
	case levelAVX2:
		floatRangeAVX(p, from, to, false)
	default:
		floatRangeGeneric(p, from, to, scratch)
	}
}

// The row-wise operations use 256-bit vectors at both SIMD levels: they are
// bound by memory and latency more than by arithmetic width.

func dotImpl(x, y []float32) float32 {
	if currentLevel == levelScalar {
		return dotGeneric(x, y)
	}
	return dotAVX2(x, y)
}

func axpyImpl(alpha float32, x, y []float32) {
	if currentLevel == levelScalar {
		axpyGeneric(alpha, x, y)
		return
	}
	axpyAVX2(alpha, x, y)
}

func addImpl(dst, src []float32) {
	if currentLevel == levelScalar {
		addGeneric(dst, src)
		return
	}
	addAVX2(dst, src)
}

func addScaledImpl(dst, src, scale []float32) {
	if currentLevel == levelScalar {
		addScaledGeneric(dst, src, scale)
		return
	}
	for r := 0; r < len(dst); r += len(scale) {
		n := len(scale)
		mulAddAVX2(dst[r:r+n], src[r:r+n], scale)
	}
}

func addRowImpl(x, row []float32) {
	if currentLevel == levelScalar {
		addRowGeneric(x, row)
		return
	}
	for r := 0; r < len(x); r += len(row) {
		addAVX2(x[r:r+len(row)], row)
	}
}

func layerNormImpl(dst, x, weight, bias []float32, eps float64) {
	if currentLevel == levelScalar {
		layerNormGeneric(dst, x, weight, bias, eps)
		return
	}
	layerNormAVX2(dst, x, weight, bias, eps)
}

func geluImpl(x []float32) {
	if currentLevel == levelScalar {
		geluGeneric(x)
		return
	}
	geluAVX2(x)
}

func softmaxImpl(x []float32) {
	if currentLevel == levelScalar {
		softmaxGeneric(x)
		return
	}
	softmaxAVX2(x)
}
