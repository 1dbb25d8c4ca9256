package preprocess

import (
	"fmt"
	"image"
	"image/color"
)

// RGB is an 8-bit RGB image stored row-major with 3 bytes per pixel (R, G, B)
// and no row padding, the layout of a Pillow "RGB" image converted to a NumPy
// array of shape (Height, Width, 3).
//
// RGB implements image.Image, so it can be passed to Go's encoders.
type RGB struct {
	Width, Height int
	Pix           []uint8
}

// NewRGB allocates a black width×height image. It panics if either dimension
// is negative or the pixel count overflows int, like make does.
func NewRGB(width, height int) *RGB {
	return &RGB{Width: width, Height: height, Pix: make([]uint8, 3*width*height)}
}

// ColorModel returns color.RGBAModel because every pixel is opaque.
func (m *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds returns the rectangle (0, 0)-(Width, Height).
func (m *RGB) Bounds() image.Rectangle { return image.Rect(0, 0, m.Width, m.Height) }

// At returns the pixel at (x, y) as an opaque color.RGBA, or transparent black
// outside the bounds.
func (m *RGB) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return color.RGBA{}
	}
	i := 3 * (y*m.Width + x)
	return color.RGBA{R: m.Pix[i], G: m.Pix[i+1], B: m.Pix[i+2], A: 0xff}
}

// Clone returns a deep copy of m.
func (m *RGB) Clone() *RGB {
	return &RGB{Width: m.Width, Height: m.Height, Pix: append([]uint8(nil), m.Pix...)}
}

// validate reports whether m has positive dimensions and exactly 3*Width*Height
// bytes of pixels.
func (m *RGB) validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil RGB image", ErrInvalidImage)
	}
	want, ok := pixelBytes(m.Width, m.Height, 3)
	if !ok {
		return fmt.Errorf("%w: RGB image size %dx%d must be positive and fit in memory", ErrInvalidImage, m.Width, m.Height)
	}
	if len(m.Pix) != want {
		return fmt.Errorf("%w: RGB image %dx%d has %d pixel bytes, want %d", ErrInvalidImage, m.Width, m.Height, len(m.Pix), want)
	}
	return nil
}

// pixelBytes returns width*height*channels, and false when a dimension is not
// positive or the product overflows int.
func pixelBytes(width, height, channels int) (int, bool) {
	if width <= 0 || height <= 0 {
		return 0, false
	}
	const maxInt = int(^uint(0) >> 1)
	if width > maxInt/height || width*height > maxInt/channels {
		return 0, false
	}
	return width * height * channels, true
}

// FromRGBA copies 8-bit RGBA pixels (4 bytes per pixel, row-major, as in a
// browser canvas ImageData) into an RGB image. Alpha is dropped without
// compositing, as Pillow's RGBA to RGB conversion does, so the colour values
// must be straight (not premultiplied) alpha, which is what ImageData holds.
func FromRGBA(pix []uint8, width, height int) (*RGB, error) {
	want, ok := pixelBytes(width, height, 4)
	if !ok {
		return nil, fmt.Errorf("%w: RGBA size %dx%d must be positive and fit in memory", ErrInvalidImage, width, height)
	}
	if len(pix) != want {
		return nil, fmt.Errorf("%w: RGBA buffer has %d bytes, want %d for %dx%d pixels", ErrInvalidImage, len(pix), want, width, height)
	}

	out := NewRGB(width, height)
	for i, o := 0, 0; i < len(pix); i, o = i+4, o+3 {
		out.Pix[o] = pix[i]
		out.Pix[o+1] = pix[i+1]
		out.Pix[o+2] = pix[i+2]
	}
	return out, nil
}
