package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/d2vgo/d2v/safetensors"
)

// maxPickleSize bounds data.pkl, the pickled structure of a state dict. A
// state dict of a few hundred tensors pickles to tens of kilobytes.
const maxPickleSize = 64 << 20

func loadTorchFile(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tensors, err := ParseTorch(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := newCheckpoint()
	for _, t := range tensors {
		if err := c.add(filepath.Base(path), t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ParseTorch reads a state dict saved by torch.save in the zip format that
// PyTorch uses since version 1.6: a pickle (archive/data.pkl) whose tensors
// point at raw little-endian storages stored as archive/data/<key>. The
// pickle is evaluated by gopickle with only the few torch callables a state
// dict needs, so no other Python class can be constructed.
//
// Contiguous tensors alias data; strided ones are copied.
func ParseTorch(data []byte) (tensors []safetensors.Tensor, err error) {
	// gopickle and archive/zip trust lengths inside the file; a corrupt file
	// must become an error, never a crash.
	defer func() {
		if r := recover(); r != nil {
			tensors, err = nil, fmt.Errorf("corrupt PyTorch checkpoint: %v", r)
		}
	}()

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if len(data) >= 2 && data[0] == 0x80 {
			return nil, fmt.Errorf("legacy (pre-1.6, non-zip) PyTorch format is not supported; re-save it with a current torch.save or convert it to safetensors")
		}
		return nil, fmt.Errorf("not a PyTorch zip checkpoint: %w", err)
	}

	records := map[string]*zip.File{}
	var pickleFile *zip.File
	for _, f := range zr.File {
		// Every record sits under one top-level folder whose name varies
		// ("archive", or the file's stem in older versions).
		dir, name := path.Split(f.Name)
		if name == "data.pkl" && strings.Count(dir, "/") == 1 {
			pickleFile = f
		}
		if strings.HasSuffix(dir, "/data/") {
			records[name] = f
		}
		if name == "constants.pkl" {
			return nil, fmt.Errorf("TorchScript archives are not supported; save the state dict with torch.save(model.state_dict())")
		}
	}
	if pickleFile == nil {
		return nil, fmt.Errorf("data.pkl not found in the zip archive")
	}
	pkl, err := readRecord(pickleFile, min(maxPickleSize, 64*int64(len(data))))
	if err != nil {
		return nil, fmt.Errorf("reading data.pkl: %w", err)
	}

	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	fallback := u.FindClass
	u.FindClass = func(module, name string) (any, error) {
		switch module + "." + name {
		case "torch._utils._rebuild_tensor_v2":
			return rebuildTensor{}, nil
		case "torch._utils._rebuild_parameter":
			return rebuildParameter{}, nil
		case "collections.OrderedDict":
			return &types.OrderedDictClass{}, nil
		}
		if module == "torch" && strings.HasSuffix(name, "Storage") {
			if dtype, ok := storageDTypes[name]; ok {
				return storageClass{dtype}, nil
			}
			return nil, fmt.Errorf("unsupported storage type torch.%s", name)
		}
		if fallback != nil && module == "builtins" {
			return fallback(module, name)
		}
		return nil, fmt.Errorf("unsupported Python class %s.%s in the pickle", module, name)
	}
	u.PersistentLoad = func(id any) (any, error) {
		return persistentStorage(id)
	}
	root, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("unpickling data.pkl: %w", err)
	}

	entries, err := stateDictEntries(root)
	if err != nil {
		return nil, err
	}
	storages := map[string][]byte{}
	for _, e := range entries {
		t, err := e.tensor.materialize(e.name, records, storages, int64(len(data)))
		if err != nil {
			return nil, err
		}
		tensors = append(tensors, t)
	}
	return tensors, nil
}

var storageDTypes = map[string]safetensors.DType{
	"FloatStorage":    safetensors.F32,
	"DoubleStorage":   safetensors.F64,
	"HalfStorage":     safetensors.F16,
	"BFloat16Storage": safetensors.BF16,
	"LongStorage":     safetensors.I64,
	"IntStorage":      safetensors.I32,
	"ShortStorage":    safetensors.I16,
	"CharStorage":     safetensors.I8,
	"ByteStorage":     safetensors.U8,
	"BoolStorage":     safetensors.Bool,
}

type storageClass struct{ dtype safetensors.DType }

type storageRef struct {
	dtype safetensors.DType
	key   string
	numel int
}

// persistentStorage decodes the persistent id torch.save writes for a
// storage: ("storage", StorageClass, key, location, numel).
func persistentStorage(id any) (any, error) {
	tuple, ok := id.(*types.Tuple)
	if !ok || tuple.Len() != 5 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	kind, _ := tuple.Get(0).(string)
	class, classOK := tuple.Get(1).(storageClass)
	key, keyOK := tuple.Get(2).(string)
	numel, numelOK := tuple.Get(4).(int)
	if kind != "storage" || !classOK || !keyOK || !numelOK || numel < 0 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	return storageRef{dtype: class.dtype, key: key, numel: numel}, nil
}

type torchTensor struct {
	storage storageRef
	offset  int
	shape   []int
	stride  []int
}

// rebuildTensor replaces torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	storage, ok := args[0].(storageRef)
	offset, offsetOK := args[1].(int)
	shape, shapeErr := intTuple(args[2])
	stride, strideErr := intTuple(args[3])
	if !ok || !offsetOK || shapeErr != nil || strideErr != nil || len(shape) != len(stride) || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: unexpected arguments")
	}
	return &torchTensor{storage: storage, offset: offset, shape: shape, stride: stride}, nil
}

// rebuildParameter replaces torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks): a parameter is its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	t, ok := args[0].(*torchTensor)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter: argument is not a tensor")
	}
	return t, nil
}

func intTuple(v any) ([]int, error) {
	tuple, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("not a tuple")
	}
	out := make([]int, tuple.Len())
	for i := range out {
		n, ok := tuple.Get(i).(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("not a tuple of non-negative ints")
		}
		out[i] = n
	}
	return out, nil
}

type namedTensor struct {
	name   string
	tensor *torchTensor
}

// stateDictEntries lists the tensors of the unpickled state dict in order.
// Non-tensor values (such as the "_metadata" attribute) are ignored.
func stateDictEntries(root any) ([]namedTensor, error) {
	var out []namedTensor
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("state dict key %v is not a string", k)
		}
		if t, ok := v.(*torchTensor); ok {
			out = append(out, namedTensor{name, t})
		}
		return nil
	}
	switch d := root.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, entry := range *d {
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("the pickle contains a %T, not a state dict", root)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the state dict contains no tensors")
	}
	return out, nil
}

// materialize returns the tensor's bytes in row-major order. The storage
// record is read once and shared by every tensor that views it.
func (t *torchTensor) materialize(name string, records map[string]*zip.File, storages map[string][]byte, archiveSize int64) (safetensors.Tensor, error) {
	elem := t.storage.dtype.Size()
	buf, ok := storages[t.storage.key]
	if !ok {
		rec, found := records[t.storage.key]
		if !found {
			return safetensors.Tensor{}, fmt.Errorf("tensor %q: storage record %q is missing from the archive", name, t.storage.key)
		}
		want := int64(t.storage.numel) * int64(elem)
		// torch.save stores storages uncompressed, so a record can be no
		// larger than the archive; this bounds the allocation below.
		if rec.Method != zip.Store {
			return safetensors.Tensor{}, fmt.Errorf("tensor %q: storage record %q is compressed (method %d); torch.save writes them uncompressed", name, t.storage.key, rec.Method)
		}
		if int64(rec.UncompressedSize64) != want || want > archiveSize {
			return safetensors.Tensor{}, fmt.Errorf("tensor %q: storage record %q has %d bytes, want %d (truncated file?)", name, t.storage.key, rec.UncompressedSize64, want)
		}
		var err error
		if buf, err = readRecord(rec, want); err != nil {
			return safetensors.Tensor{}, fmt.Errorf("tensor %q: reading storage %q: %w", name, t.storage.key, err)
		}
		storages[t.storage.key] = buf
	}

	// The highest element index the view touches must lie in the storage.
	numel, last := 1, t.offset
	for i, d := range t.shape {
		if d == 0 {
			numel = 0
			break
		}
		numel *= d
		last += (d - 1) * t.stride[i]
	}
	if numel > 0 && last >= t.storage.numel {
		return safetensors.Tensor{}, fmt.Errorf("tensor %q: shape %v, stride %v and offset %d reach past its storage of %d elements", name, t.shape, t.stride, t.offset, t.storage.numel)
	}
	out := safetensors.Tensor{Name: name, DType: t.storage.dtype, Shape: t.shape}
	if numel == 0 {
		out.Data = []byte{}
		return out, nil
	}
	if isContiguous(t.shape, t.stride) {
		start := t.offset * elem
		out.Data = buf[start : start+numel*elem : start+numel*elem]
		return out, nil
	}

	out.Data = make([]byte, 0, numel*elem)
	index := make([]int, len(t.shape))
	for n := 0; n < numel; n++ {
		pos := t.offset
		for i, v := range index {
			pos += v * t.stride[i]
		}
		out.Data = append(out.Data, buf[pos*elem:(pos+1)*elem]...)
		for i := len(index) - 1; i >= 0; i-- {
			index[i]++
			if index[i] < t.shape[i] {
				break
			}
			index[i] = 0
		}
	}
	return out, nil
}

func isContiguous(shape, stride []int) bool {
	expected := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != expected {
			return false
		}
		expected *= shape[i]
	}
	return true
}

// readRecord reads a whole zip record that must not exceed limit bytes.
func readRecord(f *zip.File, limit int64) ([]byte, error) {
	if int64(f.UncompressedSize64) > limit {
		return nil, fmt.Errorf("record %s is %d bytes, more than %d", f.Name, f.UncompressedSize64, limit)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
