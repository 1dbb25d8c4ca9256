//go:build js && wasm

package main

import (
	"math"
	"syscall/js"
)

// property reads key of an object that the caller passed in. It calls
// Reflect.get through js.Value.Call, which turns an exception thrown by a
// getter or a Proxy into a recoverable panic. An exception inside
// js.Value.Get would unwind the Go stack and leave the runtime unusable.
func property(object js.Value, key string) js.Value {
	return js.Global().Get("Reflect").Call("get", object, key)
}

// isMissing reports whether an optional argument was left out.
func isMissing(v js.Value) bool {
	return v.IsUndefined() || v.IsNull()
}

// describe names the JavaScript type of v for error messages, with the
// constructor name for objects ("object Array").
func describe(v js.Value) string {
	if v.Type() == js.TypeObject {
		if ctor := property(v, "constructor"); ctor.Type() == js.TypeFunction {
			return "object " + ctor.Get("name").String()
		}
	}
	return v.Type().String()
}

func stringArg(args []js.Value, i int, argName string) (string, error) {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return "", invalidArgument("%s must be a string, got %s", argName, describeArg(args, i))
	}
	return args[i].String(), nil
}

// intArg reads an integer argument, or returns def when it is missing.
func intArg(args []js.Value, i int, argName string, def int) (int, error) {
	if i >= len(args) {
		return intValue(js.Undefined(), argName, def)
	}
	return intValue(args[i], argName, def)
}

func intValue(v js.Value, argName string, def int) (int, error) {
	if isMissing(v) {
		if def < 0 {
			return 0, invalidArgument("missing %s", argName)
		}
		return def, nil
	}
	if v.Type() != js.TypeNumber {
		return 0, invalidArgument("%s must be a number, got %s", argName, describe(v))
	}
	f := v.Float()
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, invalidArgument("%s must be an integer below 2^31, got %v", argName, f)
	}
	return int(f), nil
}

// bytesArg copies a Uint8Array, Uint8ClampedArray, other typed array,
// DataView or ArrayBuffer argument into a new Go slice.
func bytesArg(args []js.Value, i int, argName string) ([]byte, error) {
	if i >= len(args) {
		return nil, invalidArgument("missing %s", argName)
	}
	return bytesValue(args[i], argName)
}

func bytesValue(v js.Value, argName string) ([]byte, error) {
	view, err := byteView(v)
	if err != nil {
		return nil, invalidArgument("%s must be a Uint8Array or ArrayBuffer, got %s", argName, describe(v))
	}
	data := make([]byte, view.Get("byteLength").Int())
	js.CopyBytesToGo(data, view)
	return data, nil
}

// byteView returns a Uint8Array or Uint8ClampedArray over the bytes of v,
// the two types that js.CopyBytesToGo accepts.
func byteView(v js.Value) (js.Value, error) {
	switch {
	case v.Type() != js.TypeObject:
		return js.Value{}, errNotBytes
	case v.InstanceOf(jsUint8Array), v.InstanceOf(jsUint8ClampedArray):
		return v, nil
	case v.InstanceOf(jsArrayBuffer):
		return jsUint8Array.New(v), nil
	case jsArrayBuffer.Call("isView", v).Bool():
		return jsUint8Array.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength")), nil
	}
	return js.Value{}, errNotBytes
}

var errNotBytes = invalidArgument("not a byte array")

// byteLength returns the size in bytes of a typed array, DataView or
// ArrayBuffer, or -1 for any other value.
func byteLength(v js.Value) int64 {
	view, err := byteView(v)
	if err != nil {
		return -1
	}
	return int64(view.Get("byteLength").Int())
}

func describeArg(args []js.Value, i int) string {
	if i >= len(args) {
		return "nothing"
	}
	return describe(args[i])
}
