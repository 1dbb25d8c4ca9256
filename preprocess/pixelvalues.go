package preprocess

import (
	"fmt"
	"math"
)

// Options selects the BeitImageProcessor steps that PixelValues applies, in
// the order the processor runs them: resize, center crop, rescale,
// normalise. Each field corresponds to a preprocessor_config.json key, named
// in its comment. The resample filter is always bicubic (resample = 3).
type Options struct {
	// Resize (do_resize) scales the image to Width×Height (size.width,
	// size.height) with Resize, ignoring the aspect ratio.
	Resize        bool
	Width, Height int

	// CenterCrop (do_center_crop) cuts a CropWidth×CropHeight window
	// (crop_size) from the middle of the image, padding with zeros where the
	// image is smaller.
	CenterCrop            bool
	CropWidth, CropHeight int

	// Rescale (do_rescale) multiplies each 8-bit value by RescaleFactor
	// (rescale_factor, usually 1/255) in float64 and rounds to float32.
	Rescale       bool
	RescaleFactor float64

	// Normalize (do_normalize) computes (x - Mean[c]) / Std[c] in float32
	// (image_mean, image_std) for channel c in R, G, B order.
	Normalize bool
	Mean, Std [3]float32
}

// BeitDefaults returns the defaults of BeitImageProcessor's constructor in
// transformers 4.36, which apply to keys missing from
// preprocessor_config.json: resize to 256×256, center crop 224×224, rescale
// by 1/255, normalise with mean and std 0.5.
func BeitDefaults() Options {
	return Options{
		Resize: true, Width: 256, Height: 256,
		CenterCrop: true, CropWidth: 224, CropHeight: 224,
		Rescale: true, RescaleFactor: 1.0 / 255,
		Normalize: true, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5},
	}
}

// Validate reports options that PixelValues cannot apply: a non-positive
// size for an enabled resize or crop, a rescale factor that is not finite,
// or a standard deviation that is zero or not finite.
func (o Options) Validate() error {
	if o.Resize && (o.Width <= 0 || o.Height <= 0) {
		return fmt.Errorf("preprocess: invalid options: resize size %dx%d must be positive", o.Width, o.Height)
	}
	if o.CenterCrop && (o.CropWidth <= 0 || o.CropHeight <= 0) {
		return fmt.Errorf("preprocess: invalid options: crop size %dx%d must be positive", o.CropWidth, o.CropHeight)
	}
	if o.Rescale && (math.IsNaN(o.RescaleFactor) || math.IsInf(o.RescaleFactor, 0)) {
		return fmt.Errorf("preprocess: invalid options: rescale factor %v must be finite", o.RescaleFactor)
	}
	if o.Normalize {
		for c := range 3 {
			if !isFinite32(o.Mean[c]) {
				return fmt.Errorf("preprocess: invalid options: mean[%d] = %v must be finite", c, o.Mean[c])
			}
			if o.Std[c] == 0 || !isFinite32(o.Std[c]) {
				return fmt.Errorf("preprocess: invalid options: std[%d] = %v must be finite and non-zero", c, o.Std[c])
			}
		}
	}
	return nil
}

func isFinite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

// OutputSize returns the width and height of the tensor PixelValues makes
// from an image of the given size: the crop size if CenterCrop is set, else
// the resize size if Resize is set, else the image size.
func (o Options) OutputSize(imageWidth, imageHeight int) (width, height int) {
	switch {
	case o.CenterCrop:
		return o.CropWidth, o.CropHeight
	case o.Resize:
		return o.Width, o.Height
	}
	return imageWidth, imageHeight
}

// PixelValues runs the enabled steps on img and returns a new float32 tensor
// of shape (3, height, width) in channel-first (CHW) order, the layout of one
// image in BeitImageProcessor's pixel_values. With Rescale and Normalize both
// off, the values are the 8-bit samples as float32.
func (o Options) PixelValues(img *RGB) ([]float32, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := img.validate(); err != nil {
		return nil, err
	}
	width, height := o.OutputSize(img.Width, img.Height)
	n, ok := pixelBytes(width, height, 3)
	if !ok {
		return nil, fmt.Errorf("preprocess: invalid options: output size %dx%d must be positive and fit in memory", width, height)
	}
	dst := make([]float32, n)
	if err := o.PixelValuesInto(dst, img); err != nil {
		return nil, err
	}
	return dst, nil
}

// PixelValuesInto is PixelValues writing into dst, which must hold exactly
// 3×height×width values for the size OutputSize reports. Slicing one batch
// buffer per image fills a (batch, 3, height, width) tensor without further
// allocation of the output. img is not modified.
func (o Options) PixelValuesInto(dst []float32, img *RGB) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if err := img.validate(); err != nil {
		return err
	}
	width, height := o.OutputSize(img.Width, img.Height)
	if want, ok := pixelBytes(width, height, 3); !ok || len(dst) != want {
		return fmt.Errorf("preprocess: destination has %d values, want 3*%d*%d", len(dst), height, width)
	}

	if o.Resize {
		img = resize(img, o.Width, o.Height)
	}
	if o.CenterCrop {
		img = centerCrop(img, o.CropWidth, o.CropHeight)
	}

	// lut maps each 8-bit value to its final float per channel. Building it
	// once applies the exact per-element arithmetic of the processor.
	var lut [3][256]float32
	for c := range 3 {
		for v := range 256 {
			lut[c][v] = o.scaleValue(uint8(v), c)
		}
	}

	plane := width * height
	for i := 0; i < plane; i++ {
		dst[i] = lut[0][img.Pix[3*i]]
		dst[plane+i] = lut[1][img.Pix[3*i+1]]
		dst[2*plane+i] = lut[2][img.Pix[3*i+2]]
	}
	return nil
}

// scaleValue applies rescale and normalise to one sample of channel c.
// transformers multiplies the uint8 array by the Python float factor in
// float64 and casts to float32, then normalises in float32 with mean and std
// cast to float32.
func (o Options) scaleValue(v uint8, c int) float32 {
	x := float32(v)
	if o.Rescale {
		x = float32(float64(v) * o.RescaleFactor)
	}
	if o.Normalize {
		x = (x - o.Mean[c]) / o.Std[c]
	}
	return x
}

// centerCrop cuts a width×height window from the middle of img as
// transformers' image_transforms.center_crop does. Along each axis the
// window starts at floor((size - crop) / 2), which is negative when the image
// is smaller than the crop. Pixels outside the image are zero.
func centerCrop(img *RGB, width, height int) *RGB {
	if width == img.Width && height == img.Height {
		return img
	}
	left := floorHalf(img.Width - width)
	top := floorHalf(img.Height - height)

	out := NewRGB(width, height)
	for y := 0; y < height; y++ {
		sy := top + y
		if sy < 0 || sy >= img.Height {
			continue
		}
		// The overlap of this output row with the source row.
		x0 := max(0, -left)
		x1 := min(width, img.Width-left)
		if x0 >= x1 {
			continue
		}
		src := img.Pix[3*(sy*img.Width+left+x0) : 3*(sy*img.Width+left+x1)]
		copy(out.Pix[3*(y*width+x0):], src)
	}
	return out
}

// floorHalf returns floor(n / 2), rounding toward negative infinity like
// Python's n // 2.
func floorHalf(n int) int {
	return n >> 1
}
