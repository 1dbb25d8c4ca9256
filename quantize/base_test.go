package quantize_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/randweights"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/model"
	"github.com/d2vgo/d2v/quantize"
)

// TestBaseSizeInt8 converts a random model of the real checkpoint's
// geometry (hidden 768, 12 layers, 12 heads, MLP 3072, 1000 labels) and
// checks the size of the int8 files and how close their logits stay to
// float32 on real photographs.
func TestBaseSizeInt8(t *testing.T) {
	labels := map[string]string{}
	for i := 0; i < 1000; i++ {
		labels[strconv.Itoa(i)] = "LABEL_" + strconv.Itoa(i)
	}
	configJSON, _ := json.Marshal(map[string]any{
		"model_type": "data2vec-vision", "use_relative_position_bias": true, "use_mean_pooling": true,
		"layer_scale_init_value": 0.1, "id2label": labels,
	})
	processorJSON := []byte(`{"do_resize": true, "size": 224, "resample": 3, "do_center_crop": false, "do_rescale": true, "do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}`)
	cfg, err := model.ParseConfig(configJSON)
	if err != nil {
		t.Fatal(err)
	}
	ckpt, err := checkpoint.FromTensors(randweights.Weights(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	reference, err := model.New(cfg, ckpt)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	files, err := quantize.Write(dir, configJSON, processorJSON, ckpt, quantize.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > quantize.MaxShardBytes {
			t.Errorf("%s is %d bytes, over the shard limit", f, info.Size())
		}
		total += info.Size()
	}
	t.Logf("int8 files: %d bytes in %d files", total, len(files))
	if total > 90_000_000 {
		t.Errorf("int8 files total %d bytes, over 90 MB", total)
	}

	int8Model, err := classifier.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	images, _ := filepath.Glob(testshared.Path(t, "images", "*.png"))
	jpegs, _ := filepath.Glob(testshared.Path(t, "images", "*.jpg"))
	images = append(images, jpegs...)
	if len(images) == 0 {
		t.Fatal("no photographs found")
	}
	for _, path := range images {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		result, err := int8Model.ClassifyImage(data, 1)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := int8Model.DecodeImage(data)
		pixels, _ := int8Model.PixelValues(img)
		want, err := reference.Forward(pixels, 1, model.ForwardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cos := cosine(result.Logits, want.Logits)
		t.Logf("%s: int8 vs float32 logit cosine %.6f", filepath.Base(path), cos)
		if cos < 0.999 {
			t.Errorf("%s: cosine %.6f below 0.999", filepath.Base(path), cos)
		}
	}
}
