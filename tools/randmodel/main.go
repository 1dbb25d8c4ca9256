// Command randmodel writes a Data2Vec-Vision checkpoint with random weights
// in the Hugging Face layout (config.json, preprocessor_config.json,
// model.safetensors), so that size, memory and speed of any geometry can be
// measured without the real weights. The defaults are the base model of
// facebook/data2vec-vision-base-ft1k:
//
//	go run ./tools/randmodel -out models/random-base
//	go run ./tools/randmodel -out /tmp/tiny -hidden 32 -layers 2 -heads 4 -intermediate 64 -labels 10
//
// Weights follow transformers' initialization (normal with std 0.02, zero
// biases, LayerNorm weight 1, layer scale 0.1), except that relative
// position bias tables are random too, so that every part of the model
// influences the output.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/d2vgo/d2v/internal/cli"
	"github.com/d2vgo/d2v/model"
	"github.com/d2vgo/d2v/safetensors"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("randmodel", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("out", "", "output `folder`")
	imageSize := flags.Int("image", 224, "image size in pixels")
	patchSize := flags.Int("patch", 16, "patch size in pixels")
	hidden := flags.Int("hidden", 768, "hidden size")
	layers := flags.Int("layers", 12, "number of layers")
	heads := flags.Int("heads", 12, "attention heads")
	intermediate := flags.Int("intermediate", 3072, "MLP intermediate size")
	numLabels := flags.Int("labels", 1000, "number of classes")
	labelsFile := flags.String("labels-file", "", "id2label JSON `file` (such as the ImageNet-1k labels); its size overrides -labels")
	seed := flags.Uint64("seed", 1, "random seed")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	log := cli.Logger(stderr)
	if *out == "" {
		log.Error("give -out")
		return 2
	}

	id2label := map[string]string{}
	if *labelsFile != "" {
		data, err := os.ReadFile(*labelsFile)
		if err != nil {
			log.Error("cannot read labels", "err", err)
			return 1
		}
		if err := json.Unmarshal(data, &id2label); err != nil {
			log.Error("invalid labels file", "file", *labelsFile, "err", err)
			return 1
		}
	} else {
		for i := 0; i < *numLabels; i++ {
			id2label[strconv.Itoa(i)] = "LABEL_" + strconv.Itoa(i)
		}
	}
	label2id := map[string]int{}
	for k, v := range id2label {
		label2id[v], _ = strconv.Atoi(k)
	}

	config := map[string]any{
		"architectures":                     []string{"Data2VecVisionForImageClassification"},
		"model_type":                        "data2vec-vision",
		"image_size":                        *imageSize,
		"patch_size":                        *patchSize,
		"num_channels":                      3,
		"hidden_size":                       *hidden,
		"num_hidden_layers":                 *layers,
		"num_attention_heads":               *heads,
		"intermediate_size":                 *intermediate,
		"hidden_act":                        "gelu",
		"layer_norm_eps":                    1e-12,
		"use_absolute_position_embeddings":  false,
		"use_relative_position_bias":        true,
		"use_shared_relative_position_bias": false,
		"use_mean_pooling":                  true,
		"layer_scale_init_value":            0.1,
		"id2label":                          id2label,
		"label2id":                          label2id,
	}
	configJSON, _ := json.MarshalIndent(config, "", "  ")
	cfg, err := model.ParseConfig(configJSON)
	if err != nil {
		log.Error("invalid geometry", "err", err)
		return 2
	}
	processorJSON := fmt.Sprintf(`{"do_resize": true, "size": {"height": %d, "width": %d}, "resample": 3, "do_center_crop": false, "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}`, *imageSize, *imageSize)

	tensors := randomWeights(cfg, rand.New(rand.NewPCG(*seed, 0x5eed)))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Error("cannot create output folder", "err", err)
		return 1
	}
	for name, data := range map[string][]byte{"config.json": configJSON, "preprocessor_config.json": []byte(processorJSON)} {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Error("cannot write file", "file", name, "err", err)
			return 1
		}
	}
	if err := safetensors.WriteFile(filepath.Join(*out, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		log.Error("cannot write weights", "err", err)
		return 1
	}
	var params int
	for _, t := range tensors {
		params += t.NumElements()
	}
	log.Info("wrote random model", "out", *out, "parameters", params, "tensors", len(tensors))
	return 0
}

// randomWeights returns every tensor of the model in checkpoint order.
func randomWeights(cfg model.Config, rng *rand.Rand) []safetensors.Tensor {
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
