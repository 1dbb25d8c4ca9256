package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func TestDecodeEmptyInput(t *testing.T) {
	if _, err := DecodeBytes(nil, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("DecodeBytes(nil) error = %v, want ErrEmpty", err)
	}
	if _, err := Decode(strings.NewReader(""), 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("Decode(empty reader) error = %v, want ErrEmpty", err)
	}
}

func TestDecodeUnknownFormat(t *testing.T) {
	for _, data := range []string{"hello, world", "\x89PN", "<svg xmlns='http://www.w3.org/2000/svg'/>"} {
		if _, err := DecodeBytes([]byte(data), 0); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("DecodeBytes(%q) error = %v, want ErrUnsupportedFormat", data, err)
		}
	}
}

func TestDecodeReaderError(t *testing.T) {
	failure := errors.New("connection reset")
	_, err := Decode(io.MultiReader(strings.NewReader("\x89PNG"), iotestErrReader{failure}), 0)
	if !errors.Is(err, failure) {
		t.Errorf("error = %v, want it to wrap the reader's error", err)
	}
}

// iotestErrReader fails every read with err.
type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeTruncatedInput(t *testing.T) {
	src := quadrantImage()
	var gifData bytes.Buffer
	if err := gif.Encode(&gifData, src, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format string
		data   []byte
	}{
		{"png", encodePNG(t, src)},
		{"jpeg", encodeJPEG(t, src)},
		{"gif", gifData.Bytes()},
	} {
		// Cut after the header but before the end of the pixel data.
		for _, keep := range []int{len(tc.data) / 2, len(tc.data) - 20} {
			_, err := DecodeBytes(tc.data[:keep], 0)
			if !errors.Is(err, ErrInvalidImage) {
				t.Errorf("%s cut to %d of %d bytes: error = %v, want ErrInvalidImage", tc.format, keep, len(tc.data), err)
			}
		}
	}
}

func TestDecodeCorruptPixelData(t *testing.T) {
	data := encodePNG(t, quadrantImage())
	// Flip bytes inside the IDAT payload, which breaks the zlib stream or
	// its checksum but leaves the header intact.
	corrupt := append([]byte(nil), data...)
	for i := 45; i < 60; i++ {
		corrupt[i] ^= 0xA5
	}
	if _, err := DecodeBytes(corrupt, 0); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("error = %v, want ErrInvalidImage", err)
	}
}

// TestDecodeRejectsLargeHeaderFirst gives headers that declare more pixels
// than the limit and carry no pixel data. ErrTooLarge, rather than an error
// about the missing data, shows that decoding never started.
func TestDecodeRejectsLargeHeaderFirst(t *testing.T) {
	pngHeader := buildPNG(ihdr(12000, 12000, 8, 2))
	// SOI, a baseline SOF0 for 60000×60000 with three components, and the
	// SOS segment where Go's header parser stops, without scan data.
	jpegHeader := bytes.Join([][]byte{
		{0xFF, 0xD8},
		jpegSegment(0xC0, []byte{8, 0xEA, 0x60, 0xEA, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}),
		jpegSegment(0xDA, []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}),
	}, nil)

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png", pngHeader},
		{"jpeg", jpegHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBytes(tc.data, 0)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error = %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "12000x12000") && !strings.Contains(err.Error(), "60000x60000") {
				t.Errorf("error %q does not name the declared size", err)
			}
		})
	}

	// The same kind of header within the limit gets as far as decoding and
	// fails there.
	if _, err := DecodeBytes(buildPNG(ihdr(100, 100, 8, 2)), 0); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("small header-only PNG: error = %v, want ErrInvalidImage", err)
	}
}

func TestDecodePixelLimitBoundary(t *testing.T) {
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 10, 10)))
	if _, err := DecodeBytes(data, 100); err != nil {
		t.Errorf("100 pixels with a limit of 100: %v", err)
	}
	if _, err := DecodeBytes(data, 99); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100 pixels with a limit of 99: error = %v, want ErrTooLarge", err)
	}
}

func TestDecodeZeroSizeImage(t *testing.T) {
	// A GIF whose logical screen is 0×0, with no frame.
	data := []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00\x3B")
	if _, err := DecodeBytes(data, 0); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("error = %v, want ErrInvalidImage", err)
	}
}

// TestDecodeLosslessFormats round-trips one image through each lossless
// encoder that Go has and expects the original colours back.
func TestDecodeLosslessFormats(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			src.SetNRGBA(x, y, color.NRGBA{uint8(50 * x), uint8(100 * y), uint8(7*x + 3*y), 255})
		}
	}
	want := FromImage(src)

	encoders := map[string]func(io.Writer, image.Image) error{
		"png":  func(w io.Writer, m image.Image) error { _, err := w.Write(encodePNG(t, m)); return err },
		"bmp":  bmp.Encode,
		"tiff": func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) },
	}
	for name, encode := range encoders {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := encode(&b, src); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeBytes(b.Bytes(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Width != 5 || got.Height != 3 || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("decoded %dx%d %v, want 5x3 %v", got.Width, got.Height, got.Pix, want.Pix)
			}
		})
	}
}

// TestDecodeGIFUsesLogicalScreen follows Pillow 9.4's first-frame rules: the
// frame is painted on the whole logical screen, the rest is the transparent
// index (or index 0 without one), and the transparent index keeps the
// colour its table gives it.
func TestDecodeGIFUsesLogicalScreen(t *testing.T) {
	palette := [][3]uint8{{10, 20, 30}, {200, 0, 0}, {0, 200, 0}, {0, 0, 200}}
	frame := gifFrame{left: 1, top: 1, width: 2, height: 1, pixels: []byte{1, 2}}

	t.Run("transparent index", func(t *testing.T) {
		frame.transparent = 2
		img, err := DecodeBytes(buildGIF(t, 4, 3, palette, frame), 0)
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != 4 || img.Height != 3 {
			t.Fatalf("size %dx%d, want the 4x3 logical screen", img.Width, img.Height)
		}
		for y := 0; y < 3; y++ {
			for x := 0; x < 4; x++ {
				want := palette[2] // the transparent index fills the screen
				if x == 1 && y == 1 {
					want = palette[1]
				}
				if got := pixelAt(img, x, y); got != want {
					t.Errorf("pixel (%d, %d) = %v, want %v", x, y, got, want)
				}
			}
		}
	})

	t.Run("no transparency", func(t *testing.T) {
		frame.transparent = -1
		img, err := DecodeBytes(buildGIF(t, 4, 3, palette, frame), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := pixelAt(img, 0, 0); got != palette[0] {
			t.Errorf("pixel outside the frame = %v, want index 0 %v", got, palette[0])
		}
		if got := pixelAt(img, 2, 1); got != palette[2] {
			t.Errorf("frame pixel = %v, want %v", got, palette[2])
		}
	})
}

func TestDecodePNGGrey16(t *testing.T) {
	samples := []uint16{0, 100, 255, 256, 40000, 65535}
	want := []uint8{0, 100, 255, 255, 255, 255} // Pillow clips, it does not shift

	scanline := []byte{0} // filter type None
	for _, v := range samples {
		scanline = binary.BigEndian.AppendUint16(scanline, v)
	}
	header := ihdr(uint32(len(samples)), 1, 16, 0)

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"opaque", buildPNG(header, idat(t, scanline), pngChunk{"IEND", nil})},
		// Go decodes this one to NRGBA64 rather than Gray16.
		{"with tRNS", buildPNG(header, pngChunk{"tRNS", []byte{0, 100}}, idat(t, scanline), pngChunk{"IEND", nil})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := DecodeBytes(tc.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			for x, v := range want {
				if got := pixelAt(img, x, 0); got != [3]uint8{v, v, v} {
					t.Errorf("sample %d (%d) = %v, want grey %d", x, samples[x], got, v)
				}
			}
		})
	}
}

func TestDecodePNGAlphaIsDropped(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	src.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	src.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 128})
	src.SetNRGBA(2, 0, color.NRGBA{200, 100, 50, 255})

	img, err := DecodeBytes(encodePNG(t, src), 0)
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 3; x++ {
		if got := pixelAt(img, x, 0); got != [3]uint8{200, 100, 50} {
			t.Errorf("pixel %d = %v, want the stored colour {200 100 50} whatever the alpha", x, got)
		}
	}
}
