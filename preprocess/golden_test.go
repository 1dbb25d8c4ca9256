package preprocess

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/d2vgo/d2v/safetensors"
)

// sharedDir returns the folder of shared test inputs: $D2V_SHARED if set,
// else ../shared next to the repository root. It fails the test when the
// folder is missing, because the reference comparisons are the main check of
// this package and must not pass by being skipped.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("D2V_SHARED")
	if dir == "" {
		// Tests run in the package folder, one level below the repository.
		dir = filepath.Join("..", "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "golden", "preprocess", "expected.safetensors")); err != nil {
		t.Fatalf("shared test data not found: %v; set D2V_SHARED to the folder that holds golden/ and images/", err)
	}
	return dir
}

// goldenImage is one reference image with the tensors Pillow and
// transformers produced from it.
type goldenImage struct {
	stem, file string
	decoded    []uint8 // [H, W, 3] after Pillow's decode and convert("RGB")
	height     int
	width      int
	resized    []uint8   // [224, 224, 3] after Pillow's bicubic resize
	pixels     []float32 // [3, 224, 224] pixel_values
}

// loadGolden reads the reference tensors written by the Python reference
// (Pillow 9.4.0, transformers 4.36.2) for one image stem.
func loadGolden(t *testing.T, stem, file string) goldenImage {
	t.Helper()
	dir := sharedDir(t)
	f, err := safetensors.ReadFile(filepath.Join(dir, "golden", "preprocess", "expected.safetensors"))
	if err != nil {
		t.Fatalf("reading golden tensors: %v", err)
	}

	g := goldenImage{stem: stem, file: filepath.Join(dir, "images", file)}

	decoded, ok := f.Tensor("decoded." + stem)
	if !ok {
		t.Fatalf("golden tensor decoded.%s missing", stem)
	}
	if len(decoded.Shape) != 3 || decoded.Shape[2] != 3 || decoded.DType != safetensors.U8 {
		t.Fatalf("decoded.%s has dtype %s shape %v, want U8 [H, W, 3]", stem, decoded.DType, decoded.Shape)
	}
	g.height, g.width, g.decoded = decoded.Shape[0], decoded.Shape[1], decoded.Data

	resized, ok := f.Tensor("resized." + stem)
	if !ok {
		t.Fatalf("golden tensor resized.%s missing", stem)
	}
	if resized.DType != safetensors.U8 || len(resized.Data) != 224*224*3 {
		t.Fatalf("resized.%s has dtype %s shape %v, want U8 [224, 224, 3]", stem, resized.DType, resized.Shape)
	}
	g.resized = resized.Data

	pixels, ok := f.Tensor(stem)
	if !ok {
		t.Fatalf("golden tensor %s missing", stem)
	}
	g.pixels, err = pixels.Float32s()
	if err != nil || len(g.pixels) != 3*224*224 {
		t.Fatalf("%s: want F32 [3, 224, 224], got shape %v (%v)", stem, pixels.Shape, err)
	}
	return g
}

// goldenOptions are the settings of preprocessor_config.json that produced
// the references.
func goldenOptions() Options {
	return Options{
		Resize: true, Width: 224, Height: 224,
		Rescale: true, RescaleFactor: 0.00392156862745098,
		Normalize: true, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5},
	}
}

func decodeFile(t *testing.T, path string) *RGB {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	img, err := DecodeBytes(data, 0)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return img
}

// byteDiff returns the maximum and mean absolute difference of two equally
// long byte slices.
func byteDiff(a, b []uint8) (maxDiff int, meanDiff float64) {
	total := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		maxDiff = max(maxDiff, d)
		total += d
	}
	return maxDiff, float64(total) / float64(len(a))
}

func floatDiff(a, b []float32) (maxDiff, meanDiff float64) {
	total := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		maxDiff = max(maxDiff, d)
		total += d
	}
	return maxDiff, total / float64(len(a))
}

// TestGoldenPNG checks each pipeline stage against Pillow and transformers
// for the PNG photos, whose decoding is lossless.
func TestGoldenPNG(t *testing.T) {
	for _, tc := range []struct{ stem, file string }{
		{"chelsea", "chelsea.png"},
		{"coffee", "coffee.png"},
		{"astronaut", "astronaut.png"},
	} {
		t.Run(tc.stem, func(t *testing.T) {
			g := loadGolden(t, tc.stem, tc.file)
			img := decodeFile(t, g.file)

			if img.Width != g.width || img.Height != g.height {
				t.Fatalf("decoded size %dx%d, want %dx%d", img.Width, img.Height, g.width, g.height)
			}
			if maxDiff, _ := byteDiff(img.Pix, g.decoded); maxDiff != 0 {
				t.Errorf("decoded pixels differ from Pillow by up to %d, want identical", maxDiff)
			}

			// Resize reproduces Pillow's integer arithmetic, so the result
			// is expected to be identical (measured on linux/amd64), which
			// is stricter than the one-level tolerance a port usually needs.
			resized, err := Resize(img, 224, 224)
			if err != nil {
				t.Fatal(err)
			}
			maxDiff, meanDiff := byteDiff(resized.Pix, g.resized)
			t.Logf("resize vs Pillow: max abs diff %d, mean abs diff %.6f", maxDiff, meanDiff)
			if maxDiff != 0 {
				t.Errorf("resized pixels differ from Pillow by up to %d, want identical", maxDiff)
			}

			pixels, err := goldenOptions().PixelValues(img)
			if err != nil {
				t.Fatal(err)
			}
			maxFloat, meanFloat := floatDiff(pixels, g.pixels)
			t.Logf("pixel_values vs transformers: max abs diff %g, mean abs diff %g", maxFloat, meanFloat)
			if maxFloat != 0 {
				t.Errorf("pixel_values differ from transformers by up to %g, want bit-identical float32", maxFloat)
			}
		})
	}
}

// TestGoldenJPEG compares the JPEG photo, which Pillow decodes with
// libjpeg-turbo. This package redoes libjpeg-turbo's chroma upsampling and
// colour conversion, but Go's inverse DCT still rounds differently. Measured
// on rocket.jpg (4:4:4): decoded max 3, mean 0.030; resized max 2, mean
// 0.036; pixel_values max 0.0157 (two 8-bit steps). Plain Go colour
// conversion measured decoded max 4, mean 0.275. The limits leave one level
// of headroom over the measurement.
func TestGoldenJPEG(t *testing.T) {
	g := loadGolden(t, "rocket", "rocket.jpg")
	img := decodeFile(t, g.file)
	if img.Width != g.width || img.Height != g.height {
		t.Fatalf("decoded size %dx%d, want %dx%d", img.Width, img.Height, g.width, g.height)
	}

	maxDiff, meanDiff := byteDiff(img.Pix, g.decoded)
	t.Logf("decoded vs Pillow: max abs diff %d, mean abs diff %.6f", maxDiff, meanDiff)
	if maxDiff > 4 {
		t.Errorf("decoded max abs diff %d, want at most 4", maxDiff)
	}
	if meanDiff > 0.05 {
		t.Errorf("decoded mean abs diff %.4f, want at most 0.05", meanDiff)
	}

	resized, err := Resize(img, 224, 224)
	if err != nil {
		t.Fatal(err)
	}
	maxDiff, meanDiff = byteDiff(resized.Pix, g.resized)
	t.Logf("resized vs Pillow: max abs diff %d, mean abs diff %.6f", maxDiff, meanDiff)
	if maxDiff > 3 {
		t.Errorf("resized max abs diff %d, want at most 3", maxDiff)
	}

	pixels, err := goldenOptions().PixelValues(img)
	if err != nil {
		t.Fatal(err)
	}
	maxFloat, meanFloat := floatDiff(pixels, g.pixels)
	t.Logf("pixel_values vs transformers: max abs diff %g, mean abs diff %g", maxFloat, meanFloat)
	// Three 8-bit steps of 2/255 each after normalising with mean = std = 0.5.
	if maxFloat > 3*2.0/255+1e-6 {
		t.Errorf("pixel_values max abs diff %g, want at most three 8-bit steps (6/255)", maxFloat)
	}
}
