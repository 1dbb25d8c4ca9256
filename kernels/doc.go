// Package kernels holds the numeric inner loops of the model: matrix
// products with int8 weights and float32 activations, float32 products for
// attention, and the row-wise operations of a transformer layer (LayerNorm,
// GELU, softmax, bias and residual adds).
//
// # Variants
//
// Each function has a scalar implementation in portable Go. Built with
// GOEXPERIMENT=simd, the package adds SIMD implementations written with
// simd/archsimd:
//
//   - "amd64-avx512": 512-bit matrix products, chosen at run time when the
//     CPU has AVX-512 (F, CD, BW, DQ and VL).
//   - "amd64-avx2": 256-bit kernels with FMA, chosen when the CPU has AVX2
//     and FMA but not AVX-512. The row-wise operations use these 256-bit
//     kernels on AVX-512 CPUs too.
//   - "wasm-simd128": 128-bit WebAssembly SIMD for GOOS=js GOARCH=wasm.
//     A module built this way fails to load in an engine without SIMD.
//   - "scalar": everything else, including amd64 CPUs without AVX2.
//
// Variant returns the name of the variant in use. Results of the variants
// differ only by float32 rounding: sums are accumulated in a different order.
//
// # Memory
//
// Functions write into slices that the caller passes. The matrix products
// also need scratch memory, which they take from a Workspace: a call whose
// shapes were seen before by the same Workspace allocates nothing.
//
// # Numerics
//
// Activations stay float32 throughout. MatMulInt8 converts the int8 weights
// to float32 block by block and accumulates in float32. GELU and Softmax use
// polynomial approximations of erf and exp (see approx.go) with errors of a
// few float32 ulp, measured by the tests.
package kernels

// Variant returns the name of the kernel variant in use: "amd64-avx512",
// "amd64-avx2", "wasm-simd128" or "scalar".
func Variant() string { return currentVariant() }
