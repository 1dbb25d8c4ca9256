package preprocess

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// orientationCase gives, for an EXIF orientation of the 32×16 quadrant
// image, the upright size and the colour of each corner. The expectations
// follow the EXIF definitions: 2 mirrors left-right, 3 rotates 180°, 4
// mirrors top-bottom, 5 transposes, 6 needs a 90° clockwise turn, 7
// transverses, 8 needs a 90° anticlockwise turn.
type orientationCase struct {
	orientation                                int
	width, height                              int
	topLeft, topRight, bottomLeft, bottomRight [3]uint8
}

var orientationCases = []orientationCase{
	{1, 32, 16, red, green, blue, white},
	{2, 32, 16, green, red, white, blue},
	{3, 32, 16, white, blue, green, red},
	{4, 32, 16, blue, white, red, green},
	{5, 16, 32, red, blue, green, white},
	{6, 16, 32, blue, red, white, green},
	{7, 16, 32, white, green, blue, red},
	{8, 16, 32, green, white, red, blue},
}

// checkCorners compares the colour 3 pixels inside each corner, away from
// JPEG ringing at the quadrant edges.
func checkCorners(t *testing.T, img *RGB, tc orientationCase, tolerance int) {
	t.Helper()
	if img.Width != tc.width || img.Height != tc.height {
		t.Fatalf("size %dx%d, want %dx%d", img.Width, img.Height, tc.width, tc.height)
	}
	const inset = 3
	corners := []struct {
		name string
		x, y int
		want [3]uint8
	}{
		{"top-left", inset, inset, tc.topLeft},
		{"top-right", img.Width - 1 - inset, inset, tc.topRight},
		{"bottom-left", inset, img.Height - 1 - inset, tc.bottomLeft},
		{"bottom-right", img.Width - 1 - inset, img.Height - 1 - inset, tc.bottomRight},
	}
	for _, c := range corners {
		if got := pixelAt(img, c.x, c.y); !near(got, c.want, tolerance) {
			t.Errorf("%s pixel %v, want %v", c.name, got, c.want)
		}
	}
}

func TestJPEGEXIFOrientation(t *testing.T) {
	base := encodeJPEG(t, quadrantImage())
	for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		for _, tc := range orientationCases {
			t.Run(fmt.Sprintf("%v/%d", order, tc.orientation), func(t *testing.T) {
				data := insertAfterSOI(base, exifAPP1(orientationTIFF(order, tc.orientation)))
				img, err := DecodeBytes(data, 0)
				if err != nil {
					t.Fatal(err)
				}
				checkCorners(t, img, tc, 40)
			})
		}
	}
}

func TestJPEGWithoutEXIFStaysAsStored(t *testing.T) {
	img, err := DecodeBytes(encodeJPEG(t, quadrantImage()), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkCorners(t, img, orientationCases[0], 40)
}

func TestPNGEXIFOrientation(t *testing.T) {
	// Split an encoded PNG into IHDR, IDAT and IEND so an eXIf chunk can go
	// before or after the image data.
	encoded := encodePNG(t, quadrantImage())
	ihdrEnd := 8 + 8 + 13 + 4
	iendStart := len(encoded) - 12
	header, body, trailer := encoded[:ihdrEnd], encoded[ihdrEnd:iendStart], encoded[iendStart:]
	exif := buildPNG(pngChunk{"eXIf", orientationTIFF(binary.BigEndian, 6)})[8:]

	t.Run("before IDAT", func(t *testing.T) {
		data := bytes.Join([][]byte{header, exif, body, trailer}, nil)
		img, err := DecodeBytes(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkCorners(t, img, orientationCases[5], 0)
	})

	// Pillow 9.4 copies the image info before it reads chunks after IDAT,
	// so an eXIf chunk there does not rotate the image.
	t.Run("after IDAT", func(t *testing.T) {
		data := bytes.Join([][]byte{header, body, exif, trailer}, nil)
		img, err := DecodeBytes(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkCorners(t, img, orientationCases[0], 0)
	})
}

func TestTIFFOrientationTag(t *testing.T) {
	// A 3×2 image whose pixel values are their own positions, 10*y + x.
	pixels := []byte{0, 1, 2, 10, 11, 12}

	img, err := DecodeBytes(buildGreyTIFF(3, 2, pixels, 8), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Orientation 8 turns the image 90° anticlockwise: the right column,
	// top first, becomes the top row.
	want := [][]uint8{{2, 12}, {1, 11}, {0, 10}}
	if img.Width != 2 || img.Height != 3 {
		t.Fatalf("size %dx%d, want 2x3", img.Width, img.Height)
	}
	for y, row := range want {
		for x, v := range row {
			if got := pixelAt(img, x, y); got != [3]uint8{v, v, v} {
				t.Errorf("pixel (%d, %d) = %v, want grey %d", x, y, got, v)
			}
		}
	}
}

func TestWebPEXIFOrientation(t *testing.T) {
	lossless, err := os.ReadFile(fixturePath("chelsea-lossless.webp"))
	if err != nil {
		t.Fatal(err)
	}
	upright, err := DecodeBytes(lossless, 0)
	if err != nil {
		t.Fatal(err)
	}

	// Rewrap the VP8L chunk in an extended (VP8X) file with an EXIF chunk.
	vp8l := lossless[12:]
	vp8x := make([]byte, 10)
	vp8x[0] = 0x08 // EXIF present
	putUint24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	putUint24(vp8x[4:], upright.Width-1)
	putUint24(vp8x[7:], upright.Height-1)
	riffChunk := func(kind string, payload []byte) []byte {
		c := append([]byte(kind), 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(c[4:], uint32(len(payload)))
		c = append(c, payload...)
		if len(payload)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := bytes.Join([][]byte{
		[]byte("WEBP"),
		riffChunk("VP8X", vp8x),
		vp8l,
		riffChunk("EXIF", orientationTIFF(binary.LittleEndian, 3)),
	}, nil)
	data := append([]byte("RIFF\x00\x00\x00\x00"), body...)
	binary.LittleEndian.PutUint32(data[4:], uint32(len(body)))

	img, err := DecodeBytes(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != upright.Width || img.Height != upright.Height {
		t.Fatalf("size %dx%d, want %dx%d", img.Width, img.Height, upright.Width, upright.Height)
	}
	// Orientation 3 rotates by 180°.
	for _, p := range [][2]int{{0, 0}, {5, 7}, {upright.Width - 1, upright.Height - 1}} {
		got := pixelAt(img, p[0], p[1])
		want := pixelAt(upright, upright.Width-1-p[0], upright.Height-1-p[1])
		if got != want {
			t.Errorf("pixel %v = %v, want %v from the opposite position", p, got, want)
		}
	}
}

func TestTIFFOrientationParser(t *testing.T) {
	be, le := binary.BigEndian, binary.LittleEndian
	valid := orientationTIFF(be, 6)
	for _, tc := range []struct {
		name string
		tiff []byte
		want int
	}{
		{"big-endian SHORT", valid, 6},
		{"little-endian SHORT", orientationTIFF(le, 8), 8},
		{"LONG value", exifTIFF(le, 4, 1, 5), 5},
		{"SSHORT value", exifTIFF(be, 8, 1, 2), 2},
		{"BYTE type ignored", exifTIFF(be, 1, 1, 6), 0},
		{"count of 2 ignored", exifTIFF(be, 3, 2, 6), 0},
		{"value 0 ignored", orientationTIFF(be, 0), 0},
		{"value 9 ignored", orientationTIFF(be, 9), 0},
		{"empty", nil, 0},
		{"short header", valid[:7], 0},
		{"unknown byte order", append([]byte("XX"), valid[2:]...), 0},
		{"wrong magic", append([]byte("MM\x00\x2B"), valid[4:]...), 0},
		{"directory past the end", append(valid[:4:4], 0, 0, 1, 0), 0},
		{"truncated entry", valid[:len(valid)-8], 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tiffOrientation(tc.tiff); got != tc.want {
				t.Errorf("tiffOrientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestJPEGEXIFSegmentSelection(t *testing.T) {
	base := encodeJPEG(t, quadrantImage())
	rotate6 := exifAPP1(orientationTIFF(binary.BigEndian, 6))
	rotate3 := exifAPP1(orientationTIFF(binary.BigEndian, 3))
	xmp := jpegSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))
	// "Exif\x00" followed by something other than a second zero byte is an
	// EXIF segment to Pillow, but holds no TIFF header.
	broken := jpegSegment(0xE1, append([]byte("Exif\x00X"), orientationTIFF(binary.BigEndian, 6)...))

	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"after another APP1", insertAfterSOI(base, xmp, rotate6), 6},
		{"after fill bytes", insertAfterSOI(base, []byte{0xFF, 0xFF}, rotate6), 6},
		{"first EXIF segment wins", insertAfterSOI(base, rotate3, rotate6), 3},
		{"broken first segment hides a later one", insertAfterSOI(base, broken, rotate6), 0},
		{"no EXIF", base, 0},
		{"not a JPEG", []byte("GIF89a"), 0},
		{"segment length past the end", append(base[:2:2], 0xFF, 0xE1, 0xFF, 0xFF, 'E'), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tiffOrientation(jpegEXIF(tc.data)); got != tc.want {
				t.Errorf("orientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestOrientIdentityValues(t *testing.T) {
	img := FromImage(quadrantImage())
	for _, orientation := range []int{0, 1, 9} {
		if got := orient(img, orientation); got != img {
			t.Errorf("orient(%d) returned a new image, want the input unchanged", orientation)
		}
	}
}
