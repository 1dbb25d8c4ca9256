package preprocess

import (
	"errors"
	"image"
	"image/color"
	"math"
	"testing"
)

func TestFromImageGreyReplicates(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 1))
	img.Pix = []uint8{7, 250}
	got := FromImage(img)
	if want := []uint8{7, 7, 7, 250, 250, 250}; string(got.Pix) != string(want) {
		t.Errorf("Pix = %v, want %v", got.Pix, want)
	}
}

func TestFromImageGray16Clips(t *testing.T) {
	img := image.NewGray16(image.Rect(0, 0, 4, 1))
	for x, v := range []uint16{0, 200, 256, 65535} {
		img.SetGray16(x, 0, color.Gray16{Y: v})
	}
	got := FromImage(img)
	for x, v := range []uint8{0, 200, 255, 255} {
		if p := pixelAt(got, x, 0); p != [3]uint8{v, v, v} {
			t.Errorf("pixel %d = %v, want grey %d", x, p, v)
		}
	}
}

func TestFromImageNRGBAKeepsStoredColour(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 0})
	if got := pixelAt(FromImage(img), 0, 0); got != [3]uint8{10, 20, 30} {
		t.Errorf("pixel = %v, want {10 20 30}", got)
	}
}

func TestFromImageRGBAUnpremultiplies(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 1))
	img.SetRGBA(0, 0, color.RGBA{100, 50, 0, 128}) // 255*100/128 = 199.2
	img.SetRGBA(1, 0, color.RGBA{0, 0, 0, 0})
	img.SetRGBA(2, 0, color.RGBA{1, 2, 3, 255})
	got := FromImage(img)
	for x, want := range [][3]uint8{{199, 99, 0}, {0, 0, 0}, {1, 2, 3}} {
		if p := pixelAt(got, x, 0); p != want {
			t.Errorf("pixel %d = %v, want %v", x, p, want)
		}
	}
}

func TestFromImage16BitKeepsHighByte(t *testing.T) {
	nrgba := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	nrgba.SetNRGBA64(0, 0, color.NRGBA64{0x12FF, 0xAB00, 0x0180, 0x0001})
	if got := pixelAt(FromImage(nrgba), 0, 0); got != [3]uint8{0x12, 0xAB, 0x01} {
		t.Errorf("NRGBA64 pixel = %v, want the high bytes {18 171 1}", got)
	}

	rgba := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	rgba.SetRGBA64(0, 0, color.RGBA64{0x12FF, 0xAB00, 0x0180, 0xFFFF})
	if got := pixelAt(FromImage(rgba), 0, 0); got != [3]uint8{0x12, 0xAB, 0x01} {
		t.Errorf("RGBA64 pixel = %v, want the high bytes {18 171 1}", got)
	}
}

func TestFromImagePaletted(t *testing.T) {
	palette := color.Palette{
		color.RGBA{1, 2, 3, 255},
		color.NRGBA{40, 50, 60, 0}, // a PNG tRNS entry: alpha is ignored
	}
	img := image.NewPaletted(image.Rect(0, 0, 3, 1), palette)
	img.Pix = []uint8{1, 0, 7} // 7 is past the end of the palette
	got := FromImage(img)
	for x, want := range [][3]uint8{{40, 50, 60}, {1, 2, 3}, {0, 0, 0}} {
		if p := pixelAt(got, x, 0); p != want {
			t.Errorf("pixel %d = %v, want %v", x, p, want)
		}
	}
}

func TestFromImageYCbCrUsesGoConversion(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	img.Y = []uint8{16, 100, 180, 235}
	img.Cb[0], img.Cr[0] = 90, 200
	got := FromImage(img)
	for i, y := range img.Y {
		r, g, b := color.YCbCrToRGB(y, 90, 200)
		if p := pixelAt(got, i%2, i/2); p != [3]uint8{r, g, b} {
			t.Errorf("pixel %d = %v, want %v", i, p, [3]uint8{r, g, b})
		}
	}
}

func TestFromImageCMYKMatchesPillow(t *testing.T) {
	img := image.NewCMYK(image.Rect(0, 0, 4, 1))
	img.SetCMYK(0, 0, color.CMYK{0, 0, 0, 0})
	img.SetCMYK(1, 0, color.CMYK{0, 0, 0, 255})
	img.SetCMYK(2, 0, color.CMYK{255, 0, 0, 0})
	// 255-50 = 205, and 205 - 100*205/255 = 124.6 rounds to 125.
	img.SetCMYK(3, 0, color.CMYK{100, 0, 0, 50})
	got := FromImage(img)
	for x, want := range [][3]uint8{{255, 255, 255}, {0, 0, 0}, {0, 255, 255}, {125, 205, 205}} {
		if p := pixelAt(got, x, 0); p != want {
			t.Errorf("pixel %d = %v, want %v", x, p, want)
		}
	}
}

func TestFromImageSubImageOrigin(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.SetNRGBA(2, 3, color.NRGBA{9, 8, 7, 255})
	sub := img.SubImage(image.Rect(2, 3, 4, 4))
	got := FromImage(sub)
	if got.Width != 2 || got.Height != 1 {
		t.Fatalf("size %dx%d, want 2x1", got.Width, got.Height)
	}
	if p := pixelAt(got, 0, 0); p != [3]uint8{9, 8, 7} {
		t.Errorf("pixel (0, 0) = %v, want {9 8 7} from (2, 3) of the parent", p)
	}
}

func TestFromImageOtherTypes(t *testing.T) {
	img := image.NewAlpha(image.Rect(0, 0, 1, 1))
	img.SetAlpha(0, 0, color.Alpha{A: 255})
	if got := pixelAt(FromImage(img), 0, 0); got != [3]uint8{255, 255, 255} {
		t.Errorf("opaque Alpha pixel = %v, want white", got)
	}
}

func TestFromRGBADropsAlpha(t *testing.T) {
	pix := []uint8{1, 2, 3, 0, 4, 5, 6, 255}
	got, err := FromRGBA(pix, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{1, 2, 3, 4, 5, 6}; string(got.Pix) != string(want) {
		t.Errorf("Pix = %v, want %v", got.Pix, want)
	}
}

func TestFromRGBARejectsBadSizes(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pixels        int
		width, height int
	}{
		{"short buffer", 7, 2, 1},
		{"long buffer", 12, 2, 1},
		{"zero width", 0, 0, 1},
		{"negative height", 4, 1, -1},
		{"overflowing size", 4, math.MaxInt / 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromRGBA(make([]uint8, tc.pixels), tc.width, tc.height)
			if !errors.Is(err, ErrInvalidImage) {
				t.Errorf("error = %v, want ErrInvalidImage", err)
			}
		})
	}
}

func TestRGBImplementsImage(t *testing.T) {
	img := &RGB{Width: 2, Height: 1, Pix: []uint8{1, 2, 3, 4, 5, 6}}
	var _ image.Image = img
	if got := img.At(1, 0); got != (color.RGBA{4, 5, 6, 255}) {
		t.Errorf("At(1, 0) = %v, want {4 5 6 255}", got)
	}
	if got := img.At(2, 0); got != (color.RGBA{}) {
		t.Errorf("At outside the bounds = %v, want transparent black", got)
	}
	// Converting an RGB image copies it unchanged.
	if got := FromImage(img); string(got.Pix) != string(img.Pix) {
		t.Errorf("FromImage(RGB) = %v, want %v", got.Pix, img.Pix)
	}
}
