package preprocess

import (
	"bytes"
	"encoding/binary"
)

// The Orientation tag applies because transformers' image_utils.load_image
// calls PIL.ImageOps.exif_transpose and then convert("RGB"). Both calls are
// in load_image in the 4.1x releases and at huggingface/transformers commit
// 00046c41 (a 4.4x development version), so 4.36 has them too.
//
// Pillow 9.4.0 finds the tag in the same places as this file. These are the
// first APP1 "Exif" segment of a JPEG, the eXIf chunks of a PNG before its
// image data, the EXIF chunk of a WebP and the first directory of a TIFF.
//
// NOTE: Pillow 9.4.0 also takes the orientation from the PNG text chunks
// "Raw profile type exif" and XMP; this package ignores those chunks. Where
// Pillow raises on a malformed EXIF block, which makes load_image fail,
// this package treats the image as upright instead.

// orientationTag is the EXIF/TIFF Orientation tag number.
const orientationTag = 0x0112

// exifOrientation returns the EXIF Orientation (1 to 8) stored in an encoded
// image of the given format, or 0 when there is no valid tag.
func exifOrientation(format string, data []byte) int {
	switch format {
	case "jpeg":
		return tiffOrientation(jpegEXIF(data))
	case "png":
		return tiffOrientation(pngEXIF(data))
	case "webp":
		return tiffOrientation(webpEXIF(data))
	case "tiff":
		return tiffOrientation(data)
	}
	return 0
}

// jpegEXIF returns the TIFF structure inside the first APP1 segment that
// starts with "Exif\x00", or nil. Like Pillow, only the first such segment
// counts, and it must continue with a second zero byte to hold a TIFF header.
func jpegEXIF(data []byte) []byte {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil
	}

	pos := 2
	for pos+2 <= len(data) {
		if data[pos] != 0xFF {
			return nil
		}
		marker := data[pos+1]
		if marker == 0xFF {
			// A fill byte before the marker.
			pos++
			continue
		}
		pos += 2

		switch {
		case marker == 0x01, marker >= 0xD0 && marker <= 0xD8:
			// TEM, RSTn and SOI carry no length field.
			continue
		case marker == 0xD9, marker == 0xDA:
			// EOI, or SOS: entropy-coded data follows, and the header
			// segments that may hold EXIF are over.
			return nil
		}

		if pos+2 > len(data) {
			return nil
		}
		length := int(binary.BigEndian.Uint16(data[pos:]))
		if length < 2 || pos+length > len(data) {
			return nil
		}
		segment := data[pos+2 : pos+length]
		if marker == 0xE1 && bytes.HasPrefix(segment, []byte("Exif\x00")) {
			tiff, ok := bytes.CutPrefix(segment, []byte("Exif\x00\x00"))
			if !ok {
				return nil
			}
			return tiff
		}
		pos += length
	}
	return nil
}

// pngEXIF returns the payload of the last eXIf chunk before the first IDAT
// chunk, or nil. Pillow 9.4 reads chunks after IDAT only after copying the
// image info, so a later eXIf chunk does not affect orientation.
func pngEXIF(data []byte) []byte {
	const signatureSize = 8
	var exif []byte
	pos := signatureSize
	for pos+8 <= len(data) {
		length := int(binary.BigEndian.Uint32(data[pos:]))
		kind := string(data[pos+4 : pos+8])
		start := pos + 8
		if length < 0 || length > len(data)-start {
			break
		}
		if kind == "IDAT" {
			break
		}
		if kind == "eXIf" {
			exif = data[start : start+length]
		}
		pos = start + length + 4 // skip the CRC
	}
	return exif
}

// webpEXIF returns the payload of the first EXIF chunk in a RIFF WebP file,
// without an "Exif\x00\x00" prefix if a writer added one, or nil.
func webpEXIF(data []byte) []byte {
	const riffHeaderSize = 12 // "RIFF", file size, "WEBP"
	if len(data) < riffHeaderSize || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil
	}

	pos := riffHeaderSize
	for pos+8 <= len(data) {
		kind := string(data[pos : pos+4])
		size := int(binary.LittleEndian.Uint32(data[pos+4:]))
		start := pos + 8
		if size < 0 || size > len(data)-start {
			return nil
		}
		if kind == "EXIF" {
			payload := data[start : start+size]
			if tiff, ok := bytes.CutPrefix(payload, []byte("Exif\x00\x00")); ok {
				return tiff
			}
			return payload
		}
		// Chunks are padded to an even size.
		pos = start + size + size&1
	}
	return nil
}

// tiffOrientation reads the Orientation tag from the first image file
// directory of a TIFF structure (the body of an EXIF block, or a TIFF file).
// It returns 0 when the structure is malformed or the tag is missing, has a
// count other than 1, has a non-integer type or lies outside 1 to 8.
func tiffOrientation(tiff []byte) int {
	const (
		headerSize = 8
		entrySize  = 12
		typeShort  = 3
		typeLong   = 4
		typeSShort = 8
		typeSLong  = 9
	)

	if len(tiff) < headerSize {
		return 0
	}
	var order binary.ByteOrder
	switch string(tiff[0:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 0
	}

	ifd := uint64(order.Uint32(tiff[4:]))
	if ifd+2 > uint64(len(tiff)) {
		return 0
	}
	count := int(order.Uint16(tiff[ifd:]))
	entries := tiff[ifd+2:]
	// A truncated directory keeps the entries that are complete.
	count = min(count, len(entries)/entrySize)

	orientation := 0
	for i := 0; i < count; i++ {
		entry := entries[i*entrySize : (i+1)*entrySize]
		if order.Uint16(entry[0:]) != orientationTag || order.Uint32(entry[4:]) != 1 {
			continue
		}
		// With a count of 1 the value sits in the first bytes of the
		// 4-byte value field. A repeated tag overwrites the earlier one, as
		// in Pillow's tag dictionary.
		value := -1
		switch order.Uint16(entry[2:]) {
		case typeShort:
			value = int(order.Uint16(entry[8:]))
		case typeSShort:
			value = int(int16(order.Uint16(entry[8:])))
		case typeLong:
			value = int(order.Uint32(entry[8:]))
		case typeSLong:
			value = int(int32(order.Uint32(entry[8:])))
		}
		orientation = value
	}

	if orientation < 1 || orientation > 8 {
		return 0
	}
	return orientation
}

// orient returns img transposed so that an image stored with the given EXIF
// orientation appears upright, using the same operation for each value as
// Pillow's exif_transpose:
//
//	2 mirror left-right        3 rotate 180°
//	4 mirror top-bottom        5 transpose (mirror along the main diagonal)
//	6 rotate 90° clockwise     7 transverse (mirror along the anti-diagonal)
//	8 rotate 90° anticlockwise
//
// Values 5 to 8 swap width and height. Other values return img unchanged.
func orient(img *RGB, orientation int) *RGB {
	w, h := img.Width, img.Height

	// source maps a destination pixel to the source pixel it copies, with
	// the destination size given by swap.
	var source func(x, y int) (int, int)
	swap := false
	switch orientation {
	case 2:
		source = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3:
		source = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4:
		source = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5:
		swap, source = true, func(x, y int) (int, int) { return y, x }
	case 6:
		swap, source = true, func(x, y int) (int, int) { return y, h - 1 - x }
	case 7:
		swap, source = true, func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8:
		swap, source = true, func(x, y int) (int, int) { return w - 1 - y, x }
	default:
		return img
	}

	out := &RGB{Width: w, Height: h, Pix: make([]uint8, len(img.Pix))}
	if swap {
		out.Width, out.Height = h, w
	}
	o := 0
	for y := 0; y < out.Height; y++ {
		for x := 0; x < out.Width; x++ {
			sx, sy := source(x, y)
			i := 3 * (sy*w + sx)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = img.Pix[i], img.Pix[i+1], img.Pix[i+2]
			o += 3
		}
	}
	return out
}
