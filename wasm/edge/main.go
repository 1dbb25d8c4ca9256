//go:build js && wasm

// Command edge is the Cloudflare Workers build of the classifier:
//
//	GOOS=js GOARCH=wasm go build -o edge/build/d2v-edge.wasm ./wasm/edge
//
// edge/src/worker.mjs starts this program once per isolate and keeps it
// running. main registers an object of synchronous functions with the shim
// and then blocks forever, so the model that the shim streams in once stays
// in memory for every later request.
//
// The bridge talks to JavaScript through syscall/js directly instead of
// using github.com/syumai/workers, because that package (v0.33.0) is built
// around one Go program per request. Its generated worker.mjs instantiates
// the module on every fetch and hands the new program that request's env
// and ctx. Its Serve returns once the first response body is closed, and
// its request conversion is internal, so it cannot serve a persistent
// program.
//
// Every function is synchronous and never waits for a JavaScript promise:
// the shim does all I/O (reading the request body, R2 reads) in the
// request's own context and hands the bytes over. Under js/wasm, Go runs
// every runnable goroutine before control returns to JavaScript, so a
// request's handler runs within that request's calls and no promise that
// one request created is settled from another. (Garbage collection work
// runs in whichever call is current.)
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall/js"

	"github.com/d2vgo/d2v/classifier"

	"github.com/d2vgo/d2v/wasm/edge/server"
)

// registerFunction is the global function the shim defines before starting
// the program; main calls it with the bridge's API object.
const registerFunction = "__d2vEdgeRegister"

func main() {
	// The weights stay live for the isolate's lifetime, so a low collector
	// target keeps garbage from growing toward the 128 MB isolate limit.
	debug.SetGCPercent(classifier.GCPercent)
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	instance, _ := strconv.Atoi(os.Getenv("D2V_EDGE_INSTANCE"))

	cfg, err := server.ConfigFromEnv(os.Getenv)
	var srv *server.Server
	if err != nil {
		log.Error("invalid worker configuration; every request will fail", "err", err)
		srv = server.NewFailed(fmt.Errorf("invalid worker configuration: %w", err), log)
	} else {
		srv = server.New(cfg, log)
	}
	srv.Instance = instance
	b := &bridge{server: srv, log: log, exchanges: map[int]*server.Exchange{}}

	register := js.Global().Get(registerFunction)
	if register.Type() != js.TypeFunction {
		log.Error("the JavaScript shim did not define " + registerFunction + "; start this program from edge/src/worker.mjs")
		os.Exit(1)
	}
	register.Invoke(b.api())
	log.Info("worker started", "instance", instance, "go", runtime.Version())
	select {}
}

// bridge holds the exchanges in flight and the model load in progress. Only
// JavaScript calls reach it, one at a time, so it needs no lock.
type bridge struct {
	server *server.Server
	log    *slog.Logger

	nextID    int
	exchanges map[int]*server.Exchange
	loader    *server.Loader
}

// api returns the JavaScript object of bridge functions. Functions that can
// fail return an error message string, or null on success.
func (b *bridge) api() js.Value {
	api := js.Global().Get("Object").New()
	functions := map[string]func(args []js.Value) any{
		"start":       b.start,
		"write":       b.write,
		"end":         b.end,
		"done":        b.done,
		"finish":      b.finish,
		"abort":       b.abort,
		"state":       b.state,
		"weightFiles": b.weightFiles,
		"loadBegin":   b.loadBegin,
		"loadFile":    b.loadFile,
		"loadWrite":   b.loadWrite,
		"loadFileEnd": b.loadFileEnd,
		"loadEnd":     b.loadEnd,
		"loadFail":    b.loadFail,
		"setMemory":   b.setMemory,
	}
	for name, fn := range functions {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any { return fn(args) }))
	}
	return api
}

// start(method, url, headers, hasBody) begins a request and returns its
// exchange id, or an error message for a method or URL that net/http
// rejects. headers is an array of [name, value] pairs. Without a body the
// handler has returned by the time JavaScript continues.
func (b *bridge) start(args []js.Value) any {
	method, rawURL, headers, hasBody := args[0].String(), args[1].String(), args[2], args[3].Bool()
	r, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		return "invalid request: " + err.Error()
	}
	for i := range headers.Length() {
		pair := headers.Index(i)
		r.Header.Add(pair.Index(0).String(), pair.Index(1).String())
	}
	r.Host = r.URL.Host
	r.ContentLength = 0
	if hasBody {
		r.ContentLength = -1
		if n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			r.ContentLength = n
		}
	}

	b.nextID++
	id := b.nextID
	e := server.StartExchange(b.server, r)
	if !hasBody {
		e.EndBody(io.EOF)
	}
	b.exchanges[id] = e
	return id
}

// write(id, chunk) delivers a body chunk; false means stop sending.
func (b *bridge) write(args []js.Value) any {
	e := b.exchanges[args[0].Int()]
	if e == nil {
		return false
	}
	chunk := make([]byte, args[1].Get("byteLength").Int())
	js.CopyBytesToGo(chunk, args[1])
	return e.WriteBody(chunk)
}

// end(id, errorMessage) ends the body; errorMessage is null when the body
// was read completely.
func (b *bridge) end(args []js.Value) any {
	e := b.exchanges[args[0].Int()]
	if e == nil {
		return nil
	}
	if message := args[1]; message.Type() == js.TypeString {
		e.EndBody(errors.New(message.String()))
	} else {
		e.EndBody(io.EOF)
	}
	return nil
}

// done(id) reports whether the handler has returned, so the shim stops
// sending a body once the response is ready.
func (b *bridge) done(args []js.Value) any {
	e := b.exchanges[args[0].Int()]
	return e != nil && e.Done()
}

// finish(id) returns {status, headers, body} and removes the exchange. It
// returns null when the handler has not returned, and the shim then
// responds 500.
func (b *bridge) finish(args []js.Value) any {
	id := args[0].Int()
	e := b.exchanges[id]
	if e == nil {
		return nil
	}
	delete(b.exchanges, id)
	if !e.Done() {
		e.EndBody(errors.New("request abandoned"))
		b.log.Error("handler did not finish within its request's calls", "exchange", id)
		return nil
	}
	status, header, body := e.Response()
	pairs := js.Global().Get("Array").New()
	for name, values := range header {
		for _, value := range values {
			pairs.Call("push", js.ValueOf([]any{name, value}))
		}
	}
	response := js.Global().Get("Object").New()
	response.Set("status", status)
	response.Set("headers", pairs)
	if len(body) > 0 {
		jsBody := js.Global().Get("Uint8Array").New(len(body))
		js.CopyBytesToJS(jsBody, body)
		response.Set("body", jsBody)
	} else {
		response.Set("body", js.Null())
	}
	return response
}

// abort(id, reason) drops an exchange after a failure on the JavaScript
// side.
func (b *bridge) abort(args []js.Value) any {
	id := args[0].Int()
	if e := b.exchanges[id]; e != nil {
		e.EndBody(errors.New(args[1].String()))
		delete(b.exchanges, id)
	}
	return nil
}

// state() returns the model state: idle, loading, ready, failed, or
// unavailable when the worker could not start.
func (b *bridge) state(args []js.Value) any {
	return string(b.server.State())
}

// weightFiles(index) returns {files} or {error}, where index is the bytes of
// model.safetensors.index.json or null when there is none.
func (b *bridge) weightFiles(args []js.Value) any {
	var index []byte
	if args[0].Type() == js.TypeObject {
		index = make([]byte, args[0].Get("byteLength").Int())
		js.CopyBytesToGo(index, args[0])
	}
	result := js.Global().Get("Object").New()
	files, err := server.WeightFiles(index)
	if err != nil {
		result.Set("error", err.Error())
		return result
	}
	list := make([]any, len(files))
	for i, f := range files {
		list[i] = f
	}
	result.Set("files", js.ValueOf(list))
	return result
}

// loadBegin() starts a model load and returns its id, which the other load
// functions take first. A newer loadBegin supersedes a load in progress, so
// a stalled load cannot block the next one, and calls with the old id fail.
func (b *bridge) loadBegin(args []js.Value) any {
	b.loader = b.server.BeginLoad()
	return b.loader.Attempt()
}

// currentLoader returns the loader whose id is args[0], or an error message.
func (b *bridge) currentLoader(args []js.Value) (*server.Loader, any) {
	if b.loader == nil || b.loader.Attempt() != args[0].Int() {
		return nil, "model load " + strconv.Itoa(args[0].Int()) + " is not in progress (superseded or ended)"
	}
	return b.loader, nil
}

// loadFile(id, name, size) starts a weight file of size bytes.
func (b *bridge) loadFile(args []js.Value) any {
	loader, message := b.currentLoader(args)
	if loader == nil {
		return message
	}
	return b.failOnError(loader.BeginFile(args[1].String(), int64(args[2].Float())))
}

// loadWrite(id, chunk) copies a chunk straight into the file's Go buffer.
func (b *bridge) loadWrite(args []js.Value) any {
	loader, message := b.currentLoader(args)
	if loader == nil {
		return message
	}
	n := args[1].Get("byteLength").Int()
	dst := loader.Buffer()
	if n > len(dst) {
		return b.failOnError(loader.Advance(n)) // reports the overflow
	}
	js.CopyBytesToGo(dst[:n], args[1])
	return b.failOnError(loader.Advance(n))
}

// loadFileEnd(id) checks that the file is complete.
func (b *bridge) loadFileEnd(args []js.Value) any {
	loader, message := b.currentLoader(args)
	if loader == nil {
		return message
	}
	return b.failOnError(loader.EndFile())
}

// loadEnd(id) builds the model from the received files.
func (b *bridge) loadEnd(args []js.Value) any {
	loader, message := b.currentLoader(args)
	if loader == nil {
		return message
	}
	err := loader.Finish()
	b.loader = nil
	// Collect what loading left behind, so the heap goal starts from the
	// model alone.
	runtime.GC()
	if err != nil {
		return err.Error()
	}
	return nil
}

// loadFail(id, message) ends the load with an error found on the
// JavaScript side, such as a missing R2 object.
func (b *bridge) loadFail(args []js.Value) any {
	if loader, _ := b.currentLoader(args); loader != nil {
		loader.Fail(errors.New(args[1].String()))
		b.loader = nil
	}
	return nil
}

// failOnError ends the load when err is not nil and returns its message.
func (b *bridge) failOnError(err error) any {
	if err == nil {
		return nil
	}
	b.loader.Fail(err)
	b.loader = nil
	return err.Error()
}

// setMemory(memory) gives the program its WebAssembly.Memory, whose size
// GET /healthz reports.
func (b *bridge) setMemory(args []js.Value) any {
	memory := args[0]
	b.server.WasmMemoryBytes = func() int64 {
		return int64(memory.Get("buffer").Get("byteLength").Float())
	}
	return nil
}
