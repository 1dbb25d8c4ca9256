// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header that maps tensor names to dtype,
// shape and byte offsets, then the raw tensor data.
//
// Parse works on a byte slice and never copies tensor data, so a caller that
// already holds the file in memory (a browser fetch, an mmap) keeps exactly one
// copy of the weights.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
)

// MaxHeaderSize bounds the JSON header. The reference implementation uses the
// same limit (100 MB), which keeps a corrupt length field from driving a huge
// allocation.
const MaxHeaderSize = 100 << 20

// DType names the element type of a tensor as the header spells it.
type DType string

// Element types this package can convert. Other dtypes are still parsed, so a
// file with BF16 or F16 tensors opens, but their accessors return errors.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// Tensor is one named tensor. Data aliases the buffer given to Parse.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors buffer.
type File struct {
	// Metadata is the optional "__metadata__" string map of the header.
	Metadata map[string]string

	tensors map[string]Tensor
	names   []string // sorted by data offset, the order of the file
}

type headerEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadFile reads a whole safetensors file into memory and parses it.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse validates the header of buf and returns the tensors it describes.
// Every tensor's byte range must lie inside the data section and match its
// dtype and shape; ranges may not overlap.
func Parse(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(buf))
	}
	headerLen := binary.LittleEndian.Uint64(buf[:8])
	if headerLen > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit", headerLen, MaxHeaderSize)
	}
	if headerLen > uint64(len(buf)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d bytes that follow it (truncated file?)", headerLen, len(buf)-8)
	}
	header := buf[8 : 8+headerLen]
	data := buf[8+headerLen:]

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: invalid JSON header: %w", err)
	}

	f := &File{tensors: make(map[string]Tensor, len(raw))}
	type span struct {
		name       string
		start, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ is not a map of strings: %w", err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: invalid header entry: %w", name, err)
		}
		size := int64(e.DType.Size())
		if size == 0 {
			return nil, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", name, e.DType)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			if d > 0 && n > math.MaxInt64/size/int64(d) {
				return nil, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
			}
			n *= int64(d)
		}
		start, end := e.Offsets[0], e.Offsets[1]
		if start < 0 || end < start || end > int64(len(data)) {
			return nil, fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d] outside the %d-byte data section (truncated file?)", name, start, end, len(data))
		}
		if end-start != n*size {
			return nil, fmt.Errorf("safetensors: tensor %q: %d bytes for dtype %s and shape %v, which need %d", name, end-start, e.DType, e.Shape, n*size)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		f.tensors[name] = Tensor{Name: name, DType: e.DType, Shape: shape, Data: data[start:end:end]}
		spans = append(spans, span{name, start, end})
	}

	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].name < spans[j].name
	})
	for i, s := range spans {
		if i > 0 && s.start < spans[i-1].end {
			return nil, fmt.Errorf("safetensors: tensors %q and %q overlap", spans[i-1].name, s.name)
		}
		f.names = append(f.names, s.name)
	}
	return f, nil
}

// Names returns the tensor names in file order.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Tensor returns the named tensor.
func (f *File) Tensor(name string) (Tensor, bool) {
	t, ok := f.tensors[name]
	return t, ok
}

// ErrDType is wrapped by the typed accessors when a tensor has another dtype.
var ErrDType = errors.New("safetensors: wrong dtype")

// Float32s decodes an F32 tensor into a new slice (F64 is converted).
func (t Tensor) Float32s() ([]float32, error) {
	switch t.DType {
	case F32:
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case F64:
		out := make([]float32, len(t.Data)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q is %s, want F32", ErrDType, t.Name, t.DType)
}

// Float64s decodes an F64 or F32 tensor into a new float64 slice.
func (t Tensor) Float64s() ([]float64, error) {
	switch t.DType {
	case F64:
		out := make([]float64, len(t.Data)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	case F32:
		out := make([]float64, len(t.Data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q is %s, want F64", ErrDType, t.Name, t.DType)
}

// Int64s decodes an integer tensor (I64, I32, I16, I8 or U8) into int64s.
func (t Tensor) Int64s() ([]int64, error) {
	n := t.NumElements()
	out := make([]int64, n)
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(t.Data[2*i:])))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(t.Data[i]))
		}
	case U8:
		for i := range out {
			out[i] = int64(t.Data[i])
		}
	default:
		return nil, fmt.Errorf("%w: tensor %q is %s, want an integer dtype", ErrDType, t.Name, t.DType)
	}
	return out, nil
}
