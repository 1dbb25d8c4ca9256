package kernels

import "fmt"

// int8Product is one call of MatMulInt8.
type int8Product struct {
	dst, x        []float32
	w             []int8
	scale, bias   []float32
	rows, in, out int
	// quantized holds the rows of x rounded to int16 by prepareInt8, ldq
	// elements apart, and steps the value of one integer in each row. Only
	// amd64-avx512 fills them: wasm-simd128 rounds x one k block at a time
	// in its worker's scratch.
	quantized []int16
	ldq       int
	steps     []float32
}

// floatProduct is one call of MatMul or MatMulTransB:
// dst[i·ldc+j] = alpha·Σ_p a[i·lda+p]·B[p, j], where B[p, j] is b[j·ldb+p]
// when transB is set and b[p·ldb+j] otherwise.
type floatProduct struct {
	dst, a, b     []float32
	m, n, k       int
	lda, ldb, ldc int
	alpha         float32
	transB        bool
	// packedA and packedB are the operands rearranged by prepareFloat, for
	// the variants that read them in another layout.
	packedA, packedB []float32
}

// MatMulInt8 computes dst[r, o] = scale[o]·Σ_k x[r, k]·w[o, k] + bias[o] for
// the rows r of x [rows, in] and the output channels o of w [out, in], the
// layout of torch.nn.Linear. bias may be nil. dst is [rows, out] and must not
// overlap x.
//
// It takes a Workspace from a sync.Pool. The pool can drop its Workspaces at
// a garbage collection, so a call after one may allocate. Use
// Workspace.MatMulInt8 where no call may allocate.
func MatMulInt8(dst, x []float32, w []int8, scale, bias []float32, rows, in, out int) {
	ws := workspacePool.Get().(*Workspace)
	ws.MatMulInt8(dst, x, w, scale, bias, rows, in, out)
	workspacePool.Put(ws)
}

// MatMulInt8 computes dst[r, o] = scale[o]·Σ_k x[r, k]·w[o, k] + bias[o] as
// the package-level MatMulInt8 does. Sums accumulate in float32, except in
// the amd64-avx512 and wasm-simd128 variants, which round x to int16 and
// sum in int32 (see the package documentation).
//
// Large products are split by output channel over GOMAXPROCS goroutines,
// except under GOARCH=wasm, which runs on one thread.
func (ws *Workspace) MatMulInt8(dst, x []float32, w []int8, scale, bias []float32, rows, in, out int) {
	const name = "MatMulInt8"
	checkShape(name, "rows", rows)
	checkShape(name, "in", in)
	checkShape(name, "out", out)
	checkLen(name, "x", len(x), rows*in)
	checkLen(name, "w", len(w), out*in)
	checkLen(name, "scale", len(scale), out)
	if bias != nil {
		checkLen(name, "bias", len(bias), out)
	}
	checkLen(name, "dst", len(dst), rows*out)
	ws.runInt8(dst, x, w[:out*in], scale, bias, rows, in, out)
}

// runInt8 runs a checked int8 product.
func (ws *Workspace) runInt8(dst, x []float32, w []int8, scale, bias []float32, rows, in, out int) {
	if rows == 0 || out == 0 {
		return
	}
	if in == 0 {
		for r := 0; r < rows; r++ {
			fillBias(dst[r*out:(r+1)*out], bias)
		}
		return
	}

	p := &ws.int8Op
	*p = int8Product{
		dst: dst[:rows*out], x: x[:rows*in], w: w,
		scale: scale[:out], bias: bias,
		rows: rows, in: in, out: out,
	}
	if bias != nil {
		p.bias = bias[:out]
	}
	prepareInt8(p, ws)

	jobs := ws.prepareJobs(workerCount(rows * in * out))
	parts := splitRange(jobs, out, int8ChannelAlign())
	for i := range jobs[:parts] {
		jobs[i].kind = jobInt8
		jobs[i].int8 = p
	}
	ws.runJobs(jobs[:parts])
}

// MatMulTransB computes dst = alpha·a·bᵀ for a [m, k] and b [n, k]:
// dst[i·ldc+j] = alpha·Σ_p a[i·lda+p]·b[j·ldb+p]. lda, ldb and ldc are the
// distances between the starts of consecutive rows, so each operand may be
// a column range of a wider matrix, such as one attention head of the query
// and key projections. dst must not overlap a or b.
//
// Sums accumulate in float32 and are multiplied by alpha at the end. For
// scores divided by √64 = 8, alpha = 0.125 gives the same float32 result as
// dividing, because 8 is a power of two.
func (ws *Workspace) MatMulTransB(dst, a, b []float32, m, n, k, lda, ldb, ldc int, alpha float32) {
	const name = "MatMulTransB"
	checkMatrix(name, "a", len(a), m, k, lda)
	checkMatrix(name, "b", len(b), n, k, ldb)
	checkMatrix(name, "dst", len(dst), m, n, ldc)
	ws.runFloat(&floatProduct{dst: dst, a: a, b: b, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, transB: true})
}

// MatMul computes dst = a·b for a [m, k] and b [k, n]:
// dst[i·ldc+j] = Σ_p a[i·lda+p]·b[p·ldb+j], with row strides as in
// MatMulTransB. In attention it computes one head's context from the
// attention probabilities and that head's columns of the value projection.
// dst must not overlap a or b.
func (ws *Workspace) MatMul(dst, a, b []float32, m, n, k, lda, ldb, ldc int) {
	const name = "MatMul"
	checkMatrix(name, "a", len(a), m, k, lda)
	checkMatrix(name, "b", len(b), k, n, ldb)
	checkMatrix(name, "dst", len(dst), m, n, ldc)
	ws.runFloat(&floatProduct{dst: dst, a: a, b: b, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, alpha: 1})
}

// runFloat runs a checked float32 product. The argument is copied into
// ws so that it does not escape.
func (ws *Workspace) runFloat(arg *floatProduct) {
	if arg.m == 0 || arg.n == 0 {
		return
	}
	if arg.k == 0 {
		for i := 0; i < arg.m; i++ {
			clear(arg.dst[i*arg.ldc : i*arg.ldc+arg.n])
		}
		return
	}
	p := &ws.floatOp
	*p = *arg
	prepareFloat(p, ws)

	jobs := ws.prepareJobs(workerCount(p.m * p.n * p.k))
	parts := splitRange(jobs, p.m, floatRowAlign())
	for i := range jobs[:parts] {
		jobs[i].kind = jobFloat
		jobs[i].float = p
	}
	ws.runJobs(jobs[:parts])
}

// fillBias sets row to bias, or to zero when bias is nil.
func fillBias(row, bias []float32) {
	if bias == nil {
		clear(row)
		return
	}
	copy(row, bias)
}

func checkShape(function, name string, value int) {
	if value < 0 {
		panic(fmt.Sprintf("kernels.%s: %s = %d is negative", function, name, value))
	}
}

func checkLen(function, name string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d, want at least %d", function, name, got, want))
	}
}

// checkMatrix checks that a slice of length size holds a rows×cols matrix
// whose rows start stride elements apart.
func checkMatrix(function, name string, size, rows, cols, stride int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels.%s: %s is %d×%d, a negative size", function, name, rows, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if stride < cols {
		panic(fmt.Sprintf("kernels.%s: row stride of %s is %d, want at least its %d columns", function, name, stride, cols))
	}
	checkLen(function, name, size, (rows-1)*stride+cols)
}
