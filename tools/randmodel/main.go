// Command randmodel writes a Data2Vec-Vision checkpoint with random weights
// in the Hugging Face layout (config.json, preprocessor_config.json,
// model.safetensors), so that size, memory and speed of any geometry can be
// measured without the real weights. The defaults are the base model of
// facebook/data2vec-vision-base-ft1k:
//
//	go run ./tools/randmodel -out models/random-base
//	go run ./tools/randmodel -out /tmp/tiny -hidden 32 -layers 2 -heads 4 -intermediate 64 -labels 10
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/d2vgo/d2v/internal/cli"
	"github.com/d2vgo/d2v/internal/randweights"
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
	if *numLabels < 1 {
		log.Error("invalid -labels: must be at least 1", "labels", *numLabels)
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

	tensors := randweights.Weights(cfg, *seed)
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
