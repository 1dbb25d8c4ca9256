package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/safetensors"
)

// copyCase copies a golden model folder into a temporary one that the test
// may change, without the reference outputs.
func copyCase(t *testing.T, name string, files ...string) string {
	t.Helper()
	src := testshared.Path(t, "golden", name)
	dst := t.TempDir()
	if files == nil {
		files = []string{"config.json", "preprocessor_config.json", "model.safetensors"}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func editConfig(t *testing.T, dir, old, new string) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("config.json does not contain %q", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRejectsConfigThatDoesNotMatchWeights(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"hidden size", `"hidden_size": 32`, `"hidden_size": 64`, `"data2vec_vision.embeddings.cls_token" has shape [1 1 32], expected [1 1 64]`},
		{"layers", `"num_hidden_layers": 2`, `"num_hidden_layers": 3`, `"data2vec_vision.encoder.layer.2.layernorm_before.weight" is missing`},
		{"CLS pooling", `"use_mean_pooling": true`, `"use_mean_pooling": false`, `"data2vec_vision.layernorm.weight" is missing`},
		{"absolute positions", `"use_absolute_position_embeddings": false`, `"use_absolute_position_embeddings": true`, `position_embeddings" is missing`},
		{"no relative bias", `"use_relative_position_bias": true`, `"use_relative_position_bias": false`, "does not use"},
		{"no layer scale", `"layer_scale_init_value": 0.1`, `"layer_scale_init_value": 0.0`, "does not use"},
		{"labels", `"9": "class_9"`, `"9": "class_9", "10": "class_10"`, `"classifier.bias" has shape [10], expected [11]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyCase(t, "d2v-tiny-224")
			editConfig(t, dir, c.old, c.new)
			if c.name == "labels" {
				editConfig(t, dir, `"class_9": 9`, `"class_9": 9, "class_10": 10`)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestLoadChecksLegacyRelativePositionIndex(t *testing.T) {
	dir := copyCase(t, "d2v-tiny-224-legacy-keys")
	f, err := safetensors.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var tensors []safetensors.Tensor
	for _, name := range f.Names() {
		tensor, _ := f.Tensor(name)
		if name == "data2vec_vision.encoder.layer.1.attention.attention.relative_position_bias.relative_position_index" {
			tensor.Data = append([]byte(nil), tensor.Data...)
			tensor.Data[8*5] ^= 1 // change index[0][5]
		}
		tensors = append(tensors, tensor)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), "differs from the computed relative position index at [0, 5]") {
		t.Fatalf("Load = %v, want a relative position index mismatch at [0, 5]", err)
	}
}

func TestLoadRejectsTruncatedWeights(t *testing.T) {
	for _, file := range []string{checkpoint.SafetensorsFile, checkpoint.TorchFile} {
		t.Run(file, func(t *testing.T) {
			dir := copyCase(t, "d2v-tiny-224-legacy-keys", "config.json", file)
			path := filepath.Join(dir, file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{0, 7, 100, len(data) / 2, len(data) - 1} {
				if err := os.WriteFile(path, data[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := Load(dir); err == nil {
					t.Errorf("Load of %s truncated to %d of %d bytes succeeded", file, n, len(data))
				}
			}
		})
	}
}

func TestRelativePositionIndexKnownEntries(t *testing.T) {
	// Values that transformers computes for a 14x14 window.
	index := relativePositionIndex(14)
	T := 197
	want := map[[2]int]int32{
		{0, 0}: 731, {0, 1}: 729, {0, 196}: 729, {1, 0}: 730, {196, 0}: 730,
		{1, 1}: 364, {1, 2}: 363, {1, 15}: 337, {1, 196}: 0, {196, 1}: 728,
	}
	for ij, v := range want {
		if got := index[ij[0]*T+ij[1]]; got != v {
			t.Errorf("index[%d][%d] = %d, want %d", ij[0], ij[1], got, v)
		}
	}
}
