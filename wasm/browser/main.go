//go:build js && wasm

// Command browser is the classifier compiled to WebAssembly for web pages. It
// sets a global object d2v whose functions return Promises:
//
//	d2v.addModelFile(name, bytes)            // copy one model file into Go memory
//	d2v.loadModel({files?, maxPixels?})      // build the classifier from the added files
//	d2v.classifyImage(bytes, topK)           // encoded JPEG, PNG, GIF, BMP, TIFF or WebP
//	d2v.classifyPixels(rgba, width, height, topK)
//	d2v.decodeImage(bytes)                   // RGBA pixels of an encoded image
//	d2v.labels(), d2v.memory(wasmMemory?), d2v.unloadModel()
//
// A classification resolves to {top: [{index, label, score}], logits:
// Float32Array, ms, width, height}. Every failure rejects with an Error whose
// code property is one of the codes in errors.go, including panics, which
// are recovered.
//
// Build it with GOOS=js GOARCH=wasm and load it with the wasm_exec.js of the
// same Go release. Each call copies its input into Go memory before it
// returns, so the caller may reuse or drop its buffers at once. The work then
// runs on a goroutine that starts after the calling JavaScript task ends.
// While it computes, it holds the thread, so the page runs it in a Web
// Worker.
package main

import (
	"runtime/debug"
	"syscall/js"

	"github.com/d2vgo/d2v/classifier"
)

func main() {
	// The model's weights stay live for the whole run, so a low collector
	// target keeps garbage from growing to the model's size.
	debug.SetGCPercent(classifier.GCPercent)
	js.Global().Set("d2v", newAPI(newSession()))
	// Keep the Go program alive: the API's callbacks run on this runtime.
	select {}
}
