package preprocess

import (
	"fmt"
	"math"
)

// Resize returns src scaled to width×height the way Pillow 9.4's
// Image.resize(size, resample=BICUBIC, reducing_gap=None) scales an RGB
// image, which is what BeitImageProcessor's resize step calls:
//
//   - The filter is the cubic convolution kernel with a = -0.5 and support
//     2. When shrinking, the kernel is stretched by the scale factor, so
//     every source pixel contributes (antialiasing).
//   - The two passes are separable: horizontal first, then vertical. Each
//     pass rounds to uint8 with Pillow's 22-bit fixed-point weights, and a
//     pass is skipped when its dimension does not change.
//   - The horizontal pass only covers the source rows that the vertical pass
//     reads.
//
// The aspect ratio is not preserved. An image already width×height is
// returned as an unchanged copy, as Pillow returns self.copy(). Resize never
// modifies src.
func Resize(src *RGB, width, height int) (*RGB, error) {
	if err := src.validate(); err != nil {
		return nil, err
	}
	if _, ok := pixelBytes(width, height, 3); !ok {
		return nil, fmt.Errorf("%w: resize target %dx%d must be positive and fit in memory", ErrInvalidImage, width, height)
	}
	return resize(src, width, height), nil
}

// resize implements Resize for a validated source and target.
func resize(src *RGB, width, height int) *RGB {
	needHorizontal := width != src.Width
	needVertical := height != src.Height
	if !needHorizontal && !needVertical {
		return src.Clone()
	}

	vertical := newResampleWeights(src.Height, height)

	img := src
	if needHorizontal {
		// Only rows firstRow up to lastRow feed the vertical pass.
		firstRow := vertical.start[0]
		lastRow := vertical.start[height-1] + vertical.count[height-1]
		for i := range vertical.start {
			vertical.start[i] -= firstRow
		}
		horizontal := newResampleWeights(src.Width, width)
		img = resampleHorizontal(src, firstRow, lastRow-firstRow, horizontal)
	}
	if needVertical {
		img = resampleVertical(img, vertical)
	}
	return img
}

// precisionBits is the number of fraction bits in a fixed-point weight:
// 32 bits, less 8 for the 8-bit sample, less 2 bits of headroom because the
// negative lobes of the kernel let partial sums leave 0 to 1. It is Pillow's
// PRECISION_BITS.
const precisionBits = 32 - 8 - 2

// resampleWeights holds, for each output pixel along one axis, the first
// input pixel it reads, how many it reads, and their fixed-point weights.
type resampleWeights struct {
	start   []int
	count   []int
	weights []int32 // len(start) rows of stride entries
	stride  int     // the maximum number of taps
}

// bicubic is the cubic convolution kernel with a = -0.5 (Keys, 1981), the
// kernel of Pillow's BICUBIC filter. The float64 conversions keep the Go
// compiler from fusing a multiply and an add into one FMA instruction on
// platforms that have it, so every platform rounds as Pillow's x86-64 build.
func bicubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		t := float64((a+2)*x) - (a + 3)
		return float64(t*x*x) + 1
	case x < 2:
		t := float64((x-5)*x) + 8
		return (float64(t*x) - 4) * a
	}
	return 0
}

// newResampleWeights computes the filter taps that map inSize pixels onto
// outSize pixels over the whole input range, as Pillow's precompute_coeffs
// followed by normalize_coeffs_8bpc does.
func newResampleWeights(inSize, outSize int) resampleWeights {
	const support = 2.0 // of the bicubic kernel, in input pixels at scale 1

	// Pillow passes the box edges as C floats, so the range goes through
	// float32 before the division.
	in0, in1 := float32(0), float32(inSize)
	scale := float64(in1-in0) / float64(outSize)
	filterScale := max(scale, 1.0)
	invFilterScale := 1 / filterScale // Pillow multiplies by the reciprocal
	scaledSupport := support * filterScale
	stride := int(math.Ceil(scaledSupport))*2 + 1

	rw := resampleWeights{
		start:   make([]int, outSize),
		count:   make([]int, outSize),
		weights: make([]int32, outSize*stride),
		stride:  stride,
	}
	taps := make([]float64, stride)
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + float64((float64(xx)+0.5)*scale)

		// Go's float-to-int conversion truncates toward zero like C's cast.
		xmin := max(int(center-scaledSupport+0.5), 0)
		xmax := min(int(center+scaledSupport+0.5), inSize) - xmin

		total := 0.0
		for x := 0; x < xmax; x++ {
			w := bicubic((float64(x+xmin) - center + 0.5) * invFilterScale)
			taps[x] = w
			total += w
		}

		row := rw.weights[xx*stride : (xx+1)*stride]
		for x := 0; x < xmax; x++ {
			w := taps[x]
			if total != 0 {
				w /= total
			}
			row[x] = toFixedPoint(w)
		}
		rw.start[xx] = xmin
		rw.count[xx] = xmax
	}
	return rw
}

// toFixedPoint rounds a weight half away from zero to precisionBits fraction
// bits.
func toFixedPoint(w float64) int32 {
	const one = 1 << precisionBits
	if w < 0 {
		return int32(-0.5 + w*one)
	}
	return int32(0.5 + w*one)
}

// clip8 turns a fixed-point sum into a uint8 sample, saturating at 0 and 255.
func clip8(sum int32) uint8 {
	v := sum >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// rounding is added to every sum so that the final shift rounds to nearest.
const rounding = int32(1) << (precisionBits - 1)

// resampleHorizontal resamples rows firstRow to firstRow+rows-1 of src to the
// width given by rw.
func resampleHorizontal(src *RGB, firstRow, rows int, rw resampleWeights) *RGB {
	width := len(rw.start)
	out := NewRGB(width, rows)
	o := 0
	for y := 0; y < rows; y++ {
		row := src.Pix[3*(firstRow+y)*src.Width : 3*(firstRow+y+1)*src.Width]
		for x := 0; x < width; x++ {
			taps := row[3*rw.start[x] : 3*(rw.start[x]+rw.count[x])]
			weights := rw.weights[x*rw.stride : x*rw.stride+rw.count[x]]
			r, g, b := rounding, rounding, rounding
			for i, w := range weights {
				r += int32(taps[3*i]) * w
				g += int32(taps[3*i+1]) * w
				b += int32(taps[3*i+2]) * w
			}
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = clip8(r), clip8(g), clip8(b)
			o += 3
		}
	}
	return out
}

// resampleVertical resamples every column of src to the height given by rw,
// whose start rows are relative to the first row of src.
func resampleVertical(src *RGB, rw resampleWeights) *RGB {
	height := len(rw.start)
	rowBytes := 3 * src.Width
	out := NewRGB(src.Width, height)
	for y := 0; y < height; y++ {
		weights := rw.weights[y*rw.stride : y*rw.stride+rw.count[y]]
		first := rw.start[y]
		dst := out.Pix[y*rowBytes : (y+1)*rowBytes]
		for x := 0; x < rowBytes; x++ {
			sum := rounding
			for i, w := range weights {
				sum += int32(src.Pix[(first+i)*rowBytes+x]) * w
			}
			dst[x] = clip8(sum)
		}
	}
	return out
}
