package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// ManifestName is the file, inside the models folder, that lists the models
// the page offers.
const ManifestName = "models.json"

// defaultModelPreference is the order in which a model becomes the page's
// default: the ImageNet model when it has been converted, else the
// Fashion-MNIST model that the repository ships.
var defaultModelPreference = []string{"data2vec-vision-base-ft1k", "fashion-mnist"}

// knownModelNames gives display names to the model folders that the build
// creates. Other folders are shown under their folder name.
var knownModelNames = map[string]string{
	"data2vec-vision-base-ft1k": "ImageNet-1k (Data2Vec-Vision base)",
	"fashion-mnist":             "Fashion-MNIST (clothing, 10 classes)",
}

// ModelFile is one file that the page downloads for a model.
type ModelFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
}

// Model is one entry of the manifest.
type Model struct {
	ID          string      `json:"id"` // folder name under models/
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Labels      int         `json:"labels"`
	ImageSize   int         `json:"imageSize"` // model input side in pixels
	Weights     string      `json:"weights"`   // "int8" or "float32"
	Bytes       int64       `json:"bytes"`     // sum of Files' sizes
	Default     bool        `json:"default"`
	Files       []ModelFile `json:"files"`
}

// BuildManifest describes every model folder under modelsDir: each folder
// (or symbolic link to one) holding .safetensors files. Each model is loaded
// once to prove that its files form a working classifier. The first id of
// preferred that is present becomes the default, else the first model.
func BuildManifest(modelsDir string, preferred []string) ([]Model, error) {
	entries, err := os.ReadDir(modelsDir)
	if err != nil {
		return nil, err
	}
	var models []Model
	for _, entry := range entries {
		dir := filepath.Join(modelsDir, entry.Name())
		if strings.HasPrefix(entry.Name(), ".") {
			continue
		}
		// os.Stat follows a symbolic link to a model folder.
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		m, err := describeModel(dir)
		if errors.Is(err, errNoWeights) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("model folder %s: %w (convert it again with tools/convert, or remove it)", dir, err)
		}
		models = append(models, m)
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("no model folder with .safetensors files in %s", modelsDir)
	}

	defaultIndex := 0
	for _, id := range preferred {
		if i := slices.IndexFunc(models, func(m Model) bool { return m.ID == id }); i >= 0 {
			defaultIndex = i
			break
		}
	}
	models[defaultIndex].Default = true
	return models, nil
}

// WriteManifest builds the manifest of modelsDir and writes it to
// modelsDir/models.json, replacing the old file in one rename.
func WriteManifest(modelsDir string, preferred []string) ([]Model, error) {
	models, err := BuildManifest(modelsDir, preferred)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(models, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(modelsDir, ManifestName+".*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	return models, os.Rename(tmp.Name(), filepath.Join(modelsDir, ManifestName))
}

var errNoWeights = errors.New("no .safetensors file")

// describeModel reads the files of one model folder, hashes them and loads
// them with classifier.FromFiles, as the browser will.
func describeModel(dir string) (Model, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Model{}, err
	}
	var names []string
	hasWeights := false
	for _, entry := range entries {
		name := entry.Name()
		switch {
		case strings.HasPrefix(name, "."):
		case name == "config.json" || name == "preprocessor_config.json":
			names = append(names, name)
		case filepath.Ext(name) == ".safetensors":
			names = append(names, name)
			hasWeights = true
		}
	}
	if !hasWeights {
		return Model{}, errNoWeights
	}
	// Configs first, then shards in name order, which is also the order
	// tools/convert numbers them.
	sort.SliceStable(names, func(a, b int) bool {
		aShard, bShard := filepath.Ext(names[a]) == ".safetensors", filepath.Ext(names[b]) == ".safetensors"
		if aShard != bShard {
			return !aShard
		}
		return names[a] < names[b]
	})

	files := map[string][]byte{}
	m := Model{ID: filepath.Base(dir)}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return Model{}, err
		}
		files[name] = data
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, ModelFile{Name: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		m.Bytes += int64(len(data))
	}

	c, err := classifier.FromFiles(files)
	if err != nil {
		return Model{}, err
	}
	cfg := c.Model.Config
	m.Labels = cfg.NumLabels()
	m.ImageSize = cfg.ImageSize
	m.Weights, err = weightsKind(files, names)
	if err != nil {
		return Model{}, err
	}
	m.Name = knownModelNames[m.ID]
	if m.Name == "" {
		m.Name = m.ID
	}
	m.Description = fmt.Sprintf("%s, %d layers, hidden size %d, %d labels, %d×%d input, %s weights",
		architectureName(cfg.ModelType), cfg.NumHiddenLayers, cfg.HiddenSize, m.Labels, cfg.ImageSize, cfg.ImageSize, m.Weights)
	return m, nil
}

// weightsKind returns "int8" for a model converted with int8 weights and
// "float32" otherwise, read from the first shard's metadata.
func weightsKind(files map[string][]byte, names []string) (string, error) {
	for _, name := range names {
		if filepath.Ext(name) != ".safetensors" {
			continue
		}
		f, err := safetensors.Parse(files[name])
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if f.Metadata[quantize.MetaQuantization] == quantize.SchemeInt8PerChannel {
			return "int8", nil
		}
		return "float32", nil
	}
	return "", errNoWeights
}

func architectureName(modelType string) string {
	switch modelType {
	case "data2vec-vision":
		return "Data2Vec-Vision"
	case "beit":
		return "BEiT"
	}
	return modelType
}
