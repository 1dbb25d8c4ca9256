// Package checkpoint reads the weight files of a Hugging Face model folder:
// model.safetensors, sharded safetensors listed in model.safetensors.index.json,
// and PyTorch's pytorch_model.bin (optionally sharded the same way).
//
// Every format yields safetensors.Tensor values, so callers see one tensor
// type whatever the file on disk.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/d2vgo/d2v/safetensors"
)

// File names that Hugging Face's save_pretrained writes.
const (
	SafetensorsFile      = "model.safetensors"
	SafetensorsIndexFile = "model.safetensors.index.json"
	TorchFile            = "pytorch_model.bin"
	TorchIndexFile       = "pytorch_model.bin.index.json"
)

// ErrNoWeights is returned when a folder holds none of the weight files.
var ErrNoWeights = errors.New("no model.safetensors, model.safetensors.index.json or pytorch_model.bin found")

// Checkpoint is a set of named tensors loaded from one or more files.
type Checkpoint struct {
	// Metadata merges the "__metadata__" maps of the safetensors files.
	Metadata map[string]string

	tensors map[string]safetensors.Tensor
	source  map[string]string // tensor name -> file it came from, for error messages
}

// Open loads the weights in dir, preferring safetensors over PyTorch pickles
// as transformers does.
func Open(dir string) (*Checkpoint, error) {
	candidates := []struct {
		name string
		load func(string) (*Checkpoint, error)
	}{
		{SafetensorsFile, loadSafetensorsFile},
		{SafetensorsIndexFile, func(p string) (*Checkpoint, error) { return loadIndex(p, loadSafetensorsFile) }},
		{TorchFile, loadTorchFile},
		{TorchIndexFile, func(p string) (*Checkpoint, error) { return loadIndex(p, loadTorchFile) }},
	}
	for _, c := range candidates {
		path := filepath.Join(dir, c.name)
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		return c.load(path)
	}
	return nil, fmt.Errorf("%s: %w", dir, ErrNoWeights)
}

// FromSafetensors combines already parsed safetensors files, for callers that
// hold the bytes in memory. A tensor name present in two files is an error.
func FromSafetensors(files map[string]*safetensors.File) (*Checkpoint, error) {
	c := newCheckpoint()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, fileName := range names {
		if err := c.addSafetensors(fileName, files[fileName]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func newCheckpoint() *Checkpoint {
	return &Checkpoint{
		Metadata: map[string]string{},
		tensors:  map[string]safetensors.Tensor{},
		source:   map[string]string{},
	}
}

func (c *Checkpoint) addSafetensors(fileName string, f *safetensors.File) error {
	for k, v := range f.Metadata {
		c.Metadata[k] = v
	}
	for _, name := range f.Names() {
		t, _ := f.Tensor(name)
		if err := c.add(fileName, t); err != nil {
			return err
		}
	}
	return nil
}

func (c *Checkpoint) add(fileName string, t safetensors.Tensor) error {
	if prev, dup := c.source[t.Name]; dup {
		return fmt.Errorf("tensor %q appears in both %s and %s", t.Name, prev, fileName)
	}
	c.tensors[t.Name] = t
	c.source[t.Name] = fileName
	return nil
}

// Tensor returns the named tensor.
func (c *Checkpoint) Tensor(name string) (safetensors.Tensor, bool) {
	t, ok := c.tensors[name]
	return t, ok
}

// Names returns every tensor name, sorted.
func (c *Checkpoint) Names() []string {
	names := make([]string, 0, len(c.tensors))
	for name := range c.tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Source returns the file a tensor was read from.
func (c *Checkpoint) Source(name string) string { return c.source[name] }

func loadSafetensorsFile(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := newCheckpoint()
	if err := c.addSafetensors(filepath.Base(path), f); err != nil {
		return nil, err
	}
	return c, nil
}

// index is the JSON written beside sharded checkpoints.
type index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// loadIndex reads a sharded checkpoint: each shard is loaded with load, and
// every tensor must sit in the shard the index names.
func loadIndex(path string, load func(string) (*Checkpoint, error)) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: invalid index JSON: %w", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: weight_map is empty", path)
	}

	shards := map[string]bool{}
	for name, shard := range idx.WeightMap {
		if shard == "" || filepath.Base(shard) != shard {
			return nil, fmt.Errorf("%s: tensor %q maps to shard %q, which is not a plain file name", path, name, shard)
		}
		shards[shard] = true
	}
	shardNames := make([]string, 0, len(shards))
	for s := range shards {
		shardNames = append(shardNames, s)
	}
	sort.Strings(shardNames)

	dir := filepath.Dir(path)
	c := newCheckpoint()
	for _, shard := range shardNames {
		part, err := load(filepath.Join(dir, shard))
		if err != nil {
			return nil, err
		}
		for k, v := range part.Metadata {
			c.Metadata[k] = v
		}
		for _, name := range part.Names() {
			t, _ := part.Tensor(name)
			if err := c.add(shard, t); err != nil {
				return nil, err
			}
		}
	}
	for name, shard := range idx.WeightMap {
		if got, ok := c.source[name]; !ok || got != shard {
			return nil, fmt.Errorf("%s: tensor %q should be in %s but is not", path, name, shard)
		}
	}
	return c, nil
}

// IndexShards returns the shard file names an index lists, sorted, each
// once.
func IndexShards(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: invalid index JSON: %w", path, err)
	}
	seen := map[string]bool{}
	var shards []string
	for name, shard := range idx.WeightMap {
		if shard == "" || filepath.Base(shard) != shard {
			return nil, fmt.Errorf("%s: tensor %q maps to shard %q, which is not a plain file name", path, name, shard)
		}
		if !seen[shard] {
			seen[shard] = true
			shards = append(shards, shard)
		}
	}
	sort.Strings(shards)
	return shards, nil
}

// FromTensors builds a checkpoint from tensors held in memory, such as
// generated weights. Names must be unique.
func FromTensors(tensors []safetensors.Tensor) (*Checkpoint, error) {
	c := newCheckpoint()
	for _, t := range tensors {
		if err := c.add("memory", t); err != nil {
			return nil, err
		}
	}
	return c, nil
}
