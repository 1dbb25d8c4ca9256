package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Config is the architecture part of a Hugging Face config.json for
// Data2VecVisionForImageClassification or BeitForImageClassification.
// Field names follow the JSON keys.
type Config struct {
	ModelType         string // "data2vec-vision" or "beit"
	ImageSize         int    // input height and width in pixels
	PatchSize         int    // patch height and width in pixels
	NumChannels       int
	HiddenSize        int
	NumHiddenLayers   int
	NumAttentionHeads int
	IntermediateSize  int
	HiddenAct         string
	LayerNormEps      float64

	UseAbsolutePositionEmbeddings bool
	UseRelativePositionBias       bool // one bias table per layer
	UseSharedRelativePositionBias bool // one bias table for all layers
	UseMeanPooling                bool // mean of patch tokens + pooler LayerNorm, else final LayerNorm + CLS

	// LayerScaleInitValue only decides whether lambda_1 and lambda_2 exist
	// (when > 0); their values come from the checkpoint.
	LayerScaleInitValue float64

	// ID2Label maps class index to label. Labels may repeat.
	ID2Label []string
}

// rawConfig mirrors config.json. Pointers tell a missing key from a zero, so
// that missing keys take the defaults of transformers' BeitConfig and
// Data2VecVisionConfig (which are identical).
type rawConfig struct {
	ModelType                     string            `json:"model_type"`
	ImageSize                     json.RawMessage   `json:"image_size"`
	PatchSize                     json.RawMessage   `json:"patch_size"`
	NumChannels                   *int              `json:"num_channels"`
	HiddenSize                    *int              `json:"hidden_size"`
	NumHiddenLayers               *int              `json:"num_hidden_layers"`
	NumAttentionHeads             *int              `json:"num_attention_heads"`
	IntermediateSize              *int              `json:"intermediate_size"`
	HiddenAct                     *string           `json:"hidden_act"`
	LayerNormEps                  *float64          `json:"layer_norm_eps"`
	UseAbsolutePositionEmbeddings *bool             `json:"use_absolute_position_embeddings"`
	UseRelativePositionBias       *bool             `json:"use_relative_position_bias"`
	UseSharedRelativePositionBias *bool             `json:"use_shared_relative_position_bias"`
	UseMeanPooling                *bool             `json:"use_mean_pooling"`
	LayerScaleInitValue           *float64          `json:"layer_scale_init_value"`
	ID2Label                      map[string]string `json:"id2label"`
	NumLabels                     *int              `json:"num_labels"`
}

// Upper bounds that reject nonsense before anything is allocated. They are
// far above every published BEiT or Data2Vec-Vision model (the largest has
// 1024 hidden units, 24 layers and 21841 labels at 512 pixels).
const (
	maxImageSize  = 4096
	maxHidden     = 8192
	maxLayers     = 256
	maxLabels     = 1 << 20
	maxIntermedia = 65536
)

// ReadConfig reads and validates dir/config.json.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates the contents of a config.json.
func ParseConfig(data []byte) (Config, error) {
	var raw rawConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("invalid config JSON: %w", err)
	}

	c := Config{
		ModelType:                     raw.ModelType,
		NumChannels:                   intOr(raw.NumChannels, 3),
		HiddenSize:                    intOr(raw.HiddenSize, 768),
		NumHiddenLayers:               intOr(raw.NumHiddenLayers, 12),
		NumAttentionHeads:             intOr(raw.NumAttentionHeads, 12),
		IntermediateSize:              intOr(raw.IntermediateSize, 3072),
		HiddenAct:                     "gelu",
		LayerNormEps:                  1e-12,
		UseAbsolutePositionEmbeddings: boolOr(raw.UseAbsolutePositionEmbeddings, false),
		UseRelativePositionBias:       boolOr(raw.UseRelativePositionBias, false),
		UseSharedRelativePositionBias: boolOr(raw.UseSharedRelativePositionBias, false),
		UseMeanPooling:                boolOr(raw.UseMeanPooling, true),
		LayerScaleInitValue:           0.1,
	}
	if raw.HiddenAct != nil {
		c.HiddenAct = *raw.HiddenAct
	}
	if raw.LayerNormEps != nil {
		c.LayerNormEps = *raw.LayerNormEps
	}
	if raw.LayerScaleInitValue != nil {
		c.LayerScaleInitValue = *raw.LayerScaleInitValue
	}

	var err error
	if c.ImageSize, err = squareSize("image_size", raw.ImageSize, 224); err != nil {
		return Config{}, err
	}
	if c.PatchSize, err = squareSize("patch_size", raw.PatchSize, 16); err != nil {
		return Config{}, err
	}
	if c.ID2Label, err = parseLabels(raw.ID2Label, raw.NumLabels); err != nil {
		return Config{}, err
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c Config) validate() error {
	switch c.ModelType {
	case "data2vec-vision", "beit":
	default:
		return fmt.Errorf("model_type %q is not supported (want \"data2vec-vision\" or \"beit\")", c.ModelType)
	}
	if c.HiddenAct != "gelu" {
		return fmt.Errorf("hidden_act %q is not supported (want \"gelu\", the exact erf form)", c.HiddenAct)
	}
	checks := []struct {
		name     string
		value    int
		min, max int
	}{
		{"image_size", c.ImageSize, 1, maxImageSize},
		{"patch_size", c.PatchSize, 1, maxImageSize},
		{"num_channels", c.NumChannels, 1, 4},
		{"hidden_size", c.HiddenSize, 1, maxHidden},
		{"num_hidden_layers", c.NumHiddenLayers, 1, maxLayers},
		{"num_attention_heads", c.NumAttentionHeads, 1, maxHidden},
		{"intermediate_size", c.IntermediateSize, 1, maxIntermedia},
	}
	for _, ch := range checks {
		if ch.value < ch.min || ch.value > ch.max {
			return fmt.Errorf("%s %d is out of range [%d, %d]", ch.name, ch.value, ch.min, ch.max)
		}
	}
	if c.NumChannels != 3 {
		return fmt.Errorf("num_channels %d is not supported (want 3, RGB)", c.NumChannels)
	}
	if c.ImageSize%c.PatchSize != 0 {
		return fmt.Errorf("image_size %d is not a multiple of patch_size %d", c.ImageSize, c.PatchSize)
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if !(c.LayerNormEps > 0 && c.LayerNormEps < 1) {
		return fmt.Errorf("layer_norm_eps %g is out of range (0, 1)", c.LayerNormEps)
	}
	return nil
}

// GridSize returns the number of patches along each side of the image.
func (c Config) GridSize() int { return c.ImageSize / c.PatchSize }

// NumTokens returns the sequence length: one token per patch plus CLS.
func (c Config) NumTokens() int { return c.GridSize()*c.GridSize() + 1 }

// HeadSize returns the width of one attention head.
func (c Config) HeadSize() int { return c.HiddenSize / c.NumAttentionHeads }

// NumLabels returns the number of classes.
func (c Config) NumLabels() int { return len(c.ID2Label) }

// HasLayerScale reports whether the layers carry lambda_1 and lambda_2.
func (c Config) HasLayerScale() bool { return c.LayerScaleInitValue > 0 }

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// squareSize accepts an int or a [height, width] pair with equal sides, the
// two spellings transformers accepts for image_size and patch_size.
func squareSize(field string, raw json.RawMessage, def int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var pair []int
	if err := json.Unmarshal(raw, &pair); err == nil && len(pair) == 2 {
		if pair[0] != pair[1] {
			return 0, fmt.Errorf("%s %v is not square; only equal height and width are supported", field, pair)
		}
		return pair[0], nil
	}
	return 0, fmt.Errorf("%s %s is not an integer or a [height, width] pair", field, raw)
}

// parseLabels turns the id2label map into a slice. Keys must be exactly
// 0..n-1. Without id2label, transformers names num_labels classes LABEL_i
// (two by default).
func parseLabels(m map[string]string, numLabels *int) ([]string, error) {
	if len(m) == 0 {
		n := intOr(numLabels, 2)
		if n < 1 || n > maxLabels {
			return nil, fmt.Errorf("num_labels %d is out of range [1, %d]", n, maxLabels)
		}
		labels := make([]string, n)
		for i := range labels {
			labels[i] = "LABEL_" + strconv.Itoa(i)
		}
		return labels, nil
	}
	if len(m) > maxLabels {
		return nil, fmt.Errorf("id2label has %d entries, more than the %d supported", len(m), maxLabels)
	}
	if numLabels != nil && *numLabels != len(m) {
		return nil, fmt.Errorf("num_labels %d does not match the %d entries of id2label", *numLabels, len(m))
	}
	labels := make([]string, len(m))
	seen := make([]bool, len(m))
	for key, label := range m {
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= len(m) {
			return nil, fmt.Errorf("id2label key %q is not an index in [0, %d)", key, len(m))
		}
		if seen[i] {
			return nil, fmt.Errorf("id2label key %q repeats index %d", key, i)
		}
		seen[i] = true
		labels[i] = label
	}
	return labels, nil
}
