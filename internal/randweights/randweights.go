// Package randweights generates random Data2Vec-Vision weights in the
// Hugging Face checkpoint layout, for measuring models whose real weights
// are not at hand.
package randweights

import (
	"fmt"
	"math/rand/v2"

	"github.com/d2vgo/d2v/model"
	"github.com/d2vgo/d2v/safetensors"
)

// Weights returns every tensor of a model with the given config, in
// checkpoint order. Weights follow transformers' initialization (normal
// with std 0.02, zero biases, LayerNorm weight 1, layer scale 0.1), except
// that relative position bias tables are random too, so that every part of
// the model influences the output. The same seed gives the same weights.
func Weights(cfg model.Config, seed uint64) []safetensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	D, I, P, H := cfg.HiddenSize, cfg.IntermediateSize, cfg.PatchSize, cfg.NumAttentionHeads
	grid := cfg.GridSize()
	var tensors []safetensors.Tensor
	normal := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.02)
		}
		tensors = append(tensors, safetensors.FromFloat32s(name, shape, v))
	}
	constant := func(name string, value float32, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = value
		}
		tensors = append(tensors, safetensors.FromFloat32s(name, []int{n}, v))
	}
	linear := func(name string, out, in int, bias bool) {
		normal(name+".weight", out, in)
		if bias {
			constant(name+".bias", 0, out)
		}
	}

	p := "data2vec_vision."
	normal(p+"embeddings.cls_token", 1, 1, D)
	normal(p+"embeddings.patch_embeddings.projection.weight", D, 3, P, P)
	constant(p+"embeddings.patch_embeddings.projection.bias", 0, D)
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		l := fmt.Sprintf("%sencoder.layer.%d.", p, i)
		constant(l+"layernorm_before.weight", 1, D)
		constant(l+"layernorm_before.bias", 0, D)
		linear(l+"attention.attention.query", D, D, true)
		linear(l+"attention.attention.key", D, D, false)
		linear(l+"attention.attention.value", D, D, true)
		normal(l+"attention.attention.relative_position_bias.relative_position_bias_table", (2*grid-1)*(2*grid-1)+3, H)
		linear(l+"attention.output.dense", D, D, true)
		constant(l+"lambda_1", 0.1, D)
		constant(l+"lambda_2", 0.1, D)
		constant(l+"layernorm_after.weight", 1, D)
		constant(l+"layernorm_after.bias", 0, D)
		linear(l+"intermediate.dense", I, D, true)
		linear(l+"output.dense", D, I, true)
	}
	constant(p+"pooler.layernorm.weight", 1, D)
	constant(p+"pooler.layernorm.bias", 0, D)
	linear("classifier", cfg.NumLabels(), D, true)
	return tensors
}
