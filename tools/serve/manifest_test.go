package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shippedModel is the Fashion-MNIST model that the repository ships for the
// page.
const shippedModel = "../../www/models/fashion-mnist"

// copyModel copies the shipped model into modelsDir/id.
func copyModel(t *testing.T, modelsDir, id string) string {
	t.Helper()
	dst := filepath.Join(modelsDir, id)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(shippedModel)
	if err != nil {
		t.Fatalf("reading the shipped model (regenerate it with make web-models): %v", err)
	}
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(shippedModel, entry.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, entry.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestManifestDescribesModel(t *testing.T) {
	modelsDir := t.TempDir()
	dir := copyModel(t, modelsDir, "fashion-mnist")
	models, err := BuildManifest(modelsDir, defaultModelPreference)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 {
		t.Fatalf("%d models, want 1", len(models))
	}
	m := models[0]
	if m.ID != "fashion-mnist" || m.Name != knownModelNames["fashion-mnist"] || !m.Default {
		t.Errorf("model %q named %q default %v, want fashion-mnist, its known name, default", m.ID, m.Name, m.Default)
	}
	if m.Labels != 10 || m.ImageSize != 28 || m.Weights != "int8" {
		t.Errorf("labels %d, image size %d, weights %q, want 10, 28, int8", m.Labels, m.ImageSize, m.Weights)
	}
	if !strings.Contains(m.Description, "4 layers") || !strings.Contains(m.Description, "28×28") {
		t.Errorf("description %q lacks the geometry", m.Description)
	}

	names := make([]string, len(m.Files))
	var total int64
	for i, f := range m.Files {
		names[i] = f.Name
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.Bytes != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: %d bytes, sha256 %s; the file has %d bytes, sha256 %x", f.Name, f.Bytes, f.SHA256, len(data), sum)
		}
		total += f.Bytes
	}
	if want := "config.json preprocessor_config.json model.safetensors"; strings.Join(names, " ") != want {
		t.Errorf("files %v, want %s", names, want)
	}
	if m.Bytes != total {
		t.Errorf("bytes %d, files add up to %d", m.Bytes, total)
	}
}

func TestManifestDefaultModel(t *testing.T) {
	modelsDir := t.TempDir()
	copyModel(t, modelsDir, "alpha")
	copyModel(t, modelsDir, "beta")
	cases := []struct {
		preferred []string
		want      string
	}{
		{[]string{"beta"}, "beta"},
		{[]string{"missing", "beta", "alpha"}, "beta"},
		{[]string{"missing"}, "alpha"},
		{nil, "alpha"},
	}
	for _, c := range cases {
		models, err := BuildManifest(modelsDir, c.preferred)
		if err != nil {
			t.Fatal(err)
		}
		var defaults []string
		for _, m := range models {
			if m.Default {
				defaults = append(defaults, m.ID)
			}
		}
		if len(defaults) != 1 || defaults[0] != c.want {
			t.Errorf("preferred %v: defaults %v, want [%s]", c.preferred, defaults, c.want)
		}
	}
}

func TestManifestFollowsSymlinkAndSkipsOtherFolders(t *testing.T) {
	modelsDir := t.TempDir()
	elsewhere := t.TempDir()
	copyModel(t, elsewhere, "linked")
	if err := os.Symlink(filepath.Join(elsewhere, "linked"), filepath.Join(modelsDir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(modelsDir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(modelsDir, "notes", "README.md"), []byte("no weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	models, err := BuildManifest(modelsDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 || models[0].ID != "linked" {
		t.Fatalf("models %+v, want only the linked folder", models)
	}
}

func TestManifestRejectsBrokenModel(t *testing.T) {
	modelsDir := t.TempDir()
	dir := copyModel(t, modelsDir, "broken")
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := BuildManifest(modelsDir, nil)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("error %v, want one that names the broken folder", err)
	}
}

func TestManifestRejectsEmptyFolder(t *testing.T) {
	if _, err := BuildManifest(t.TempDir(), nil); err == nil {
		t.Fatal("no error for a folder without models")
	}
}

func TestWriteManifest(t *testing.T) {
	modelsDir := t.TempDir()
	copyModel(t, modelsDir, "fashion-mnist")
	if _, err := WriteManifest(modelsDir, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(modelsDir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var models []Model
	if err := json.Unmarshal(data, &models); err != nil {
		t.Fatalf("models.json is not valid JSON: %v", err)
	}
	if len(models) != 1 || models[0].ID != "fashion-mnist" || len(models[0].Files) != 3 {
		t.Errorf("models.json holds %+v", models)
	}
	entries, _ := os.ReadDir(modelsDir)
	for _, entry := range entries {
		if strings.HasSuffix(entry.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", entry.Name())
		}
	}
}
