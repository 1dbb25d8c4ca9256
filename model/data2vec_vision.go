// Package model is Data2Vec-Vision (and BEiT, the same architecture) for
// image classification, as in Hugging Face transformers'
// modeling_data2vec_vision.py. Names follow the checkpoint keys: a
// Layer's LayernormBefore is encoder.layer.{i}.layernorm_before, and so on.
//
// Activations are row-major float32 matrices of shape [batch·tokens, hidden]:
// row b·T + t is token t of image b, and token 0 is CLS.
package model

import (
	"fmt"
	"math"
	"sync"

	"github.com/d2vgo/d2v/kernels"
)

// Model is Data2VecVisionForImageClassification.
type Model struct {
	Config Config

	Embeddings Embeddings
	Layers     []Layer
	// SharedRelativePositionBias is encoder.relative_position_bias, added in
	// every layer when use_shared_relative_position_bias is set.
	SharedRelativePositionBias *RelativePositionBias

	// LayerNorm is the final layernorm over all tokens, used with CLS
	// pooling; PoolerLayerNorm is pooler.layernorm, used with mean pooling.
	// Exactly one is set.
	LayerNorm       *LayerNorm
	PoolerLayerNorm *LayerNorm

	Classifier Linear

	mu   sync.Mutex
	free []*workspace // workspaces not in use
}

// Embeddings turns pixels into the token sequence.
type Embeddings struct {
	CLSToken           []float32 // [hidden]
	PatchProjection    Linear    // Conv2d(kernel = stride = patch) as a Linear over flattened [C, P, P] patches
	PositionEmbeddings []float32 // [tokens, hidden], or nil
}

// Layer is one pre-norm transformer block with layer scale.
type Layer struct {
	LayernormBefore LayerNorm
	Attention       SelfAttention
	Lambda1         []float32 // layer scale of the attention branch, or nil
	LayernormAfter  LayerNorm // the pre-MLP norm, despite its name
	Intermediate    Linear    // hidden → intermediate, followed by GELU
	Output          Linear    // intermediate → hidden
	Lambda2         []float32 // layer scale of the MLP branch, or nil
}

// SelfAttention is attention.attention plus attention.output.dense.
type SelfAttention struct {
	Query, Key, Value    Linear // Key has no bias
	RelativePositionBias *RelativePositionBias
	Output               Linear
}

// LayerNorm holds the affine parameters of a torch.nn.LayerNorm.
type LayerNorm struct {
	Weight, Bias []float32
}

// Output holds the results of Forward as row-major float32 matrices.
type Output struct {
	Logits          []float32   // [batch, labels]
	PoolerOutput    []float32   // [batch, hidden]
	LastHiddenState []float32   // [batch, tokens, hidden]
	HiddenStates    [][]float32 // embeddings then each layer's output, [batch, tokens, hidden]; only with ForwardOptions.OutputHiddenStates
}

// ForwardOptions selects optional outputs.
type ForwardOptions struct {
	OutputHiddenStates bool
}

// Forward classifies a batch of images. pixelValues is [batch, 3, size,
// size] (CHW per image), already preprocessed. The returned slices are new
// and belong to the caller.
func (m *Model) Forward(pixelValues []float32, batch int, opts ForwardOptions) (*Output, error) {
	if err := m.checkInput(pixelValues, batch); err != nil {
		return nil, err
	}
	ws := m.getWorkspace(batch)
	defer m.putWorkspace(ws)

	out := &Output{Logits: make([]float32, batch*m.Config.NumLabels())}
	var record func([]float32)
	if opts.OutputHiddenStates {
		record = func(h []float32) { out.HiddenStates = append(out.HiddenStates, clone(h)) }
	}
	m.forward(out.Logits, pixelValues, batch, ws, record)

	D, rows := m.Config.HiddenSize, batch*m.Config.NumTokens()
	out.PoolerOutput = clone(ws.pooled[:batch*D])
	out.LastHiddenState = clone(ws.lastHiddenState[:rows*D])
	return out, nil
}

// Logits writes the [batch, labels] logits of a batch of images into dst.
// Unlike Forward it allocates nothing once a workspace of that batch size
// exists, so repeated calls leave the garbage collector idle.
func (m *Model) Logits(dst, pixelValues []float32, batch int) error {
	if err := m.checkInput(pixelValues, batch); err != nil {
		return err
	}
	if want := batch * m.Config.NumLabels(); len(dst) != want {
		return fmt.Errorf("logits buffer has %d elements, want %d", len(dst), want)
	}
	ws := m.getWorkspace(batch)
	defer m.putWorkspace(ws)
	m.forward(dst, pixelValues, batch, ws, nil)
	return nil
}

func (m *Model) checkInput(pixelValues []float32, batch int) error {
	cfg := m.Config
	size := cfg.ImageSize
	if batch < 1 {
		return fmt.Errorf("batch size %d must be at least 1", batch)
	}
	if want := batch * cfg.NumChannels * size * size; len(pixelValues) != want {
		return fmt.Errorf("pixel values have %d elements, want %d for [%d, %d, %d, %d]", len(pixelValues), want, batch, cfg.NumChannels, size, size)
	}
	return nil
}

// forward runs the whole model and writes logits. It leaves the pooled
// output and the last hidden state in ws. If record is not nil, it receives
// each hidden state as it is computed.
func (m *Model) forward(logits, pixelValues []float32, batch int, ws *workspace, record func([]float32)) {
	cfg := m.Config
	T, D := cfg.NumTokens(), cfg.HiddenSize
	rows := batch * T

	// Embeddings: patch projection, CLS token, absolute positions.
	hidden := ws.hidden[:rows*D]
	m.embed(hidden, pixelValues, batch, ws)
	if record != nil {
		record(hidden)
	}

	// Encoder.
	for i := range m.Layers {
		m.Layers[i].forward(hidden, batch, &m.Config, m.SharedRelativePositionBias, ws)
		if record != nil {
			record(hidden)
		}
	}

	// Pooling: mean of the patch tokens then pooler.layernorm, or the final
	// layernorm over every token and then the CLS token.
	pooled := ws.pooled[:batch*D]
	if m.PoolerLayerNorm != nil {
		ws.lastHiddenState = hidden
		for b := 0; b < batch; b++ {
			meanOfRows(pooled[b*D:(b+1)*D], hidden[(b*T+1)*D:(b+1)*T*D], T-1)
		}
		kernels.LayerNorm(pooled, pooled, batch, D, m.PoolerLayerNorm.Weight, m.PoolerLayerNorm.Bias, cfg.LayerNormEps)
	} else {
		normed := ws.normed[:rows*D]
		kernels.LayerNorm(normed, hidden, rows, D, m.LayerNorm.Weight, m.LayerNorm.Bias, cfg.LayerNormEps)
		ws.lastHiddenState = normed
		for b := 0; b < batch; b++ {
			copy(pooled[b*D:(b+1)*D], normed[b*T*D:])
		}
	}

	// Classifier.
	m.Classifier.Forward(&ws.kernels, logits, pooled, batch)
}

// embed writes the token sequence [batch·T, D] for the images into hidden.
func (m *Model) embed(hidden, pixelValues []float32, batch int, ws *workspace) {
	cfg := m.Config
	C, P, size, grid := cfg.NumChannels, cfg.PatchSize, cfg.ImageSize, cfg.GridSize()
	T, D := cfg.NumTokens(), cfg.HiddenSize
	numPatches := grid * grid

	// Gather each patch as a [C, P, P] vector (the order of the convolution
	// kernel), then project all patches of all images in one product.
	patches := ws.patches[:batch*numPatches*C*P*P]
	k := 0
	for b := 0; b < batch; b++ {
		image := pixelValues[b*C*size*size : (b+1)*C*size*size]
		for row := 0; row < grid; row++ {
			for col := 0; col < grid; col++ {
				for c := 0; c < C; c++ {
					for y := 0; y < P; y++ {
						start := c*size*size + (row*P+y)*size + col*P
						copy(patches[k:k+P], image[start:start+P])
						k += P
					}
				}
			}
		}
	}
	projected := ws.projected[:batch*numPatches*D]
	m.Embeddings.PatchProjection.Forward(&ws.kernels, projected, patches, batch*numPatches)

	// Token 0 is CLS; patch n (row-major over the grid) is token n+1.
	for b := 0; b < batch; b++ {
		copy(hidden[b*T*D:], m.Embeddings.CLSToken)
		copy(hidden[(b*T+1)*D:(b+1)*T*D], projected[b*numPatches*D:(b+1)*numPatches*D])
		if m.Embeddings.PositionEmbeddings != nil {
			kernels.Add(hidden[b*T*D:(b+1)*T*D], m.Embeddings.PositionEmbeddings)
		}
	}
}

// forward updates hidden in place:
//
//	x = x + λ1 · Attention(LayernormBefore(x))
//	x = x + λ2 · Output(GELU(Intermediate(LayernormAfter(x))))
func (l *Layer) forward(hidden []float32, batch int, cfg *Config, shared *RelativePositionBias, s *workspace) {
	rows, D := batch*cfg.NumTokens(), cfg.HiddenSize
	// The workspace may be sized for a larger batch; use only this batch's rows.
	normed, attention := s.normed[:rows*D], s.attention[:rows*D]
	mlpHidden, mlpOutput := s.mlpHidden[:rows*cfg.IntermediateSize], s.mlpOutput[:rows*D]

	kernels.LayerNorm(normed, hidden, rows, D, l.LayernormBefore.Weight, l.LayernormBefore.Bias, cfg.LayerNormEps)
	l.Attention.forward(attention, normed, batch, cfg, shared, s)
	kernels.AddScaled(hidden, attention, l.Lambda1)

	kernels.LayerNorm(normed, hidden, rows, D, l.LayernormAfter.Weight, l.LayernormAfter.Bias, cfg.LayerNormEps)
	l.Intermediate.Forward(&s.kernels, mlpHidden, normed, rows)
	kernels.GELU(mlpHidden)
	l.Output.Forward(&s.kernels, mlpOutput, mlpHidden, rows)
	kernels.AddScaled(hidden, mlpOutput, l.Lambda2)
}

// forward computes multi-head self-attention of x [batch·T, D] into dst:
// per head, softmax(q·kᵀ/√d + relative position bias)·v, heads concatenated
// in order, then the output projection.
func (a *SelfAttention) forward(dst, x []float32, batch int, cfg *Config, shared *RelativePositionBias, s *workspace) {
	H := cfg.NumAttentionHeads
	rows := batch * cfg.NumTokens()

	a.Query.Forward(&s.kernels, s.query, x, rows)
	a.Key.Forward(&s.kernels, s.key, x, rows)
	a.Value.Forward(&s.kernels, s.value, x, rows)

	// Heads are independent, so they are shared out among the workspace's
	// head workers; worker 0 is this goroutine.
	workers := min(len(s.heads), batch*H)
	for w := 1; w < workers; w++ {
		s.pending.Add(1)
		s.jobs <- headJob{attention: a, shared: shared, batch: batch, cfg: cfg, worker: w, workers: workers}
	}
	a.heads(s, &s.heads[0], shared, batch, cfg, 0, workers)
	s.pending.Wait()

	a.Output.Forward(&s.kernels, dst, s.context, rows)
}

// heads computes the attention heads numbered worker, worker+workers, ...
// of the batch (head h of image b is number b·H + h) into s.context.
func (a *SelfAttention) heads(s *workspace, hw *headWorker, shared *RelativePositionBias, batch int, cfg *Config, worker, workers int) {
	T, D := cfg.NumTokens(), cfg.HiddenSize
	H, d := cfg.NumAttentionHeads, cfg.HeadSize()

	// transformers divides q·kᵀ by √d after the product. Multiplying by
	// 1/√d inside the product gives the same float32 result when √d is a
	// power of two (d = 64 in the base and large checkpoints) and may differ
	// by one ulp otherwise, well inside the parity tolerance.
	scale := float32(1 / math.Sqrt(float64(d)))
	scores := hw.scores
	for n := worker; n < batch*H; n += workers {
		b, h := n/H, n%H
		off := b*T*D + h*d

		// scores [T, T] = q_h·k_hᵀ/√d, where head h is columns
		// [h·d, (h+1)·d) of the [T, D] projections.
		hw.kernels.MatMulTransB(scores, s.query[off:], s.key[off:], T, T, d, D, D, T, scale)
		if a.RelativePositionBias != nil {
			a.RelativePositionBias.add(scores, h)
		}
		if shared != nil {
			shared.add(scores, h)
		}
		for i := 0; i < T; i++ {
			kernels.Softmax(scores[i*T : (i+1)*T])
		}

		// context_h [T, d] = probabilities·v_h, written into columns
		// [h·d, (h+1)·d) so that the heads end up concatenated.
		hw.kernels.MatMul(s.context[off:], scores, s.value[off:], T, d, T, T, D, D)
	}
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }
