//go:build goexperiment.simd && wasm

#include "textflag.h"

// func dotKernel6x8(pairs int, a, b *int32, tile *[48]int32)
//
// tile[i·8+j] = Σ_{p<pairs} dot(a[(p·6+i)·4], b[p·8+j]), where every int32
// word of a and b holds two int16 values and dot multiplies them pairwise
// and adds both products. a is a row group (six rows, each word repeated in
// four lanes), b a panel of eight columns. pairs must be at least 1.
//
// The rows are repeated in memory rather than loaded with
// v128.load32_splat because Go's assembler does not encode the memory
// operand of the splat loads.
//
// V0–V11 are the accumulators (row i, columns 0–3 and 4–7 in V(2i) and
// V(2i+1)), V12 and V13 the panel's eight columns, V14 one row's word in
// all four lanes. R0 counts pairs down, R1 and R2 point into a and b.
TEXT ·dotKernel6x8(SB), NOSPLIT, $0-32
	MOVD pairs+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD tile+24(FP), R3

	I32Const $0
	I32x4Splat
	Set V0
	Get V0
	Set V1
	Get V0
	Set V2
	Get V0
	Set V3
	Get V0
	Set V4
	Get V0
	Set V5
	Get V0
	Set V6
	Get V0
	Set V7
	Get V0
	Set V8
	Get V0
	Set V9
	Get V0
	Set V10
	Get V0
	Set V11

	Loop
		Get R2
		I32WrapI64
		V128Load $0
		Set V12
		Get R2
		I32WrapI64
		V128Load $16
		Set V13

#define ROW(off, lo, hi) \
		Get R1; I32WrapI64; V128Load $off; Set V14; \
		Get lo; Get V14; Get V12; I32x4DotI16x8S; I32x4Add; Set lo; \
		Get hi; Get V14; Get V13; I32x4DotI16x8S; I32x4Add; Set hi

		ROW(0, V0, V1)
		ROW(16, V2, V3)
		ROW(32, V4, V5)
		ROW(48, V6, V7)
		ROW(64, V8, V9)
		ROW(80, V10, V11)

		Get R1
		I64Const $96
		I64Add
		Set R1
		Get R2
		I64Const $32
		I64Add
		Set R2
		Get R0
		I64Const $1
		I64Sub
		Tee R0
		I64Eqz
		I32Eqz
		BrIf $0
	End

// Go's assembler drops the offset operand of V128Store, so the offset is
// added to the address instead.
#define STORE(off, v) Get R3; I32WrapI64; I32Const $off; I32Add; Get v; V128Store $0

	STORE(0, V0)
	STORE(16, V1)
	STORE(32, V2)
	STORE(48, V3)
	STORE(64, V4)
	STORE(80, V5)
	STORE(96, V6)
	STORE(112, V7)
	STORE(128, V8)
	STORE(144, V9)
	STORE(160, V10)
	STORE(176, V11)
	RET
