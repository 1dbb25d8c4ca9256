package server

import (
	"net/http"
	"runtime/metrics"
)

// Go runtime metrics reported by GET /healthz.
var memoryMetrics = map[string]string{
	"go_heap_live_bytes":    "/gc/heap/live:bytes",                // heap marked live by the last GC
	"go_heap_objects_bytes": "/memory/classes/heap/objects:bytes", // live and not yet swept objects
	"go_heap_goal_bytes":    "/gc/heap/goal:bytes",                // heap size that triggers the next GC
	"go_total_bytes":        "/memory/classes/total:bytes",        // all memory the runtime has mapped
}

// health serves GET /healthz: 200 when a model is loaded, 503 otherwise.
func (s *Server) health(w http.ResponseWriter) {
	s.mu.Lock()
	body := map[string]any{
		"status":        s.state,
		"model_loaded":  s.classifier != nil,
		"model_id":      s.modelID,
		"load_count":    s.loads,
		"load_attempts": s.loadAttempts,
		"load_ms":       milliseconds(s.loadDuration),
		"model_bytes":   s.modelBytes,
		"instance":      s.Instance,
	}
	if s.loadErr != nil {
		body["error"] = s.loadErr.Error()
	}
	loaded := s.classifier != nil
	s.mu.Unlock()
	body["requests"] = s.requests.Load()
	body["memory"] = s.memoryFigures()

	status := http.StatusOK
	if !loaded {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// memoryFigures returns the Go heap figures and the wasm memory size in
// bytes.
func (s *Server) memoryFigures() map[string]int64 {
	names := make([]string, 0, len(memoryMetrics))
	keys := make([]string, 0, len(memoryMetrics))
	for key, name := range memoryMetrics {
		keys = append(keys, key)
		names = append(names, name)
	}
	samples := make([]metrics.Sample, len(names))
	for i, name := range names {
		samples[i].Name = name
	}
	metrics.Read(samples)

	figures := map[string]int64{}
	for i, sample := range samples {
		if sample.Value.Kind() == metrics.KindUint64 {
			figures[keys[i]] = int64(sample.Value.Uint64())
		}
	}
	if s.WasmMemoryBytes != nil {
		figures["wasm_memory_bytes"] = s.WasmMemoryBytes()
	}
	return figures
}
