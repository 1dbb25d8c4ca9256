package preprocess

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"testing"

	"golang.org/x/image/bmp"
)

// fuzzSeeds returns small valid images of every supported format, some with
// EXIF orientation, followed by truncated and bit-flipped copies of each.
func fuzzSeeds(t testing.TB) [][]byte {
	quadrants := quadrantImage()
	jpg := encodeJPEG(t, quadrants)

	paletted := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.RGBA{1, 2, 3, 255}, color.NRGBA{4, 5, 6, 7}})
	gray16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	gray16.SetGray16(1, 1, color.Gray16{Y: 300})
	var bmpData bytes.Buffer
	if err := bmp.Encode(&bmpData, quadrants); err != nil {
		t.Fatal(err)
	}

	seeds := [][]byte{
		jpg,
		insertAfterSOI(jpg, exifAPP1(orientationTIFF(binary.LittleEndian, 6))),
		encodePNG(t, quadrants),
		encodePNG(t, paletted),
		encodePNG(t, gray16),
		bmpData.Bytes(),
		buildGreyTIFF(3, 2, []byte{0, 1, 2, 10, 11, 12}, 7),
		buildGIF(t, 4, 3, [][3]uint8{{10, 20, 30}, {200, 0, 0}}, gifFrame{left: 1, top: 1, width: 2, height: 1, pixels: []byte{1, 0}, transparent: 1}),
	}
	for _, name := range []string{"chelsea-lossy.webp", "chelsea-lossless.webp", "chelsea-420.jpg"} {
		data, err := os.ReadFile(fixturePath(name))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}

	for _, s := range seeds[:len(seeds):len(seeds)] {
		seeds = append(seeds, s[:len(s)/2], s[:len(s)-1])
		flipped := append([]byte(nil), s...)
		for i := len(flipped) / 3; i < len(flipped); i += 7 {
			flipped[i] ^= 0x5A
		}
		seeds = append(seeds, flipped)
	}
	return seeds
}

// FuzzDecode runs bytes through the whole pipeline with a small pixel limit.
// Any input may fail to decode, but no input may panic, exceed the limit or
// yield an image that the later steps reject.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	const maxPixels = 1 << 16
	opts := Options{
		Resize: true, Width: 4, Height: 3,
		CenterCrop: true, CropWidth: 3, CropHeight: 5,
		Rescale: true, RescaleFactor: 1.0 / 255,
		Normalize: true, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5},
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeBytes(data, maxPixels)
		if err != nil {
			if img != nil {
				t.Fatal("DecodeBytes returned an image with an error")
			}
			return
		}
		if err := img.validate(); err != nil {
			t.Fatalf("decoded image is inconsistent: %v", err)
		}
		if img.Width*img.Height > maxPixels {
			t.Fatalf("decoded %dx%d, over the limit of %d pixels", img.Width, img.Height, maxPixels)
		}
		if _, err := Resize(img, 7, 5); err != nil {
			t.Fatalf("Resize: %v", err)
		}
		values, err := opts.PixelValues(img)
		if err != nil {
			t.Fatalf("PixelValues: %v", err)
		}
		if len(values) != 3*3*5 {
			t.Fatalf("got %d values, want 45", len(values))
		}
	})
}

// FuzzEXIFOrientation feeds arbitrary bytes to the metadata parsers, as the
// body of each container format and as a bare TIFF structure.
func FuzzEXIFOrientation(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add(orientationTIFF(binary.BigEndian, 8))
	f.Add(exifTIFF(binary.LittleEndian, 4, 1, 3))

	img := FromImage(quadrantImage())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []string{"jpeg", "png", "webp", "tiff", "gif"} {
			orientation := exifOrientation(format, data)
			if orientation < 0 || orientation > 8 {
				t.Fatalf("%s orientation %d outside 0..8", format, orientation)
			}
			rotated := orient(img, orientation)
			if rotated.Width*rotated.Height != img.Width*img.Height {
				t.Fatalf("orientation %d changed the pixel count", orientation)
			}
		}
		if o := tiffOrientation(data); o < 0 || o > 8 {
			t.Fatalf("tiffOrientation = %d, outside 0..8", o)
		}
		for name, payload := range map[string][]byte{"jpeg": jpegEXIF(data), "png": pngEXIF(data), "webp": webpEXIF(data)} {
			if len(payload) > len(data) {
				t.Fatalf("%s EXIF payload is longer than the input", name)
			}
		}
	})
}

// FuzzGIFColorTable checks that the GIF header walker stays in bounds and
// returns a well-formed table.
func FuzzGIFColorTable(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		table, transparent, ok := gifFirstFrameColors(data)
		if !ok {
			return
		}
		if n := len(table); n < 2 || n > 256 || n&(n-1) != 0 {
			t.Fatalf("table has %d entries, want a power of two from 2 to 256", n)
		}
		if transparent < -1 || transparent > 255 {
			t.Fatalf("transparent index %d outside -1..255", transparent)
		}
	})
}
