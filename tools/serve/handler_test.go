package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// siteFiles builds a small site: compressible text, a wasm-like binary with
// repetitive content, and incompressible weights.
func siteFiles(t *testing.T) (dir string, files map[string][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	weights := make([]byte, 8192)
	for i := range weights {
		weights[i] = byte(rng.Uint32())
	}
	files = map[string][]byte{
		"index.html":                        []byte("<!doctype html><title>t</title>" + strings.Repeat("<p>hello</p>", 200)),
		"app.js":                            []byte(strings.Repeat("console.log('app');\n", 200)),
		"module.mjs":                        []byte("export const x = 1;\n"),
		"style.css":                         []byte(strings.Repeat("body { margin: 0 }\n", 100)),
		"d2v.wasm":                          bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00 wasm bytes "), 500),
		"icon.svg":                          []byte("<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
		"manifest.webmanifest":              []byte(`{"name": "x"}`),
		"models/models.json":                []byte(`[{"id": "m"}]`),
		"models/m/model.safetensors":        weights,
		"models/m/config.json":              []byte(strings.Repeat(`{"a": 1}`, 300)),
		"empty/.keep":                       nil,
		".git/config":                       []byte("secret"),
		"sub/index.html":                    []byte("<p>sub</p>"),
		"unknown.d2vunknownext":             []byte("data"),
		"models/m/preprocessor_config.json": []byte("{}"),
	}
	dir = t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

func newTestHandler(t *testing.T) (*Handler, map[string][]byte, string) {
	t.Helper()
	dir, files := siteFiles(t)
	return NewHandler(dir, slog.New(slog.NewTextHandler(io.Discard, nil))), files, dir
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for key, values := range header {
		req.Header[key] = values
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestContentTypes(t *testing.T) {
	h, _, _ := newTestHandler(t)
	cases := map[string]string{
		"/index.html":                 "text/html; charset=utf-8",
		"/app.js":                     "text/javascript; charset=utf-8",
		"/module.mjs":                 "text/javascript; charset=utf-8",
		"/style.css":                  "text/css; charset=utf-8",
		"/d2v.wasm":                   "application/wasm",
		"/icon.svg":                   "image/svg+xml",
		"/manifest.webmanifest":       "application/manifest+json",
		"/models/models.json":         "application/json",
		"/models/m/model.safetensors": "application/octet-stream",
		"/unknown.d2vunknownext":      "application/octet-stream",
	}
	for target, want := range cases {
		resp := get(t, h, http.MethodGet, target, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d, want 200", target, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", target, got, want)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", target, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", target, got)
		}
	}
}

func TestGzipWhenAccepted(t *testing.T) {
	h, files, _ := newTestHandler(t)
	for _, name := range []string{"d2v.wasm", "app.js", "index.html", "models/m/config.json"} {
		resp := get(t, h, http.MethodGet, "/"+name, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
		body := readBody(t, resp)
		if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("%s: Content-Encoding %q, want gzip", name, got)
			continue
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %s, body has %d bytes", name, got, len(body))
		}
		if got := resp.Header.Get(UncompressedLengthHeader); got != strconv.Itoa(len(files[name])) {
			t.Errorf("%s: %s %s, want %d", name, UncompressedLengthHeader, got, len(files[name]))
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Vary %q lacks Accept-Encoding", name, resp.Header.Get("Vary"))
		}
		if len(body) >= len(files[name]) {
			t.Errorf("%s: gzip body of %d bytes is not smaller than the file's %d", name, len(body), len(files[name]))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(plain, files[name]) {
			t.Errorf("%s: decompressed body differs from the file", name)
		}
	}
}

func TestNoGzipWithoutAcceptEncoding(t *testing.T) {
	h, files, _ := newTestHandler(t)
	for _, accept := range []string{"", "identity", "gzip;q=0", "br"} {
		resp := get(t, h, http.MethodGet, "/d2v.wasm", http.Header{"Accept-Encoding": {accept}})
		body := readBody(t, resp)
		if got := resp.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want none", accept, got)
		}
		if !bytes.Equal(body, files["d2v.wasm"]) {
			t.Errorf("Accept-Encoding %q: body differs from the file", accept)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(files["d2v.wasm"])) {
			t.Errorf("Accept-Encoding %q: Content-Length %s, want %d", accept, got, len(files["d2v.wasm"]))
		}
	}
}

func TestWeightsAndSmallFilesNotCompressed(t *testing.T) {
	h, files, _ := newTestHandler(t)
	for _, name := range []string{"models/m/model.safetensors", "models/models.json", "module.mjs"} {
		resp := get(t, h, http.MethodGet, "/"+name, http.Header{"Accept-Encoding": {"gzip"}})
		body := readBody(t, resp)
		if got := resp.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("%s: Content-Encoding %q, want none", name, got)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(files[name])) {
			t.Errorf("%s: Content-Length %s, want %d", name, got, len(files[name]))
		}
		if !bytes.Equal(body, files[name]) {
			t.Errorf("%s: body differs from the file", name)
		}
	}
}

func TestRangeRequests(t *testing.T) {
	h, files, _ := newTestHandler(t)
	// A range on a compressible file is served from the identity encoding,
	// so that byte offsets refer to the file itself.
	for _, name := range []string{"models/m/model.safetensors", "d2v.wasm"} {
		resp := get(t, h, http.MethodGet, "/"+name, http.Header{"Range": {"bytes=100-199"}, "Accept-Encoding": {"gzip"}})
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusPartialContent {
			t.Errorf("%s: status %d, want 206", name, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("%s: Content-Encoding %q on a range, want none", name, got)
		}
		if want := "bytes 100-199/" + strconv.Itoa(len(files[name])); resp.Header.Get("Content-Range") != want {
			t.Errorf("%s: Content-Range %q, want %q", name, resp.Header.Get("Content-Range"), want)
		}
		if !bytes.Equal(body, files[name][100:200]) {
			t.Errorf("%s: range body differs from bytes 100-199 of the file", name)
		}
	}
}

func TestNotModified(t *testing.T) {
	h, _, _ := newTestHandler(t)
	for _, accept := range []string{"gzip", ""} {
		first := get(t, h, http.MethodGet, "/d2v.wasm", http.Header{"Accept-Encoding": {accept}})
		readBody(t, first)
		etag := first.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("Accept-Encoding %q: no ETag", accept)
		}
		second := get(t, h, http.MethodGet, "/d2v.wasm", http.Header{"Accept-Encoding": {accept}, "If-None-Match": {etag}})
		if body := readBody(t, second); second.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("Accept-Encoding %q: revalidation gave status %d with %d bytes, want 304 and none", accept, second.StatusCode, len(body))
		}
	}

	gzipped := get(t, h, http.MethodGet, "/d2v.wasm", http.Header{"Accept-Encoding": {"gzip"}})
	plain := get(t, h, http.MethodGet, "/d2v.wasm", nil)
	if gzipped.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Errorf("gzip and identity responses share the ETag %s", plain.Header.Get("ETag"))
	}
}

func TestChangedFileIsCompressedAgain(t *testing.T) {
	h, _, dir := newTestHandler(t)
	first := readBody(t, get(t, h, http.MethodGet, "/app.js", http.Header{"Accept-Encoding": {"gzip"}}))

	changed := []byte(strings.Repeat("console.log('changed');\n", 300))
	path := filepath.Join(dir, "app.js")
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	second := readBody(t, get(t, h, http.MethodGet, "/app.js", http.Header{"Accept-Encoding": {"gzip"}}))
	if bytes.Equal(first, second) {
		t.Fatal("the compressed copy was not refreshed after the file changed")
	}
	zr, err := gzip.NewReader(bytes.NewReader(second))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, changed) {
		t.Error("the refreshed copy does not decompress to the new file")
	}
}

func TestHeadRequest(t *testing.T) {
	h, files, _ := newTestHandler(t)
	resp := get(t, h, http.MethodHead, "/d2v.wasm", http.Header{"Accept-Encoding": {"gzip"}})
	if body := readBody(t, resp); len(body) != 0 {
		t.Errorf("HEAD returned %d body bytes", len(body))
	}
	if resp.Header.Get(UncompressedLengthHeader) != strconv.Itoa(len(files["d2v.wasm"])) {
		t.Errorf("HEAD lacks %s", UncompressedLengthHeader)
	}
}

func TestDirectories(t *testing.T) {
	h, files, _ := newTestHandler(t)

	root := get(t, h, http.MethodGet, "/", nil)
	if body := readBody(t, root); root.StatusCode != http.StatusOK || !bytes.Equal(body, files["index.html"]) {
		t.Errorf("/: status %d, want 200 with index.html", root.StatusCode)
	}
	if got := root.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("/: Content-Type %q", got)
	}

	redirect := get(t, h, http.MethodGet, "/sub", nil)
	if redirect.StatusCode != http.StatusMovedPermanently || redirect.Header.Get("Location") != "/sub/" {
		t.Errorf("/sub: status %d, Location %q, want 301 to /sub/", redirect.StatusCode, redirect.Header.Get("Location"))
	}

	// Folders without index.html are not listed.
	if resp := get(t, h, http.MethodGet, "/models/", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/models/: status %d, want 404", resp.StatusCode)
	}
}

func TestRejectedRequests(t *testing.T) {
	h, _, _ := newTestHandler(t)
	for _, target := range []string{"/.git/config", "/empty/.keep", "/missing.js", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"} {
		if resp := get(t, h, http.MethodGet, target, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, resp.StatusCode)
		}
	}
	resp := get(t, h, http.MethodPost, "/index.html", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q, want 405 and GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"gzip, deflate, br":      true,
		"br, gzip;q=0.5":         true,
		"gzip;q=0":               false,
		"gzip; q=0.0":            false,
		"identity":               false,
		"*":                      true,
		"*;q=0":                  false,
		"*, gzip;q=0":            false,
		"gzip;q=0, *":            false,
		"deflate, *;q=0.1":       true,
		"x-gzip":                 false,
		"gzip;level=1;q=0.3":     true,
		"gzip;q=invalid":         true,
		"identity;q=1, gzip;q=1": true,
	}
	for header, want := range cases {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	cases := []struct {
		header, etag string
		want         bool
	}{
		{`"a"`, `"a"`, true},
		{`W/"a"`, `"a"`, true},
		{`"b", "a"`, `"a"`, true},
		{`*`, `"a"`, true},
		{`"b"`, `"a"`, false},
		{``, `"a"`, false},
		{`"a-gzip"`, `"a"`, false},
	}
	for _, c := range cases {
		if got := etagMatches(c.header, c.etag); got != c.want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", c.header, c.etag, got, c.want)
		}
	}
}

func TestRequestLog(t *testing.T) {
	dir, _ := siteFiles(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := logRequests(NewHandler(dir, log), log)

	readBody(t, get(t, h, http.MethodGet, "/app.js", http.Header{"Accept-Encoding": {"gzip"}}))
	readBody(t, get(t, h, http.MethodGet, "/missing.js", nil))

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"level=INFO", "method=GET", "path=/app.js", "status=200", "encoding=gzip"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
	for _, want := range []string{"level=WARN", "path=/missing.js", "status=404"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("log line %q lacks %q", lines[1], want)
		}
	}
}
