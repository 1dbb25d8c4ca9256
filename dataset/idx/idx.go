// Package idx reads the IDX files of MNIST and Fashion-MNIST: a big-endian
// header (two zero bytes, a type code, the number of dimensions, then one
// uint32 per dimension) followed by the values in row-major order. Files
// ending in .gz are decompressed on the fly.
package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// typeUint8 is the IDX type code of unsigned bytes, the only one these data
// sets use.
const typeUint8 = 0x08

// maxElements bounds what a header may declare (1 GiB of uint8).
const maxElements = 1 << 30

// Array is a uint8 IDX array.
type Array struct {
	Shape []int
	Data  []uint8
}

// ReadFile reads an IDX file, gunzipping it when the name ends in .gz.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	a, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read decodes an uncompressed IDX stream of uint8 values.
func Read(r io.Reader) (*Array, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("reading IDX header: %w", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("not an IDX file: magic bytes %x", magic)
	}
	if magic[2] != typeUint8 {
		return nil, fmt.Errorf("IDX type code 0x%02x is not supported (want 0x08, unsigned byte)", magic[2])
	}
	dims := int(magic[3])
	if dims < 1 || dims > 4 {
		return nil, fmt.Errorf("IDX file has %d dimensions, want 1 to 4", dims)
	}
	shape := make([]int, dims)
	n := 1
	for i := range shape {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("reading IDX dimension %d: %w", i, err)
		}
		if d == 0 || uint64(n)*uint64(d) > maxElements {
			return nil, fmt.Errorf("IDX shape %v is empty or exceeds %d elements", append(shape[:i:i], int(d)), maxElements)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	data := make([]uint8, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("reading %d IDX values for shape %v: %w (truncated file?)", n, shape, err)
	}
	return &Array{Shape: shape, Data: data}, nil
}
