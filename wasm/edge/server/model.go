package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// ModelState is the life-cycle stage of a Server's model.
type ModelState string

// Model states, as reported by GET /healthz.
const (
	StateIdle    ModelState = "idle"    // no load has started
	StateLoading ModelState = "loading" // a Loader is receiving files
	StateReady   ModelState = "ready"   // requests are classified
	StateFailed  ModelState = "failed"  // the last load failed; a new one may start
	// StateUnavailable means the worker could not start (see NewFailed), so
	// no model is loaded.
	StateUnavailable ModelState = "unavailable"
)

// Names of a converted model's files (see tools/convert).
const (
	IndexFile        = "model.safetensors.index.json"
	SingleWeightFile = "model.safetensors"
)

// WeightFiles returns the weight files to load, in order: the shards named
// by the weight_map of model.safetensors.index.json, or model.safetensors
// alone when index is nil. Names must be plain .safetensors file names,
// because they are appended to a storage key prefix.
func WeightFiles(index []byte) ([]string, error) {
	if index == nil {
		return []string{SingleWeightFile}, nil
	}
	var parsed struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(index, &parsed); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", IndexFile, err)
	}
	seen := map[string]bool{}
	for tensor, file := range parsed.WeightMap {
		if file == "" || path.Base(file) != file || strings.HasPrefix(file, ".") || path.Ext(file) != ".safetensors" {
			return nil, fmt.Errorf("invalid %s: tensor %q maps to %q, want a .safetensors file name without folders", IndexFile, tensor, file)
		}
		seen[file] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("invalid %s: weight_map names no file", IndexFile)
	}
	files := make([]string, 0, len(seen))
	for file := range seen {
		files = append(files, file)
	}
	sort.Strings(files)
	return files, nil
}

// Loader receives the weight files of a model one at a time, each as a
// sequence of chunks copied into a buffer of the file's declared size. The
// buffers become the model's memory (int8 weights alias them), so the model
// exists once, in Go memory, and the sender never needs a whole file at
// once. A Loader is used by one goroutine; Finish or Fail ends it.
type Loader struct {
	server  *Server
	attempt int
	started time.Time
	files   map[string][]byte
	total   int64

	current string // file being received, "" between files
	buffer  []byte
	offset  int

	ended bool
}

// errSuperseded is returned by a Loader after a newer BeginLoad.
var errSuperseded = errors.New("model load superseded by a newer one")

// BeginLoad starts loading a model. A load still in progress is superseded:
// its Finish and Fail no longer change the server. A model loaded earlier
// serves requests until Finish replaces it.
func (s *Server) BeginLoad() *Loader {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.classifier == nil {
		s.state = StateLoading
	}
	s.loadErr = nil
	s.loadAttempts++
	s.log.Info("model load started", "attempt", s.loadAttempts)
	return &Loader{server: s, attempt: s.loadAttempts, started: time.Now(), files: map[string][]byte{}}
}

// Attempt returns the load's sequence number, 1 for the server's first.
func (l *Loader) Attempt() int { return l.attempt }

// BeginFile starts receiving the file name of size bytes.
func (l *Loader) BeginFile(name string, size int64) error {
	switch {
	case l.ended:
		return errors.New("model load has ended")
	case l.current != "":
		return fmt.Errorf("cannot begin %s: %s is still being received", name, l.current)
	case path.Ext(name) != ".safetensors":
		return fmt.Errorf("invalid weight file name %q: want a .safetensors file", name)
	case l.files[name] != nil:
		return fmt.Errorf("weight file %s received twice", name)
	case size < 1:
		return fmt.Errorf("weight file %s is empty", name)
	case l.total+size > l.server.cfg.MaxModelBytes:
		return fmt.Errorf("weight files exceed %s=%d bytes at %s (%d bytes so far plus %d)", EnvMaxModelBytes, l.server.cfg.MaxModelBytes, name, l.total, size)
	}
	l.current = name
	l.buffer = make([]byte, size)
	l.offset = 0
	return nil
}

// Write copies the next chunk of the current file.
func (l *Loader) Write(chunk []byte) error {
	if l.current == "" {
		return errors.New("no weight file is being received")
	}
	if len(chunk) > len(l.buffer)-l.offset {
		return fmt.Errorf("weight file %s is longer than its declared %d bytes", l.current, len(l.buffer))
	}
	l.offset += copy(l.buffer[l.offset:], chunk)
	return nil
}

// Buffer returns the unwritten rest of the current file's buffer, so that a
// caller that can copy into Go memory directly (the wasm bridge) fills it
// without an intermediate chunk. Advance records how much was written.
func (l *Loader) Buffer() []byte {
	if l.current == "" {
		return nil
	}
	return l.buffer[l.offset:]
}

// Advance records n bytes written into Buffer.
func (l *Loader) Advance(n int) error {
	switch {
	case l.current == "":
		return errors.New("no weight file is being received")
	case n < 0:
		return fmt.Errorf("invalid advance of %d bytes", n)
	case n > len(l.buffer)-l.offset:
		return fmt.Errorf("weight file %s is longer than its declared %d bytes", l.current, len(l.buffer))
	}
	l.offset += n
	return nil
}

// EndFile checks that the current file is complete.
func (l *Loader) EndFile() error {
	if l.current == "" {
		return errors.New("no weight file is being received")
	}
	if l.offset != len(l.buffer) {
		return fmt.Errorf("weight file %s ended after %d of %d bytes", l.current, l.offset, len(l.buffer))
	}
	l.files[l.current] = l.buffer
	l.total += int64(len(l.buffer))
	l.current, l.buffer, l.offset = "", nil, 0
	return nil
}

// Finish builds the classifier from the received files and makes it the
// server's model. On error the server's state becomes failed.
func (l *Loader) Finish() error {
	if l.ended {
		return errors.New("model load has ended")
	}
	if l.current != "" {
		return l.Fail(fmt.Errorf("weight file %s was not completed", l.current))
	}
	c, err := classifier.FromFiles(l.files)
	if err != nil {
		return l.Fail(fmt.Errorf("building the model: %w", err))
	}
	c.MaxPixels = l.server.cfg.MaxPixels
	id := l.server.cfg.ModelID
	if id == "" {
		id = sourceModel(l.files)
	}

	s := l.server
	l.ended = true
	l.files = nil
	elapsed := time.Since(l.started)
	s.mu.Lock()
	if s.loadAttempts != l.attempt {
		s.mu.Unlock()
		return errSuperseded
	}
	s.classifier = c
	s.modelID = id
	s.state = StateReady
	s.loads++
	s.loadDuration = elapsed
	s.modelBytes = l.total
	loads := s.loads
	s.mu.Unlock()
	s.log.Info("model loaded", "model_id", id, "bytes", l.total, "load_ms", milliseconds(elapsed), "load_count", loads)
	return nil
}

// Fail ends the load with err, which GET /healthz and later classify
// requests report until a new load succeeds. A model loaded earlier stays in
// use. Fail returns err.
func (l *Loader) Fail(err error) error {
	if l.ended {
		return err
	}
	l.ended = true
	l.files, l.buffer = nil, nil
	s := l.server
	s.mu.Lock()
	if s.loadAttempts != l.attempt {
		s.mu.Unlock()
		return err
	}
	s.loadErr = err
	if s.classifier != nil {
		s.state = StateReady
	} else {
		s.state = StateFailed
	}
	s.mu.Unlock()
	s.log.Error("model load failed", "err", err)
	return err
}

// sourceModel returns the d2v.source_model metadata of the first weight
// file, or "unknown".
func sourceModel(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := safetensors.Parse(files[name])
		if err == nil && f.Metadata[quantize.MetaSourceModel] != "" {
			return f.Metadata[quantize.MetaSourceModel]
		}
	}
	return "unknown"
}

// modelSnapshot is the model state at one moment.
type modelSnapshot struct {
	state      ModelState
	classifier *classifier.Classifier
	modelID    string
	loadErr    error
}

func (s *Server) snapshot() modelSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return modelSnapshot{state: s.state, classifier: s.classifier, modelID: s.modelID, loadErr: s.loadErr}
}

// State returns the model's state.
func (s *Server) State() ModelState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
