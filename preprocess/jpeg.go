package preprocess

import "image"

// Pillow decodes JPEG with libjpeg-turbo, which differs from Go's image/jpeg
// in three places: the inverse DCT, the chroma upsampling and the YCbCr to
// RGB arithmetic. Go's decoder returns the component planes before the last
// two steps, so jpegToRGB redoes them the way libjpeg-turbo does with its
// default settings, which Pillow keeps. The tests compare with the output of
// libjpeg-turbo 2.1.5. Only the inverse DCT still differs, by up to 3 levels
// at some pixels.

// jpegToRGB converts a YCbCr image from Go's JPEG decoder to RGB with
// libjpeg-turbo's "fancy" (triangle-filter) chroma upsampling and its
// fixed-point colour conversion.
func jpegToRGB(m *image.YCbCr) *RGB {
	width, height := m.Rect.Dx(), m.Rect.Dy()
	cb := upsampleChroma(m.Cb, m.CStride, width, height, m.SubsampleRatio)
	cr := upsampleChroma(m.Cr, m.CStride, width, height, m.SubsampleRatio)

	out := NewRGB(width, height)
	o := 0
	for y := 0; y < height; y++ {
		row := m.Y[y*m.YStride : y*m.YStride+width]
		for x, luma := range row {
			i := y*width + x
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = libjpegYCbCrToRGB(luma, cb[i], cr[i])
			o += 3
		}
	}
	return out
}

// hasFullPlanes reports whether m starts at the origin and its planes hold
// every sample that jpegToRGB reads. Go's JPEG decoder always returns such
// images.
func hasFullPlanes(m *image.YCbCr) bool {
	if m.Rect.Min != (image.Point{}) {
		return false
	}
	width, height := m.Rect.Dx(), m.Rect.Dy()
	chromaWidth, chromaHeight := m.Rect.Dx(), m.Rect.Dy()
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		chromaWidth = (width + 1) / 2
	case image.YCbCrSubsampleRatio420:
		chromaWidth, chromaHeight = (width+1)/2, (height+1)/2
	case image.YCbCrSubsampleRatio440:
		chromaHeight = (height + 1) / 2
	case image.YCbCrSubsampleRatio411:
		chromaWidth = (width + 3) / 4
	case image.YCbCrSubsampleRatio410:
		chromaWidth, chromaHeight = (width+3)/4, (height+1)/2
	}
	chromaLen := (chromaHeight-1)*m.CStride + chromaWidth
	return m.YStride >= width && m.CStride >= chromaWidth &&
		len(m.Y) >= (height-1)*m.YStride+width &&
		len(m.Cb) >= chromaLen && len(m.Cr) >= chromaLen
}

// libjpegYCbCrToRGB is libjpeg's ycc_rgb_convert: JFIF full-range BT.601
// with 16-bit fixed-point constants, where R and B round half up and G
// rounds its combined chroma term once.
func libjpegYCbCrToRGB(y, cb, cr uint8) (r, g, b uint8) {
	const (
		scaleBits = 16
		half      = 1 << (scaleBits - 1)
		crToR     = 91881  // 1.40200 in 16.16 fixed point
		cbToB     = 116130 // 1.77200
		crToG     = 46802  // 0.71414
		cbToG     = 22554  // 0.34414
	)
	blue := int32(cb) - 128
	red := int32(cr) - 128
	luma := int32(y)

	r = clampUint8(luma + (crToR*red+half)>>scaleBits)
	g = clampUint8(luma + (-cbToG*blue+half-crToG*red)>>scaleBits)
	b = clampUint8(luma + (cbToB*blue+half)>>scaleBits)
	return r, g, b
}

func clampUint8(v int32) uint8 {
	return uint8(max(0, min(v, 255)))
}

// upsampleChroma expands one chroma plane (with the given row stride) to
// width×height samples as libjpeg-turbo's upsampler does. Ratios 4:2:2,
// 4:2:0 and 4:4:0 use the fancy filters. 4:4:4 copies, and 4:1:1 and 4:1:0
// replicate samples, which is what libjpeg-turbo does for them too. As in
// libjpeg-turbo, a plane only two samples wide (or less) is replicated
// instead of filtered for 4:2:2 and 4:2:0.
func upsampleChroma(plane []uint8, stride, width, height int, ratio image.YCbCrSubsampleRatio) []uint8 {
	// Each ratio's horizontal and vertical subsampling factors.
	hFactor, vFactor := 1, 1
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		hFactor = 2
	case image.YCbCrSubsampleRatio420:
		hFactor, vFactor = 2, 2
	case image.YCbCrSubsampleRatio440:
		vFactor = 2
	case image.YCbCrSubsampleRatio411:
		hFactor = 4
	case image.YCbCrSubsampleRatio410:
		hFactor, vFactor = 4, 2
	}
	// The number of chroma samples that cover the image, as libjpeg's
	// downsampled_width and downsampled_height.
	planeWidth := (width + hFactor - 1) / hFactor
	planeHeight := (height + vFactor - 1) / vFactor

	out := make([]uint8, width*height)
	fancyRows := make([]uint8, 2*planeWidth) // room for one row doubled
	for y := 0; y < height; y++ {
		dst := out[y*width : (y+1)*width]
		nearest := plane[(y/vFactor)*stride:]

		switch {
		case ratio == image.YCbCrSubsampleRatio420 && planeWidth > 2:
			// Weight the nearest chroma row 3/4 and the next nearest 1/4,
			// repeating the edge rows, then filter across.
			cy := y / 2
			other := cy - 1
			if y%2 == 1 {
				other = cy + 1
			}
			other = max(0, min(other, planeHeight-1))
			h2v2FancyRow(fancyRows, nearest[:planeWidth], plane[other*stride:other*stride+planeWidth])
			copy(dst, fancyRows)

		case ratio == image.YCbCrSubsampleRatio422 && planeWidth > 2:
			h2v1FancyRow(fancyRows, nearest[:planeWidth])
			copy(dst, fancyRows)

		case ratio == image.YCbCrSubsampleRatio440:
			cy := y / 2
			other, bias := cy-1, 1
			if y%2 == 1 {
				other, bias = cy+1, 2
			}
			other = max(0, min(other, planeHeight-1))
			for x := range dst {
				sum := 3*int(nearest[x]) + int(plane[other*stride+x])
				dst[x] = uint8((sum + bias) >> 2)
			}

		default:
			for x := range dst {
				dst[x] = nearest[x/hFactor]
			}
		}
	}
	return out
}

// h2v1FancyRow doubles a row of n > 2 samples into dst (2n samples): each
// output is 3/4 of the nearest input plus 1/4 of the next nearest, with
// rounding biases alternating between 1 and 2, and the end samples copied.
func h2v1FancyRow(dst, src []uint8) {
	n := len(src)
	dst[0] = src[0]
	dst[1] = uint8((3*int(src[0]) + int(src[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		near := 3 * int(src[i])
		dst[2*i] = uint8((near + int(src[i-1]) + 1) >> 2)
		dst[2*i+1] = uint8((near + int(src[i+1]) + 2) >> 2)
	}
	dst[2*n-2] = uint8((3*int(src[n-1]) + int(src[n-2]) + 1) >> 2)
	dst[2*n-1] = src[n-1]
}

// h2v2FancyRow computes one output row of the 2×2 triangle filter from the
// nearest chroma row and the next nearest one above or below. The column
// sums 3*near + far are combined as 3/4 of the nearest column plus 1/4 of
// the next, with rounding biases alternating between 8 and 7.
func h2v2FancyRow(dst, near, far []uint8) {
	n := len(near)
	colSum := func(i int) int { return 3*int(near[i]) + int(far[i]) }

	dst[0] = uint8((4*colSum(0) + 8) >> 4)
	dst[1] = uint8((3*colSum(0) + colSum(1) + 7) >> 4)
	for i := 1; i < n-1; i++ {
		this := 3 * colSum(i)
		dst[2*i] = uint8((this + colSum(i-1) + 8) >> 4)
		dst[2*i+1] = uint8((this + colSum(i+1) + 7) >> 4)
	}
	dst[2*n-2] = uint8((3*colSum(n-1) + colSum(n-2) + 8) >> 4)
	dst[2*n-1] = uint8((4*colSum(n-1) + 7) >> 4)
}
