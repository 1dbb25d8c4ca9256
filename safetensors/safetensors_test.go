package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestEncodeParseRoundTrip(t *testing.T) {
	tensors := []Tensor{
		FromFloat32s("a", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		{Name: "b", DType: I8, Shape: []int{3}, Data: []byte{0xff, 0, 1}},
		FromFloat32s("scalar", []int{}, []float32{7}),
	}
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	headerLen := binary.LittleEndian.Uint64(buf.Bytes()[:8])
	if (8+headerLen)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+headerLen)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v, want format=pt", f.Metadata)
	}
	if got := strings.Join(f.Names(), ","); got != "a,b,scalar" {
		t.Errorf("names in file order %q, want a,b,scalar", got)
	}
	a, _ := f.Tensor("a")
	values, err := a.Float32s()
	if err != nil || values[5] != 6 {
		t.Errorf("a = %v, %v; want last value 6", values, err)
	}
	b, _ := f.Tensor("b")
	ints, err := b.Int64s()
	if err != nil || ints[0] != -1 || ints[2] != 1 {
		t.Errorf("b = %v, %v; want [-1 0 1]", ints, err)
	}
	if _, err := b.Float32s(); err == nil {
		t.Error("Float32s of an I8 tensor succeeded")
	}
}

func header(js string) []byte {
	buf := make([]byte, 8, 8+len(js)+16)
	binary.LittleEndian.PutUint64(buf, uint64(len(js)))
	return append(buf, js...)
}

func TestParseRejectsCorruptFiles(t *testing.T) {
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":          {nil, "shorter than the 8-byte header length"},
		"huge header":    {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "exceeds the"},
		"truncated":      {header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`)[:20], "truncated"},
		"bad json":       {header(`{"a":`), "invalid JSON header"},
		"bad dtype":      {append(header(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`), 0), `unsupported dtype "Q4"`},
		"size mismatch":  {append(header(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), make([]byte, 8)...), "which need 12"},
		"past end":       {append(header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), make([]byte, 4)...), "outside"},
		"negative shape": {header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`), "negative dimension"},
		"overflow":       {header(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`), "overflows"},
		"overlap":        {append(header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`), 1, 2, 3), "overlap"},
		"bad metadata":   {header(`{"__metadata__":{"a":1}}`), "__metadata__"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, []Tensor{FromFloat32s("w", []int{2, 2}, []float32{1, 2, 3, 4}), {Name: "q", DType: I8, Shape: []int{4}, Data: []byte{1, 2, 3, 4}}}, map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(header(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}` + "\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			tensor, _ := file.Tensor(name)
			if len(tensor.Data) != tensor.NumElements()*tensor.DType.Size() {
				t.Fatalf("tensor %q: %d bytes for %s %v", name, len(tensor.Data), tensor.DType, tensor.Shape)
			}
			// Accessors must not read past the tensor.
			tensor.Float32s()
			tensor.Int64s()
		}
	})
}
