package classifier

import (
	"runtime"
	"testing"

	"github.com/d2vgo/d2v/internal/testshared"
)

// TestInt8LogitsDoNotAllocate checks that a warm forward pass of an int8
// model allocates nothing, so the garbage collector stays idle while
// classifying.
func TestInt8LogitsDoNotAllocate(t *testing.T) {
	dir := t.TempDir()
	convertTo(t, testshared.Path(t, "golden", "d2v-tiny-224"), dir)
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	size := c.Model.Config.ImageSize
	pixels := make([]float32, 2*3*size*size)
	for i := range pixels {
		pixels[i] = float32(i%255)/127.5 - 1
	}
	logits := make([]float32, 2*len(c.Labels()))

	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		// Warm up: the first call creates the workspace.
		if err := c.Model.Logits(logits, pixels, 2); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(5, func() {
			if err := c.Model.Logits(logits, pixels, 2); err != nil {
				t.Fatal(err)
			}
		})
		runtime.GOMAXPROCS(prev)
		if allocs != 0 {
			t.Errorf("GOMAXPROCS=%d: %v allocations per forward pass, want 0", procs, allocs)
		}
	}
}

// TestOpenQuantizesLikeConvert checks that a Hugging Face folder opened with
// the default options runs int8 weights identical to a converted copy.
func TestOpenQuantizesLikeConvert(t *testing.T) {
	src := testshared.Path(t, "golden", "d2v-tiny-224")
	converted := t.TempDir()
	convertTo(t, src, converted)
	onLoad, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	fromFiles, err := Open(converted)
	if err != nil {
		t.Fatal(err)
	}
	reference, err := OpenWithOptions(src, Options{Float32: true})
	if err != nil {
		t.Fatal(err)
	}
	size := onLoad.Model.Config.ImageSize
	pixels := make([]float32, 3*size*size)
	for i := range pixels {
		pixels[i] = float32(i%97)/48.5 - 1
	}
	a, _ := onLoad.Logits(pixels, 1)
	b, _ := fromFiles.Logits(pixels, 1)
	f, _ := reference.Logits(pixels, 1)
	differsFromFloat32 := false
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("logit %d: %g quantized on load, %g from converted files", i, a[i], b[i])
		}
		differsFromFloat32 = differsFromFloat32 || a[i] != f[i]
	}
	if !differsFromFloat32 {
		t.Error("the default model gives exactly the float32 logits, so it was not quantized")
	}
}
