package preprocess

import (
	"image"
	"os"
	"testing"
)

func mustDecodeStd(t *testing.T, path string) image.Image {
	f, _ := os.Open(path)
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
