package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	// Register the decoders that image.Decode and image.DecodeConfig use.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel limit (width × height) that DecodeBytes and
// Decode apply when they are given a limit of zero or less. At 100 megapixels
// a decoded 16-bit RGBA image takes 800 MB and each RGB copy 300 MB, so pass
// a lower limit where memory is tight, as in a browser.
const DefaultMaxPixels = 100_000_000

// Errors returned by the decode functions. They are wrapped with details, so
// test for them with errors.Is.
var (
	// ErrEmpty means the input has no bytes.
	ErrEmpty = errors.New("preprocess: empty image data")

	// ErrUnsupportedFormat means the input does not start with the signature
	// of JPEG, PNG, GIF, BMP, TIFF or WebP.
	ErrUnsupportedFormat = errors.New("preprocess: unsupported image format (want JPEG, PNG, GIF, BMP, TIFF or WebP)")

	// ErrTooLarge means the header declares more pixels than the limit.
	ErrTooLarge = errors.New("preprocess: image too large")

	// ErrInvalidImage means the data is corrupt, truncated, has a zero
	// dimension, or is a pixel buffer whose length does not match its size.
	ErrInvalidImage = errors.New("preprocess: invalid image")
)

// Decode reads all of r and decodes it as DecodeBytes does. Decode holds the
// whole input in memory because the header and the pixels are read in two
// passes. Wrap r in an io.LimitReader to bound the input size, which a pixel
// limit alone does not do.
func Decode(r io.Reader, maxPixels int) (*RGB, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("preprocess: reading image data: %w", err)
	}
	return DecodeBytes(data, maxPixels)
}

// DecodeBytes decodes an encoded image into upright 8-bit RGB, as
// transformers' load_image does with Pillow (open, exif_transpose,
// convert("RGB")).
//
// The header is parsed first, and an image whose width × height exceeds
// maxPixels is rejected with ErrTooLarge before any pixel is decoded. A
// maxPixels of zero or less means DefaultMaxPixels. GIF input yields its first
// frame on the logical screen. A decoder panic on corrupt input is returned as
// ErrInvalidImage.
func DecodeBytes(data []byte, maxPixels int) (*RGB, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}

	config, format, err := decodeConfig(data)
	if err != nil {
		return nil, err
	}
	if err := checkPixelLimit(config.Width, config.Height, maxPixels); err != nil {
		return nil, err
	}

	img, err := decodePixels(data, format)
	if err != nil {
		return nil, err
	}

	// The decoders size their output from the header checked above. Checking
	// the result as well keeps a decoder that trusts some other field from
	// slipping past the limit.
	bounds := img.Bounds()
	if err := checkPixelLimit(bounds.Dx(), bounds.Dy(), maxPixels); err != nil {
		return nil, err
	}

	rgb := toRGB(img, format, data, config)
	if orientation := exifOrientation(format, data); orientation > 1 {
		rgb = orient(rgb, orientation)
	}
	return rgb, nil
}

// decodeConfig reads the image header and returns the size and the format
// name that image.RegisterFormat gave it.
func decodeConfig(data []byte) (config image.Config, format string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: header decoder panicked: %v", ErrInvalidImage, r)
		}
	}()

	config, format, err = image.DecodeConfig(bytes.NewReader(data))
	switch {
	case errors.Is(err, image.ErrFormat):
		return config, "", ErrUnsupportedFormat
	case err != nil:
		return config, "", fmt.Errorf("%w: reading header: %w", ErrInvalidImage, err)
	}
	return config, format, nil
}

// decodePixels decodes the whole image, turning a decoder panic into an error.
func decodePixels(data []byte, format string) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img = nil
			err = fmt.Errorf("%w: %s decoder panicked: %v", ErrInvalidImage, format, r)
		}
	}()

	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: decoding %s: %w", ErrInvalidImage, format, err)
	}
	return img, nil
}

// checkPixelLimit rejects a zero dimension and a pixel count over maxPixels.
func checkPixelLimit(width, height, maxPixels int) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%w: size %dx%d has no pixels", ErrInvalidImage, width, height)
	}
	if int64(width)*int64(height) > int64(maxPixels) {
		return fmt.Errorf("%w: %dx%d is %d pixels, over the limit of %d; downscale the image or raise the limit", ErrTooLarge, width, height, int64(width)*int64(height), maxPixels)
	}
	return nil
}

// toRGB converts a decoded image with FromImage, except where Pillow's
// result depends on more than the decoded image holds. JPEG and lossy WebP
// colour goes through the chroma upsampling and conversion of libjpeg-turbo
// and libwebp. A GIF frame is placed on its logical screen with the original
// transparent palette colour. A 16-bit greyscale PNG with a tRNS chunk keeps
// its greyscale clipping.
func toRGB(img image.Image, format string, data []byte, config image.Config) *RGB {
	switch format {
	case "jpeg":
		if m, ok := img.(*image.YCbCr); ok && hasFullPlanes(m) {
			return jpegToRGB(m)
		}
	case "webp":
		switch m := img.(type) {
		case *image.YCbCr:
			if isWebPYCbCr(m) {
				return webpToRGB(m)
			}
		case *image.NYCbCrA:
			if isWebPYCbCr(&m.YCbCr) {
				return webpToRGB(&m.YCbCr)
			}
		}
	case "gif":
		if frame, ok := img.(*image.Paletted); ok {
			return gifToRGB(frame, data, config)
		}
	case "png":
		// Go decodes 16-bit greyscale with a tRNS chunk into NRGBA64 with
		// R = G = B, but Pillow still opens it in mode "I" and clips.
		if m, ok := img.(*image.NRGBA64); ok && isGrey16PNG(data) {
			return grey16NRGBA64ToRGB(m)
		}
	}
	return FromImage(img)
}

// isGrey16PNG reports whether the PNG header declares 16-bit greyscale
// without alpha (bit depth 16, colour type 0).
func isGrey16PNG(data []byte) bool {
	// Signature (8), IHDR length and type (8), width and height (8), then
	// bit depth and colour type.
	const bitDepthOffset = 24
	if len(data) < bitDepthOffset+2 || string(data[12:16]) != "IHDR" {
		return false
	}
	return data[bitDepthOffset] == 16 && data[bitDepthOffset+1] == 0
}

func grey16NRGBA64ToRGB(m *image.NRGBA64) *RGB {
	b := m.Rect
	out := NewRGB(b.Dx(), b.Dy())
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			v := clipGray16(uint16(row[8*x])<<8 | uint16(row[8*x+1]))
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			o += 3
		}
	}
	return out
}
