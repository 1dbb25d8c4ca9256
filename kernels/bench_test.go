package kernels

import (
	"math/rand/v2"
	"testing"
)

// The benchmarks use the shapes of Data2Vec-Vision base at 224×224: 197
// tokens of width 768, an MLP of width 3072, and 12 heads of width 64.
// Those named _NxM multiply [197, N] activations by int8 weights [M, N].
// GOMAXPROCS (the -cpu flag) sets the number of goroutines of MatMulInt8.

const (
	tokens   = 197
	hidden   = 768
	mlpWidth = 3072
	heads    = 12
	headSize = 64
)

// reportRate reports work units per second under the given name.
func reportRate(b *testing.B, perCall float64, unit string) {
	b.ReportMetric(perCall*float64(b.N)/b.Elapsed().Seconds(), unit)
}

func benchmarkMatMulInt8(b *testing.B, rows, in, out int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomFloats(rng, rows*in, 0, 1)
	w := randomInt8s(rng, out*in)
	scale := randomFloats(rng, out, 0.01, 0.001)
	bias := randomFloats(rng, out, 0, 1)
	dst := make([]float32, rows*out)
	var ws Workspace
	for b.Loop() {
		ws.MatMulInt8(dst, x, w, scale, bias, rows, in, out)
	}
	reportRate(b, 2*float64(rows*in*out)/1e9, "GFLOP/s")
}

func BenchmarkMatMulInt8_768x768(b *testing.B)  { benchmarkMatMulInt8(b, tokens, hidden, hidden) }
func BenchmarkMatMulInt8_768x3072(b *testing.B) { benchmarkMatMulInt8(b, tokens, hidden, mlpWidth) }
func BenchmarkMatMulInt8_3072x768(b *testing.B) { benchmarkMatMulInt8(b, tokens, mlpWidth, hidden) }

// BenchmarkMatMulInt8_Classifier is the head: one row, 1000 classes.
func BenchmarkMatMulInt8_Classifier(b *testing.B) { benchmarkMatMulInt8(b, 1, hidden, 1000) }

// BenchmarkMatMulTransB_Scores computes the attention scores q·kᵀ of one
// head, whose columns sit inside [197, 768] projections.
func BenchmarkMatMulTransB_Scores(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	q := randomFloats(rng, tokens*hidden, 0, 1)
	k := randomFloats(rng, tokens*hidden, 0, 1)
	scores := make([]float32, tokens*tokens)
	var ws Workspace
	for b.Loop() {
		ws.MatMulTransB(scores, q[headSize:], k[headSize:], tokens, tokens, headSize, hidden, hidden, tokens, 0.125)
	}
	reportRate(b, 2*float64(tokens*tokens*headSize)/1e9, "GFLOP/s")
}

// BenchmarkMatMul_Context computes one head's context, probabilities·v.
func BenchmarkMatMul_Context(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	probs := randomFloats(rng, tokens*tokens, 0, 1)
	v := randomFloats(rng, tokens*hidden, 0, 1)
	context := make([]float32, tokens*hidden)
	var ws Workspace
	for b.Loop() {
		ws.MatMul(context[headSize:], probs, v[headSize:], tokens, headSize, tokens, tokens, hidden, hidden)
	}
	reportRate(b, 2*float64(tokens*tokens*headSize)/1e9, "GFLOP/s")
}

func BenchmarkGELU_197x3072(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	source := randomFloats(rng, tokens*mlpWidth, 0, 2)
	x := make([]float32, len(source))
	for b.Loop() {
		copy(x, source)
		GELU(x)
	}
	reportRate(b, float64(len(x))/1e6, "Melem/s")
}

func BenchmarkLayerNorm_197x768(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := randomFloats(rng, tokens*hidden, 0, 1)
	weight := randomFloats(rng, hidden, 1, 0.1)
	bias := randomFloats(rng, hidden, 0, 0.1)
	dst := make([]float32, len(x))
	for b.Loop() {
		LayerNorm(dst, x, tokens, hidden, weight, bias, 1e-12)
	}
	reportRate(b, float64(len(x))/1e6, "Melem/s")
}

func BenchmarkSoftmax_197x197(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	source := randomFloats(rng, tokens*tokens, 0, 3)
	x := make([]float32, len(source))
	for b.Loop() {
		copy(x, source)
		for r := 0; r < tokens; r++ {
			Softmax(x[r*tokens : (r+1)*tokens])
		}
	}
	reportRate(b, float64(len(x))/1e6, "Melem/s")
}

// encoderLayer holds random weights and buffers for one transformer layer
// of Data2Vec-Vision base.
type encoderLayer struct {
	query, key, value, output, intermediate, mlpOutput []int8
	scale, bias                                        []float32 // shared by all projections
	norm                                               []float32 // LayerNorm weight and bias, layer scale

	hidden, normed, q, k, v, context, attention, mlp, mlpOut []float32
	scores                                                   []float32
	ws                                                       Workspace
}

func newEncoderLayer() *encoderLayer {
	rng := rand.New(rand.NewPCG(7, 7))
	rows := tokens
	return &encoderLayer{
		query:        randomInt8s(rng, hidden*hidden),
		key:          randomInt8s(rng, hidden*hidden),
		value:        randomInt8s(rng, hidden*hidden),
		output:       randomInt8s(rng, hidden*hidden),
		intermediate: randomInt8s(rng, mlpWidth*hidden),
		mlpOutput:    randomInt8s(rng, hidden*mlpWidth),
		scale:        randomFloats(rng, mlpWidth, 0.001, 0.0001),
		bias:         randomFloats(rng, mlpWidth, 0, 0.1),
		norm:         randomFloats(rng, hidden, 1, 0.1),
		hidden:       randomFloats(rng, rows*hidden, 0, 1),
		normed:       make([]float32, rows*hidden),
		q:            make([]float32, rows*hidden),
		k:            make([]float32, rows*hidden),
		v:            make([]float32, rows*hidden),
		context:      make([]float32, rows*hidden),
		attention:    make([]float32, rows*hidden),
		mlp:          make([]float32, rows*mlpWidth),
		mlpOut:       make([]float32, rows*hidden),
		scores:       make([]float32, tokens*tokens),
	}
}

// forward runs the kernels of one pre-norm layer in the order the model
// calls them.
func (l *encoderLayer) forward() {
	rows, D := tokens, hidden
	ws := &l.ws
	LayerNorm(l.normed, l.hidden, rows, D, l.norm, l.norm, 1e-12)
	ws.MatMulInt8(l.q, l.normed, l.query, l.scale[:D], l.bias[:D], rows, D, D)
	ws.MatMulInt8(l.k, l.normed, l.key, l.scale[:D], nil, rows, D, D)
	ws.MatMulInt8(l.v, l.normed, l.value, l.scale[:D], l.bias[:D], rows, D, D)
	for h := 0; h < heads; h++ {
		off := h * headSize
		ws.MatMulTransB(l.scores, l.q[off:], l.k[off:], tokens, tokens, headSize, D, D, tokens, 0.125)
		for i := 0; i < tokens; i++ {
			Softmax(l.scores[i*tokens : (i+1)*tokens])
		}
		ws.MatMul(l.context[off:], l.scores, l.v[off:], tokens, headSize, tokens, tokens, D, D)
	}
	ws.MatMulInt8(l.attention, l.context, l.output, l.scale[:D], l.bias[:D], rows, D, D)
	AddScaled(l.hidden, l.attention, l.norm)

	LayerNorm(l.normed, l.hidden, rows, D, l.norm, l.norm, 1e-12)
	ws.MatMulInt8(l.mlp, l.normed, l.intermediate, l.scale, l.bias, rows, D, mlpWidth)
	GELU(l.mlp)
	ws.MatMulInt8(l.mlpOut, l.mlp, l.mlpOutput, l.scale[:D], l.bias[:D], rows, mlpWidth, D)
	AddScaled(l.hidden, l.mlpOut, l.norm)
}

// BenchmarkEncoderLayer runs every kernel of one encoder layer. Twelve
// layers plus the patch embedding (about 0.23 GFLOP) make one image, so
// 12 × ms/layer estimates the encoder's time per image.
func BenchmarkEncoderLayer(b *testing.B) {
	l := newEncoderLayer()
	l.forward()
	for b.Loop() {
		l.forward()
	}
	flops := 2*float64(tokens)*(4*hidden*hidden+2*hidden*mlpWidth) + heads*4*float64(tokens*tokens*headSize)
	reportRate(b, flops/1e9, "GFLOP/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/layer")
}
