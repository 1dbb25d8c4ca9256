package preprocess

import (
	"bytes"
	"compress/lzw"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// This file builds small encoded images byte by byte, so tests can state
// exactly which header fields and metadata an input carries.

// pngChunk is one PNG chunk before its length and CRC are added.
type pngChunk struct {
	kind string
	data []byte
}

// buildPNG joins the PNG signature and the given chunks, adding each chunk's
// length and CRC.
func buildPNG(chunks ...pngChunk) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		binary.Write(&b, binary.BigEndian, uint32(len(c.data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(c.kind))
		crc.Write(c.data)
		b.WriteString(c.kind)
		b.Write(c.data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	return b.Bytes()
}

// ihdr returns an IHDR chunk for a non-interlaced image.
func ihdr(width, height uint32, bitDepth, colorType byte) pngChunk {
	data := make([]byte, 13)
	binary.BigEndian.PutUint32(data[0:], width)
	binary.BigEndian.PutUint32(data[4:], height)
	data[8], data[9] = bitDepth, colorType
	return pngChunk{"IHDR", data}
}

// idat compresses raw scanlines, each already prefixed with its filter byte.
func idat(t testing.TB, scanlines []byte) pngChunk {
	t.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	if _, err := w.Write(scanlines); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return pngChunk{"IDAT", b.Bytes()}
}

// exifTIFF returns a TIFF structure whose first directory holds only an
// Orientation tag of the given TIFF type (3 SHORT, 4 LONG, 8 SSHORT, ...),
// count and value, in the given byte order.
func exifTIFF(order binary.ByteOrder, typ uint16, count uint32, value uint32) []byte {
	b := make([]byte, 8+2+12+4)
	if order == binary.LittleEndian {
		copy(b, "II")
	} else {
		copy(b, "MM")
	}
	order.PutUint16(b[2:], 42)
	order.PutUint32(b[4:], 8) // the directory follows the header
	order.PutUint16(b[8:], 1) // one entry
	entry := b[10:22]
	order.PutUint16(entry[0:], 0x0112)
	order.PutUint16(entry[2:], typ)
	order.PutUint32(entry[4:], count)
	if typ == 3 || typ == 8 { // SHORT or SSHORT
		order.PutUint16(entry[8:], uint16(value))
	} else {
		order.PutUint32(entry[8:], value)
	}
	return b // the next-directory offset stays 0
}

// orientationTIFF returns the usual EXIF body: one SHORT Orientation tag.
func orientationTIFF(order binary.ByteOrder, orientation int) []byte {
	return exifTIFF(order, 3, 1, uint32(orientation))
}

// jpegSegment returns a JPEG marker segment with its length field.
func jpegSegment(marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// insertAfterSOI places segments right after the SOI marker of a JPEG.
func insertAfterSOI(jpg []byte, segments ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// exifAPP1 returns an APP1 segment holding the given TIFF structure.
func exifAPP1(tiff []byte) []byte {
	return jpegSegment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

// Quadrant colours of the orientation test image, chosen far apart so JPEG
// loss cannot confuse them.
var (
	red   = [3]uint8{255, 0, 0}
	green = [3]uint8{0, 255, 0}
	blue  = [3]uint8{0, 0, 255}
	white = [3]uint8{255, 255, 255}
)

// quadrantImage returns a 32×16 image whose top-left, top-right,
// bottom-left and bottom-right 16×8 quadrants are red, green, blue and white.
func quadrantImage() *image.NRGBA {
	const width, height = 32, 16
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			c := red
			switch {
			case x >= width/2 && y < height/2:
				c = green
			case x < width/2 && y >= height/2:
				c = blue
			case x >= width/2 && y >= height/2:
				c = white
			}
			img.SetNRGBA(x, y, color.NRGBA{c[0], c[1], c[2], 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifFrame describes the single frame of buildGIF.
type gifFrame struct {
	left, top, width, height int
	pixels                   []byte // palette indices, row-major
	transparent              int    // index, or -1 for no graphic control extension
}

// buildGIF returns a GIF89a with a logical screen of the given size, a global
// colour table (padded with black to a power of two) and one frame.
func buildGIF(t testing.TB, screenWidth, screenHeight int, palette [][3]uint8, frame gifFrame) []byte {
	t.Helper()
	sizeBits := 0
	for 2<<sizeBits < len(palette) {
		sizeBits++
	}

	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, uint16(screenWidth))
	binary.Write(&b, binary.LittleEndian, uint16(screenHeight))
	b.Write([]byte{0x80 | byte(sizeBits), 0, 0})
	for i := 0; i < 2<<sizeBits; i++ {
		var c [3]uint8
		if i < len(palette) {
			c = palette[i]
		}
		b.Write(c[:])
	}

	if frame.transparent >= 0 {
		b.Write([]byte{0x21, 0xF9, 4, 0x01, 0, 0, byte(frame.transparent), 0})
	}

	b.WriteByte(0x2C)
	for _, v := range []int{frame.left, frame.top, frame.width, frame.height} {
		binary.Write(&b, binary.LittleEndian, uint16(v))
	}
	b.WriteByte(0) // no local colour table, not interlaced

	litWidth := max(2, sizeBits+1)
	var compressed bytes.Buffer
	w := lzw.NewWriter(&compressed, lzw.LSB, litWidth)
	if _, err := w.Write(frame.pixels); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b.WriteByte(byte(litWidth))
	data := compressed.Bytes()
	for len(data) > 0 {
		n := min(len(data), 255)
		b.WriteByte(byte(n))
		b.Write(data[:n])
		data = data[n:]
	}
	b.WriteByte(0)    // end of the frame's sub-blocks
	b.WriteByte(0x3B) // trailer
	return b.Bytes()
}

// buildGreyTIFF returns an uncompressed little-endian 8-bit greyscale TIFF
// with one strip and, if orientation > 0, an Orientation tag.
func buildGreyTIFF(width, height int, pixels []byte, orientation int) []byte {
	type entry struct {
		tag, typ uint16
		value    uint32
	}
	const short, long = 3, 4
	entries := []entry{
		{256, long, uint32(width)},  // ImageWidth
		{257, long, uint32(height)}, // ImageLength
		{258, short, 8},             // BitsPerSample
		{259, short, 1},             // Compression: none
		{262, short, 1},             // PhotometricInterpretation: BlackIsZero
		{273, long, 0},              // StripOffsets, set below
		{277, short, 1},             // SamplesPerPixel
		{278, long, uint32(height)}, // RowsPerStrip
		{279, long, uint32(len(pixels))},
	}
	if orientation > 0 {
		// Tags must be sorted, and 274 sits between 273 and 277.
		entries = append(entries[:6], append([]entry{{274, short, uint32(orientation)}}, entries[6:]...)...)
	}

	ifdSize := 2 + 12*len(entries) + 4
	dataOffset := uint32(8 + ifdSize)
	b := make([]byte, 8+ifdSize)
	copy(b, "II")
	binary.LittleEndian.PutUint16(b[2:], 42)
	binary.LittleEndian.PutUint32(b[4:], 8)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(entries)))
	for i, e := range entries {
		if e.tag == 273 {
			e.value = dataOffset
		}
		p := b[10+12*i:]
		binary.LittleEndian.PutUint16(p[0:], e.tag)
		binary.LittleEndian.PutUint16(p[2:], e.typ)
		binary.LittleEndian.PutUint32(p[4:], 1)
		if e.typ == short {
			binary.LittleEndian.PutUint16(p[8:], uint16(e.value))
		} else {
			binary.LittleEndian.PutUint32(p[8:], e.value)
		}
	}
	return append(b, pixels...)
}

// pixelAt returns the RGB triple at (x, y).
func pixelAt(img *RGB, x, y int) [3]uint8 {
	i := 3 * (y*img.Width + x)
	return [3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}
}

// near reports whether two colours differ by at most tolerance per channel.
func near(a, b [3]uint8, tolerance int) bool {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < -tolerance || d > tolerance {
			return false
		}
	}
	return true
}
