// Command testimages writes the first images of the Fashion-MNIST test set
// as 28×28 files for the browser tests: a PNG of each, and a TIFF of the
// first one, a format that the classifier decodes but Chromium does not.
//
//	go run ./e2e/testimages -out DIR [-n 10] [-data /usr/share/datasets/fashion-mnist]
//
// Files are named fashion-mnist-INDEX-LABEL.EXT, with the true class in the
// name. The data set comes from Debian's dataset-fashion-mnist package.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/tiff"

	"github.com/d2vgo/d2v/dataset/fashionmnist"
)

// classNames are the Fashion-MNIST labels in class order, made safe for
// file names.
var classNames = []string{"t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"}

func main() {
	out := flag.String("out", "", "output `folder`, created if missing")
	count := flag.Int("n", 10, "number of PNG images to write, from the start of the test set")
	data := flag.String("data", fashionmnist.DefaultDir, "`folder` with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
	flag.Parse()
	if err := run(*out, *data, *count); err != nil {
		fmt.Fprintln(os.Stderr, "testimages:", err)
		os.Exit(1)
	}
}

func run(out, data string, count int) error {
	if out == "" {
		return fmt.Errorf("missing -out folder")
	}
	set, err := fashionmnist.LoadTest(data)
	if err != nil {
		return err
	}
	if count < 1 || count > set.Len() {
		return fmt.Errorf("-n must be between 1 and %d, got %d", set.Len(), count)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for i := range count {
		name := fmt.Sprintf("fashion-mnist-%04d-%s", i, classNames[set.Labels[i]])
		if err := writeImage(filepath.Join(out, name+".png"), set.RGB(i), png.Encode); err != nil {
			return err
		}
		if i == 0 {
			encodeTIFF := func(w io.Writer, img image.Image) error { return tiff.Encode(w, img, nil) }
			if err := writeImage(filepath.Join(out, name+".tiff"), set.RGB(i), encodeTIFF); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeImage(path string, img image.Image, encode func(io.Writer, image.Image) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
