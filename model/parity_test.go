package model

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/safetensors"
)

// parityTolerance is the maximum absolute difference allowed between our
// float32 outputs and transformers' float32 outputs. transformers' own
// float32 and float64 forwards of these checkpoints differ by up to 4.1e-6
// on hidden states, so 1e-4 leaves room for a different summation order but
// not for a wrong operation.
const parityTolerance = 1e-4

type parityCase struct {
	name    string // folder under golden/
	weights string // file to load; empty means the default choice of checkpoint.Open
}

var parityCases = []parityCase{
	{"d2v-tiny-224", ""},
	{"d2v-tiny-abs-shared", ""},
	{"beit-tiny-224", ""},
	{"d2v-tiny-224-legacy-keys", checkpoint.SafetensorsFile},
	{"d2v-tiny-224-legacy-keys", checkpoint.TorchFile},
}

func TestParityWithTransformers(t *testing.T) {
	for _, pc := range parityCases {
		t.Run(pc.name+"/"+pc.weights, func(t *testing.T) {
			dir := testshared.Path(t, "golden", pc.name)
			m := loadCase(t, dir, pc.weights)

			inputs, err := safetensors.ReadFile(filepath.Join(dir, "inputs.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			expected, err := safetensors.ReadFile(filepath.Join(dir, "expected.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			pixels := mustFloats(t, inputs, "pixel_values")
			pt, _ := inputs.Tensor("pixel_values")
			batch := pt.Shape[0]

			out, err := m.Forward(pixels, batch, ForwardOptions{OutputHiddenStates: true})
			if err != nil {
				t.Fatal(err)
			}

			compare(t, "logits", out.Logits, mustFloats(t, expected, "logits"))
			compare(t, "pooler_output", out.PoolerOutput, mustFloats(t, expected, "pooler_output"))
			compare(t, "last_hidden_state", out.LastHiddenState, mustFloats(t, expected, "last_hidden_state"))
			if len(out.HiddenStates) != m.Config.NumHiddenLayers+1 {
				t.Fatalf("got %d hidden states, want %d", len(out.HiddenStates), m.Config.NumHiddenLayers+1)
			}
			for k, hs := range out.HiddenStates {
				name := fmt.Sprintf("hidden_states.%d", k)
				compare(t, name, hs, mustFloats(t, expected, name))
			}
		})
	}
}

func loadCase(t *testing.T, dir, weights string) *Model {
	t.Helper()
	cfg, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ckpt *checkpoint.Checkpoint
	if weights == "" {
		ckpt, err = checkpoint.Open(dir)
	} else {
		// Load one file even when the folder holds several formats.
		tmp := t.TempDir()
		data, readErr := os.ReadFile(filepath.Join(dir, weights))
		if readErr != nil {
			t.Fatal(readErr)
		}
		if err := os.WriteFile(filepath.Join(tmp, weights), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ckpt, err = checkpoint.Open(tmp)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustFloats(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	tensor, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("tensor %q missing from reference file", name)
	}
	v, err := tensor.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compare fails when got and want differ in length or by more than
// parityTolerance anywhere, and logs the maximum difference either way.
func compare(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	maxDiff, at := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff || math.IsNaN(d) {
			maxDiff, at = d, i
		}
	}
	t.Logf("%s: max |diff| %.3g", name, maxDiff)
	if !(maxDiff <= parityTolerance) {
		t.Errorf("%s: max |diff| %.3g at element %d (got %g, want %g) exceeds %g", name, maxDiff, at, got[at], want[at], parityTolerance)
	}
}

// TestSmallerBatchAfterLargerBatch checks that a workspace left by a
// larger batch gives the same logits as a fresh one.
func TestSmallerBatchAfterLargerBatch(t *testing.T) {
	dir := testshared.Path(t, "golden", "d2v-tiny-224")
	m := loadCase(t, dir, "")
	inputs, err := safetensors.ReadFile(filepath.Join(dir, "inputs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	pixels := mustFloats(t, inputs, "pixel_values")
	both, err := m.Forward(pixels, 2, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Forward(pixels[len(pixels)/2:], 1, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := m.Config.NumLabels()
	compare(t, "logits of image 1 alone", second.Logits, both.Logits[n:])
	if len(second.LastHiddenState) != len(both.LastHiddenState)/2 {
		t.Errorf("last hidden state of one image has %d values, want %d", len(second.LastHiddenState), len(both.LastHiddenState)/2)
	}
}
