package preprocess

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// fixturePath returns a file under testdata/preprocess at the repository
// root, where the reference images made with libjpeg-turbo and libwebp live
// (see the README there).
func fixturePath(name string) string {
	return filepath.Join("..", "testdata", "preprocess", name)
}

// readReferencePNG returns the pixels of a reference PNG as RGB.
func readReferencePNG(t *testing.T, name string) *RGB {
	t.Helper()
	f, err := os.Open(fixturePath(name))
	if err != nil {
		t.Fatalf("opening reference: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding reference %s: %v", name, err)
	}
	return FromImage(img)
}

// TestJPEGSubsamplingMatchesLibjpeg checks the libjpeg-turbo style chroma
// upsampling for each fancy-upsampled layout on an odd-sized image. Only
// the inverse DCT differs from libjpeg-turbo. Measured with this package:
// max 2 to 3 per channel, mean 0.038 to 0.041 per file. Go's own
// upsampling and colour conversion measured max 14, mean 0.40 on 4:2:0.
func TestJPEGSubsamplingMatchesLibjpeg(t *testing.T) {
	for _, name := range []string{"chelsea-420", "chelsea-422", "chelsea-440"} {
		t.Run(name, func(t *testing.T) {
			want := readReferencePNG(t, name+".libjpeg.png")
			got := decodeFile(t, fixturePath(name+".jpg"))
			if got.Width != want.Width || got.Height != want.Height {
				t.Fatalf("size %dx%d, want %dx%d", got.Width, got.Height, want.Width, want.Height)
			}

			maxDiff, meanDiff := byteDiff(got.Pix, want.Pix)
			t.Logf("vs libjpeg-turbo: max abs diff %d, mean abs diff %.4f", maxDiff, meanDiff)
			if maxDiff > 4 {
				t.Errorf("max abs diff %d, want at most 4", maxDiff)
			}
			if meanDiff > 0.1 {
				t.Errorf("mean abs diff %.4f, want at most 0.1", meanDiff)
			}
		})
	}
}

// TestWebPLossyMatchesLibwebp checks that lossy WebP goes through libwebp's
// limited-range colour conversion and upsampler. VP8 decoding is exact, so
// the result must be identical.
func TestWebPLossyMatchesLibwebp(t *testing.T) {
	want := readReferencePNG(t, "chelsea-lossy.libwebp.png")
	got := decodeFile(t, fixturePath("chelsea-lossy.webp"))
	if got.Width != want.Width || got.Height != want.Height {
		t.Fatalf("size %dx%d, want %dx%d", got.Width, got.Height, want.Width, want.Height)
	}
	if maxDiff, meanDiff := byteDiff(got.Pix, want.Pix); maxDiff != 0 {
		t.Errorf("differs from libwebp: max abs diff %d, mean %.4f; want identical", maxDiff, meanDiff)
	}
}

// TestWebPLosslessMatchesSource checks that lossless WebP decodes to the
// window of chelsea.png it was made from.
func TestWebPLosslessMatchesSource(t *testing.T) {
	const x0, y0, width, height = 180, 70, 95, 63
	source := decodeFile(t, filepath.Join(sharedDir(t), "images", "chelsea.png"))
	want := NewRGB(width, height)
	for y := 0; y < height; y++ {
		start := 3 * ((y0+y)*source.Width + x0)
		copy(want.Pix[3*y*width:], source.Pix[start:start+3*width])
	}

	got := decodeFile(t, fixturePath("chelsea-lossless.webp"))
	if got.Bounds() != image.Rect(0, 0, width, height) {
		t.Fatalf("bounds %v, want %dx%d", got.Bounds(), width, height)
	}
	if maxDiff, _ := byteDiff(got.Pix, want.Pix); maxDiff != 0 {
		t.Errorf("differs from the source window by up to %d, want identical", maxDiff)
	}
}
