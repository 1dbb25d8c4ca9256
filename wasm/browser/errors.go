//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"syscall/js"

	"github.com/d2vgo/d2v/preprocess"
)

// Error codes set on the code property of rejected Errors, so that a page
// can react to a kind of failure without parsing the message.
const (
	codeInvalidArgument   = "invalid_argument"   // wrong type, size or range of an argument
	codeNoModel           = "no_model"           // classify called before loadModel succeeded
	codeInvalidModel      = "invalid_model"      // model files that do not form a classifier
	codeEmptyImage        = "empty_image"        // zero bytes
	codeUnsupportedFormat = "unsupported_format" // not JPEG, PNG, GIF, BMP, TIFF or WebP
	codeInvalidImage      = "invalid_image"      // corrupt or truncated image data
	codeImageTooLarge     = "image_too_large"    // more pixels than maxPixels
	codeInternal          = "internal"           // a recovered panic or another unexpected failure
)

// apiError is an error with one of the codes above.
type apiError struct {
	code string
	err  error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

func withCode(code string, err error) error {
	if err == nil {
		return nil
	}
	return &apiError{code: code, err: err}
}

func invalidArgument(format string, args ...any) error {
	return &apiError{code: codeInvalidArgument, err: fmt.Errorf(format, args...)}
}

// imageErrorCode maps the decode errors of package preprocess to codes.
func imageErrorCode(err error) string {
	switch {
	case errors.Is(err, preprocess.ErrEmpty):
		return codeEmptyImage
	case errors.Is(err, preprocess.ErrUnsupportedFormat):
		return codeUnsupportedFormat
	case errors.Is(err, preprocess.ErrTooLarge):
		return codeImageTooLarge
	case errors.Is(err, preprocess.ErrInvalidImage):
		return codeInvalidImage
	}
	return codeInternal
}

// errorCode returns the code of err, or codeInternal.
func errorCode(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.code
	}
	return codeInternal
}

// jsError converts err to a JavaScript Error that names the API function and
// carries the code property.
func jsError(function string, err error) js.Value {
	value := js.Global().Get("Error").New("d2v." + function + ": " + err.Error())
	value.Set("code", errorCode(err))
	return value
}
