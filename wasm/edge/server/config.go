package server

import (
	"fmt"
	"strconv"
)

// Default limits. A Workers isolate has 128 MB for everything. With the
// base-size int8 model loaded and warm, the wasm memory is about 112 MiB
// (measured with edge/test/measure.mjs in local workerd). Decoding a
// 1-megapixel JPEG raised it by 5 MiB and a 2-megapixel one by 13 MiB, so
// the pixel limit is 1 megapixel. preprocess.DefaultMaxPixels (100
// megapixels) would let one image take gigabytes.
const (
	DefaultMaxBodyBytes = 10_000_000
	DefaultMaxPixels    = 1_000_000
	DefaultTop          = 5
	MaxTop              = 100
	// DefaultMaxModelBytes bounds the weight files loaded into memory, so a
	// bucket holding the wrong model fails with a clear error instead of
	// running the isolate out of memory.
	DefaultMaxModelBytes = 120 << 20
)

// Config is the worker's configuration, read from environment variables
// (Workers [vars] that the JavaScript shim passes to the Go program).
type Config struct {
	// ModelID is sent in the X-Model-Id header. When empty, the source
	// model recorded in the weight files' metadata is used.
	ModelID string
	// MaxBodyBytes is the largest request body accepted, in bytes.
	MaxBodyBytes int64
	// MaxPixels is the largest width × height accepted, checked against the
	// image header before any pixel is decoded.
	MaxPixels int
	// MaxModelBytes is the largest total size of the weight files.
	MaxModelBytes int64
}

// Environment variables read by ConfigFromEnv.
const (
	EnvModelID       = "MODEL_ID"
	EnvMaxBodyBytes  = "MAX_BODY_BYTES"
	EnvMaxPixels     = "MAX_IMAGE_PIXELS"
	EnvMaxModelBytes = "MAX_MODEL_BYTES"
)

// ConfigFromEnv reads the configuration through getenv (os.Getenv in the
// worker). Unset or empty variables keep their defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		ModelID:       getenv(EnvModelID),
		MaxBodyBytes:  DefaultMaxBodyBytes,
		MaxPixels:     DefaultMaxPixels,
		MaxModelBytes: DefaultMaxModelBytes,
	}
	if err := positiveInt(getenv, EnvMaxBodyBytes, &cfg.MaxBodyBytes); err != nil {
		return Config{}, err
	}
	maxPixels := int64(cfg.MaxPixels)
	if err := positiveInt(getenv, EnvMaxPixels, &maxPixels); err != nil {
		return Config{}, err
	}
	cfg.MaxPixels = int(maxPixels)
	if err := positiveInt(getenv, EnvMaxModelBytes, &cfg.MaxModelBytes); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// positiveInt parses the variable name into dst when it is set.
func positiveInt(getenv func(string) string, name string, dst *int64) error {
	text := getenv(name)
	if text == "" {
		return nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 1 || n > 1<<31-1 {
		return fmt.Errorf("invalid %s %q: want a whole number from 1 to %d", name, text, 1<<31-1)
	}
	*dst = n
	return nil
}
