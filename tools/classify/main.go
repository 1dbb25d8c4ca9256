// Command classify prints the most probable labels of images under a
// Data2Vec-Vision or BEiT model.
//
//	go run ./tools/classify -model DIR [-top N] [-json] IMAGE...
//	go run ./tools/classify -model DIR -pixel-values FILE.safetensors
//
// DIR is a Hugging Face model folder or one written by tools/convert. Float
// weights are quantized to int8 while loading unless -float32 is given. With
// -pixel-values, the float32 pixel_values tensor [N, 3, H, W] of a
// safetensors file is classified as is, skipping image preprocessing, which
// is how outputs are compared with transformers.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/cli"
	"github.com/d2vgo/d2v/preprocess"
	"github.com/d2vgo/d2v/safetensors"
)

// maxImageFileBytes bounds how much of one image file is read.
const maxImageFileBytes = 256 << 20

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

// result is one line of -json output.
type result struct {
	File   string                  `json:"file"`
	Logits []float32               `json:"logits"`
	Top    []classifier.Prediction `json:"top"`
}

func run(args []string, stdout io.Writer) int {
	flags := flag.NewFlagSet("classify", flag.ContinueOnError)
	modelDir := flags.String("model", "", "model `folder`: Hugging Face layout (config.json, weights, preprocessor_config.json) or converted by tools/convert")
	top := flags.Int("top", 5, "number of labels to print per image")
	asJSON := flags.Bool("json", false, "print one JSON object per input with file, every logit, and the top labels")
	pixelValues := flags.String("pixel-values", "", "classify the float32 pixel_values [N,3,H,W] tensor of this safetensors `file` instead of images")
	keepFloat32 := flags.Bool("float32", false, "run float weights as stored instead of quantizing them to int8 while loading (the reference for comparisons with transformers)")
	maxPixels := flags.Int("max-pixels", preprocess.DefaultMaxPixels, "reject images whose header declares more than this many pixels (0 or less: the default)")
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "Usage: classify -model DIR [flags] IMAGE...\n       classify -model DIR -pixel-values FILE.safetensors\n\nFlags:\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	log := cli.Logger(os.Stderr)
	if *modelDir == "" {
		log.Error("missing -model: give the folder of a Hugging Face or converted model")
		return 2
	}
	if *top < 1 {
		log.Error("invalid -top: must be at least 1", "top", *top)
		return 2
	}
	if (*pixelValues == "") == (flags.NArg() == 0) {
		log.Error("give either image files or -pixel-values, not both or neither")
		return 2
	}

	c, err := classifier.OpenWithOptions(*modelDir, classifier.Options{Float32: *keepFloat32})
	if err != nil {
		log.Error("cannot load model", "model", *modelDir, "err", err)
		return 1
	}
	c.MaxPixels = *maxPixels

	// printResult writes one result. Logits that are NaN or infinite (from
	// a broken model or input) are an error, because they have no JSON form
	// and no meaningful ranking.
	printResult := func(r result) error {
		for i, v := range r.Logits {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("logit %d is %v; the model or the input is broken", i, v)
			}
		}
		if *asJSON {
			js, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", js)
			return nil
		}
		fmt.Fprintf(stdout, "%s\n", r.File)
		for _, p := range r.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %s (%d)\n", 100*p.Score, p.Label, p.Index)
		}
		return nil
	}

	if *pixelValues != "" {
		if err := classifyPixelValues(c, *pixelValues, *top, printResult); err != nil {
			log.Error("cannot classify pixel values", "file", *pixelValues, "err", err)
			return 1
		}
		return 0
	}

	failed := 0
	for _, path := range flags.Args() {
		r, err := classifyFile(c, path, *top)
		if err != nil {
			log.Error("cannot classify image", "file", path, "err", err)
			failed++
			continue
		}
		if err := printResult(r); err != nil {
			log.Error("cannot classify image", "file", path, "err", err)
			failed++
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func classifyFile(c *classifier.Classifier, path string, top int) (result, error) {
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageFileBytes+1))
	if err != nil {
		return result{}, err
	}
	if len(data) > maxImageFileBytes {
		return result{}, fmt.Errorf("file is larger than %d bytes", maxImageFileBytes)
	}
	r, err := c.ClassifyImage(data, top)
	if err != nil {
		return result{}, err
	}
	return result{File: path, Logits: r.Logits, Top: r.Top}, nil
}

func classifyPixelValues(c *classifier.Classifier, path string, top int, printResult func(result) error) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	tensor, ok := f.Tensor("pixel_values")
	if !ok {
		return fmt.Errorf("no tensor named pixel_values")
	}
	size := c.Model.Config.ImageSize
	if len(tensor.Shape) != 4 || tensor.Shape[1] != 3 || tensor.Shape[2] != size || tensor.Shape[3] != size {
		return fmt.Errorf("pixel_values has shape %v, want [N 3 %d %d]", tensor.Shape, size, size)
	}
	values, err := tensor.Float32s()
	if err != nil {
		return err
	}
	batch := tensor.Shape[0]
	logits, err := c.Logits(values, batch)
	if err != nil {
		return err
	}
	n := len(c.Labels())
	for b := 0; b < batch; b++ {
		row := logits[b*n : (b+1)*n]
		if err := printResult(result{File: fmt.Sprintf("%s[%d]", path, b), Logits: row, Top: classifier.TopK(row, c.Labels(), top)}); err != nil {
			return fmt.Errorf("image %d: %w", b, err)
		}
	}
	return nil
}
