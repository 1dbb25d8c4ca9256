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
