package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/safetensors"
)

func TestPixelValuesJSONMatchesTransformers(t *testing.T) {
	dir := testshared.Path(t, "golden", "d2v-tiny-abs-shared")
	var out bytes.Buffer
	if code := run([]string{"-model", dir, "-float32", "-json", "-top", "3", "-pixel-values", filepath.Join(dir, "inputs.safetensors")}, &out); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	expected, err := safetensors.ReadFile(filepath.Join(dir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tensor, _ := expected.Tensor("logits")
	want, _ := tensor.Float32s()
	numLabels := tensor.Shape[1]

	scanner := bufio.NewScanner(&out)
	lines := 0
	for ; scanner.Scan(); lines++ {
		var r result
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			t.Fatalf("line %d is not JSON: %v", lines, err)
		}
		if len(r.Logits) != numLabels || len(r.Top) != 3 {
			t.Fatalf("line %d has %d logits and %d top labels, want %d and 3", lines, len(r.Logits), len(r.Top), numLabels)
		}
		for j, v := range r.Logits {
			if d := math.Abs(float64(v - want[lines*numLabels+j])); d > 1e-4 {
				t.Errorf("image %d logit %d differs from transformers by %g", lines, j, d)
			}
		}
		if r.Top[0].Score < r.Top[1].Score || r.Logits[r.Top[0].Index] < r.Logits[r.Top[1].Index] {
			t.Errorf("image %d top labels not sorted: %+v", lines, r.Top)
		}
	}
	if lines != tensor.Shape[0] {
		t.Errorf("%d output lines, want %d", lines, tensor.Shape[0])
	}
}

func TestImagesTextOutput(t *testing.T) {
	var out bytes.Buffer
	images := testshared.Path(t, "images")
	args := []string{"-model", testshared.Path(t, "golden", "d2v-tiny-224"), filepath.Join(images, "chelsea.png"), filepath.Join(images, "rocket.jpg")}
	if code := run(args, &out); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	text := out.String()
	for _, want := range []string{"chelsea.png\n", "rocket.jpg\n", "%  class_"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// Five labels per image plus the file name line.
	if n := strings.Count(text, "\n"); n != 12 {
		t.Errorf("output has %d lines, want 12:\n%s", n, text)
	}
}

func TestBadInputsExitNonZero(t *testing.T) {
	model := testshared.Path(t, "golden", "d2v-tiny-224")
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty.png")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(tmp, "notes.jpg")
	os.WriteFile(text, []byte("not an image"), 0o644)
	cases := map[string][]string{
		"no model":      {filepath.Join(tmp, "img.png")},
		"missing model": {"-model", filepath.Join(tmp, "nothing"), empty},
		"missing image": {"-model", model, filepath.Join(tmp, "absent.png")},
		"empty image":   {"-model", model, empty},
		"text file":     {"-model", model, text},
		"bad top":       {"-model", model, "-top", "0", empty},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(args, &out); code == 0 {
				t.Errorf("exit code 0 for %v", args)
			}
		})
	}
}

func TestNaNPixelValuesFail(t *testing.T) {
	dir := testshared.Path(t, "golden", "d2v-tiny-abs-shared")
	values := make([]float32, 3*32*32)
	for i := range values {
		values[i] = float32(math.NaN())
	}
	path := filepath.Join(t.TempDir(), "nan.safetensors")
	if err := safetensors.WriteFile(path, []safetensors.Tensor{safetensors.FromFloat32s("pixel_values", []int{1, 3, 32, 32}, values)}, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := run([]string{"-model", dir, "-json", "-pixel-values", path}, &out); code == 0 {
		t.Errorf("NaN pixel values gave exit code 0 and output %q", out.String())
	}
}
