package model

import "github.com/d2vgo/d2v/kernels"

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
	scores    []float32 // [T, T] for one image and head
	mlpHidden []float32 // [rows, I]
	mlpOutput []float32 // [rows, D]
	pooled    []float32 // [batch, D]

	// lastHiddenState points at hidden or normed after a forward pass.
	lastHiddenState []float32

	// kernels is the scratch memory of the matrix products.
	kernels kernels.Workspace
}

func newWorkspace(cfg Config, batch int) *workspace {
	T, D, I := cfg.NumTokens(), cfg.HiddenSize, cfg.IntermediateSize
	P, C := cfg.PatchSize, cfg.NumChannels
	numPatches := cfg.GridSize() * cfg.GridSize()
	rows := batch * T
	return &workspace{
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
		scores:    make([]float32, T*T),
		mlpHidden: make([]float32, rows*I),
		mlpOutput: make([]float32, rows*D),
		pooled:    make([]float32, batch*D),
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
		m.free = m.free[1:]
	}
	return newWorkspace(m.Config, batch)
}

func (m *Model) putWorkspace(ws *workspace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.free = append(m.free, ws)
}
