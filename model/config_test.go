package model

import (
	"os"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/internal/testshared"
)

func TestReadConfigOfEveryCase(t *testing.T) {
	for _, name := range []string{"d2v-tiny-224", "d2v-tiny-abs-shared", "beit-tiny-224", "d2v-fashion-mnist"} {
		cfg, err := ReadConfig(testshared.Path(t, "golden", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.NumLabels() < 2 || cfg.HiddenSize%cfg.NumAttentionHeads != 0 {
			t.Errorf("%s: implausible config %+v", name, cfg)
		}
	}
}

func TestConfigDefaultsMatchTransformers(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"model_type": "data2vec-vision"}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImageSize != 224 || cfg.PatchSize != 16 || cfg.HiddenSize != 768 || cfg.NumHiddenLayers != 12 ||
		cfg.NumAttentionHeads != 12 || cfg.IntermediateSize != 3072 || cfg.LayerNormEps != 1e-12 {
		t.Errorf("base defaults wrong: %+v", cfg)
	}
	if !cfg.UseMeanPooling || cfg.UseRelativePositionBias || cfg.UseAbsolutePositionEmbeddings || !cfg.HasLayerScale() {
		t.Errorf("flag defaults wrong: %+v", cfg)
	}
	if cfg.NumLabels() != 2 || cfg.ID2Label[1] != "LABEL_1" {
		t.Errorf("labels default to %v, want [LABEL_0 LABEL_1]", cfg.ID2Label)
	}
}

func TestRealCheckpointConfigValues(t *testing.T) {
	// The values of facebook/data2vec-vision-base-ft1k with the ImageNet labels.
	labels, err := os.ReadFile(testshared.Path(t, "labels", "imagenet-1k-id2label.json"))
	if err != nil {
		t.Fatal(err)
	}
	js := `{"model_type": "data2vec-vision", "use_relative_position_bias": true, "use_mean_pooling": true,
		"layer_scale_init_value": 0.1, "hidden_act": "gelu", "id2label": ` + string(labels) + `}`
	cfg, err := ParseConfig([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumLabels() != 1000 || cfg.NumTokens() != 197 || cfg.HeadSize() != 64 {
		t.Errorf("labels %d, tokens %d, head size %d; want 1000, 197, 64", cfg.NumLabels(), cfg.NumTokens(), cfg.HeadSize())
	}
	if cfg.ID2Label[134] != "crane" || cfg.ID2Label[517] != "crane" {
		t.Errorf("labels 134 and 517 are %q and %q, want both \"crane\"", cfg.ID2Label[134], cfg.ID2Label[517])
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		json string
		want string
	}{
		{`{"model_type": "vit"}`, `model_type "vit"`},
		{`{"model_type": "beit", "hidden_act": "gelu_new"}`, `hidden_act "gelu_new"`},
		{`{"model_type": "beit", "hidden_size": 100, "num_attention_heads": 12}`, "hidden_size 100"},
		{`{"model_type": "beit", "image_size": 225}`, "image_size 225"},
		{`{"model_type": "beit", "image_size": [224, 160]}`, "image_size [224 160]"},
		{`{"model_type": "beit", "image_size": "big"}`, `image_size "big"`},
		{`{"model_type": "beit", "num_hidden_layers": 0}`, "num_hidden_layers 0"},
		{`{"model_type": "beit", "num_channels": 1}`, "num_channels 1"},
		{`{"model_type": "beit", "layer_norm_eps": 0}`, "layer_norm_eps 0"},
		{`{"model_type": "beit", "id2label": {"0": "a", "2": "b"}}`, `id2label key "2"`},
		{`{"model_type": "beit", "id2label": {"0": "a"}, "num_labels": 3}`, "num_labels 3"},
		{`{"model_type": "beit", "num_labels": -1}`, "num_labels -1"},
		{`{"model_type": `, "invalid config JSON"},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseConfig(%s) = %v, want an error containing %q", c.json, err, c.want)
		}
	}
}

func TestImageProcessorConfigFormats(t *testing.T) {
	legacy, err := ReadImageProcessorConfig(testshared.Path(t, "golden", "preprocess"))
	if err != nil {
		t.Fatal(err)
	}
	current, err := ReadImageProcessorConfig(testshared.Path(t, "golden", "d2v-tiny-224"))
	if err != nil {
		t.Fatal(err)
	}
	// Both spell the real checkpoint's settings: resize to 224x224 bicubic,
	// no crop, rescale 1/255, normalize with 0.5.
	for name, c := range map[string]ImageProcessorConfig{"legacy": legacy, "current": current} {
		if !c.DoResize || c.Height != 224 || c.Width != 224 || c.DoCenterCrop || !c.DoRescale ||
			c.RescaleFactor != 1.0/255 || !c.DoNormalize || c.ImageMean != [3]float32{0.5, 0.5, 0.5} || c.ImageStd != [3]float32{0.5, 0.5, 0.5} {
			t.Errorf("%s format parsed as %+v", name, c)
		}
	}
}

func TestImageProcessorConfigErrors(t *testing.T) {
	cases := []struct {
		json string
		want string
	}{
		{`{"resample": 2}`, "resample 2"},
		{`{"size": {"shortest_edge": 224}}`, "shortest_edge"},
		{`{"size": {"height": 224}}`, "lacks height or width"},
		{`{"size": 0}`, "size height 0"},
		{`{"image_mean": [0.5, 0.5]}`, "image_mean [0.5, 0.5]"},
		{`{"image_std": [0, 1, 1]}`, "image_std[0] is 0"},
		{`{"rescale_factor": -1}`, "rescale_factor -1"},
		{`[`, "invalid preprocessor config JSON"},
	}
	for _, c := range cases {
		_, err := ParseImageProcessorConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseImageProcessorConfig(%s) = %v, want an error containing %q", c.json, err, c.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"d2v-tiny-224", "d2v-tiny-abs-shared", "beit-tiny-224"} {
		data, err := os.ReadFile(testshared.Path(f, "golden", name, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"model_type": "beit", "image_size": [32, 32], "patch_size": 8, "id2label": {"0": "x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		// A config that parses must describe a buildable geometry.
		if cfg.NumTokens() < 2 || cfg.HeadSize() < 1 || cfg.NumLabels() < 1 {
			t.Fatalf("accepted config has tokens %d, head size %d, labels %d", cfg.NumTokens(), cfg.HeadSize(), cfg.NumLabels())
		}
	})
}

func FuzzParseImageProcessorConfig(f *testing.F) {
	for _, dir := range []string{"preprocess", "d2v-tiny-224", "d2v-fashion-mnist"} {
		data, err := os.ReadFile(testshared.Path(f, "golden", dir, "preprocessor_config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseImageProcessorConfig(data)
		if err != nil {
			return
		}
		if h, w := c.OutputSize(1, 1); h < 1 || w < 1 {
			t.Fatalf("accepted config produces %dx%d images", h, w)
		}
	})
}
