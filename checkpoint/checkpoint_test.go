package checkpoint

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/safetensors"
)

func legacyDir(t testing.TB) string { return testshared.Path(t, "golden", "d2v-tiny-224-legacy-keys") }

func TestTorchMatchesSafetensors(t *testing.T) {
	st, err := loadSafetensorsFile(filepath.Join(legacyDir(t), SafetensorsFile))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := loadTorchFile(filepath.Join(legacyDir(t), TorchFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(pt.Names(), ","), strings.Join(st.Names(), ","); got != want {
		t.Fatalf("pickle tensor names differ from safetensors:\n%s\n%s", got, want)
	}
	for _, name := range st.Names() {
		a, _ := st.Tensor(name)
		b, _ := pt.Tensor(name)
		if a.DType != b.DType || !equalInts(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("%s: pickle gives %s %v, safetensors %s %v, or different bytes", name, b.DType, b.Shape, a.DType, a.Shape)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShardedSafetensors(t *testing.T) {
	whole, err := loadSafetensorsFile(filepath.Join(legacyDir(t), SafetensorsFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := whole.Names()
	weightMap := map[string]string{}
	for i, part := range [][]string{names[:len(names)/2], names[len(names)/2:]} {
		var tensors []safetensors.Tensor
		shard := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		for _, n := range part {
			tensor, _ := whole.Tensor(n)
			tensors = append(tensors, tensor)
			weightMap[n] = shard
		}
		if err := safetensors.WriteFile(filepath.Join(dir, shard), tensors, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	writeIndex(t, dir, weightMap)

	sharded, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sharded.Names()) != len(names) {
		t.Fatalf("sharded checkpoint has %d tensors, want %d", len(sharded.Names()), len(names))
	}
	for _, n := range names {
		a, _ := whole.Tensor(n)
		b, ok := sharded.Tensor(n)
		if !ok || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("tensor %s differs after sharding", n)
		}
	}

	// An index that names the wrong shard for a tensor is an error.
	weightMap[names[0]] = "model-00002-of-00002.safetensors"
	writeIndex(t, dir, weightMap)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("Open with a wrong weight_map = %v, want an error naming %q", err, names[0])
	}

	// A shard path that leaves the folder is rejected.
	weightMap[names[0]] = "../model-00001-of-00002.safetensors"
	writeIndex(t, dir, weightMap)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a plain file name") {
		t.Errorf("Open with a shard outside the folder = %v, want a plain-file-name error", err)
	}
}

func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	js, err := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SafetensorsIndexFile), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenEmptyFolder(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no model.safetensors") {
		t.Errorf("Open of an empty folder = %v, want ErrNoWeights", err)
	}
}

func TestParseTorchRejectsBadInput(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join(legacyDir(t), TorchFile))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":         {},
		"legacy pickle": {0x80, 0x02, 0x8a, 0x0a},
		"not a zip":     []byte("hello, world"),
		"truncated":     valid[:len(valid)*3/4],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseTorch(data); err == nil {
				t.Errorf("ParseTorch(%s) succeeded", name)
			}
		})
	}
}

// FuzzParseTorch feeds mutated PyTorch archives to the pickle reader, which
// must return an error for anything it cannot read and never crash.
func FuzzParseTorch(f *testing.F) {
	valid, err := os.ReadFile(filepath.Join(legacyDir(f), TorchFile))
	if err != nil {
		f.Fatal(err)
	}
	tiny, err := os.ReadFile(filepath.Join("testdata", "tiny_state_dict.bin"))
	if err != nil {
		f.Fatal(err)
	}
	// The small archive is the useful seed: the fuzzer mutates large inputs slowly.
	f.Add(tiny)
	f.Add(valid)
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, err := ParseTorch(data)
		if err != nil {
			return
		}
		for _, tensor := range tensors {
			if len(tensor.Data) != tensor.NumElements()*tensor.DType.Size() {
				t.Fatalf("tensor %q: %d bytes for shape %v", tensor.Name, len(tensor.Data), tensor.Shape)
			}
		}
	})
}

func TestParseTorchStridedAndShared(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "tiny_state_dict.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := ParseTorch(data)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]safetensors.Tensor{}
	for _, tensor := range tensors {
		byName[tensor.Name] = tensor
	}
	w, _ := byName["w"].Float32s()
	wt, _ := byName["w_t"].Float32s()
	index, _ := byName["index"].Int64s()
	// w is [[1 2 3] [4 5 6]]; w_t views the same storage transposed.
	if want := []float32{1, 2, 3, 4, 5, 6}; !equalFloats(w, want) {
		t.Errorf("w = %v, want %v", w, want)
	}
	if want := []float32{1, 4, 2, 5, 3, 6}; !equalFloats(wt, want) {
		t.Errorf("w_t = %v, want %v", wt, want)
	}
	if len(index) != 2 || index[0] != -7 || index[1] != 9 {
		t.Errorf("index = %v, want [-7 9]", index)
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
