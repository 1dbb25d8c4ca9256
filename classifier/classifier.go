// Package classifier joins preprocessing, the model and the labels: image
// bytes or RGBA pixels in, top-k labels out. It is the API the command-line
// tools, the browser build and the edge worker share.
package classifier

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/model"
	"github.com/d2vgo/d2v/preprocess"
	"github.com/d2vgo/d2v/quantize"
	"github.com/d2vgo/d2v/safetensors"
)

// GCPercent is the garbage collector target that programs holding one model
// should set with debug.SetGCPercent. The weights stay live for the whole
// run, so Go's default of 100 would let garbage grow as large as the model
// before each collection. At 10 the heap stays within 1.3 times the int8
// weights while classifying (measured with tools/bench on the base model).
const GCPercent = 10

// Classifier is a loaded model with its preprocessing. Its methods may be
// called from several goroutines at once.
type Classifier struct {
	Model     *model.Model
	Processor preprocess.Options
	// MaxPixels bounds width×height of a decoded image, checked against the
	// image header before any pixel is decoded.
	MaxPixels int
}

// Options changes how Open holds a model.
type Options struct {
	// Float32 keeps float weights as stored, the reference for comparisons
	// with transformers. By default they are quantized to int8 while
	// loading, as tools/convert would, so every model runs the int8 kernels.
	Float32 bool
}

// Open loads a Hugging Face model folder (config.json,
// preprocessor_config.json and weights) or a converted int8 or float32
// folder, which has the same files. Float weights are quantized to int8;
// OpenWithOptions can keep them float32.
func Open(dir string) (*Classifier, error) {
	return OpenWithOptions(dir, Options{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(dir string, opts Options) (*Classifier, error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return nil, fmt.Errorf("%s is not a model folder: %w", dir, err)
	}
	m, err := model.LoadWithOptions(dir, model.Options{Int8: !opts.Float32})
	if err != nil {
		return nil, err
	}
	proc, err := model.ReadImageProcessorConfig(dir)
	if err != nil {
		return nil, err
	}
	return newClassifier(m, proc)
}

// FromFiles builds a classifier from the files of a converted model held in
// memory, keyed by file name: one or more .safetensors shards, and
// optionally config.json and preprocessor_config.json (otherwise the copies
// in the shards' metadata are used). Tensor data is not copied, so int8
// weights keep aliasing the given buffers, which must stay unchanged.
func FromFiles(files map[string][]byte) (*Classifier, error) {
	shards := map[string]*safetensors.File{}
	var configJSON, processorJSON []byte
	for name, data := range files {
		switch {
		case name == "config.json":
			configJSON = data
		case name == "preprocessor_config.json":
			processorJSON = data
		case filepath.Ext(name) == ".safetensors":
			f, err := safetensors.Parse(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			shards[name] = f
		}
	}
	if len(shards) == 0 {
		return nil, errors.New("no .safetensors file among the model files")
	}
	if configJSON == nil || processorJSON == nil {
		name := firstKey(shards)
		cfg, proc, err := quantize.Configs(shards[name].Metadata)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if configJSON == nil {
			configJSON = cfg
		}
		if processorJSON == nil {
			processorJSON = proc
		}
	}

	cfg, err := model.ParseConfig(configJSON)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	proc, err := model.ParseImageProcessorConfig(processorJSON)
	if err != nil {
		return nil, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	ckpt, err := checkpoint.FromSafetensors(shards)
	if err != nil {
		return nil, err
	}
	m, err := model.New(cfg, ckpt)
	if err != nil {
		return nil, err
	}
	return newClassifier(m, proc)
}

func firstKey(m map[string]*safetensors.File) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0]
}

func newClassifier(m *model.Model, proc model.ImageProcessorConfig) (*Classifier, error) {
	opts := preprocess.Options{
		Resize: proc.DoResize, Width: proc.Width, Height: proc.Height,
		CenterCrop: proc.DoCenterCrop, CropWidth: proc.CropWidth, CropHeight: proc.CropHeight,
		Rescale: proc.DoRescale, RescaleFactor: proc.RescaleFactor,
		Normalize: proc.DoNormalize, Mean: proc.ImageMean, Std: proc.ImageStd,
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	size := m.Config.ImageSize
	if !opts.Resize && !opts.CenterCrop {
		return nil, fmt.Errorf("preprocessor config neither resizes nor crops, so only %dx%d images would fit the model; set do_resize", size, size)
	}
	if w, h := opts.OutputSize(size, size); w != size || h != size {
		return nil, fmt.Errorf("preprocessor config produces %dx%d images but the model's image_size is %d", w, h, size)
	}
	return &Classifier{Model: m, Processor: opts, MaxPixels: preprocess.DefaultMaxPixels}, nil
}

// Labels returns id2label as a slice indexed by class.
func (c *Classifier) Labels() []string { return c.Model.Config.ID2Label }

// PixelValues preprocesses an image for the model: [3, size, size] float32.
func (c *Classifier) PixelValues(img *preprocess.RGB) ([]float32, error) {
	return c.Processor.PixelValues(img)
}

// DecodeImage decodes encoded image bytes (JPEG, PNG, GIF, BMP, TIFF or
// WebP), rejecting images over MaxPixels before decoding their pixels.
func (c *Classifier) DecodeImage(data []byte) (*preprocess.RGB, error) {
	return preprocess.DecodeBytes(data, c.MaxPixels)
}

// Logits runs the model on a batch of preprocessed images and returns
// [batch, labels] logits.
func (c *Classifier) Logits(pixelValues []float32, batch int) ([]float32, error) {
	if batch < 1 {
		return nil, fmt.Errorf("batch size %d must be at least 1", batch)
	}
	logits := make([]float32, batch*len(c.Labels()))
	if err := c.Model.Logits(logits, pixelValues, batch); err != nil {
		return nil, err
	}
	return logits, nil
}

// Result is the classification of one image.
type Result struct {
	Top    []Prediction
	Logits []float32 // every raw logit, indexed by class
}

// ClassifyImage decodes, preprocesses and classifies encoded image bytes.
func (c *Classifier) ClassifyImage(data []byte, k int) (*Result, error) {
	img, err := c.DecodeImage(data)
	if err != nil {
		return nil, err
	}
	return c.ClassifyRGB(img, k)
}

// ClassifyRGBA classifies raw RGBA pixels (4 bytes per pixel, row-major, as
// a browser canvas returns them). Alpha is dropped.
func (c *Classifier) ClassifyRGBA(pix []byte, width, height, k int) (*Result, error) {
	if width > 0 && height > 0 && c.MaxPixels > 0 && width*height > c.MaxPixels {
		return nil, fmt.Errorf("image of %dx%d pixels exceeds the limit of %d pixels", width, height, c.MaxPixels)
	}
	img, err := preprocess.FromRGBA(pix, width, height)
	if err != nil {
		return nil, err
	}
	return c.ClassifyRGB(img, k)
}

// ClassifyRGB preprocesses and classifies a decoded image.
func (c *Classifier) ClassifyRGB(img *preprocess.RGB, k int) (*Result, error) {
	pixels, err := c.PixelValues(img)
	if err != nil {
		return nil, err
	}
	logits, err := c.Logits(pixels, 1)
	if err != nil {
		return nil, err
	}
	return &Result{Top: TopK(logits, c.Labels(), k), Logits: logits}, nil
}
