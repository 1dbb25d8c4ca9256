package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// clearHubEnv unsets every variable that NewClientFromEnv reads, so that the
// machine's own settings do not leak into a test.
func clearHubEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
		"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME",
		"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
		"HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT",
	} {
		t.Setenv(name, "")
	}
}

func TestNewClientFromEnvDownloads(t *testing.T) {
	clearHubEnv(t)
	f := newFakeHub(t)
	content := testContent(2000)
	f.addFile("acme/private-model", "model.safetensors", lfsFile(content))
	f.private["acme/private-model"] = true
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", f.hub.URL+"/")
	t.Setenv("HF_TOKEN", testToken+"\n")
	t.Setenv("HF_HOME", home)

	c := NewClientFromEnv()
	c.HTTP = f.hub.Client()
	path, err := c.Download(t.Context(), "acme/private-model", "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	want := filepath.Join(home, "hub", "models--acme--private-model", "snapshots", testCommit, "model.safetensors")
	if path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	if c.Endpoint != f.hub.URL {
		t.Errorf("Endpoint = %q, want %q without the trailing slash", c.Endpoint, f.hub.URL)
	}
	if c.Token != testToken {
		t.Errorf("Token = %q, want it trimmed to %q", c.Token, testToken)
	}
	if c.MaxRetries != DefaultMaxRetries {
		t.Errorf("MaxRetries = %d, want %d", c.MaxRetries, DefaultMaxRetries)
	}
	if c.Offline {
		t.Error("Offline = true with HF_HUB_OFFLINE unset")
	}
}

func TestNewClientFromEnvDefaults(t *testing.T) {
	clearHubEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)

	c := NewClientFromEnv()

	if c.endpoint() != DefaultEndpoint {
		t.Errorf("endpoint = %q, want %q", c.endpoint(), DefaultEndpoint)
	}
	if want := filepath.Join(home, ".cache", "huggingface", "hub"); c.CacheDir != want {
		t.Errorf("CacheDir = %q, want %q", c.CacheDir, want)
	}
	if c.Token != "" {
		t.Errorf("Token = %q, want empty", c.Token)
	}
	if c.metadataTimeout() != DefaultMetadataTimeout || c.readTimeout() != DefaultReadTimeout {
		t.Errorf("timeouts = %v, %v, want the defaults", c.metadataTimeout(), c.readTimeout())
	}
}

func TestNewClientFromEnvSettings(t *testing.T) {
	clearHubEnv(t)
	t.Setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy")
	t.Setenv("HF_HUB_ETAG_TIMEOUT", "3")
	t.Setenv("HF_HUB_DOWNLOAD_TIMEOUT", "45")

	c := NewClientFromEnv()

	if c.Token != "hf_legacy" {
		t.Errorf("Token = %q, want the HUGGING_FACE_HUB_TOKEN value", c.Token)
	}
	if c.MetadataTimeout != 3*time.Second {
		t.Errorf("MetadataTimeout = %v, want 3s", c.MetadataTimeout)
	}
	if c.ReadTimeout != 45*time.Second {
		t.Errorf("ReadTimeout = %v, want 45s", c.ReadTimeout)
	}

	t.Setenv("HF_TOKEN", "hf_new")
	if got := NewClientFromEnv().Token; got != "hf_new" {
		t.Errorf("Token = %q, want HF_TOKEN to take precedence", got)
	}
}

func TestNewClientFromEnvOffline(t *testing.T) {
	tests := []struct {
		name, variable, value string
		want                  bool
	}{
		{"one", "HF_HUB_OFFLINE", "1", true},
		{"true lowercase", "HF_HUB_OFFLINE", "true", true},
		{"yes", "HF_HUB_OFFLINE", "YES", true},
		{"on", "HF_HUB_OFFLINE", "On", true},
		{"zero", "HF_HUB_OFFLINE", "0", false},
		{"false", "HF_HUB_OFFLINE", "false", false},
		{"empty", "HF_HUB_OFFLINE", "", false},
		{"transformers", "TRANSFORMERS_OFFLINE", "1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearHubEnv(t)
			t.Setenv(tt.variable, tt.value)
			if got := NewClientFromEnv().Offline; got != tt.want {
				t.Errorf("%s=%q: Offline = %v, want %v", tt.variable, tt.value, got, tt.want)
			}
		})
	}
}

func TestDefaultCacheDirPrecedence(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"HF_HUB_CACHE first", map[string]string{
			"HF_HUB_CACHE": "/a", "HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c", "XDG_CACHE_HOME": "/d",
		}, "/a"},
		{"legacy HUGGINGFACE_HUB_CACHE", map[string]string{
			"HUGGINGFACE_HUB_CACHE": "/b", "HF_HOME": "/c", "XDG_CACHE_HOME": "/d",
		}, "/b"},
		{"HF_HOME", map[string]string{"HF_HOME": "/c", "XDG_CACHE_HOME": "/d"}, filepath.Join("/c", "hub")},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "/d"}, filepath.Join("/d", "huggingface", "hub")},
		{"home", map[string]string{}, filepath.Join(home, ".cache", "huggingface", "hub")},
		{"tilde", map[string]string{"HF_HOME": "~/hf"}, filepath.Join(home, "hf", "hub")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearHubEnv(t)
			t.Setenv("HOME", home)
			for name, value := range tt.env {
				t.Setenv(name, value)
			}

			got, err := DefaultCacheDir()

			if err != nil {
				t.Fatalf("DefaultCacheDir: %v", err)
			}
			if got != tt.want {
				t.Errorf("DefaultCacheDir = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHubCacheEnvOverridesHome(t *testing.T) {
	clearHubEnv(t)
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	cache := t.TempDir()
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", f.hub.URL)
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_HUB_CACHE", cache)

	c := NewClientFromEnv()
	c.HTTP = f.hub.Client()
	path, err := c.Download(t.Context(), testRepo, "main", "config.json")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if want := filepath.Join(cache, "models--facebook--data2vec-vision-base-ft1k", "snapshots", testCommit, "config.json"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("HF_HOME contains %d entries, want none because HF_HUB_CACHE takes precedence", len(entries))
	}
}

func TestOfflineEnvSendsNoRequest(t *testing.T) {
	clearHubEnv(t)
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	t.Setenv("HF_ENDPOINT", f.hub.URL)
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "1")

	c := NewClientFromEnv()
	c.HTTP = f.hub.Client()
	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	if !IsNotFound(err) {
		t.Errorf("error = %v, want a not-cached error", err)
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("sent %d requests with HF_HUB_OFFLINE=1, want 0", n)
	}
}
