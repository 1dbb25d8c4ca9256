//go:build js && wasm

package main

import (
	"encoding/binary"
	"math"
	"runtime"
	"runtime/metrics"
	"syscall/js"
	"time"
)

// defaultTopK is the number of labels returned when topK is omitted.
const defaultTopK = 5

var (
	jsArray             = js.Global().Get("Array")
	jsArrayBuffer       = js.Global().Get("ArrayBuffer")
	jsFloat32Array      = js.Global().Get("Float32Array")
	jsObject            = js.Global().Get("Object")
	jsUint8Array        = js.Global().Get("Uint8Array")
	jsUint8ClampedArray = js.Global().Get("Uint8ClampedArray")
)

// newAPI returns the object that main publishes as globalThis.d2v.
func newAPI(s *session) js.Value {
	api := jsObject.New()
	api.Set("goVersion", runtime.Version())
	functions := map[string]asyncFunc{
		"addModelFile":   s.jsAddModelFile,
		"loadModel":      s.jsLoadModel,
		"unloadModel":    s.jsUnloadModel,
		"classifyImage":  s.jsClassifyImage,
		"classifyPixels": s.jsClassifyPixels,
		"decodeImage":    s.jsDecodeImage,
		"labels":         s.jsLabels,
		"memory":         s.jsMemory,
	}
	for name, f := range functions {
		api.Set(name, exportAsync(name, f))
	}
	return api
}

// jsAddModelFile implements addModelFile(name, bytes).
func (s *session) jsAddModelFile(args []js.Value) (func() (js.Value, error), error) {
	name, err := stringArg(args, 0, "name")
	if err != nil {
		return nil, err
	}
	data, err := bytesArg(args, 1, "model file "+name)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, invalidArgument("model file %s is empty", name)
	}
	files, total, err := s.addFile(name, data)
	if err != nil {
		return nil, err
	}
	return func() (js.Value, error) {
		out := jsObject.New()
		out.Set("name", name)
		out.Set("bytes", len(data))
		out.Set("files", files)
		out.Set("totalBytes", float64(total))
		return out, nil
	}, nil
}

// jsLoadModel implements loadModel(options). It first adds options.files, an
// object that maps file names to bytes. options.maxPixels replaces the
// default pixel limit of decoded images.
func (s *session) jsLoadModel(args []js.Value) (func() (js.Value, error), error) {
	maxPixels := 0
	if len(args) > 0 && !isMissing(args[0]) {
		options := args[0]
		if options.Type() != js.TypeObject {
			return nil, invalidArgument("options must be an object, got %s", describe(options))
		}
		var err error
		if maxPixels, err = intValue(property(options, "maxPixels"), "options.maxPixels", 0); err != nil {
			return nil, err
		}
		if maxPixels < 0 {
			return nil, invalidArgument("options.maxPixels must not be negative, got %d", maxPixels)
		}
		if files := property(options, "files"); !isMissing(files) {
			if err := s.addFilesObject(files); err != nil {
				return nil, err
			}
		}
	}
	return func() (js.Value, error) {
		info, err := s.load(maxPixels)
		if err != nil {
			return js.Value{}, err
		}
		labels := make([]any, len(info.labels))
		for i, l := range info.labels {
			labels[i] = l
		}
		out := jsObject.New()
		out.Set("labels", labels)
		out.Set("numLabels", len(info.labels))
		out.Set("modelType", info.modelType)
		out.Set("imageSize", info.imageSize)
		out.Set("layers", info.layers)
		out.Set("hiddenSize", info.hiddenSize)
		out.Set("bytes", float64(info.bytes))
		out.Set("ms", milliseconds(info.elapsed))
		return out, nil
	}, nil
}

func (s *session) addFilesObject(files js.Value) error {
	if files.Type() != js.TypeObject {
		return invalidArgument("options.files must be an object that maps file names to bytes, got %s", describe(files))
	}
	names := jsObject.Call("keys", files)
	for i := range names.Length() {
		name := names.Index(i).String()
		data, err := bytesValue(property(files, name), "model file "+name)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return invalidArgument("model file %s is empty", name)
		}
		if _, _, err := s.addFile(name, data); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) jsUnloadModel([]js.Value) (func() (js.Value, error), error) {
	return func() (js.Value, error) {
		s.unload()
		return js.Undefined(), nil
	}, nil
}

// jsClassifyImage implements classifyImage(bytes, topK).
func (s *session) jsClassifyImage(args []js.Value) (func() (js.Value, error), error) {
	data, err := bytesArg(args, 0, "image")
	if err != nil {
		return nil, err
	}
	k, err := intArg(args, 1, "topK", defaultTopK)
	if err != nil {
		return nil, err
	}
	if err := checkTopK(k); err != nil {
		return nil, err
	}
	return func() (js.Value, error) {
		r, err := s.classifyImage(data, k)
		if err != nil {
			return js.Value{}, err
		}
		return resultObject(r), nil
	}, nil
}

// jsClassifyPixels implements classifyPixels(rgba, width, height, topK).
func (s *session) jsClassifyPixels(args []js.Value) (func() (js.Value, error), error) {
	width, err := intArg(args, 1, "width", -1)
	if err != nil {
		return nil, err
	}
	height, err := intArg(args, 2, "height", -1)
	if err != nil {
		return nil, err
	}
	if err := checkSize(width, height); err != nil {
		return nil, err
	}

	k, err := intArg(args, 3, "topK", defaultTopK)
	if err != nil {
		return nil, err
	}
	if err := checkTopK(k); err != nil {
		return nil, err
	}

	if len(args) == 0 {
		return nil, invalidArgument("missing pixels")
	}
	// Check the length before copying, so that a wrong size fails fast.
	want := 4 * int64(width) * int64(height)
	if n := byteLength(args[0]); n != want {
		return nil, invalidArgument("pixels has %d bytes, want %d (4 per pixel for %dx%d RGBA)", n, want, width, height)
	}
	rgba, err := bytesArg(args, 0, "pixels")
	if err != nil {
		return nil, err
	}
	return func() (js.Value, error) {
		r, err := s.classifyPixels(rgba, width, height, k)
		if err != nil {
			return js.Value{}, err
		}
		return resultObject(r), nil
	}, nil
}

// jsDecodeImage implements decodeImage(bytes), which returns {width, height,
// pixels: Uint8ClampedArray} for an image the browser itself cannot decode.
func (s *session) jsDecodeImage(args []js.Value) (func() (js.Value, error), error) {
	data, err := bytesArg(args, 0, "image")
	if err != nil {
		return nil, err
	}
	return func() (js.Value, error) {
		rgba, width, height, err := s.decodeRGBA(data)
		if err != nil {
			return js.Value{}, err
		}
		pixels := jsUint8ClampedArray.New(len(rgba))
		js.CopyBytesToJS(pixels, rgba)
		out := jsObject.New()
		out.Set("width", width)
		out.Set("height", height)
		out.Set("pixels", pixels)
		return out, nil
	}, nil
}

func (s *session) jsLabels([]js.Value) (func() (js.Value, error), error) {
	return func() (js.Value, error) {
		clf, err := s.classifier()
		if err != nil {
			return js.Value{}, err
		}
		labels := make([]any, len(clf.Labels()))
		for i, l := range clf.Labels() {
			labels[i] = l
		}
		return js.ValueOf(labels), nil
	}, nil
}

// memoryMetrics are the runtime/metrics samples that memory() returns, by
// result property.
var memoryMetrics = map[string]string{
	"heapObjectsBytes": "/memory/classes/heap/objects:bytes",
	"heapGoalBytes":    "/gc/heap/goal:bytes",
	"goTotalBytes":     "/memory/classes/total:bytes",
	"gcCycles":         "/gc/cycles/total:gc-cycles",
}

// jsMemory implements memory(wasmMemory). The Go side cannot see its own
// WebAssembly.Memory, so the caller passes instance.exports.mem to get
// wasmMemoryBytes, the size of the module's linear memory.
func (s *session) jsMemory(args []js.Value) (func() (js.Value, error), error) {
	wasmBytes := -1.0
	if len(args) > 0 && !isMissing(args[0]) {
		if !args[0].InstanceOf(js.Global().Get("WebAssembly").Get("Memory")) {
			return nil, invalidArgument("memory's argument must be a WebAssembly.Memory, got %s", describe(args[0]))
		}
		wasmBytes = args[0].Get("buffer").Get("byteLength").Float()
	}
	return func() (js.Value, error) {
		samples := make([]metrics.Sample, 0, len(memoryMetrics))
		keys := make([]string, 0, len(memoryMetrics))
		for key, name := range memoryMetrics {
			keys = append(keys, key)
			samples = append(samples, metrics.Sample{Name: name})
		}
		metrics.Read(samples)

		out := jsObject.New()
		for i, sample := range samples {
			if sample.Value.Kind() == metrics.KindUint64 {
				out.Set(keys[i], float64(sample.Value.Uint64()))
			}
		}
		loaded, pending := s.modelFileBytes()
		out.Set("modelFileBytes", float64(loaded))
		out.Set("pendingFileBytes", float64(pending))
		if wasmBytes >= 0 {
			out.Set("wasmMemoryBytes", wasmBytes)
		}
		return out, nil
	}, nil
}

// resultObject converts a classification to {top, logits, ms, width,
// height}.
func resultObject(r result) js.Value {
	top := jsArray.New(len(r.Top))
	for i, p := range r.Top {
		entry := jsObject.New()
		entry.Set("index", p.Index)
		entry.Set("label", p.Label)
		entry.Set("score", float64(p.Score))
		top.SetIndex(i, entry)
	}
	out := jsObject.New()
	out.Set("top", top)
	out.Set("logits", float32Array(r.Logits))
	out.Set("ms", milliseconds(r.elapsed))
	out.Set("width", r.width)
	out.Set("height", r.height)
	return out
}

// float32Array copies values into a new Float32Array. WebAssembly is
// little-endian, as are the typed arrays of every browser engine.
func float32Array(values []float32) js.Value {
	raw := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	bytes := jsUint8Array.New(len(raw))
	js.CopyBytesToJS(bytes, raw)
	return jsFloat32Array.New(bytes.Get("buffer"))
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
