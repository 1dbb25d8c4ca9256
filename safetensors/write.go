package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
)

// Encode writes tensors and metadata in the safetensors format, data in the
// order given. The header is padded with spaces to a multiple of 8 bytes so
// that every tensor starts 8-byte aligned, as the reference writer does.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range tensors {
		if t.DType.Size() == 0 {
			return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		if want := t.NumElements() * t.DType.Size(); want != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for dtype %s and shape %v, which need %d", t.Name, len(t.Data), t.DType, t.Shape, want)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, Offsets: [2]int64{offset, offset + int64(len(t.Data))}}
		offset += int64(len(t.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for (8+len(js))%8 != 0 {
		js = append(js, ' ')
	}

	bw := bufio.NewWriter(w)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	for _, t := range tensors {
		if _, err := bw.Write(t.Data); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile encodes tensors into a new file at path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Encode(f, tensors, metadata); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// EncodedSize returns the number of bytes Encode writes for these tensors
// without the header; callers that split files by size use it.
func EncodedSize(tensors []Tensor) int64 {
	var n int64
	for _, t := range tensors {
		n += int64(len(t.Data))
	}
	return n
}

// FromFloat32s builds an F32 tensor; the data is copied into little-endian bytes.
func FromFloat32s(name string, shape []int, values []float32) Tensor {
	data := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: shape, Data: data}
}
