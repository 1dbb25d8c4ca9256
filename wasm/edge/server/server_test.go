package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/testshared"
	"github.com/d2vgo/d2v/quantize"
)

// convertFashionMNIST writes the Fashion-MNIST model in the int8 format
// with small shards, so that loading goes through the index and several
// files, and returns the folder.
func convertFashionMNIST(t *testing.T) string {
	t.Helper()
	src := testshared.Path(t, "golden", "d2v-fashion-mnist")
	out := t.TempDir()
	opts := quantize.WriteOptions{MaxShardBytes: 64 << 10, SourceModel: "golden/d2v-fashion-mnist"}
	if _, err := quantize.WriteFolder(src, out, opts); err != nil {
		t.Fatal(err)
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testConfig() Config {
	return Config{MaxBodyBytes: DefaultMaxBodyBytes, MaxPixels: DefaultMaxPixels, MaxModelBytes: DefaultMaxModelBytes}
}

// loadModel streams the weight files of dir into s in chunks of 10 000
// bytes, as the JavaScript shim does with R2 objects.
func loadModel(t *testing.T, s *Server, dir string) {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if errors.Is(err, os.ErrNotExist) {
		index = nil
	} else if err != nil {
		t.Fatal(err)
	}
	files, err := WeightFiles(index)
	if err != nil {
		t.Fatal(err)
	}
	loader := s.BeginLoad()
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := loader.BeginFile(name, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			n := min(len(data), 10_000)
			if err := loader.Write(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		if err := loader.EndFile(); err != nil {
			t.Fatal(err)
		}
	}
	if err := loader.Finish(); err != nil {
		t.Fatal(err)
	}
}

// newLoadedServer returns a test HTTP server for a Server with the
// Fashion-MNIST model, and the folder of that model.
func newLoadedServer(t *testing.T, cfg Config) (*httptest.Server, *Server, string) {
	t.Helper()
	dir := convertFashionMNIST(t)
	s := New(cfg, discardLogger())
	loadModel(t, s, dir)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, s, dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func post(t *testing.T, url, contentType string, body io.Reader) *http.Response {
	t.Helper()
	resp, err := http.Post(url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// decodeError checks an error response: status, JSON body with a message
// and the request id of the X-Request-Id header.
func decodeError(t *testing.T, resp *http.Response, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var body errorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	if body.Error == "" {
		t.Error("error body has no message")
	}
	if body.RequestID == "" || body.RequestID != resp.Header.Get("X-Request-Id") {
		t.Errorf("request_id %q, X-Request-Id %q: want the same non-empty id", body.RequestID, resp.Header.Get("X-Request-Id"))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q on an error, want *", got)
	}
	return body.Error
}

func TestClassifyMatchesClassifier(t *testing.T) {
	ts, _, dir := newLoadedServer(t, testConfig())
	native, err := classifier.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chelsea.png", "rocket.jpg"} {
		t.Run(name, func(t *testing.T) {
			data := readFile(t, testshared.Path(t, "images", name))
			want, err := native.ClassifyImage(data, 7)
			if err != nil {
				t.Fatal(err)
			}
			resp := post(t, ts.URL+"/classify?top=7", "image/jpeg", bytes.NewReader(data))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var got []Prediction
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Top) {
				t.Fatalf("%d predictions, want %d", len(got), len(want.Top))
			}
			for i := range got {
				if got[i].Label != want.Top[i].Label || got[i].Index != want.Top[i].Index || got[i].Score != want.Top[i].Score {
					t.Errorf("prediction %d is %+v, want %+v", i, got[i], want.Top[i])
				}
			}
			if id := resp.Header.Get("X-Model-Id"); id != "golden/d2v-fashion-mnist" {
				t.Errorf("X-Model-Id %q, want the source model of the metadata", id)
			}
			if !strings.Contains(resp.Header.Get("Server-Timing"), "inference;dur=") {
				t.Errorf("Server-Timing %q has no inference duration", resp.Header.Get("Server-Timing"))
			}
			if resp.Header.Get("X-Inference-Ms") == "" {
				t.Error("X-Inference-Ms missing")
			}
		})
	}
}

func TestClassifyDefaultTopAndMultipart(t *testing.T) {
	ts, _, _ := newLoadedServer(t, testConfig())
	data := readFile(t, testshared.Path(t, "images", "coffee.png"))

	raw := post(t, ts.URL+"/classify", "image/png", bytes.NewReader(data))
	var fromRaw []Prediction
	if err := json.NewDecoder(raw.Body).Decode(&fromRaw); err != nil {
		t.Fatal(err)
	}
	if len(fromRaw) != DefaultTop {
		t.Errorf("%d predictions without ?top, want %d", len(fromRaw), DefaultTop)
	}

	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	w.WriteField("note", "fields before the image are skipped")
	part, _ := w.CreateFormFile(MultipartField, "coffee.png")
	part.Write(data)
	w.Close()
	resp := post(t, ts.URL+"/classify", w.FormDataContentType(), &form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("multipart status %d", resp.StatusCode)
	}
	var fromForm []Prediction
	if err := json.NewDecoder(resp.Body).Decode(&fromForm); err != nil {
		t.Fatal(err)
	}
	if len(fromForm) != len(fromRaw) {
		t.Fatalf("multipart gave %d predictions, raw %d", len(fromForm), len(fromRaw))
	}
	for i := range fromForm {
		if fromForm[i] != fromRaw[i] {
			t.Errorf("multipart prediction %d is %+v, raw %+v", i, fromForm[i], fromRaw[i])
		}
	}
}

// pngHeader returns a PNG signature and IHDR chunk declaring width×height
// 8-bit RGB pixels, with no image data.
func pngHeader(width, height uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 2 // bit depth 8, colour type RGB
	chunk := append([]byte("IHDR"), ihdr...)
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&out, binary.BigEndian, uint32(len(ihdr)))
	out.Write(chunk)
	binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return out.Bytes()
}

// chunkedReader hides the length of its content, so the client sends the
// body with chunked transfer encoding and no Content-Length.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestClassifyErrors(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 50_000
	cfg.MaxPixels = 1_000_000
	ts, _, _ := newLoadedServer(t, cfg)
	png := readFile(t, testshared.Path(t, "images", "chelsea.png"))

	var noImage bytes.Buffer
	form := multipart.NewWriter(&noImage)
	form.WriteField("file", "x")
	form.Close()

	tests := []struct {
		name        string
		query       string
		contentType string
		body        io.Reader
		status      int
		message     string
	}{
		{"top zero", "?top=0", "image/png", bytes.NewReader(png[:100]), http.StatusBadRequest, "invalid top"},
		{"top over max", "?top=101", "image/png", bytes.NewReader(png[:100]), http.StatusBadRequest, "invalid top"},
		{"top not a number", "?top=five", "image/png", bytes.NewReader(png[:100]), http.StatusBadRequest, "invalid top"},
		{"top repeated", "?top=1&top=2", "image/png", bytes.NewReader(png[:100]), http.StatusBadRequest, "invalid top"},
		{"content length over limit", "", "image/png", bytes.NewReader(make([]byte, 50_001)), http.StatusRequestEntityTooLarge, "exceeds the limit"},
		{"chunked body over limit", "", "image/png", chunkedReader{bytes.NewReader(make([]byte, 200_000))}, http.StatusRequestEntityTooLarge, "exceeds the limit"},
		{"multipart over limit", "", "multipart/form-data; boundary=x", chunkedReader{strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + strings.Repeat("a", 60_000))}, http.StatusRequestEntityTooLarge, "exceeds the limit"},
		{"text body", "", "text/plain", strings.NewReader("hello"), http.StatusUnsupportedMediaType, "Content-Type text/plain"},
		{"missing content type", "", "", strings.NewReader("hello"), http.StatusUnsupportedMediaType, "missing Content-Type"},
		{"multipart without boundary", "", "multipart/form-data", strings.NewReader("x"), http.StatusUnsupportedMediaType, "boundary"},
		{"svg image", "", "image/svg+xml", strings.NewReader("<svg xmlns='http://www.w3.org/2000/svg'/>"), http.StatusUnsupportedMediaType, "not a JPEG"},
		{"empty body", "", "image/png", strings.NewReader(""), http.StatusBadRequest, "empty"},
		{"truncated png", "", "image/png", bytes.NewReader(png[:200]), http.StatusBadRequest, "invalid image"},
		{"header declares huge image", "", "image/png", bytes.NewReader(pngHeader(30000, 30000)), http.StatusBadRequest, "over the limit"},
		{"multipart without image field", "", form.FormDataContentType(), &noImage, http.StatusBadRequest, `no "image" field`},
		{"invalid multipart", "", "multipart/form-data; boundary=x", strings.NewReader("not multipart"), http.StatusBadRequest, "invalid multipart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/classify"+tt.query, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			message := decodeError(t, resp, tt.status)
			if !strings.Contains(message, tt.message) {
				t.Errorf("error %q does not contain %q", message, tt.message)
			}
		})
	}
}

func TestMethodsAndRoutes(t *testing.T) {
	ts, _, _ := newLoadedServer(t, testConfig())
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/classify", http.StatusMethodNotAllowed, "POST, OPTIONS"},
		{http.MethodPut, "/classify", http.StatusMethodNotAllowed, "POST, OPTIONS"},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "GET, HEAD, OPTIONS"},
		{http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, "GET, HEAD, OPTIONS"},
		{http.MethodGet, "/missing", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			decodeError(t, resp, tt.status)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}

	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/classify", nil)
		req.Header.Set("Origin", "https://example.org")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status %d, want 204", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
			t.Errorf("Access-Control-Allow-Methods %q lacks POST", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "Content-Type" {
			t.Errorf("Access-Control-Allow-Headers %q", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		resp, err := http.Get(ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Endpoints []map[string]string `json:"endpoints"`
			Limits    map[string]any      `json:"limits"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if len(body.Endpoints) != 3 {
			t.Errorf("%d endpoints described, want 3", len(body.Endpoints))
		}
		if body.Limits["max_body_bytes"] != float64(DefaultMaxBodyBytes) {
			t.Errorf("max_body_bytes %v", body.Limits["max_body_bytes"])
		}
	})

	t.Run("head has no body", func(t *testing.T) {
		resp, err := http.Head(ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestHealthLifecycle(t *testing.T) {
	s := New(testConfig(), discardLogger())
	ts := httptest.NewServer(s)
	defer ts.Close()
	health := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}

	if status, body := health(); status != http.StatusServiceUnavailable || body["status"] != "idle" {
		t.Errorf("before any load: %d %v, want 503 idle", status, body["status"])
	}
	resp := post(t, ts.URL+"/classify", "image/png", strings.NewReader("x"))
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 before the model loads has no Retry-After")
	}
	decodeError(t, resp, http.StatusServiceUnavailable)

	loader := s.BeginLoad()
	if status, body := health(); status != http.StatusServiceUnavailable || body["status"] != "loading" {
		t.Errorf("during a load: %d %v, want 503 loading", status, body["status"])
	}
	loader.Fail(errors.New("R2 object missing"))
	status, body := health()
	if status != http.StatusServiceUnavailable || body["status"] != "failed" || body["error"] != "R2 object missing" {
		t.Errorf("after a failed load: %d %v", status, body)
	}

	loadModel(t, s, convertFashionMNIST(t))
	status, body = health()
	if status != http.StatusOK || body["status"] != "ready" || body["model_loaded"] != true {
		t.Errorf("after loading: %d %v", status, body)
	}
	if body["load_count"] != 1.0 || body["load_attempts"] != 2.0 {
		t.Errorf("load_count %v, load_attempts %v; want 1 and 2", body["load_count"], body["load_attempts"])
	}
	memory, _ := body["memory"].(map[string]any)
	if v, _ := memory["go_heap_live_bytes"].(float64); v <= 0 {
		t.Errorf("memory figures %v lack go_heap_live_bytes", memory)
	}

	// A newer load supersedes an unfinished one and a failed reload keeps
	// the loaded model.
	stale := s.BeginLoad()
	fresh := s.BeginLoad()
	if err := stale.Finish(); err == nil {
		t.Error("a superseded load finished")
	}
	fresh.Fail(errors.New("reload failed"))
	if status, body := health(); status != http.StatusOK || body["error"] != "reload failed" {
		t.Errorf("after a failed reload: %d %v, want 200 with the error", status, body)
	}
}

func TestNewFailed(t *testing.T) {
	s := NewFailed(errors.New("invalid MAX_BODY_BYTES"), discardLogger())
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp := post(t, ts.URL+"/classify", "image/png", strings.NewReader("x"))
	if message := decodeError(t, resp, http.StatusInternalServerError); !strings.Contains(message, "MAX_BODY_BYTES") {
		t.Errorf("error %q does not name the variable", message)
	}
	health, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health.Body.Close()
	if health.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz status %d, want 503", health.StatusCode)
	}
	if s.State() != StateUnavailable {
		t.Errorf("state %q, want unavailable", s.State())
	}
}

func TestRequestIDs(t *testing.T) {
	ts, _, _ := newLoadedServer(t, testConfig())
	seen := map[string]bool{}
	for range 5 {
		resp, err := http.Get(ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Fatalf("request id %q is empty or repeated", id)
		}
		seen[id] = true
	}

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.Header.Set("Cf-Ray", "8a1b2c3d4e5f6789-SJC")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "8a1b2c3d4e5f6789-SJC" {
		t.Errorf("X-Request-Id %q, want the cf-ray id", got)
	}

	req.Header.Set("Cf-Ray", "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-Id %q copied an invalid cf-ray", got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(name string) string { return env[name] }
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBodyBytes != DefaultMaxBodyBytes || cfg.MaxPixels != DefaultMaxPixels || cfg.MaxModelBytes != DefaultMaxModelBytes || cfg.ModelID != "" {
		t.Errorf("defaults %+v", cfg)
	}

	env = map[string]string{EnvModelID: "org/model", EnvMaxBodyBytes: "1000", EnvMaxPixels: "2000", EnvMaxModelBytes: "3000"}
	cfg, err = ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != (Config{ModelID: "org/model", MaxBodyBytes: 1000, MaxPixels: 2000, MaxModelBytes: 3000}) {
		t.Errorf("overrides %+v", cfg)
	}

	for _, bad := range []string{"0", "-1", "ten", "1e6", "3000000000"} {
		env = map[string]string{EnvMaxBodyBytes: bad}
		if _, err := ConfigFromEnv(getenv); err == nil || !strings.Contains(err.Error(), EnvMaxBodyBytes) {
			t.Errorf("%s=%q: error %v, want one naming the variable", EnvMaxBodyBytes, bad, err)
		}
	}
}

func TestWeightFiles(t *testing.T) {
	files, err := WeightFiles(nil)
	if err != nil || len(files) != 1 || files[0] != SingleWeightFile {
		t.Errorf("without an index: %v %v", files, err)
	}
	index := []byte(`{"metadata":{},"weight_map":{"a":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`)
	files, err = WeightFiles(index)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, ",") != "model-00001-of-00002.safetensors,model-00002-of-00002.safetensors" {
		t.Errorf("files %v, want the two shards in order", files)
	}

	for _, bad := range []string{
		`{"weight_map":{"a":"../secret.safetensors"}}`,
		`{"weight_map":{"a":"dir/model.safetensors"}}`,
		`{"weight_map":{"a":"model.bin"}}`,
		`{"weight_map":{"a":".safetensors"}}`,
		`{"weight_map":{}}`,
		`not json`,
	} {
		if _, err := WeightFiles([]byte(bad)); err == nil {
			t.Errorf("index %s accepted", bad)
		}
	}
}

func TestLoaderRejectsBadInput(t *testing.T) {
	cfg := testConfig()
	cfg.MaxModelBytes = 100
	s := New(cfg, discardLogger())

	loader := s.BeginLoad()
	if err := loader.BeginFile("model.safetensors", 101); err == nil || !strings.Contains(err.Error(), EnvMaxModelBytes) {
		t.Errorf("file over MAX_MODEL_BYTES: %v", err)
	}
	if err := loader.BeginFile("model.bin", 10); err == nil {
		t.Error("a file that is not .safetensors was accepted")
	}
	if err := loader.BeginFile("model.safetensors", 0); err == nil {
		t.Error("an empty file was accepted")
	}
	if err := loader.BeginFile("model.safetensors", 10); err != nil {
		t.Fatal(err)
	}
	if err := loader.Write(make([]byte, 11)); err == nil {
		t.Error("a write past the declared size was accepted")
	}
	if err := loader.Advance(11); err == nil {
		t.Error("an advance past the declared size was accepted")
	}
	if err := loader.Write(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := loader.EndFile(); err == nil || !strings.Contains(err.Error(), "after 4 of 10 bytes") {
		t.Errorf("short file: %v", err)
	}
	if err := loader.Finish(); err == nil {
		t.Error("a load with an unfinished file finished")
	}
	if s.State() != StateFailed {
		t.Errorf("state %q after a failed load, want failed", s.State())
	}

	loader = s.BeginLoad()
	if err := loader.BeginFile("model.safetensors", 8); err != nil {
		t.Fatal(err)
	}
	copy(loader.Buffer(), "12345678")
	if err := loader.Advance(8); err != nil {
		t.Fatal(err)
	}
	if err := loader.EndFile(); err != nil {
		t.Fatal(err)
	}
	if err := loader.BeginFile("model.safetensors", 8); err == nil {
		t.Error("the same file was accepted twice")
	}
	if err := loader.Finish(); err == nil || !strings.Contains(err.Error(), "building the model") {
		t.Errorf("garbage weights: %v", err)
	}
}

// TestScoresAreProbabilities guards the JSON shape that clients of
// transformers' pipeline expect: label, score and index, scores
// descending and summing to at most 1.
func TestScoresAreProbabilities(t *testing.T) {
	ts, _, _ := newLoadedServer(t, testConfig())
	resp := post(t, ts.URL+"/classify?top=10", "image/png", bytes.NewReader(readFile(t, testshared.Path(t, "images", "astronaut.png"))))
	var raw []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 10 {
		t.Fatalf("%d predictions, want all 10 labels", len(raw))
	}
	sum, previous := 0.0, math.Inf(1)
	for i, p := range raw {
		if len(p) != 3 || p["label"] == nil || p["score"] == nil || p["index"] == nil {
			t.Errorf("prediction %d has keys %v, want label, score and index", i, p)
		}
		score := p["score"].(float64)
		if score > previous {
			t.Errorf("prediction %d score %g is above the previous %g", i, score, previous)
		}
		previous = score
		sum += score
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("scores of all labels sum to %g, want 1", sum)
	}
}
