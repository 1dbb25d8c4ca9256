package preprocess

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestResizeSameSizeReturnsCopy(t *testing.T) {
	src := randomRGB(rand.New(rand.NewPCG(1, 2)), 7, 5)
	orig := src.Clone()

	got, err := Resize(src, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Pix) != string(orig.Pix) {
		t.Error("resizing to the same size changed the pixels")
	}
	got.Pix[0]++
	if src.Pix[0] != orig.Pix[0] {
		t.Error("the result shares memory with the source")
	}
}

// TestResizeUpscaleByHand doubles a two-pixel ramp, worked out by hand from
// the a = -0.5 cubic kernel. With scale 0.5 the kernel is not stretched.
// Output 1 has centre 0.75 in input coordinates and reads input pixels 0 and
// 1 at distances 0.25 and 0.75, with kernel values 0.8671875 and 0.2265625,
// so it is 255 * 0.2265625 / 1.09375 = 52.8, rounded to 53. Output 0 has
// centre 0.25 and weights 0.8671875 and -0.0703125, so 255 gets a negative
// weight and the result clips to 0. Outputs 2 and 3 mirror 1 and 0.
func TestResizeUpscaleByHand(t *testing.T) {
	want := []uint8{0, 53, 202, 255}

	horizontal := &RGB{Width: 2, Height: 1, Pix: []uint8{0, 0, 0, 255, 255, 255}}
	got, err := Resize(horizontal, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for x, v := range want {
		if p := pixelAt(got, x, 0); p != [3]uint8{v, v, v} {
			t.Errorf("horizontal pixel %d = %v, want grey %d", x, p, v)
		}
	}

	vertical := &RGB{Width: 1, Height: 2, Pix: []uint8{0, 0, 0, 255, 255, 255}}
	got, err = Resize(vertical, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	for y, v := range want {
		if p := pixelAt(got, 0, y); p != [3]uint8{v, v, v} {
			t.Errorf("vertical pixel %d = %v, want grey %d", y, p, v)
		}
	}
}

func TestResizeKeepsConstantImage(t *testing.T) {
	for _, size := range [][4]int{{9, 7, 3, 2}, {3, 2, 17, 11}, {100, 1, 7, 1}, {5, 5, 5, 13}} {
		src := NewRGB(size[0], size[1])
		for i := range src.Pix {
			src.Pix[i] = []uint8{0, 255, 77}[i%3]
		}
		got, err := Resize(src, size[2], size[3])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got.Pix {
			if want := []uint8{0, 255, 77}[i%3]; v != want {
				t.Fatalf("%dx%d to %dx%d: byte %d = %d, want %d", size[0], size[1], size[2], size[3], i, v, want)
			}
		}
	}
}

// TestResizeMatchesFloatReference compares with a plain float64
// implementation of the same filter, written from the kernel's textbook
// form, which rounds to 8 bits after each pass as Pillow does. Fixed-point
// weights can move a result that lies near a rounding boundary, so one level
// of difference is allowed.
func TestResizeMatchesFloatReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range [][4]int{
		{37, 23, 11, 41}, // shrink across, stretch down
		{64, 48, 64, 17}, // vertical pass only
		{50, 50, 13, 50}, // horizontal pass only
		{5, 5, 40, 3},
		{300, 200, 224, 224},
		{1, 1, 3, 2},
	} {
		src := randomRGB(rng, size[0], size[1])
		got, err := Resize(src, size[2], size[3])
		if err != nil {
			t.Fatal(err)
		}
		want := referenceResize(src, size[2], size[3])
		maxDiff, meanDiff := byteDiff(got.Pix, want.Pix)
		if maxDiff > 1 {
			t.Errorf("%dx%d to %dx%d: max abs diff %d (mean %.4f) from the float reference, want at most 1",
				size[0], size[1], size[2], size[3], maxDiff, meanDiff)
		}
	}
}

func TestResizeRejectsInvalidInput(t *testing.T) {
	valid := NewRGB(2, 2)
	for _, tc := range []struct {
		name          string
		src           *RGB
		width, height int
	}{
		{"nil source", nil, 2, 2},
		{"short pixel buffer", &RGB{Width: 2, Height: 2, Pix: make([]uint8, 11)}, 2, 2},
		{"zero width source", &RGB{Width: 0, Height: 2}, 2, 2},
		{"zero target width", valid, 0, 2},
		{"negative target height", valid, 2, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Resize(tc.src, tc.width, tc.height); !errors.Is(err, ErrInvalidImage) {
				t.Errorf("error = %v, want ErrInvalidImage", err)
			}
		})
	}
}

func randomRGB(rng *rand.Rand, width, height int) *RGB {
	img := NewRGB(width, height)
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

// keysCubic is the cubic convolution kernel with a = -0.5 in its usual
// piecewise-polynomial form.
func keysCubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return (a+2)*x*x*x - (a+3)*x*x + 1
	case x < 2:
		return a*x*x*x - 5*a*x*x + 8*a*x - 4*a
	}
	return 0
}

// referenceWeights returns, for each output pixel, the normalised weight of
// every input pixel along one axis.
func referenceWeights(inSize, outSize int) [][]float64 {
	scale := float64(inSize) / float64(outSize)
	stretch := math.Max(scale, 1)
	weights := make([][]float64, outSize)
	for i := range weights {
		center := (float64(i) + 0.5) * scale
		w := make([]float64, inSize)
		total := 0.0
		for j := range w {
			w[j] = keysCubic((float64(j) + 0.5 - center) / stretch)
			total += w[j]
		}
		for j := range w {
			w[j] /= total
		}
		weights[i] = w
	}
	return weights
}

func roundToUint8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Floor(v+0.5))))
}

// referenceResize resizes horizontally, then vertically, skipping a pass
// whose size does not change and rounding after each pass.
func referenceResize(src *RGB, width, height int) *RGB {
	img := src
	if width != img.Width {
		weights := referenceWeights(img.Width, width)
		out := NewRGB(width, img.Height)
		for y := 0; y < img.Height; y++ {
			for x := 0; x < width; x++ {
				for c := 0; c < 3; c++ {
					sum := 0.0
					for j, w := range weights[x] {
						sum += w * float64(img.Pix[3*(y*img.Width+j)+c])
					}
					out.Pix[3*(y*width+x)+c] = roundToUint8(sum)
				}
			}
		}
		img = out
	}
	if height != img.Height {
		weights := referenceWeights(img.Height, height)
		out := NewRGB(img.Width, height)
		for y := 0; y < height; y++ {
			for x := 0; x < img.Width; x++ {
				for c := 0; c < 3; c++ {
					sum := 0.0
					for j, w := range weights[y] {
						sum += w * float64(img.Pix[3*(j*img.Width+x)+c])
					}
					out.Pix[3*(y*img.Width+x)+c] = roundToUint8(sum)
				}
			}
		}
		img = out
	}
	return img
}
