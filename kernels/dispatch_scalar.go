//go:build !goexperiment.simd || !(amd64 || wasm)

package kernels

// Builds without GOEXPERIMENT=simd, or for architectures without SIMD
// kernels here, run the scalar kernels only.

var variants = []string{"scalar"}

func currentVariant() string { return "scalar" }

// selectVariant makes the named variant the current one and reports whether
// it can run on this CPU. Tests use it to cover every variant.
func selectVariant(name string) bool { return name == "scalar" }

// variantActivationLevels returns 0: these variants multiply float32
// activations.
func variantActivationLevels(int) int32 { return 0 }

func int8ChannelAlign() int { return genericChannelAlign }
func floatRowAlign() int    { return genericRowAlign }

func prepareInt8(*int8Product, *Workspace) {}

func int8Range(p *int8Product, from, to int, scratch *[]float32) {
	int8RangeGeneric(p, from, to, scratch)
}

func prepareFloat(p *floatProduct, ws *Workspace) { transposeB(p, ws) }

func floatRange(p *floatProduct, from, to int, scratch *[]float32) {
	floatRangeGeneric(p, from, to, scratch)
}

func dotImpl(x, y []float32) float32          { return dotGeneric(x, y) }
func axpyImpl(alpha float32, x, y []float32)  { axpyGeneric(alpha, x, y) }
func addImpl(dst, src []float32)              { addGeneric(dst, src) }
func addScaledImpl(dst, src, scale []float32) { addScaledGeneric(dst, src, scale) }
func addRowImpl(x, row []float32)             { addRowGeneric(x, row) }
func layerNormImpl(dst, x, weight, bias []float32, eps float64) {
	layerNormGeneric(dst, x, weight, bias, eps)
}
func geluImpl(x []float32)    { geluGeneric(x) }
func softmaxImpl(x []float32) { softmaxGeneric(x) }
