package kernels

import (
	"runtime"
	"sync"
)

// parallelThreshold is the number of multiply-adds below which a product runs
// on the calling goroutine alone: under it, handing work to other goroutines
// costs more than it saves.
const parallelThreshold = 1 << 20

// Workspace holds the scratch memory of the matrix products and the state of
// their parallel workers. The zero value is ready to use. Buffers grow on the
// first calls and are kept, so a call allocates nothing when an earlier call
// on the same Workspace had shapes at least as large and GOMAXPROCS has not
// grown since.
//
// A Workspace must not be used by two goroutines at once: give each
// concurrent caller its own. It holds about one copy of the largest
// activation operands passed to it, at two bytes per value when rounded to
// int16. Each worker also holds a weight panel: 8 bytes per input channel
// with AVX-512, 12 KiB with AVX2, 16 bytes per input channel in the scalar
// variant. In the wasm-simd128 variant the one worker also holds a
// 256-column block of x with each value repeated four times, about 0.4 MB
// for 197 rows.
type Workspace struct {
	// shared holds operands repacked once per call and read by every worker.
	shared []float32
	// int16s and steps hold activations rounded to int16 once per call.
	int16s []int16
	steps  []float32
	// local holds one scratch buffer per worker, for weight panels.
	local [][]float32
	jobs  []job
	done  sync.WaitGroup
	// The product being computed lives here, not on the caller's stack,
	// because the jobs that point to it are handed to other goroutines.
	int8Op  int8Product
	floatOp floatProduct
}

// jobKind selects the product that a job computes.
type jobKind int

const (
	jobInt8 jobKind = iota
	jobFloat
)

// job is the part of one product that one worker computes: output channels
// [from, to) of an int8 product, or rows [from, to) of a float32 product.
type job struct {
	kind     jobKind
	int8     *int8Product
	float    *floatProduct
	from, to int
	scratch  *[]float32
	done     *sync.WaitGroup
}

func (j *job) run() {
	switch j.kind {
	case jobInt8:
		int8Range(j.int8, j.from, j.to, j.scratch)
	case jobFloat:
		floatRange(j.float, j.from, j.to, j.scratch)
	}
}

// workerCount returns how many goroutines should share a product of the given
// number of multiply-adds. GOOS=js runs every goroutine on one thread, so
// splitting there only adds overhead.
func workerCount(multiplyAdds int) int {
	if runtime.GOARCH == "wasm" || multiplyAdds < parallelThreshold {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// prepareJobs sizes ws for n workers and returns the jobs to fill.
func (ws *Workspace) prepareJobs(n int) []job {
	if len(ws.jobs) < n {
		ws.jobs = make([]job, n)
	}
	for len(ws.local) < n {
		ws.local = append(ws.local, nil)
	}
	jobs := ws.jobs[:n]
	for i := range jobs {
		jobs[i] = job{scratch: &ws.local[i], done: &ws.done}
	}
	return jobs
}

// runJobs runs jobs[0] on the calling goroutine and the others on the worker
// pool, and returns when all are done.
func (ws *Workspace) runJobs(jobs []job) {
	if len(jobs) > 1 {
		startWorkers(len(jobs) - 1)
		ws.done.Add(len(jobs) - 1)
		for i := 1; i < len(jobs); i++ {
			workerPool.jobs <- &jobs[i]
		}
	}
	jobs[0].run()
	ws.done.Wait()
	// Drop the references to the caller's slices.
	ws.int8Op = int8Product{}
	ws.floatOp = floatProduct{}
}

// workerPool is a set of long-lived goroutines that run jobs. Starting a
// goroutine per job would allocate on every call. The workers start on first
// need, never exit, and stay blocked on the channel while idle.
var workerPool struct {
	mu      sync.Mutex
	started int
	jobs    chan *job
}

// startWorkers makes sure that at least n pool goroutines are running.
func startWorkers(n int) {
	workerPool.mu.Lock()
	defer workerPool.mu.Unlock()
	if workerPool.jobs == nil {
		workerPool.jobs = make(chan *job)
	}
	for ; workerPool.started < n; workerPool.started++ {
		go runWorker(workerPool.jobs)
	}
}

func runWorker(jobs <-chan *job) {
	for j := range jobs {
		j.run()
		j.done.Done()
	}
}

// splitRange divides [0, n) into parts contiguous ranges whose boundaries are
// multiples of align, as even as that allows, and stores them in jobs.
// It returns the number of non-empty ranges.
func splitRange(jobs []job, n, align int) int {
	blocks := (n + align - 1) / align
	parts := min(len(jobs), blocks)
	start := 0
	for i := 0; i < parts; i++ {
		// Spread the remainder over the first ranges.
		count := blocks / parts
		if i < blocks%parts {
			count++
		}
		end := min(start+count*align, n)
		jobs[i].from, jobs[i].to = start, end
		start = end
	}
	return parts
}

// grow returns (*buf)[:n], reallocating *buf when it is too short. The
// contents are not preserved.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// workspacePool serves the package-level functions that take no Workspace.
var workspacePool = sync.Pool{New: func() any { return new(Workspace) }}
