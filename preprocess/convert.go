package preprocess

import (
	"image"
	"image/color"
)

// FromImage converts img to 8-bit RGB the way Pillow 9.4's convert("RGB")
// treats the mode Pillow would have opened the same file in:
//
//   - Grey is replicated into R, G and B.
//   - Alpha is dropped, never composited. Straight-alpha images (NRGBA,
//     NRGBA64) keep their stored colour. Premultiplied images (RGBA, RGBA64)
//     are divided by alpha first, truncating as Pillow's "RGBa" conversion
//     does, and a fully transparent pixel keeps its stored (black) colour.
//   - Paletted images are looked up in their palette, ignoring palette alpha.
//     An index past the end of the palette becomes black.
//   - 16-bit colour images keep the high byte of each sample, which is how
//     Pillow unpacks 16-bit RGB and RGBA PNG and TIFF files.
//   - 16-bit greyscale (image.Gray16) is clipped to 255, not shifted, because
//     Pillow opens such PNG and TIFF files in mode "I" or "I;16" and its
//     conversion to RGB clamps values above 255.
//   - YCbCr uses Go's color.YCbCrToRGB. CMYK uses Pillow's cmyk2rgb formula.
//
// Other image types go through color.NRGBAModel. The result always starts at
// (0, 0) even when img.Bounds() does not.
func FromImage(img image.Image) *RGB {
	b := img.Bounds()
	out := NewRGB(b.Dx(), b.Dy())

	switch m := img.(type) {
	case *RGB:
		copy(out.Pix, m.Pix)
	case *image.RGBA:
		convertRGBA(out, m)
	case *image.NRGBA:
		convertNRGBA(out, m)
	case *image.RGBA64:
		convertRGBA64(out, m)
	case *image.NRGBA64:
		convertNRGBA64(out, m)
	case *image.Gray:
		convertGray(out, m)
	case *image.Gray16:
		convertGray16(out, m)
	case *image.Paletted:
		convertPaletted(out, m)
	case *image.YCbCr:
		convertYCbCr(out, m)
	case *image.NYCbCrA:
		convertYCbCr(out, &m.YCbCr)
	case *image.CMYK:
		convertCMYK(out, m)
	default:
		convertGeneric(out, img)
	}
	return out
}

func convertRGBA(out *RGB, m *image.RGBA) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+4 : 4*x+4]
			r, g, bl, a := p[0], p[1], p[2], p[3]
			if a != 0xff && a != 0 {
				r, g, bl = unpremultiply8(r, a), unpremultiply8(g, a), unpremultiply8(bl, a)
			}
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bl
			o += 3
		}
	}
}

// unpremultiply8 divides a premultiplied 8-bit sample by alpha with
// truncation and clipping, matching Pillow's rgba2rgb_ ("RGBa" to "RGB").
func unpremultiply8(c, a uint8) uint8 {
	v := 255 * uint32(c) / uint32(a)
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func convertNRGBA(out *RGB, m *image.NRGBA) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			o += 3
		}
	}
}

func convertRGBA64(out *RGB, m *image.RGBA64) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[8*x : 8*x+8 : 8*x+8]
			r := uint32(p[0])<<8 | uint32(p[1])
			g := uint32(p[2])<<8 | uint32(p[3])
			bl := uint32(p[4])<<8 | uint32(p[5])
			a := uint32(p[6])<<8 | uint32(p[7])
			if a != 0xffff && a != 0 {
				r, g, bl = min(r*0xffff/a, 0xffff), min(g*0xffff/a, 0xffff), min(bl*0xffff/a, 0xffff)
			}
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			o += 3
		}
	}
}

// convertNRGBA64 keeps the high byte of each big-endian 16-bit sample.
func convertNRGBA64(out *RGB, m *image.NRGBA64) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = row[8*x], row[8*x+2], row[8*x+4]
			o += 3
		}
	}
}

func convertGray(out *RGB, m *image.Gray) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			v := row[x]
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			o += 3
		}
	}
}

func convertGray16(out *RGB, m *image.Gray16) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			v := clipGray16(uint16(row[2*x])<<8 | uint16(row[2*x+1]))
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			o += 3
		}
	}
}

// clipGray16 maps a 16-bit grey sample to 8 bits as Pillow's "I" and "I;16"
// to "L"/"RGB" conversions do: values above 255 saturate.
func clipGray16(v uint16) uint8 {
	return uint8(min(v, 255))
}

func convertPaletted(out *RGB, m *image.Paletted) {
	// Index 256 entries so that any byte is a valid index. Entries past the
	// palette stay black.
	var lut [256][3]uint8
	for i, c := range m.Palette {
		if i == len(lut) {
			break
		}
		lut[i] = paletteRGB(c)
	}

	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			rgb := lut[row[x]]
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = rgb[0], rgb[1], rgb[2]
			o += 3
		}
	}
}

// paletteRGB returns the stored colour of a palette entry without its alpha.
// Go's PNG decoder stores entries as color.RGBA when opaque and color.NRGBA
// when the tRNS chunk gives them alpha, so both are read directly.
func paletteRGB(c color.Color) [3]uint8 {
	switch p := c.(type) {
	case nil:
		return [3]uint8{}
	case color.RGBA:
		if p.A != 0xff && p.A != 0 {
			return [3]uint8{unpremultiply8(p.R, p.A), unpremultiply8(p.G, p.A), unpremultiply8(p.B, p.A)}
		}
		return [3]uint8{p.R, p.G, p.B}
	case color.NRGBA:
		return [3]uint8{p.R, p.G, p.B}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

func convertYCbCr(out *RGB, m *image.YCbCr) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi := m.YOffset(x, y)
			ci := m.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bl
			o += 3
		}
	}
}

func convertCMYK(out *RGB, m *image.CMYK) {
	b := m.Rect
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+4 : 4*x+4]
			nk := 255 - int32(p[3])
			out.Pix[o] = cmykChannel(p[0], nk)
			out.Pix[o+1] = cmykChannel(p[1], nk)
			out.Pix[o+2] = cmykChannel(p[2], nk)
			o += 3
		}
	}
}

// cmykChannel computes (255-k) - c*(255-k)/255 with Pillow's rounded
// division by 255 (its MULDIV255 macro).
func cmykChannel(c uint8, nk int32) uint8 {
	t := int32(c)*nk + 128
	v := nk - ((t>>8)+t)>>8
	return uint8(max(0, min(v, 255)))
}

func convertGeneric(out *RGB, img image.Image) {
	b := img.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			n := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = n.R, n.G, n.B
			o += 3
		}
	}
}
