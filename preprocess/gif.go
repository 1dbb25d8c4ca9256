package preprocess

import "image"

// gifToRGB converts the first GIF frame as Pillow 9.4 does. Go's decoder
// returns only the frame rectangle and replaces the transparent palette
// entry with transparent black. Pillow instead paints the frame on the full
// logical screen and fills the rest with the transparent index, or index 0
// when there is none. It then converts through the unmodified colour table,
// so transparent pixels keep the colour the table gives them.
func gifToRGB(frame *image.Paletted, data []byte, config image.Config) *RGB {
	var lut [256][3]uint8
	fillIndex := 0

	table, transparent, ok := gifFirstFrameColors(data)
	if ok {
		copy(lut[:], table)
		if transparent >= 0 {
			fillIndex = transparent
		}
	} else {
		// Not reachable for input that Go's decoder accepted, but keep the
		// decoder's palette rather than fail.
		for i, c := range frame.Palette {
			if i == len(lut) {
				break
			}
			lut[i] = paletteRGB(c)
		}
	}

	out := NewRGB(config.Width, config.Height)
	fill := lut[fillIndex]
	for o := 0; o < len(out.Pix); o += 3 {
		out.Pix[o], out.Pix[o+1], out.Pix[o+2] = fill[0], fill[1], fill[2]
	}

	// Go's decoder rejects frames that extend past the logical screen, but
	// clip anyway so a mismatch cannot index out of range.
	r := frame.Rect.Intersect(image.Rect(0, 0, config.Width, config.Height))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := frame.Pix[frame.PixOffset(r.Min.X, y):]
		o := 3 * (y*config.Width + r.Min.X)
		for x := 0; x < r.Dx(); x++ {
			rgb := lut[src[x]]
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = rgb[0], rgb[1], rgb[2]
			o += 3
		}
	}
	return out
}

// gifFirstFrameColors walks a GIF stream up to the first image descriptor and
// returns the colour table that frame uses (local if present, else global)
// and the transparent index from the last graphic control extension before
// it, or -1. ok is false when the stream ends early or the frame has no
// colour table.
func gifFirstFrameColors(data []byte) (table [][3]uint8, transparent int, ok bool) {
	const (
		headerSize         = 6 // "GIF87a" or "GIF89a"
		screenDescSize     = 7
		imageDescSize      = 9
		colorTableFlag     = 0x80
		graphicControl     = 0xF9
		transparentFlag    = 0x01
		extensionIntro     = 0x21
		imageSeparator     = 0x2C
		graphicControlSize = 4
	)

	transparent = -1
	pos := headerSize
	if len(data) < pos+screenDescSize {
		return nil, -1, false
	}
	screenFlags := data[pos+4]
	pos += screenDescSize

	var global [][3]uint8
	if screenFlags&colorTableFlag != 0 {
		global, pos, ok = readGIFColorTable(data, pos, screenFlags)
		if !ok {
			return nil, -1, false
		}
	}

	for pos < len(data) {
		switch data[pos] {
		case extensionIntro:
			if pos+1 >= len(data) {
				return nil, -1, false
			}
			label := data[pos+1]
			pos += 2
			// The data is a chain of sub-blocks, each prefixed by its size
			// and ended by a zero size.
			first := true
			for {
				if pos >= len(data) {
					return nil, -1, false
				}
				size := int(data[pos])
				pos++
				if size == 0 {
					break
				}
				if pos+size > len(data) {
					return nil, -1, false
				}
				if first && label == graphicControl && size == graphicControlSize {
					if data[pos]&transparentFlag != 0 {
						transparent = int(data[pos+3])
					} else {
						transparent = -1
					}
				}
				first = false
				pos += size
			}

		case imageSeparator:
			if pos+1+imageDescSize > len(data) {
				return nil, -1, false
			}
			frameFlags := data[pos+1+8]
			pos += 1 + imageDescSize
			if frameFlags&colorTableFlag != 0 {
				local, _, ok := readGIFColorTable(data, pos, frameFlags)
				return local, transparent, ok
			}
			return global, transparent, global != nil

		default:
			// The trailer (0x3B) or an unknown block before any image.
			return nil, -1, false
		}
	}
	return nil, -1, false
}

// readGIFColorTable reads the 2^(n+1)-entry table whose size n sits in the
// low three bits of flags, starting at data[pos]. It returns the position
// after the table.
func readGIFColorTable(data []byte, pos int, flags byte) ([][3]uint8, int, bool) {
	entries := 1 << (int(flags&0x07) + 1)
	end := pos + 3*entries
	if end > len(data) {
		return nil, pos, false
	}
	table := make([][3]uint8, entries)
	for i := range table {
		copy(table[i][:], data[pos+3*i:])
	}
	return table, end, true
}
