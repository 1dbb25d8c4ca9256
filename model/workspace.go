package model

import (
	"runtime"
	"sync"

	"github.com/d2vgo/d2v/kernels"
)

// workspace holds every intermediate buffer of one forward pass, sized for
// up to batch images. Workspaces are reused across calls, so a forward pass
// in steady state allocates nothing.
type workspace struct {
	batch int

	patches   []float32 // [batch·patches, C·P·P]
	projected []float32 // [batch·patches, D]
	hidden    []float32 // [rows, D], the residual stream
	normed    []float32 // [rows, D]
	query     []float32 // [rows, D]
	key       []float32 // [rows, D]
	value     []float32 // [rows, D]
	context   []float32 // [rows, D]
	attention []float32 // [rows, D], attention output before layer scale
	mlpHidden []float32 // [rows, I]
	mlpOutput []float32 // [rows, D]
	pooled    []float32 // [batch, D]

	// lastHiddenState points at hidden or normed after a forward pass.
	lastHiddenState []float32

	// kernels is the scratch memory of the matrix products.
	kernels kernels.Workspace

	// heads has one entry per goroutine that computes attention heads:
	// GOMAXPROCS of them, the first being the caller. The others wait on
	// jobs for the workspace's lifetime, so that handing out heads
	// allocates nothing.
	heads   []headWorker
	jobs    chan headJob
	pending sync.WaitGroup
}

// headWorker is the scratch memory of one attention goroutine.
type headWorker struct {
	scores  []float32 // [T, T] for one image and head
	kernels kernels.Workspace
}

// headJob is a head worker's share of one layer's attention heads.
type headJob struct {
	attention       *SelfAttention
	shared          *RelativePositionBias
	batch           int
	cfg             *Config
	worker, workers int
}

func newWorkspace(cfg Config, batch int) *workspace {
	T, D, I := cfg.NumTokens(), cfg.HiddenSize, cfg.IntermediateSize
	P, C := cfg.PatchSize, cfg.NumChannels
	numPatches := cfg.GridSize() * cfg.GridSize()
	rows := batch * T
	ws := &workspace{
		batch:     batch,
		patches:   make([]float32, batch*numPatches*C*P*P),
		projected: make([]float32, batch*numPatches*D),
		hidden:    make([]float32, rows*D),
		normed:    make([]float32, rows*D),
		query:     make([]float32, rows*D),
		key:       make([]float32, rows*D),
		value:     make([]float32, rows*D),
		context:   make([]float32, rows*D),
		attention: make([]float32, rows*D),
		mlpHidden: make([]float32, rows*I),
		mlpOutput: make([]float32, rows*D),
		pooled:    make([]float32, batch*D),
	}

	workers := runtime.GOMAXPROCS(0)
	ws.heads = make([]headWorker, workers)
	for i := range ws.heads {
		ws.heads[i].scores = make([]float32, T*T)
	}
	if workers > 1 {
		ws.jobs = make(chan headJob, workers)
		for i := 1; i < workers; i++ {
			go ws.runHeadJobs()
		}
	}
	return ws
}

// runHeadJobs serves head jobs until the workspace is closed.
func (ws *workspace) runHeadJobs() {
	for job := range ws.jobs {
		job.attention.heads(ws, &ws.heads[job.worker], job.shared, job.batch, job.cfg, job.worker, job.workers)
		ws.pending.Done()
	}
}

// close stops the head workers of a workspace that will not be used again.
func (ws *workspace) close() {
	if ws.jobs != nil {
		close(ws.jobs)
	}
}

// getWorkspace returns a free workspace for at least batch images. Each
// concurrent Forward call holds its own.
func (m *Model) getWorkspace(batch int) *workspace {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, ws := range m.free {
		if ws.batch >= batch {
			m.free = append(m.free[:i], m.free[i+1:]...)
			return ws
		}
	}
	if len(m.free) > 0 {
		// Drop a smaller one so that the pool does not grow without bound.
		m.free[0].close()
		m.free = m.free[1:]
	}
	return newWorkspace(m.Config, batch)
}

func (m *Model) putWorkspace(ws *workspace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.free = append(m.free, ws)
}
