//go:build goexperiment.simd && wasm

package kernels

// WebAssembly has one SIMD level, so this build always runs the 128-bit
// kernels.

var variants = []string{"wasm-simd128"}

func currentVariant() string { return "wasm-simd128" }

// selectVariant makes the named variant the current one and reports whether
// it can run here. Tests use it to cover every variant.
func selectVariant(name string) bool { return name == "wasm-simd128" }

func int8ChannelAlign() int { return wasmTileCols }
func floatRowAlign() int    { return wasmTileRows }

func dotImpl(x, y []float32) float32         { return dotSIMD128(x, y) }
func axpyImpl(alpha float32, x, y []float32) { axpySIMD128(alpha, x, y) }
func addImpl(dst, src []float32)             { addSIMD128(dst, src) }
func layerNormImpl(dst, x, weight, bias []float32, eps float64) {
	layerNormSIMD128(dst, x, weight, bias, eps)
}
func geluImpl(x []float32)    { geluSIMD128(x) }
func softmaxImpl(x []float32) { softmaxSIMD128(x) }

func addScaledImpl(dst, src, scale []float32) {
	n := len(scale)
	for r := 0; r < len(dst); r += n {
		mulAddSIMD128(dst[r:r+n], src[r:r+n], scale)
	}
}

func addRowImpl(x, row []float32) {
	n := len(row)
	for r := 0; r < len(x); r += n {
		addSIMD128(x[r:r+n], row)
	}
}
