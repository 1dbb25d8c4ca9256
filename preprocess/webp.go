package preprocess

import "image"

// Pillow decodes WebP with libwebp. For lossy (VP8) images the VP8 format
// fixes the YUV planes, so Go's decoder produces the same planes as libwebp.
// The conversion to RGB differs, though. VP8 stores limited-range BT.601
// (luma 16 to 235), which Go's color.YCbCrToRGB would read as full-range
// JPEG YCbCr, and libwebp interpolates chroma with its own "fancy"
// upsampler. webpToRGB redoes both steps as libwebp does with its
// default decoder options, and the tests check that the result is identical
// to libwebp 1.2.4's. Lossless WebP decodes to NRGBA and needs no such step.

// webpToRGB converts the 4:2:0 YCbCr planes of a lossy WebP image to RGB.
func webpToRGB(m *image.YCbCr) *RGB {
	width, height := m.Rect.Dx(), m.Rect.Dy()
	out := NewRGB(width, height)
	rowBytes := 3 * width
	row := func(y int) []uint8 { return out.Pix[y*rowBytes : (y+1)*rowBytes] }
	luma := func(y int) []uint8 { return m.Y[y*m.YStride : y*m.YStride+width] }
	chroma := func(plane []uint8, cy int) []uint8 { return plane[cy*m.CStride:] }

	// The first row uses chroma row 0 alone. Then each pair of rows 2k-1
	// and 2k lies between chroma rows k-1 and k. An even height leaves the
	// last row, which uses the last chroma row alone.
	webpUpsampleRowPair(luma(0), nil, chroma(m.Cb, 0), chroma(m.Cr, 0), chroma(m.Cb, 0), chroma(m.Cr, 0), row(0), nil)
	y := 1
	for ; y+1 < height; y += 2 {
		k := (y + 1) / 2
		webpUpsampleRowPair(luma(y), luma(y+1),
			chroma(m.Cb, k-1), chroma(m.Cr, k-1), chroma(m.Cb, k), chroma(m.Cr, k),
			row(y), row(y+1))
	}
	if y < height {
		last := (height - 1) / 2
		webpUpsampleRowPair(luma(y), nil, chroma(m.Cb, last), chroma(m.Cr, last), chroma(m.Cb, last), chroma(m.Cr, last), row(y), nil)
	}
	return out
}

// webpUpsampleRowPair converts one or two luma rows that lie between the
// chroma rows topU/topV and curU/curV, as libwebp's UpsampleRgbLinePair
// does. U and V are interpolated together in the two 16-bit halves of a
// uint32, which fixes libwebp's rounding. bottomY and bottomDst are nil when
// only the top row is wanted.
func webpUpsampleRowPair(topY, bottomY, topU, topV, curU, curV []uint8, topDst, bottomDst []uint8) {
	width := len(topY)
	load := func(u, v []uint8, i int) uint32 { return uint32(u[i]) | uint32(v[i])<<16 }
	emit := func(y uint8, uv uint32, dst []uint8, x int) {
		dst[3*x], dst[3*x+1], dst[3*x+2] = libwebpYUVToRGB(y, uint8(uv), uint8(uv>>16))
	}

	topLeft := load(topU, topV, 0)
	left := load(curU, curV, 0)
	emit(topY[0], (3*topLeft+left+0x00020002)>>2, topDst, 0)
	if bottomY != nil {
		emit(bottomY[0], (3*left+topLeft+0x00020002)>>2, bottomDst, 0)
	}

	lastPair := (width - 1) >> 1
	for x := 1; x <= lastPair; x++ {
		top := load(topU, topV, x)
		cur := load(curU, curV, x)
		avg := topLeft + top + left + cur + 0x00080008
		diag12 := (avg + 2*(top+left)) >> 3
		diag03 := (avg + 2*(topLeft+cur)) >> 3
		emit(topY[2*x-1], (diag12+topLeft)>>1, topDst, 2*x-1)
		emit(topY[2*x], (diag03+top)>>1, topDst, 2*x)
		if bottomY != nil {
			emit(bottomY[2*x-1], (diag03+left)>>1, bottomDst, 2*x-1)
			emit(bottomY[2*x], (diag12+cur)>>1, bottomDst, 2*x)
		}
		topLeft, left = top, cur
	}

	if width&1 == 0 {
		emit(topY[width-1], (3*topLeft+left+0x00020002)>>2, topDst, width-1)
		if bottomY != nil {
			emit(bottomY[width-1], (3*left+topLeft+0x00020002)>>2, bottomDst, width-1)
		}
	}
}

// libwebpYUVToRGB is libwebp's VP8YuvToRgb: limited-range BT.601 with
// constants in 8.8 fixed point (MultHi) and 6 fraction bits in the sum.
func libwebpYUVToRGB(y, u, v uint8) (r, g, b uint8) {
	multHi := func(v uint8, coeff int32) int32 { return int32(v) * coeff >> 8 }
	luma := multHi(y, 19077) // 1.164 × 2^14
	r = libwebpClip8(luma + multHi(v, 26149) - 14234)
	g = libwebpClip8(luma - multHi(u, 6419) - multHi(v, 13320) + 8708)
	b = libwebpClip8(luma + multHi(u, 33050) - 17685)
	return r, g, b
}

// libwebpClip8 drops the 6 fraction bits and saturates to 0..255.
func libwebpClip8(v int32) uint8 {
	const fractionBits = 6
	const mask = (256 << fractionBits) - 1
	if v&^mask == 0 {
		return uint8(v >> fractionBits)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// isWebPYCbCr reports whether m is a 4:2:0 image at the origin whose planes
// hold every sample webpToRGB reads. x/image/webp returns such images for
// lossy WebP.
func isWebPYCbCr(m *image.YCbCr) bool {
	return m.SubsampleRatio == image.YCbCrSubsampleRatio420 && hasFullPlanes(m)
}
