package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/safetensors"
)

const fakeCommit = "0123456789abcdef0123456789abcdef01234567"

// fakeHub serves one repository the way the Hugging Face hub's resolve
// endpoint does. Large files respond with a redirect to a second path (the
// CDN) and announce their SHA-256 in X-Linked-Etag. Small files are served
// directly with their git blob id as ETag.
type fakeHub struct {
	repo  string
	files map[string][]byte
	// badSHA, when set, is announced for every large file instead of the
	// real checksum.
	badSHA string
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		name := strings.TrimPrefix(r.URL.Path, "/cdn/")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(h.files[name]))
		return
	}
	prefix := "/" + h.repo + "/resolve/main/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, prefix)
	data, ok := h.files[name]
	w.Header().Set("X-Repo-Commit", fakeCommit)
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if strings.HasSuffix(name, ".bin") || strings.HasSuffix(name, ".safetensors") {
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		if h.badSHA != "" {
			sha = h.badSHA
		}
		w.Header().Set("X-Linked-Etag", `"`+sha+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(data)))
		w.Header().Set("ETag", `"`+sha+`"`)
		w.Header().Set("Location", "/cdn/"+name)
		w.WriteHeader(http.StatusFound)
		return
	}
	blob := sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(data))), data...))
	w.Header().Set("ETag", `"`+hex.EncodeToString(blob[:])+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// newFakeHub serves the legacy-keys reference model, whose weights are
// only in pytorch_model.bin there, like the real checkpoint's main branch.
func newFakeHub(t *testing.T) (*fakeHub, *httptest.Server) {
	t.Helper()
	src := testshared.Path(t, "golden", "d2v-tiny-224-legacy-keys")
	h := &fakeHub{repo: "test-org/d2v-tiny", files: map[string][]byte{}}
	for _, name := range []string{"config.json", "preprocessor_config.json", "pytorch_model.bin"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		h.files[name] = data
	}
	server := httptest.NewServer(h)
	t.Cleanup(server.Close)
	return h, server
}

func TestConvertFromHub(t *testing.T) {
	_, server := newFakeHub(t)
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", server.URL)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_TOKEN", "")
	out := filepath.Join(t.TempDir(), "converted")

	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-model", "test-org/d2v-tiny", "-out", out, "-float32", "-quiet"}, &stderr); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr.String())
	}

	// The download used the hub's cache layout.
	snapshot := filepath.Join(cache, "models--test-org--d2v-tiny", "snapshots", fakeCommit, "pytorch_model.bin")
	if _, err := os.Stat(snapshot); err != nil {
		t.Errorf("cached weights not in the hub layout: %v", err)
	}

	// The float32 conversion keeps transformers' logits within 1e-4.
	src := testshared.Path(t, "golden", "d2v-tiny-224-legacy-keys")
	c, err := classifier.OpenWithOptions(out, classifier.Options{Float32: true})
	if err != nil {
		t.Fatal(err)
	}
	inputs, _ := safetensors.ReadFile(filepath.Join(src, "inputs.safetensors"))
	expected, _ := safetensors.ReadFile(filepath.Join(src, "expected.safetensors"))
	pt, _ := inputs.Tensor("pixel_values")
	pixels, _ := pt.Float32s()
	lt, _ := expected.Tensor("logits")
	want, _ := lt.Float32s()
	logits, err := c.Logits(pixels, pt.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range logits {
		if d := math.Abs(float64(logits[i] - want[i])); d > 1e-4 {
			t.Fatalf("logit %d differs from transformers by %g", i, d)
		}
	}

	// A second conversion is served from the cache: with the server gone
	// and offline mode on, it still works.
	server.Close()
	t.Setenv("HF_HUB_OFFLINE", "1")
	stderr.Reset()
	if code := run(context.Background(), []string{"-model", "test-org/d2v-tiny", "-out", out + "-int8", "-quiet"}, &stderr); code != 0 {
		t.Fatalf("offline conversion from the cache failed with %d: %s", code, stderr.String())
	}
}

func TestConvertReportsHubErrors(t *testing.T) {
	h, server := newFakeHub(t)
	t.Setenv("HF_ENDPOINT", server.URL)
	t.Setenv("HF_TOKEN", "")
	cases := []struct {
		name  string
		repo  string
		setup func()
		want  string
	}{
		{"missing repository", "test-org/absent", func() {}, "test-org/absent"},
		{"wrong checksum", "test-org/d2v-tiny", func() { h.badSHA = strings.Repeat("ab", 32) }, "abababab"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HF_HUB_CACHE", t.TempDir())
			c.setup()
			var stderr bytes.Buffer
			code := run(context.Background(), []string{"-model", c.repo, "-out", filepath.Join(t.TempDir(), "out"), "-quiet"}, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit code %d, output %q; want failure mentioning %q", code, stderr.String(), c.want)
			}
		})
	}
}

func TestConvertLocalFolderRejectsMismatchedConfig(t *testing.T) {
	src := testshared.Path(t, "golden", "d2v-tiny-224")
	dir := t.TempDir()
	for _, name := range []string{"model.safetensors", "preprocessor_config.json"} {
		data, _ := os.ReadFile(filepath.Join(src, name))
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	config, _ := os.ReadFile(filepath.Join(src, "config.json"))
	os.WriteFile(filepath.Join(dir, "config.json"), bytes.Replace(config, []byte(`"num_hidden_layers": 2`), []byte(`"num_hidden_layers": 3`), 1), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-model", dir, "-out", out}, &stderr); code == 0 {
		t.Fatal("conversion of a config that does not match its weights succeeded")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed conversion left an output folder")
	}
}

func TestConvertRefusesSourceThroughSymlink(t *testing.T) {
	src := t.TempDir()
	golden := testshared.Path(t, "golden", "d2v-tiny-224")
	for _, name := range []string{"config.json", "preprocessor_config.json", "model.safetensors"} {
		data, _ := os.ReadFile(filepath.Join(golden, name))
		os.WriteFile(filepath.Join(src, name), data, 0o644)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(src, "model.safetensors"))
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-model", src, "-out", link}, &stderr); code == 0 {
		t.Error("converting into a symbolic link to the source succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(src, "model.safetensors"))
	if !bytes.Equal(before, after) {
		t.Error("the source weights changed")
	}
}

func TestConvertKeepsUnrelatedFiles(t *testing.T) {
	out := t.TempDir()
	keep := []string{"model-original.safetensors", "model.safetensors.bak", "notes.txt"}
	for _, name := range keep {
		os.WriteFile(filepath.Join(out, name), []byte("keep me"), 0o644)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-model", testshared.Path(t, "golden", "d2v-tiny-224"), "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr.String())
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
}

func TestConvertMistypedLocalPath(t *testing.T) {
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-model", "./no/such/folder", "-out", filepath.Join(t.TempDir(), "out")}, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "model folder not found") {
		t.Errorf("exit code %d, output %q; want a folder-not-found error", code, stderr.String())
	}
}
