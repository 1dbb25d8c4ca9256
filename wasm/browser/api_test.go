//go:build js && wasm

// These tests run under Node.js:
//
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test ./wasm/browser
package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"

	"github.com/d2vgo/d2v/classifier"
)

// modelDir is the Fashion-MNIST model that the repository ships for the page.
const modelDir = "../../www/models/fashion-mnist"

func readModelFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range []string{"config.json", "preprocessor_config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(modelDir, name))
		if err != nil {
			t.Fatalf("reading the shipped model (regenerate it with make web-models): %v", err)
		}
		files[name] = data
	}
	return files
}

// await blocks until promise settles. While the test goroutine waits, the Go
// runtime returns to the JavaScript event loop, which runs the work.
func await(t *testing.T, promise js.Value) (value js.Value, rejection js.Value) {
	t.Helper()
	if promise.Type() != js.TypeObject || promise.Get("then").Type() != js.TypeFunction {
		t.Fatalf("expected a Promise, got %s", describe(promise))
	}
	type settled struct {
		value    js.Value
		rejected bool
	}
	done := make(chan settled, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- settled{value: args[0]}
		return nil
	})
	defer onResolve.Release()
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- settled{value: args[0], rejected: true}
		return nil
	})
	defer onReject.Release()
	promise.Call("then", onResolve, onReject)
	s := <-done
	if s.rejected {
		return js.Undefined(), s.value
	}
	return s.value, js.Undefined()
}

func mustResolve(t *testing.T, promise js.Value) js.Value {
	t.Helper()
	value, rejection := await(t, promise)
	if !rejection.IsUndefined() {
		t.Fatalf("promise rejected: %s", rejection.Get("message").String())
	}
	return value
}

// mustReject returns the rejection's message after checking its code.
func mustReject(t *testing.T, promise js.Value, code string) string {
	t.Helper()
	_, rejection := await(t, promise)
	if rejection.IsUndefined() {
		t.Fatalf("promise resolved, want a rejection with code %s", code)
	}
	if !rejection.InstanceOf(js.Global().Get("Error")) {
		t.Fatalf("rejection is %s, want an Error", describe(rejection))
	}
	message := rejection.Get("message").String()
	if got := rejection.Get("code").String(); got != code {
		t.Errorf("rejection code %q (message %q), want %q", got, message, code)
	}
	return message
}

func uint8Array(data []byte) js.Value {
	array := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(array, data)
	return array
}

// loadedAPI returns a d2v object with the Fashion-MNIST model loaded through
// addModelFile, and a classifier built directly from the same files.
func loadedAPI(t *testing.T) (api js.Value, s *session, direct *classifier.Classifier) {
	t.Helper()
	files := readModelFiles(t)
	s = newSession()
	api = newAPI(s)
	for name, data := range files {
		added := mustResolve(t, api.Call("addModelFile", name, uint8Array(data)))
		if got := added.Get("bytes").Int(); got != len(data) {
			t.Fatalf("addModelFile(%s) reports %d bytes, want %d", name, got, len(data))
		}
	}
	info := mustResolve(t, api.Call("loadModel"))
	if got := info.Get("numLabels").Int(); got != 10 {
		t.Fatalf("loadModel reports %d labels, want 10", got)
	}
	if got := info.Get("imageSize").Int(); got != 28 {
		t.Fatalf("loadModel reports image size %d, want 28", got)
	}
	direct, err := classifier.FromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	return api, s, direct
}

// testImage returns a width×height RGBA gradient with some structure, so
// that different images give different logits.
func testImage(width, height int, seed uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			v := uint8(x*7+y*13) + seed
			img.Set(x, y, color.RGBA{R: v, G: uint8(x * 255 / width), B: uint8(y*255/height) ^ seed, A: 255})
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkResult compares a JavaScript result with a direct classification:
// the same top labels and bit-identical logits, as both run the same code.
func checkResult(t *testing.T, got js.Value, want *classifier.Result) {
	t.Helper()
	top := got.Get("top")
	if top.Length() != len(want.Top) {
		t.Fatalf("%d top labels, want %d", top.Length(), len(want.Top))
	}
	for i, p := range want.Top {
		entry := top.Index(i)
		if entry.Get("index").Int() != p.Index || entry.Get("label").String() != p.Label || entry.Get("score").Float() != float64(p.Score) {
			t.Errorf("top[%d] = {%d %s %v}, want %+v", i, entry.Get("index").Int(), entry.Get("label").String(), entry.Get("score").Float(), p)
		}
	}
	logits := got.Get("logits")
	if !logits.InstanceOf(js.Global().Get("Float32Array")) {
		t.Fatalf("logits is %s, want a Float32Array", describe(logits))
	}
	if logits.Length() != len(want.Logits) {
		t.Fatalf("%d logits, want %d", logits.Length(), len(want.Logits))
	}
	for i, v := range want.Logits {
		if g := logits.Index(i).Float(); g != float64(v) {
			t.Errorf("logit %d = %v, want %v", i, g, v)
		}
	}
	if ms := got.Get("ms").Float(); ms < 0 || math.IsNaN(ms) {
		t.Errorf("ms = %v, want a duration", ms)
	}
}

func TestClassifyImageMatchesClassifier(t *testing.T) {
	api, _, direct := loadedAPI(t)
	data := encodePNG(t, testImage(40, 30, 3))

	got := mustResolve(t, api.Call("classifyImage", uint8Array(data), 3))
	want, err := direct.ClassifyImage(data, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, got, want)
	if w, h := got.Get("width").Int(), got.Get("height").Int(); w != 40 || h != 30 {
		t.Errorf("size %dx%d, want 40x30", w, h)
	}
}

func TestClassifyImageAcceptsArrayBuffer(t *testing.T) {
	api, _, direct := loadedAPI(t)
	data := encodePNG(t, testImage(28, 28, 9))

	got := mustResolve(t, api.Call("classifyImage", uint8Array(data).Get("buffer")))
	want, err := direct.ClassifyImage(data, defaultTopK)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, got, want)
}

func TestClassifyPixelsMatchesClassifier(t *testing.T) {
	api, _, direct := loadedAPI(t)
	img := testImage(33, 21, 40)
	pixels := js.Global().Get("Uint8ClampedArray").New(len(img.Pix))
	js.CopyBytesToJS(pixels, img.Pix)

	got := mustResolve(t, api.Call("classifyPixels", pixels, 33, 21, 10))
	want, err := direct.ClassifyRGBA(img.Pix, 33, 21, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, got, want)
}

func TestClassifyPixelsRejectsWrongLength(t *testing.T) {
	api, _, _ := loadedAPI(t)
	message := mustReject(t, api.Call("classifyPixels", uint8Array(make([]byte, 100)), 6, 5), codeInvalidArgument)
	if !strings.Contains(message, "100 bytes") {
		t.Errorf("message %q does not give the byte count", message)
	}
	mustReject(t, api.Call("classifyPixels", uint8Array(make([]byte, 4)), 0, 1), codeInvalidArgument)
	mustReject(t, api.Call("classifyPixels", uint8Array(make([]byte, 4)), 1.5, 1), codeInvalidArgument)
	mustReject(t, api.Call("classifyPixels", "pixels", 1, 1), codeInvalidArgument)
}

func TestClassifyBeforeLoadRejects(t *testing.T) {
	api := newAPI(newSession())
	mustReject(t, api.Call("classifyImage", uint8Array(encodePNG(t, testImage(8, 8, 0)))), codeNoModel)
	mustReject(t, api.Call("labels"), codeNoModel)
	mustReject(t, api.Call("loadModel"), codeInvalidArgument)
}

func TestImageErrorCodes(t *testing.T) {
	api, _, _ := loadedAPI(t)
	valid := encodePNG(t, testImage(16, 16, 1))
	cases := []struct {
		name string
		data []byte
		code string
	}{
		{"empty", nil, codeEmptyImage},
		{"text", []byte("this is not an image"), codeUnsupportedFormat},
		{"truncated PNG", valid[:len(valid)/2], codeInvalidImage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustReject(t, api.Call("classifyImage", uint8Array(c.data)), c.code)
		})
	}
	mustReject(t, api.Call("classifyImage", uint8Array(valid), "5"), codeInvalidArgument)
	mustReject(t, api.Call("classifyImage", uint8Array(valid), 0), codeInvalidArgument)
	mustReject(t, api.Call("classifyImage", js.ValueOf([]any{1, 2})), codeInvalidArgument)
}

func TestImageTooLargeRejects(t *testing.T) {
	files := readModelFiles(t)
	api := newAPI(newSession())
	options := js.Global().Get("Object").New()
	filesObject := js.Global().Get("Object").New()
	for name, data := range files {
		filesObject.Set(name, uint8Array(data))
	}
	options.Set("files", filesObject)
	options.Set("maxPixels", 100)
	mustResolve(t, api.Call("loadModel", options))

	message := mustReject(t, api.Call("classifyImage", uint8Array(encodePNG(t, testImage(20, 20, 0)))), codeImageTooLarge)
	if !strings.Contains(message, "d2v.classifyImage") {
		t.Errorf("message %q does not name the function", message)
	}
	mustReject(t, api.Call("decodeImage", uint8Array(encodePNG(t, testImage(20, 20, 0)))), codeImageTooLarge)
}

func TestInvalidModelKeepsPreviousModel(t *testing.T) {
	api, _, direct := loadedAPI(t)
	mustResolve(t, api.Call("addModelFile", "model.safetensors", uint8Array([]byte("not safetensors"))))
	mustReject(t, api.Call("loadModel"), codeInvalidModel)

	data := encodePNG(t, testImage(28, 28, 5))
	got := mustResolve(t, api.Call("classifyImage", uint8Array(data)))
	want, err := direct.ClassifyImage(data, defaultTopK)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, got, want)
}

func TestAddModelFileRejectsBadInput(t *testing.T) {
	api := newAPI(newSession())
	mustReject(t, api.Call("addModelFile", "model.safetensors", uint8Array(nil)), codeInvalidArgument)
	mustReject(t, api.Call("addModelFile", "../model.safetensors", uint8Array([]byte{1})), codeInvalidArgument)
	mustReject(t, api.Call("addModelFile", 3, uint8Array([]byte{1})), codeInvalidArgument)
	mustReject(t, api.Call("addModelFile", "model.safetensors", "bytes"), codeInvalidArgument)
}

func TestJavaScriptExceptionRejectsAsInternal(t *testing.T) {
	api := newAPI(newSession())
	files := js.Global().Get("Function").New(`return new Proxy({}, { ownKeys() { throw new Error("ownKeys failed") } })`).Invoke()
	options := js.Global().Get("Object").New()
	options.Set("files", files)
	message := mustReject(t, api.Call("loadModel", options), codeInternal)
	if !strings.Contains(message, "ownKeys failed") {
		t.Errorf("message %q does not carry the JavaScript error", message)
	}
}

func TestThrowingGetterRejects(t *testing.T) {
	api := newAPI(newSession())
	options := js.Global().Get("Function").New(`return { get maxPixels() { throw new Error("getter failed") } }`).Invoke()
	message := mustReject(t, api.Call("loadModel", options), codeInternal)
	if !strings.Contains(message, "getter failed") {
		t.Errorf("message %q does not carry the JavaScript error", message)
	}
}

func TestWorkRunsAfterCallReturns(t *testing.T) {
	api, s, _ := loadedAPI(t)
	promise := api.Call("unloadModel")
	if _, err := s.classifier(); err != nil {
		t.Fatal("unloadModel ran before its Promise was returned")
	}
	mustResolve(t, promise)
	if _, err := s.classifier(); err == nil {
		t.Fatal("model still loaded after unloadModel resolved")
	}
}

func TestDecodeImageReturnsRGBA(t *testing.T) {
	api := newAPI(newSession())
	img := testImage(5, 3, 77)
	got := mustResolve(t, api.Call("decodeImage", uint8Array(encodePNG(t, img))))
	if w, h := got.Get("width").Int(), got.Get("height").Int(); w != 5 || h != 3 {
		t.Fatalf("size %dx%d, want 5x3", w, h)
	}
	pixels := got.Get("pixels")
	if !pixels.InstanceOf(js.Global().Get("Uint8ClampedArray")) {
		t.Fatalf("pixels is %s, want a Uint8ClampedArray", describe(pixels))
	}
	out := make([]byte, pixels.Length())
	js.CopyBytesToGo(out, pixels)
	if !bytes.Equal(out, img.Pix) {
		t.Errorf("decoded pixels differ from the encoded image")
	}
}

func TestMemoryReportsHeapAndWasm(t *testing.T) {
	api, _, _ := loadedAPI(t)
	memory := js.Global().Get("WebAssembly").Get("Memory").New(map[string]any{"initial": 2})
	stats := mustResolve(t, api.Call("memory", memory))
	for _, key := range []string{"heapObjectsBytes", "heapGoalBytes", "goTotalBytes", "modelFileBytes"} {
		if v := stats.Get(key); v.Type() != js.TypeNumber || v.Float() <= 0 {
			t.Errorf("%s = %s, want a positive number", key, describe(v))
		}
	}
	if got := stats.Get("wasmMemoryBytes").Float(); got != 2*65536 {
		t.Errorf("wasmMemoryBytes = %v, want %d", got, 2*65536)
	}
	mustReject(t, api.Call("memory", 42), codeInvalidArgument)
}
