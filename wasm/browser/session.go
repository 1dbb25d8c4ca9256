//go:build js && wasm

package main

import (
	"errors"
	"path"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/preprocess"
)

// defaultMaxPixels is the pixel limit for decoded images in the browser.
// A 50-megapixel image takes about 350 MB in Go memory while it is decoded
// and converted (RGBA, then RGB), which stays within the 4 GiB address space
// of 32-bit WebAssembly next to a base-size model.
const defaultMaxPixels = 50_000_000

// session is the state behind the d2v object: the model files added so far
// and the loaded classifier.
type session struct {
	mu           sync.Mutex
	pending      map[string][]byte // files added since the last loadModel
	pendingBytes int64
	clf          *classifier.Classifier
	modelBytes   int64 // size of the files the classifier was built from
	maxPixels    int
}

func newSession() *session {
	return &session{pending: map[string][]byte{}, maxPixels: defaultMaxPixels}
}

// addFile stores one model file. A name that was added before is replaced.
func (s *session) addFile(name string, data []byte) (files int, total int64, err error) {
	if name == "" || path.Base(name) != name {
		return 0, 0, invalidArgument("model file name %q must be a plain file name", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pending[name]; ok {
		s.pendingBytes -= int64(len(old))
	}
	s.pending[name] = data
	s.pendingBytes += int64(len(data))
	return len(s.pending), s.pendingBytes, nil
}

// modelInfo describes a loaded classifier.
type modelInfo struct {
	labels     []string
	modelType  string
	imageSize  int
	layers     int
	hiddenSize int
	bytes      int64
	elapsed    time.Duration
}

// load builds the classifier from the added files and drops the files that
// it does not reference. The added files are cleared whether or not the load
// succeeds, so a failed load leaves no half-added model behind. The previous
// classifier stays in use if the load fails.
func (s *session) load(maxPixels int) (modelInfo, error) {
	start := time.Now()
	s.mu.Lock()
	files, total := s.pending, s.pendingBytes
	s.pending, s.pendingBytes = map[string][]byte{}, 0
	s.mu.Unlock()

	if len(files) == 0 {
		return modelInfo{}, invalidArgument("no model files: call addModelFile for each file, or pass {files: {name: bytes}}")
	}
	clf, err := classifier.FromFiles(files)
	if err != nil {
		return modelInfo{}, withCode(codeInvalidModel, err)
	}
	if maxPixels > 0 {
		clf.MaxPixels = maxPixels
	} else {
		clf.MaxPixels = s.maxPixels
	}

	s.mu.Lock()
	s.clf, s.modelBytes = clf, total
	s.mu.Unlock()
	releaseMemory()

	cfg := clf.Model.Config
	return modelInfo{
		labels:     clf.Labels(),
		modelType:  cfg.ModelType,
		imageSize:  cfg.ImageSize,
		layers:     cfg.NumHiddenLayers,
		hiddenSize: cfg.HiddenSize,
		bytes:      total,
		elapsed:    time.Since(start),
	}, nil
}

// unload drops the classifier and any added files.
func (s *session) unload() {
	s.mu.Lock()
	s.clf, s.modelBytes = nil, 0
	s.pending, s.pendingBytes = map[string][]byte{}, 0
	s.mu.Unlock()
	releaseMemory()
}

func (s *session) classifier() (*classifier.Classifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clf == nil {
		return nil, withCode(codeNoModel, errors.New("no model loaded: call loadModel first"))
	}
	return s.clf, nil
}

// result is one classification with its duration.
type result struct {
	*classifier.Result
	width, height int
	elapsed       time.Duration
}

func (s *session) classifyImage(data []byte, k int) (result, error) {
	clf, err := s.classifier()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	img, err := clf.DecodeImage(data)
	if err != nil {
		return result{}, withCode(imageErrorCode(err), err)
	}
	r, err := clf.ClassifyRGB(img, k)
	if err != nil {
		return result{}, err
	}
	return result{Result: r, width: img.Width, height: img.Height, elapsed: time.Since(start)}, nil
}

func (s *session) classifyPixels(rgba []byte, width, height, k int) (result, error) {
	clf, err := s.classifier()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	r, err := clf.ClassifyRGBA(rgba, width, height, k)
	if err != nil {
		return result{}, withCode(codeInvalidArgument, err)
	}
	return result{Result: r, width: width, height: height, elapsed: time.Since(start)}, nil
}

// decodeRGBA decodes an encoded image to straight-alpha RGBA with opaque
// pixels, the layout of a canvas ImageData, applying the loaded model's pixel
// limit (or the default one before any model is loaded).
func (s *session) decodeRGBA(data []byte) (rgba []byte, width, height int, err error) {
	s.mu.Lock()
	maxPixels := s.maxPixels
	if s.clf != nil {
		maxPixels = s.clf.MaxPixels
	}
	s.mu.Unlock()

	img, err := preprocess.DecodeBytes(data, maxPixels)
	if err != nil {
		return nil, 0, 0, withCode(imageErrorCode(err), err)
	}
	rgba = make([]byte, 4*img.Width*img.Height)
	for i, o := 0, 0; i < len(img.Pix); i, o = i+3, o+4 {
		rgba[o], rgba[o+1], rgba[o+2], rgba[o+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xff
	}
	return rgba, img.Width, img.Height, nil
}

// modelFileBytes returns the bytes held for the loaded model and for files
// added since.
func (s *session) modelFileBytes() (loaded, pending int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modelBytes, s.pendingBytes
}

// releaseMemory collects garbage and returns free pages to the runtime's
// pool. WebAssembly memory never shrinks, but freed pages are reused before
// the memory grows again.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

func checkTopK(k int) error {
	if k < 1 {
		return invalidArgument("topK must be at least 1, got %d", k)
	}
	return nil
}

func checkSize(width, height int) error {
	if width < 1 || height < 1 {
		return invalidArgument("image size %dx%d must be positive", width, height)
	}
	return nil
}
