// Command eval measures the top-1 and top-5 accuracy of a model on a labelled
// image set:
//
//	go run ./tools/eval -model DIR -fashion-mnist [-data /usr/share/datasets/fashion-mnist]
//	go run ./tools/eval -model DIR -images VAL_DIR
//
// An image folder has one subfolder per class, matched to a class by its
// name: a class index ("0", "1", ...) or a label of id2label that occurs
// once. In the ImageNet layout every subfolder is a WordNet id such as
// n01440764, one per class. Then a subfolder's rank in sorted order is its
// class, which is how ImageNet-1k numbers its classes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/dataset/fashionmnist"
	"github.com/d2vgo/d2v/internal/cli"
)

// maxBatch bounds -batch: a batch of base-size images needs about 3 MB of
// activations per image.
const maxBatch = 1024

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// summary is the final report, also printed as JSON with -json.
type summary struct {
	Model        string  `json:"model"`
	Dataset      string  `json:"dataset"`
	Images       int     `json:"images"`
	Failed       int     `json:"failed"`
	Top1         float64 `json:"top1_percent"` // top-1 accuracy in percent
	Top5         float64 `json:"top5_percent"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_second"`
}

// sample is one labelled image.
type sample struct {
	name  string
	label int
	load  func() ([]float32, error) // preprocessed pixel values
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("eval", flag.ContinueOnError)
	flags.SetOutput(stderr)
	modelDir := flags.String("model", "", "model `folder` (Hugging Face layout or converted by tools/convert)")
	useFashion := flags.Bool("fashion-mnist", false, "evaluate on the Fashion-MNIST test set (10,000 images)")
	fashionDir := flags.String("data", fashionmnist.DefaultDir, "`folder` with the Fashion-MNIST idx files")
	imagesDir := flags.String("images", "", "evaluate on an image `folder` with one subfolder per class")
	limit := flags.Int("limit", 0, "evaluate only the first N images (0: all)")
	batch := flags.Int("batch", 16, "images per forward pass")
	asJSON := flags.Bool("json", false, "print the summary as JSON")
	keepFloat32 := flags.Bool("float32", false, "run float weights as stored instead of quantizing them to int8 while loading")
	noProgress := flags.Bool("quiet", false, "do not draw the progress bar")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	log := cli.Logger(stderr)
	if *modelDir == "" || (*useFashion == (*imagesDir != "")) {
		log.Error("give -model and exactly one of -fashion-mnist or -images")
		return 2
	}
	if *batch < 1 || *batch > maxBatch || *limit < 0 {
		log.Error("invalid -batch or -limit: batch must be 1 to 1024, limit 0 or more", "batch", *batch, "limit", *limit)
		return 2
	}

	c, err := classifier.OpenWithOptions(*modelDir, classifier.Options{Float32: *keepFloat32})
	if err != nil {
		log.Error("cannot load model", "model", *modelDir, "err", err)
		return 1
	}

	var samples []sample
	var dataset string
	if *useFashion {
		dataset = "fashion-mnist test"
		samples, err = fashionSamples(c, *fashionDir)
	} else {
		dataset = *imagesDir
		samples, err = folderSamples(c, *imagesDir)
	}
	if err != nil {
		log.Error("cannot read data set", "err", err)
		return 1
	}
	if *limit > 0 && *limit < len(samples) {
		samples = samples[:*limit]
	}
	if len(samples) == 0 {
		log.Error("the data set has no images", "dataset", dataset)
		return 1
	}

	var bar *progressBar
	if !*noProgress {
		bar = newProgressBar(stderr, len(samples))
	}
	s := evaluate(c, samples, *batch, bar, func(name string, err error) {
		log.Error("cannot classify image", "file", name, "err", err)
	})
	s.Model, s.Dataset = *modelDir, dataset

	if *asJSON {
		js, _ := json.MarshalIndent(s, "", "  ")
		fmt.Fprintf(stdout, "%s\n", js)
	} else {
		fmt.Fprintf(stdout, "model     %s\ndataset   %s\nimages    %d (%d failed)\ntop-1     %.2f%%\ntop-5     %.2f%%\nspeed     %.1f images/s (%.1f s)\n",
			s.Model, s.Dataset, s.Images, s.Failed, s.Top1, s.Top5, s.ImagesPerSec, s.Seconds)
	}
	if s.Failed > 0 {
		return 1
	}
	return 0
}

// evaluate classifies the samples in batches. An image that fails to load
// counts as wrong and is reported through onError.
func evaluate(c *classifier.Classifier, samples []sample, batch int, bar *progressBar, onError func(string, error)) summary {
	size := c.Model.Config.ImageSize
	imageLen := 3 * size * size
	numLabels := len(c.Labels())
	batch = min(batch, len(samples))
	pixels := make([]float32, 0, batch*imageLen)
	var labels []int
	var s summary
	start := time.Now()

	flush := func() {
		if len(labels) == 0 {
			return
		}
		logits, err := c.Logits(pixels, len(labels))
		if err != nil {
			for range labels {
				onError("batch", err)
			}
			s.Failed += len(labels)
		} else {
			for i, label := range labels {
				top := classifier.TopK(logits[i*numLabels:(i+1)*numLabels], c.Labels(), 5)
				for rank, p := range top {
					if p.Index == label {
						if rank == 0 {
							s.Top1++
						}
						s.Top5++
						break
					}
				}
			}
		}
		if bar != nil {
			bar.add(len(labels), s.Top1)
		}
		pixels, labels = pixels[:0], labels[:0]
	}

	for _, smp := range samples {
		values, err := smp.load()
		if err != nil {
			onError(smp.name, err)
			s.Failed++
			if bar != nil {
				bar.add(1, s.Top1)
			}
			continue
		}
		pixels = append(pixels, values...)
		labels = append(labels, smp.label)
		if len(labels) == batch {
			flush()
		}
	}
	flush()
	if bar != nil {
		bar.finish()
	}

	s.Images = len(samples)
	s.Seconds = time.Since(start).Seconds()
	s.ImagesPerSec = float64(s.Images) / s.Seconds
	s.Top1 = 100 * s.Top1 / float64(s.Images)
	s.Top5 = 100 * s.Top5 / float64(s.Images)
	return s
}

func fashionSamples(c *classifier.Classifier, dir string) ([]sample, error) {
	set, err := fashionmnist.LoadTest(dir)
	if err != nil {
		return nil, err
	}
	if len(c.Labels()) != 10 {
		return nil, fmt.Errorf("model has %d classes, Fashion-MNIST has 10", len(c.Labels()))
	}
	samples := make([]sample, set.Len())
	for i := range samples {
		samples[i] = sample{
			name:  fmt.Sprintf("test image %d", i),
			label: int(set.Labels[i]),
			load:  func() ([]float32, error) { return c.PixelValues(set.RGB(i)) },
		}
	}
	return samples, nil
}
