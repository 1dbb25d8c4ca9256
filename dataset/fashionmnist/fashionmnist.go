// Package fashionmnist loads the Fashion-MNIST test set (10,000 grey 28x28
// images of clothing in 10 classes) from its IDX files, as Debian's
// dataset-fashion-mnist package installs them.
package fashionmnist

import (
	"fmt"
	"path/filepath"

	"github.com/d2vgo/d2v/dataset/idx"
	"github.com/d2vgo/d2v/preprocess"
)

// DefaultDir is the folder of Debian's dataset-fashion-mnist package.
const DefaultDir = "/usr/share/datasets/fashion-mnist"

// Image side in pixels.
const Size = 28

// Set is a split of the data set, in file order.
type Set struct {
	Images []uint8 // [n, 28, 28], 0 is background
	Labels []uint8 // [n], class index 0..9
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// RGB returns image i with its grey value in all three channels, as Pillow's
// convert("RGB") does for a grey image.
func (s *Set) RGB(i int) *preprocess.RGB {
	img := preprocess.NewRGB(Size, Size)
	for p, v := range s.Images[i*Size*Size : (i+1)*Size*Size] {
		img.Pix[3*p], img.Pix[3*p+1], img.Pix[3*p+2] = v, v, v
	}
	return img
}

// LoadTest reads t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz
// from dir.
func LoadTest(dir string) (*Set, error) {
	return load(dir, "t10k")
}

func load(dir, prefix string) (*Set, error) {
	images, err := idx.ReadFile(filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"))
	if err != nil {
		return nil, fmt.Errorf("reading Fashion-MNIST images (install Debian's dataset-fashion-mnist package): %w", err)
	}
	labels, err := idx.ReadFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, fmt.Errorf("reading Fashion-MNIST labels: %w", err)
	}
	if len(images.Shape) != 3 || images.Shape[1] != Size || images.Shape[2] != Size {
		return nil, fmt.Errorf("Fashion-MNIST images have shape %v, want [n %d %d]", images.Shape, Size, Size)
	}
	if len(labels.Shape) != 1 || labels.Shape[0] != images.Shape[0] {
		return nil, fmt.Errorf("Fashion-MNIST has %d images but labels of shape %v", images.Shape[0], labels.Shape)
	}
	for i, l := range labels.Data {
		if l > 9 {
			return nil, fmt.Errorf("Fashion-MNIST label %d of image %d is not a class 0..9", l, i)
		}
	}
	return &Set{Images: images.Data, Labels: labels.Data}, nil
}
