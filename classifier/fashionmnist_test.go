package classifier

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/d2vgo/d2v/dataset/fashionmnist"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/kernels"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// fashionReference is what transformers computed on the Fashion-MNIST test
// set with the trained checkpoint.
type fashionReference struct {
	logits      []float32 // [10000, 10]
	predictions []int64
	labels      []int64
}

func loadFashionReference(t *testing.T) (dir string, ref fashionReference) {
	t.Helper()
	dir = testshared.Path(t, "golden", "d2v-fashion-mnist")
	f, err := safetensors.ReadFile(filepath.Join(dir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) safetensors.Tensor {
		tensor, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("expected.safetensors lacks %q", name)
		}
		return tensor
	}
	if ref.logits, err = get("logits").Float32s(); err != nil {
		t.Fatal(err)
	}
	if ref.predictions, err = get("predictions").Int64s(); err != nil {
		t.Fatal(err)
	}
	if ref.labels, err = get("labels").Int64s(); err != nil {
		t.Fatal(err)
	}
	return dir, ref
}

// fashionRun is the outcome of classifying the whole test set.
type fashionRun struct {
	correct, agree int
	maxLogitDiff   float64
	predictions    []int
}

// runFashionMNIST classifies all 10,000 test images through the same
// preprocessing path as any other image.
func runFashionMNIST(t *testing.T, c *Classifier, ref fashionReference) fashionRun {
	t.Helper()
	set, err := fashionmnist.LoadTest(fashionmnist.DefaultDir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != len(ref.labels) {
		t.Fatalf("data set has %d images, reference %d", set.Len(), len(ref.labels))
	}
	const batch = 250
	size := fashionmnist.Size
	pixels := make([]float32, batch*3*size*size)
	run := fashionRun{predictions: make([]int, set.Len())}
	numLabels := len(c.Labels())
	for start := 0; start < set.Len(); start += batch {
		n := min(batch, set.Len()-start)
		for i := 0; i < n; i++ {
			if err := c.Processor.PixelValuesInto(pixels[i*3*size*size:(i+1)*3*size*size], set.RGB(start+i)); err != nil {
				t.Fatal(err)
			}
		}
		logits, err := c.Logits(pixels[:n*3*size*size], n)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			row := logits[i*numLabels : (i+1)*numLabels]
			want := ref.logits[(start+i)*numLabels : (start+i+1)*numLabels]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
				run.maxLogitDiff = math.Max(run.maxLogitDiff, math.Abs(float64(v-want[j])))
			}
			run.predictions[start+i] = best
			if int64(best) == int64(set.Labels[start+i]) {
				run.correct++
			}
			if int64(best) == ref.predictions[start+i] {
				run.agree++
			}
		}
	}
	return run
}

// pytorchAccuracy is the accuracy of PyTorch's predictions, in percent.
func (ref fashionReference) pytorchAccuracy() float64 {
	var correct int
	for i, p := range ref.predictions {
		if p == ref.labels[i] {
			correct++
		}
	}
	return 100 * float64(correct) / float64(len(ref.labels))
}

// TestFashionMNISTFloat32 runs the trained checkpoint over the whole test
// set in float32 and compares it with PyTorch.
func TestFashionMNISTFloat32(t *testing.T) {
	dir, ref := loadFashionReference(t)
	n := len(ref.labels)
	refAccuracy := ref.pytorchAccuracy()

	model, err := OpenWithOptions(dir, Options{Float32: true})
	if err != nil {
		t.Fatal(err)
	}
	f32 := runFashionMNIST(t, model, ref)
	accuracy := 100 * float64(f32.correct) / float64(n)
	agreement := 100 * float64(f32.agree) / float64(n)
	t.Logf("float32: accuracy %.2f%% (PyTorch %.2f%%), agreement with PyTorch %.2f%%, max |logit diff| %.3g", accuracy, refAccuracy, agreement, f32.maxLogitDiff)
	if math.Abs(accuracy-refAccuracy) > 0.05 {
		t.Errorf("float32 accuracy %.2f%% differs from PyTorch's %.2f%% by more than 0.05 points", accuracy, refAccuracy)
	}
	if agreement < 99.9 {
		t.Errorf("%.2f%% of float32 predictions agree with PyTorch's, want at least 99.9%%", agreement)
	}
	// transformers' float32 and float64 logits differ by up to 1e-5 here.
	if f32.maxLogitDiff > 1e-4 {
		t.Errorf("float32 max |logit diff| %.3g exceeds 1e-4", f32.maxLogitDiff)
	}
}

// TestFashionMNISTInt8 runs the int8 conversion of the trained checkpoint
// over the whole test set and compares it with PyTorch's float32 model:
// accuracy at most 0.1 points lower, and the same top-1 class on at least
// 99.5% of the images. The float32 test shows that our float32 model
// matches PyTorch's, so these are also the bounds against our float32.
func TestFashionMNISTInt8(t *testing.T) {
	dir, ref := loadFashionReference(t)
	n := len(ref.labels)
	refAccuracy := ref.pytorchAccuracy()

	int8Dir := t.TempDir()
	convertTo(t, dir, int8Dir)
	model, err := Open(int8Dir)
	if err != nil {
		t.Fatal(err)
	}
	q := runFashionMNIST(t, model, ref)
	accuracy := 100 * float64(q.correct) / float64(n)
	agreement := 100 * float64(q.agree) / float64(n)
	t.Logf("int8 (%s kernels): accuracy %.2f%% (float32 PyTorch %.2f%%), top-1 agreement with float32 PyTorch %.2f%%, max |logit diff| %.3g",
		kernels.Variant(), accuracy, refAccuracy, agreement, q.maxLogitDiff)
	if refAccuracy-accuracy > 0.1 {
		t.Errorf("int8 accuracy %.2f%% is more than 0.1 points below float32's %.2f%%", accuracy, refAccuracy)
	}
	if agreement < 99.5 {
		t.Errorf("int8 top-1 agrees with float32 on %.2f%% of images, want at least 99.5%%", agreement)
	}
}

// convertTo writes the int8 conversion of the model in src to dst.
func convertTo(t *testing.T, src, dst string) {
	t.Helper()
	if _, err := quantize.WriteFolder(src, dst, quantize.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}
