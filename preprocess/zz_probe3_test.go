package preprocess

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"testing"
)

func TestProbeMakeFixtures(t *testing.T) {
	g := loadGolden(t, "chelsea", "chelsea.png")
	const x0, y0, w, h = 180, 70, 95, 63
	raw := make([]byte, 0, w*h*3)
	for y := y0; y < y0+h; y++ {
		raw = append(raw, g.decoded[(y*451+x0)*3:(y*451+x0+w)*3]...)
	}
	os.WriteFile("/tmp/jpegref/in.rgb", raw, 0o644)
	for _, c := range []struct {
		name   string
		hs, vs int
	}{{"420", 2, 2}, {"422", 2, 1}, {"440", 1, 2}} {
		jpg := fmt.Sprintf("../testdata/preprocess/chelsea-%s.jpg", c.name)
		if out, err := exec.Command("/tmp/jpegref/jpegref", "encode", "/tmp/jpegref/in.rgb", fmt.Sprint(w), fmt.Sprint(h), fmt.Sprint(c.hs), fmt.Sprint(c.vs), "85", jpg).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		if out, err := exec.Command("/tmp/jpegref/jpegref", "decode", jpg, "/tmp/jpegref/ref.rgb").CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		ref, _ := os.ReadFile("/tmp/jpegref/ref.rgb")
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := 0; i < w*h; i++ {
			copy(m.Pix[4*i:], ref[3*i:3*i+3])
			m.Pix[4*i+3] = 255
		}
		f, _ := os.Create(fmt.Sprintf("../testdata/preprocess/chelsea-%s.libjpeg.png", c.name))
		png.Encode(f, m)
		f.Close()
	}
}
