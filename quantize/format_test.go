package quantize_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// convertCase converts a golden model folder with WriteFolder.
func convertCase(t *testing.T, name string, opts quantize.WriteOptions) (src, out string) {
	t.Helper()
	src = testshared.Path(t, "golden", name)
	out = t.TempDir()
	if _, err := quantize.WriteFolder(src, out, opts); err != nil {
		t.Fatal(err)
	}
	return src, out
}

func readFloats(t *testing.T, path, name string) []float32 {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tensor, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("%s lacks %q", path, name)
	}
	v, err := tensor.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// TestConvertedGoldenCases converts every reference case both ways: the
// float32 copy must keep transformers' logits within 1e-4, and the int8
// model must stay close to them.
func TestConvertedGoldenCases(t *testing.T) {
	for _, name := range []string{"d2v-tiny-224", "d2v-tiny-abs-shared", "beit-tiny-224", "d2v-tiny-224-legacy-keys"} {
		for _, float32 := range []bool{true, false} {
			src, out := convertCase(t, name, quantize.WriteOptions{Float32: float32})
			c, err := classifier.OpenWithOptions(out, classifier.Options{Float32: float32})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			pixels := readFloats(t, filepath.Join(src, "inputs.safetensors"), "pixel_values")
			want := readFloats(t, filepath.Join(src, "expected.safetensors"), "logits")
			logits, err := c.Logits(pixels, 2)
			if err != nil {
				t.Fatal(err)
			}
			var maxDiff float64
			for i := range logits {
				maxDiff = math.Max(maxDiff, math.Abs(float64(logits[i]-want[i])))
			}
			cos := cosine(logits, want)
			t.Logf("%s float32=%v: max |logit diff| %.3g, cosine %.6f", name, float32, maxDiff, cos)
			if float32 && maxDiff > 1e-4 {
				t.Errorf("%s float32 copy: max |logit diff| %.3g exceeds 1e-4", name, maxDiff)
			}
			if !float32 && cos < 0.999 {
				t.Errorf("%s int8: logit cosine %.6f below 0.999", name, cos)
			}
		}
	}
}

func TestShardingAndMetadata(t *testing.T) {
	// 64 KiB shards force the tiny model into several files.
	_, out := convertCase(t, "d2v-tiny-224", quantize.WriteOptions{MaxShardBytes: 64 << 10, SourceModel: "test/tiny"})
	indexJSON, err := os.ReadFile(filepath.Join(out, checkpoint.SafetensorsIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(indexJSON, &index); err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "model-*-of-*.safetensors"))
	if len(shards) < 2 {
		t.Fatalf("%d shards, want several", len(shards))
	}
	files := map[string][]byte{}
	for _, path := range shards {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 64<<10 {
			t.Errorf("%s is %d bytes, over the 64 KiB limit", path, len(data))
		}
		f, err := safetensors.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Metadata[quantize.MetaQuantization] != quantize.SchemeInt8PerChannel || f.Metadata[quantize.MetaSourceModel] != "test/tiny" {
			t.Errorf("%s metadata %v", path, f.Metadata)
		}
		for _, name := range f.Names() {
			tensor, _ := f.Tensor(name)
			if strings.HasSuffix(name, "query.weight") && tensor.DType != safetensors.I8 {
				t.Errorf("%s is %s, want I8", name, tensor.DType)
			}
			if strings.HasSuffix(name, "layernorm_before.weight") && tensor.DType != safetensors.F32 {
				t.Errorf("%s is %s, want F32", name, tensor.DType)
			}
			if index.WeightMap[name] != filepath.Base(path) {
				t.Errorf("index maps %s to %q, but it is in %s", name, index.WeightMap[name], filepath.Base(path))
			}
		}
		files[filepath.Base(path)] = data
	}

	// The shards alone, without config files, are enough to build the
	// classifier, and it gives the same logits as the folder.
	fromBytes, err := classifier.FromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := classifier.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	pixels := make([]float32, 3*224*224)
	for i := range pixels {
		pixels[i] = float32(i%7) / 7
	}
	a, _ := fromBytes.Logits(pixels, 1)
	b, _ := fromDir.Logits(pixels, 1)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: %g from bytes, %g from folder", i, a[i], b[i])
		}
	}
}

func TestConfigsRejectsOtherFiles(t *testing.T) {
	if _, _, err := quantize.Configs(map[string]string{"format": "pt"}); err == nil {
		t.Error("a plain transformers file was accepted as a converted model")
	}
	meta := map[string]string{quantize.MetaModelFormat: quantize.FormatName, quantize.MetaFormatVersion: "99", quantize.MetaConfig: "{}", quantize.MetaPreprocessor: "{}"}
	if _, _, err := quantize.Configs(meta); err == nil || !strings.Contains(err.Error(), `"99"`) {
		t.Errorf("format version 99 gave %v, want an error naming it", err)
	}
}
