//go:build js && wasm

package main

import (
	"fmt"
	"runtime/debug"
	"syscall/js"
)

// asyncFunc is the synchronous part of an API function: it checks and copies
// the arguments, then returns the work to run later. Work that returns a
// js.Value resolves the Promise with it.
type asyncFunc func(args []js.Value) (work func() (js.Value, error), err error)

// exportAsync wraps f as a JavaScript function that returns a Promise.
//
// The Go runtime returns from a JavaScript call only once every goroutine is
// blocked, so a goroutine that starts computing at once would keep the caller
// waiting and hand back a Promise that is already settled. The goroutine
// therefore first waits for a setTimeout callback: the call returns the
// pending Promise, and the work runs in a later task of the event loop.
func exportAsync(name string, f asyncFunc) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		var work func() (js.Value, error)
		err := recovered(func() error {
			var err error
			work, err = f(args)
			return err
		})

		var executor js.Func
		executor = js.FuncOf(func(this js.Value, settle []js.Value) any {
			resolve, reject := settle[0], settle[1]
			if err != nil {
				reject.Invoke(jsError(name, err))
				return nil
			}
			go func() {
				waitForNextTask()
				var result js.Value
				err := recovered(func() error {
					var err error
					result, err = work()
					return err
				})
				if err != nil {
					reject.Invoke(jsError(name, err))
					return
				}
				resolve.Invoke(result)
			}()
			return nil
		})
		promise := js.Global().Get("Promise").New(executor)
		executor.Release()
		return promise
	})
}

// recovered runs f and turns a panic into an error with code internal,
// except a js.ValueError, which means that an argument had the wrong
// JavaScript type.
func recovered(f func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if valueErr, ok := r.(*js.ValueError); ok {
			err = invalidArgument("%v", valueErr)
			return
		}
		// Log through console.error: writing to os.Stderr blocks on a
		// JavaScript callback, which deadlocks inside a js.FuncOf handler.
		js.Global().Get("console").Call("error", fmt.Sprintf("d2v: recovered panic: %v\n%s", r, debug.Stack()))
		err = withCode(codeInternal, fmt.Errorf("internal error: %v", r))
	}()
	return f()
}

// waitForNextTask blocks the calling goroutine until a setTimeout(0)
// callback runs, which lets the Go runtime return control to JavaScript.
func waitForNextTask() {
	done := make(chan struct{})
	callback := js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", callback, 0)
	<-done
	callback.Release()
}
