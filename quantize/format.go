package quantize

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/safetensors"
)

// Metadata keys of the model format. Every shard carries all of them, so any
// one shard identifies the model. The format is plain safetensors: int8
// weights are I8 tensors under their Hugging Face names, each with an F32
// "<name>_scale" tensor of one scale per output channel.
const (
	MetaFormat           = "format"             // "pt", as transformers writes
	MetaModelFormat      = "d2v.format"         // FormatName
	MetaFormatVersion    = "d2v.format_version" // FormatVersion
	MetaQuantization     = "d2v.quantization"   // SchemeInt8PerChannel or SchemeNone
	MetaConfig           = "d2v.config"         // config.json, verbatim
	MetaPreprocessor     = "d2v.preprocessor"   // preprocessor_config.json, verbatim
	MetaSourceModel      = "d2v.source_model"   // hub id or folder the model came from
	FormatName           = "d2v-vision"
	FormatVersion        = "1"
	SchemeInt8PerChannel = "int8-symmetric-per-output-channel"
	SchemeNone           = "none"
)

// writtenName matches the weight files Write creates.
var writtenName = regexp.MustCompile(`^model(-\d{5}-of-\d{5})?\.safetensors$|^model\.safetensors\.index\.json$`)

// MaxShardBytes is the default size limit of one shard file: 24 MiB, under
// the 25 MiB per-file limit of Cloudflare Workers static assets and of
// several static hosts.
const MaxShardBytes = 24 << 20

// WriteOptions controls Write.
type WriteOptions struct {
	Float32       bool   // keep weights float32 instead of int8
	MaxShardBytes int64  // 0 means MaxShardBytes
	SourceModel   string // recorded in the metadata
}

// Quantizable reports whether a tensor is a Linear or convolution weight,
// the tensors stored as int8. LayerNorm weights are 1-D and stay float32.
func Quantizable(t safetensors.Tensor) bool {
	return strings.HasSuffix(t.Name, ".weight") && len(t.Shape) >= 2
}

// Write converts a Hugging Face checkpoint into the model format in dir:
// config.json and preprocessor_config.json copied verbatim, and the weights
// as model.safetensors, or as model-0000i-of-0000n.safetensors shards with
// model.safetensors.index.json when they exceed one shard. It returns the
// names of the files written. relative_position_index buffers and the
// mask token are dropped because inference never reads them.
func Write(dir string, configJSON, preprocessorJSON []byte, ckpt *checkpoint.Checkpoint, opts WriteOptions) ([]string, error) {
	limit := opts.MaxShardBytes
	if limit == 0 {
		limit = MaxShardBytes
	}
	scheme := SchemeInt8PerChannel
	if opts.Float32 {
		scheme = SchemeNone
	}
	meta := map[string]string{
		MetaFormat:        "pt",
		MetaModelFormat:   FormatName,
		MetaFormatVersion: FormatVersion,
		MetaQuantization:  scheme,
		MetaConfig:        string(configJSON),
		MetaPreprocessor:  string(preprocessorJSON),
		MetaSourceModel:   opts.SourceModel,
	}

	var tensors []safetensors.Tensor
	for _, name := range ckpt.Names() {
		t, _ := ckpt.Tensor(name)
		if strings.HasSuffix(name, ".relative_position_index") || strings.HasSuffix(name, "embeddings.mask_token") {
			continue
		}
		values, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if opts.Float32 || !Quantizable(t) {
			tensors = append(tensors, safetensors.FromFloat32s(name, t.Shape, values))
			continue
		}
		out := t.Shape[0]
		q, scale := Channel(values, out, len(values)/out)
		tensors = append(tensors,
			safetensors.Tensor{Name: name, DType: safetensors.I8, Shape: t.Shape, Data: Bytes(q)},
			safetensors.FromFloat32s(name+"_scale", []int{out}, scale))
	}

	// Pack tensors greedily into shards. The header (with the configs in
	// its metadata) counts against the limit too.
	headerBudget := int64(len(configJSON)+len(preprocessorJSON)) + 64*int64(len(tensors)) + 4096
	var shards [][]safetensors.Tensor
	var size int64
	for _, t := range tensors {
		n := int64(len(t.Data))
		if n+headerBudget > limit {
			return nil, fmt.Errorf("tensor %q is %d bytes, too large for a %d-byte shard", t.Name, n, limit)
		}
		if len(shards) == 0 || size+n+headerBudget > limit {
			shards = append(shards, nil)
			size = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], t)
		size += n
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	written := []string{"config.json", "preprocessor_config.json"}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), configJSON, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), preprocessorJSON, 0o644); err != nil {
		return nil, err
	}
	// Remove weight files of an earlier conversion so that the folder holds
	// one consistent set. Only names this function writes are touched.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if writtenName.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, err
			}
		}
	}

	if len(shards) == 1 {
		if err := safetensors.WriteFile(filepath.Join(dir, checkpoint.SafetensorsFile), shards[0], meta); err != nil {
			return nil, err
		}
		return append(written, checkpoint.SafetensorsFile), nil
	}

	weightMap := map[string]string{}
	var total int64
	for i, shard := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := safetensors.WriteFile(filepath.Join(dir, name), shard, meta); err != nil {
			return nil, err
		}
		for _, t := range shard {
			weightMap[t.Name] = name
			total += int64(len(t.Data))
		}
		written = append(written, name)
	}
	index := map[string]any{
		"metadata":   map[string]any{"total_size": total, MetaModelFormat: FormatName, MetaFormatVersion: FormatVersion, MetaQuantization: scheme},
		"weight_map": weightMap,
	}
	js, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, checkpoint.SafetensorsIndexFile), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	return append(written, checkpoint.SafetensorsIndexFile), nil
}

// Configs returns the config.json and preprocessor_config.json stored in a
// shard's metadata, after checking the format name and version.
func Configs(meta map[string]string) (configJSON, preprocessorJSON []byte, err error) {
	if meta[MetaModelFormat] != FormatName {
		return nil, nil, fmt.Errorf("safetensors metadata %s is %q, want %q: not a converted model", MetaModelFormat, meta[MetaModelFormat], FormatName)
	}
	if v := meta[MetaFormatVersion]; v != FormatVersion {
		return nil, nil, fmt.Errorf("model format version %q is not supported (want %q); convert the model again with this version", v, FormatVersion)
	}
	if meta[MetaConfig] == "" || meta[MetaPreprocessor] == "" {
		return nil, nil, fmt.Errorf("safetensors metadata lacks %s or %s", MetaConfig, MetaPreprocessor)
	}
	return []byte(meta[MetaConfig]), []byte(meta[MetaPreprocessor]), nil
}

// WriteFolder converts the Hugging Face model folder src into dst with
// Write, reading config.json, preprocessor_config.json and the weights
// from src.
func WriteFolder(src, dst string, opts WriteOptions) ([]string, error) {
	configJSON, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		return nil, err
	}
	processorJSON, err := os.ReadFile(filepath.Join(src, "preprocessor_config.json"))
	if err != nil {
		return nil, err
	}
	ckpt, err := checkpoint.Open(src)
	if err != nil {
		return nil, err
	}
	return Write(dst, configJSON, processorJSON, ckpt, opts)
}
