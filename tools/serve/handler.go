package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UncompressedLengthHeader carries the size of a file before gzip, so that a
// download progress bar can show a total even though the body arrives
// decompressed and Content-Length counts compressed bytes.
const UncompressedLengthHeader = "X-Uncompressed-Length"

// minGzipBytes is the smallest file worth compressing: below it the gzip
// header and the extra round of work cost more than they save.
const minGzipBytes = 1024

// maxGzipCacheBytes bounds the memory that compressed copies may take. When
// a new entry would exceed it, the cache is emptied and refilled on demand.
const maxGzipCacheBytes = 64 << 20

// contentTypes maps file extensions to the MIME types the page needs.
// Browsers require application/wasm for WebAssembly.instantiateStreaming and
// a JavaScript type for module scripts and workers. The system's MIME table
// may lack these or differ between machines, so they are fixed here.
var contentTypes = map[string]string{
	".css":         "text/css; charset=utf-8",
	".gif":         "image/gif",
	".html":        "text/html; charset=utf-8",
	".ico":         "image/x-icon",
	".jpeg":        "image/jpeg",
	".jpg":         "image/jpeg",
	".js":          "text/javascript; charset=utf-8",
	".json":        "application/json",
	".md":          "text/markdown; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".png":         "image/png",
	".safetensors": "application/octet-stream",
	".svg":         "image/svg+xml",
	".txt":         "text/plain; charset=utf-8",
	".wasm":        "application/wasm",
	".webmanifest": "application/manifest+json",
	".webp":        "image/webp",
}

// compressibleTypes are the media types (without parameters) that gzip
// shrinks well. Images are already compressed, and int8 weights shrink by
// only a few percent, so they are sent as they are.
var compressibleTypes = map[string]bool{
	"application/json":          true,
	"application/manifest+json": true,
	"application/wasm":          true,
	"image/svg+xml":             true,
	"text/css":                  true,
	"text/html":                 true,
	"text/javascript":           true,
	"text/markdown":             true,
	"text/plain":                true,
}

// Handler serves the files of one folder. Every response carries
// Cache-Control: no-cache, so browsers revalidate each file (a cheap 304
// when its ETag still matches) and an edited file shows on the next reload.
type Handler struct {
	root http.FileSystem
	log  *slog.Logger

	mu         sync.Mutex
	gzipCache  map[string]gzipEntry
	gzipCached int
}

// gzipEntry is the compressed copy of one file, valid while the file keeps
// its size and modification time.
type gzipEntry struct {
	size    int64
	modTime time.Time
	data    []byte
}

// NewHandler returns a handler that serves the files under dir. Directory
// requests get the folder's index.html, and folders are never listed.
func NewHandler(dir string, log *slog.Logger) *Handler {
	return &Handler{root: http.Dir(dir), log: log, gzipCache: map[string]gzipEntry{}}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean("/" + r.URL.Path)
	if hasDotSegment(name) {
		http.NotFound(w, r)
		return
	}

	f, info, err := h.open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()

	if info.IsDir() {
		// Relative links in index.html resolve against the folder only when
		// the URL ends in a slash.
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, path.Base(name)+"/", http.StatusMovedPermanently)
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		f, info, err = h.open(name)
		if err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
	}

	ctype := contentType(name)
	header := w.Header()
	header.Set("Content-Type", ctype)
	header.Set("Cache-Control", "no-cache")
	header.Set("X-Content-Type-Options", "nosniff")
	etag := fileETag(info)

	if isCompressible(ctype) {
		header.Add("Vary", "Accept-Encoding")
		if r.Header.Get("Range") == "" && info.Size() >= minGzipBytes && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.serveGzip(w, r, name, f, info, etag)
			return
		}
	}

	header.Set("ETag", etag)
	http.ServeContent(w, r, name, info.ModTime(), f)
}

func (h *Handler) open(name string) (http.File, fs.FileInfo, error) {
	f, err := h.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// serveGzip sends the gzip-compressed file with its compressed
// Content-Length and the original size in UncompressedLengthHeader. The
// compressed copy gets its own ETag, as the two representations differ.
func (h *Handler) serveGzip(w http.ResponseWriter, r *http.Request, name string, f io.Reader, info fs.FileInfo, etag string) {
	gzipETag := strings.TrimSuffix(etag, `"`) + `-gzip"`
	header := w.Header()
	header.Set("ETag", gzipETag)
	if etagMatches(r.Header.Get("If-None-Match"), gzipETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	data, err := h.compressed(name, f, info)
	if err != nil {
		h.log.Error("cannot compress file", "path", name, "err", err)
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	header.Set("Content-Encoding", "gzip")
	header.Set("Content-Length", strconv.Itoa(len(data)))
	header.Set(UncompressedLengthHeader, strconv.FormatInt(info.Size(), 10))
	header.Set("Last-Modified", info.ModTime().UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// compressed returns the gzip copy of a file, compressing it on first use and
// again whenever the file's size or modification time changes.
func (h *Handler) compressed(name string, f io.Reader, info fs.FileInfo) ([]byte, error) {
	h.mu.Lock()
	entry, ok := h.gzipCache[name]
	h.mu.Unlock()
	if ok && entry.size == info.Size() && entry.modTime.Equal(info.ModTime()) {
		return entry.data, nil
	}

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	n, err := io.Copy(zw, f)
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if n != info.Size() {
		return nil, fmt.Errorf("file changed while it was read: %d bytes read, %d expected", n, info.Size())
	}
	data := buf.Bytes()

	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.gzipCache[name]; ok {
		h.gzipCached -= len(old.data)
	}
	if h.gzipCached+len(data) > maxGzipCacheBytes {
		clear(h.gzipCache)
		h.gzipCached = 0
	}
	if len(data) <= maxGzipCacheBytes {
		h.gzipCache[name] = gzipEntry{size: info.Size(), modTime: info.ModTime(), data: data}
		h.gzipCached += len(data)
	}
	return data, nil
}

// contentType returns the MIME type for a file name: the fixed table first,
// then the system's table, then application/octet-stream.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func isCompressible(ctype string) bool {
	mediaType, _, _ := strings.Cut(ctype, ";")
	return compressibleTypes[strings.TrimSpace(mediaType)]
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// gzip listed with a q-value above zero, or, when gzip is not listed, * with
// a q-value above zero.
func acceptsGzip(acceptEncoding string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, part := range strings.Split(acceptEncoding, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, param := range strings.Split(params, ";") {
			key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.EqualFold(strings.TrimSpace(key), "q") {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					q = v
				}
			}
		}
		if coding == "gzip" {
			gzipQ = q
		} else {
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// fileETag derives a strong validator from the size and modification time,
// which change whenever a build rewrites the file.
func fileETag(info fs.FileInfo) string {
	return fmt.Sprintf(`"%x-%x"`, info.Size(), info.ModTime().UnixNano())
}

// etagMatches applies the weak comparison of RFC 9110 section 13.1.2 to an
// If-None-Match header value.
func etagMatches(ifNoneMatch, etag string) bool {
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	for _, candidate := range strings.Split(ifNoneMatch, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// hasDotSegment reports whether a cleaned URL path names a hidden file or
// folder such as .git.
func hasDotSegment(name string) bool {
	for _, segment := range strings.Split(name, "/") {
		if strings.HasPrefix(segment, ".") {
			return true
		}
	}
	return false
}

// statusRecorder captures the status code and body size for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// logRequests logs one line per request: method, path, status, bytes sent,
// content encoding and duration. Failed requests (status 400 and above) are
// logged as warnings.
func logRequests(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 400 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes,
			"encoding", w.Header().Get("Content-Encoding"), "duration", time.Since(start).Round(time.Microsecond))
	})
}
