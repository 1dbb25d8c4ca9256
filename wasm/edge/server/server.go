// Package server is the HTTP side of the edge worker: routing, limits,
// CORS, error bodies and the model's life cycle. It is plain net/http, so
// it runs and is tested natively. The js/wasm bridge in the parent folder
// drives it from the Cloudflare Workers runtime.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d2vgo/d2v/classifier"
)

// Server serves the classifier over HTTP. Its methods may be called from
// several goroutines at once.
type Server struct {
	cfg Config
	log *slog.Logger

	// WasmMemoryBytes, when set, returns the size of the WebAssembly linear
	// memory for GET /healthz.
	WasmMemoryBytes func() int64
	// Instance is the sequence number of the Go program in its isolate
	// (1 for the first), reported by GET /healthz so that a restart shows.
	Instance int

	mu           sync.Mutex // guards the fields below
	state        ModelState
	classifier   *classifier.Classifier
	modelID      string
	loadErr      error
	loadAttempts int
	loads        int
	loadDuration time.Duration
	modelBytes   int64

	requests atomic.Int64

	startErr error // set by NewFailed
}

// New returns a server without a model; BeginLoad provides one.
func New(cfg Config, log *slog.Logger) *Server {
	return &Server{cfg: cfg, log: log, state: StateIdle}
}

// NewFailed returns a server for a worker that could not start, such as
// one with an invalid configuration. GET /healthz responds 503 and every
// other request 500, both with err, which names what to fix.
func NewFailed(err error, log *slog.Logger) *Server {
	return &Server{log: log, state: StateUnavailable, startErr: err}
}

// Paths of the endpoints.
const (
	PathDescribe = "/"
	PathHealth   = "/healthz"
	PathClassify = "/classify"
)

// allowedMethods is the Allow header of each path.
var allowedMethods = map[string]string{
	PathDescribe: "GET, HEAD, OPTIONS",
	PathHealth:   "GET, HEAD, OPTIONS",
	PathClassify: "POST, OPTIONS",
}

// Response headers a browser page may read across origins.
const exposedHeaders = "X-Model-Id, X-Request-Id, X-Inference-Ms, Server-Timing"

// ServeHTTP routes a request. Every response carries CORS headers and
// X-Request-Id; errors are JSON {"error", "request_id"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	started := time.Now()
	id := requestID(r)
	rw := &statusWriter{ResponseWriter: w}

	header := rw.Header()
	header.Set("X-Request-Id", id)
	header.Set("Access-Control-Allow-Origin", "*")
	header.Set("Access-Control-Expose-Headers", exposedHeaders)
	header.Set("Timing-Allow-Origin", "*")

	defer func() {
		if v := recover(); v != nil {
			s.log.Error("request panicked", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				writeError(rw, http.StatusInternalServerError, id, "internal error")
			}
		}
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "status", rw.status, "ms", milliseconds(time.Since(started))}
		if rw.errorMessage != "" {
			attrs = append(attrs, "error", rw.errorMessage)
		}
		s.log.Info("request", attrs...)
	}()

	allow, known := allowedMethods[r.URL.Path]
	switch {
	case s.startErr != nil:
		s.unavailable(rw, r, id)
	case !known:
		writeError(rw, http.StatusNotFound, id, fmt.Sprintf("no endpoint at %s; see GET / for the endpoints", r.URL.Path))
	case r.Method == http.MethodOptions:
		s.preflight(rw, allow)
	case r.URL.Path == PathClassify && r.Method == http.MethodPost:
		s.classify(rw, r, id)
	case r.URL.Path == PathHealth && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.health(rw)
	case r.URL.Path == PathDescribe && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.describe(rw)
	default:
		rw.Header().Set("Allow", allow)
		writeError(rw, http.StatusMethodNotAllowed, id, fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	}
}

// unavailable responds to every request of a server made by NewFailed.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, id string) {
	message := "the worker could not start: " + s.startErr.Error()
	if r.URL.Path == PathHealth {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": s.state, "model_loaded": false, "error": message, "instance": s.Instance})
		return
	}
	s.log.Error("request failed because the worker could not start", "request_id", id, "err", s.startErr)
	writeError(w, http.StatusInternalServerError, id, message)
}

// preflight responds to a CORS preflight request.
func (s *Server) preflight(w http.ResponseWriter, allow string) {
	h := w.Header()
	h.Set("Allow", allow)
	h.Set("Access-Control-Allow-Methods", allow)
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// describe serves GET / with the endpoints and limits.
func (s *Server) describe(w http.ResponseWriter) {
	m := s.snapshot()
	writeJSON(w, http.StatusOK, map[string]any{
		"service":  "Data2Vec-Vision image classifier (Go compiled to WebAssembly on Cloudflare Workers)",
		"model_id": m.modelID,
		"model":    m.state,
		"endpoints": []map[string]string{
			{"method": "POST", "path": PathClassify, "description": "classify one image sent as the raw body (Content-Type image/*) or as the \"image\" field of a multipart/form-data body; ?top=N (1 to 100, default 5) sets how many labels are returned as [{label, score, index}], best first"},
			{"method": "GET", "path": PathHealth, "description": "200 when the model is loaded, 503 while it loads or after a failed load; JSON with load and memory figures"},
			{"method": "GET", "path": PathDescribe, "description": "this description"},
		},
		"limits": map[string]any{
			"max_body_bytes":   s.cfg.MaxBodyBytes,
			"max_image_pixels": s.cfg.MaxPixels,
			"top_default":      DefaultTop,
			"top_max":          MaxTop,
			"image_formats":    []string{"JPEG", "PNG", "GIF", "BMP", "TIFF", "WebP"},
		},
		"response_headers": map[string]string{
			"X-Model-Id":     "model that classified the image",
			"X-Inference-Ms": "preprocessing and model time in milliseconds, without image decoding",
			"Server-Timing":  "decode and inference durations in milliseconds",
			"X-Request-Id":   "id to quote when reporting an error; also in the worker's logs",
		},
	})
}

// requestIDPattern accepts Cloudflare's cf-ray format (hex digits, a dash
// and a data center code) and rejects anything that could garble a log line.
var requestIDPattern = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// requestID returns the request's cf-ray id, which Cloudflare's edge sets on
// every request it forwards, or a random id when there is none.
func requestID(r *http.Request) string {
	if ray := r.Header.Get("Cf-Ray"); requestIDPattern.MatchString(ray) {
		return ray
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and error message of a response for the
// request log.
type statusWriter struct {
	http.ResponseWriter
	status       int
	wroteHeader  bool
	errorMessage string // set by writeError
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}
