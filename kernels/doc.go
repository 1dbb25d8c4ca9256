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
//     A module built this way fails to load in an engine without SIMD. Its
//     int8 product is a micro-kernel in Go assembly (matmul_wasm.s), because
//     simd/archsimd does not offer i32x4.dot_i16x8_s on wasm.
//   - "scalar": everything else, including amd64 CPUs without AVX2.
//
// Variant returns the name of the variant in use. Results of the variants
// differ by float32 rounding, since sums are accumulated in a different
// order, and in MatMulInt8 by the rounding of activations described below.
//
// # Memory
//
// Functions write into slices that the caller passes. The matrix products
// also need scratch memory, which they take from a Workspace: a call whose
// shapes were seen before by the same Workspace allocates nothing, unless
// GOMAXPROCS has grown since.
//
// # Numerics
//
// Activations stay float32 between kernels. In the amd64-avx2 and scalar
// variants, MatMulInt8 converts the int8 weights to float32 block by block
// and accumulates in float32. The amd64-avx512 and wasm-simd128 variants
// instead round each row of x to int16, with a scale of its own, and sum
// the int16 products in int32 (activations.go gives the rule). Their
// instructions that multiply int16 pairs and add adjacent products
// (VPMADDWD, i32x4.dot_i16x8_s) form twice as many products as a float32
// fused multiply-add of the same width, and WebAssembly SIMD has no fused
// float multiply-add at all.
//
// For rows of finite values, both int16 variants compute the same integers
// from the same x. Rounding moves each activation by at most half a step,
// max|row| / ActivationLevels(in) / 2, except in rows whose largest value is
// below ActivationLevels(in) / MaxFloat32 (9.6e-35 for in up to 512, 1.6e-35
// for in = 3072), where the step is fixed at 1/MaxFloat32. On the
// trained Fashion-MNIST model the rounding changed neither the accuracy nor
// the agreement with float32.
//
// GELU and Softmax use polynomial approximations of erf and exp (see
// approx.go) with errors of a few float32 ulp, measured by the tests.
package kernels

// Variant returns the name of the kernel variant in use: "amd64-avx512",
// "amd64-avx2", "wasm-simd128" or "scalar".
func Variant() string { return currentVariant() }

// ActivationLevels returns the largest magnitude to which MatMulInt8 in the
// current variant rounds a row of in activations, or 0 when it multiplies
// float32 activations for rows of that length.
func ActivationLevels(in int) int { return int(variantActivationLevels(in)) }
