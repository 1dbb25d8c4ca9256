package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// Options changes how a model holds its weights.
type Options struct {
	// Int8 quantizes float Linear and patch-embedding weights per output
	// channel while loading, exactly as tools/convert does, so that the
	// model runs the int8 kernels. Weights that are already int8 stay as
	// they are.
	Int8 bool
}

// Load reads config.json and the weights in dir and builds the model with
// the weights as stored.
func Load(dir string) (*Model, error) {
	return LoadWithOptions(dir, Options{})
}

// LoadWithOptions is Load with options.
func LoadWithOptions(dir string, opts Options) (*Model, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	ckpt, err := checkpoint.Open(dir)
	if err != nil {
		return nil, err
	}
	m, err := NewWithOptions(cfg, ckpt, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// prefix returns the key prefix of the backbone for a model type;
// classifier.* keys carry no prefix.
func prefix(modelType string) string {
	if modelType == "beit" {
		return "beit."
	}
	return "data2vec_vision."
}

// tensorReader takes tensors out of a checkpoint by name, checks their
// shapes, and remembers which names it used so leftovers can be reported.
type tensorReader struct {
	ckpt *checkpoint.Checkpoint
	used map[string]bool
	int8 bool // quantize float Linear weights
}

func (r *tensorReader) get(name string, shape ...int) (safetensors.Tensor, error) {
	t, ok := r.ckpt.Tensor(name)
	if !ok {
		return t, fmt.Errorf("tensor %q is missing from the checkpoint (expected shape %v)", name, shape)
	}
	if !slices.Equal(t.Shape, shape) {
		return t, fmt.Errorf("tensor %q has shape %v, expected %v", name, t.Shape, shape)
	}
	r.used[name] = true
	return t, nil
}

// float32s reads a float tensor of the given shape.
func (r *tensorReader) float32s(name string, shape ...int) ([]float32, error) {
	t, err := r.get(name, shape...)
	if err != nil {
		return nil, err
	}
	return t.Float32s()
}

// unused lists checkpoint tensors that no part of the model consumed.
func (r *tensorReader) unused() []string {
	var names []string
	for _, name := range r.ckpt.Names() {
		if !r.used[name] {
			names = append(names, name)
		}
	}
	return names
}

// linear reads name.weight and, when withBias, name.bias [out]. The weight
// is [out, in] unless weightShape names another shape of out×in elements,
// such as a convolution kernel. An I8 weight, with its F32
// name.weight_scale [out], becomes a quantize.Linear; a float weight
// becomes a DenseLinear.
func (r *tensorReader) linear(name string, out, in int, withBias bool, weightShape ...int) (Linear, error) {
	if weightShape == nil {
		weightShape = []int{out, in}
	}
	var bias []float32
	if withBias {
		var err error
		if bias, err = r.float32s(name+".bias", out); err != nil {
			return nil, err
		}
	}
	t, err := r.get(name+".weight", weightShape...)
	if err != nil {
		return nil, err
	}
	if t.DType == safetensors.I8 {
		// int8 weights stay int8: they alias the checkpoint's bytes.
		scale, err := r.float32s(name+".weight_scale", out)
		if err != nil {
			return nil, err
		}
		return quantize.NewLinear(quantize.Int8s(t.Data), scale, bias, out, in)
	}
	weight, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	if r.int8 {
		q, scale := quantize.Channel(weight, out, in)
		return quantize.NewLinear(q, scale, bias, out, in)
	}
	return NewDenseLinear(weight, bias, out, in)
}

// layerNormParams reads name.weight and name.bias, both [dim].
func (r *tensorReader) layerNormParams(name string, dim int) (LayerNorm, error) {
	w, err := r.float32s(name+".weight", dim)
	if err != nil {
		return LayerNorm{}, err
	}
	b, err := r.float32s(name+".bias", dim)
	if err != nil {
		return LayerNorm{}, err
	}
	return LayerNorm{Weight: w, Bias: b}, nil
}

// relativePositionBias reads a bias table and checks the optional legacy
// relative_position_index buffer against the computed index.
func (r *tensorReader) relativePositionBias(name string, cfg Config, index []int32) (*RelativePositionBias, error) {
	grid := cfg.GridSize()
	numDistances := (2*grid-1)*(2*grid-1) + 3
	table, err := r.float32s(name+".relative_position_bias_table", numDistances, cfg.NumAttentionHeads)
	if err != nil {
		return nil, err
	}
	if stored, ok := r.ckpt.Tensor(name + ".relative_position_index"); ok {
		tokens := cfg.NumTokens()
		if !slices.Equal(stored.Shape, []int{tokens, tokens}) {
			return nil, fmt.Errorf("tensor %q has shape %v, expected [%d %d]", stored.Name, stored.Shape, tokens, tokens)
		}
		values, err := stored.Int64s()
		if err != nil {
			return nil, err
		}
		for i, v := range values {
			if v != int64(index[i]) {
				return nil, fmt.Errorf("tensor %q differs from the computed relative position index at [%d, %d]: %d, expected %d", stored.Name, i/tokens, i%tokens, v, index[i])
			}
		}
		r.used[stored.Name] = true
	}
	return &RelativePositionBias{Table: table, Index: index, NumHeads: cfg.NumAttentionHeads}, nil
}

// New builds a model from a validated config and a checkpoint. Every tensor
// the config implies must be present with its exact shape, and every tensor
// in the checkpoint must be used, so a config that does not match its
// weights is an error rather than a silently wrong model.
func New(cfg Config, ckpt *checkpoint.Checkpoint) (*Model, error) {
	return NewWithOptions(cfg, ckpt, Options{})
}

// NewWithOptions is New with options.
func NewWithOptions(cfg Config, ckpt *checkpoint.Checkpoint, opts Options) (*Model, error) {
	r := &tensorReader{ckpt: ckpt, used: map[string]bool{}, int8: opts.Int8}
	p := prefix(cfg.ModelType)
	D := cfg.HiddenSize
	P := cfg.PatchSize
	T := cfg.NumTokens()
	m := &Model{Config: cfg}
	var err error

	// Embeddings.
	if m.Embeddings.CLSToken, err = r.float32s(p+"embeddings.cls_token", 1, 1, D); err != nil {
		return nil, err
	}
	projection := p + "embeddings.patch_embeddings.projection"
	// The convolution kernel [D, C, P, P] is a Linear over flattened patches.
	if m.Embeddings.PatchProjection, err = r.linear(projection, D, cfg.NumChannels*P*P, true, D, cfg.NumChannels, P, P); err != nil {
		return nil, err
	}
	if cfg.UseAbsolutePositionEmbeddings {
		if m.Embeddings.PositionEmbeddings, err = r.float32s(p+"embeddings.position_embeddings", 1, T, D); err != nil {
			return nil, err
		}
	}
	if _, ok := ckpt.Tensor(p + "embeddings.mask_token"); ok {
		// Present when use_mask_token is set; masked image modeling only.
		r.used[p+"embeddings.mask_token"] = true
	}

	// Encoder.
	index := relativePositionIndex(cfg.GridSize())
	if cfg.UseSharedRelativePositionBias {
		if m.SharedRelativePositionBias, err = r.relativePositionBias(p+"encoder.relative_position_bias", cfg, index); err != nil {
			return nil, err
		}
	}
	m.Layers = make([]Layer, cfg.NumHiddenLayers)
	for i := range m.Layers {
		if err := r.layer(&m.Layers[i], fmt.Sprintf("%sencoder.layer.%d.", p, i), cfg, index); err != nil {
			return nil, err
		}
	}

	// Pooling and classifier.
	if cfg.UseMeanPooling {
		ln, err := r.layerNormParams(p+"pooler.layernorm", D)
		if err != nil {
			return nil, err
		}
		m.PoolerLayerNorm = &ln
	} else {
		ln, err := r.layerNormParams(p+"layernorm", D)
		if err != nil {
			return nil, err
		}
		m.LayerNorm = &ln
	}
	if m.Classifier, err = r.linear("classifier", cfg.NumLabels(), D, true); err != nil {
		return nil, err
	}

	if extra := r.unused(); len(extra) > 0 {
		return nil, fmt.Errorf("checkpoint contains %d tensors the config does not use, such as %s; check num_hidden_layers and the flags use_mean_pooling, use_absolute_position_embeddings, use_relative_position_bias, use_shared_relative_position_bias and layer_scale_init_value", len(extra), quoteAll(extra[:min(3, len(extra))]))
	}
	return m, nil
}

func (r *tensorReader) layer(l *Layer, p string, cfg Config, index []int32) error {
	D, I := cfg.HiddenSize, cfg.IntermediateSize
	var err error
	if l.LayernormBefore, err = r.layerNormParams(p+"layernorm_before", D); err != nil {
		return err
	}

	a := p + "attention.attention."
	if l.Attention.Query, err = r.linear(a+"query", D, D, true); err != nil {
		return err
	}
	// The key projection has no bias in BEiT.
	if l.Attention.Key, err = r.linear(a+"key", D, D, false); err != nil {
		return err
	}
	if l.Attention.Value, err = r.linear(a+"value", D, D, true); err != nil {
		return err
	}
	if cfg.UseRelativePositionBias {
		if l.Attention.RelativePositionBias, err = r.relativePositionBias(a+"relative_position_bias", cfg, index); err != nil {
			return err
		}
	}

	if l.Attention.Output, err = r.linear(p+"attention.output.dense", D, D, true); err != nil {
		return err
	}

	if cfg.HasLayerScale() {
		if l.Lambda1, err = r.float32s(p+"lambda_1", D); err != nil {
			return err
		}
		if l.Lambda2, err = r.float32s(p+"lambda_2", D); err != nil {
			return err
		}
	}

	if l.LayernormAfter, err = r.layerNormParams(p+"layernorm_after", D); err != nil {
		return err
	}
	if l.Intermediate, err = r.linear(p+"intermediate.dense", I, D, true); err != nil {
		return err
	}
	if l.Output, err = r.linear(p+"output.dense", D, I, true); err != nil {
		return err
	}
	return nil
}

// quoteAll returns the names quoted and separated by commas.
func quoteAll(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return strings.Join(quoted, ", ")
}
