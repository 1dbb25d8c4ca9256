package preprocess

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

func TestProbeFancy(t *testing.T) {
	g := loadGolden(t, "chelsea", "chelsea.png")
	os.WriteFile("/tmp/jpegref/chelsea.rgb", g.decoded, 0o644)
	for _, c := range []struct{ w, h, hs, vs int }{
		{451, 300, 2, 2}, {451, 299, 2, 2}, {451, 299, 2, 1}, {451, 299, 1, 2}, {451, 299, 1, 1},
		{451, 299, 4, 1}, {451, 299, 4, 2}, {3, 5, 2, 2}, {4, 3, 2, 1}, {5, 7, 2, 2}, {17, 9, 2, 2}, {451, 1, 2, 2}, {1, 20, 1, 2},
	} {
		// Encode the top-left w×h window of chelsea: rewrite a raw buffer with that stride.
		raw := make([]byte, 0, c.w*c.h*3)
		for y := 0; y < c.h; y++ {
			raw = append(raw, g.decoded[y*451*3:y*451*3+c.w*3]...)
		}
		os.WriteFile("/tmp/jpegref/in.rgb", raw, 0o644)
		jpg := fmt.Sprintf("/tmp/jpegref/t_%d_%d_%d%d.jpg", c.w, c.h, c.hs, c.vs)
		if out, err := exec.Command("/tmp/jpegref/jpegref", "encode", "/tmp/jpegref/in.rgb", fmt.Sprint(c.w), fmt.Sprint(c.h), fmt.Sprint(c.hs), fmt.Sprint(c.vs), "90", jpg).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		if out, err := exec.Command("/tmp/jpegref/jpegref", "decode", jpg, "/tmp/jpegref/ref.rgb").CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		ref, _ := os.ReadFile("/tmp/jpegref/ref.rgb")
		img := decodeFile(t, jpg)
		m, mean := byteDiff(img.Pix, ref)
		goImg := FromImage(mustDecodeStd(t, jpg))
		gm, gmean := byteDiff(goImg.Pix, ref)
		t.Logf("%dx%d %dx%d: libjpeg-style max %d mean %.4f | plain Go max %d mean %.4f", c.w, c.h, c.hs, c.vs, m, mean, gm, gmean)
	}
}
