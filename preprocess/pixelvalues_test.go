package preprocess

import (
	"math"
	"math/rand/v2"
	"testing"
)

// twoPixels is a 2×1 image with distinct values in every channel.
func twoPixels() *RGB {
	return &RGB{Width: 2, Height: 1, Pix: []uint8{0, 128, 255, 255, 1, 10}}
}

func TestPixelValuesChannelFirstLayout(t *testing.T) {
	got, err := Options{}.PixelValues(twoPixels())
	if err != nil {
		t.Fatal(err)
	}
	// Plane R, then G, then B, each holding both pixels.
	want := []float32{0, 255, 128, 1, 255, 10}
	if len(got) != len(want) {
		t.Fatalf("len = %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPixelValuesRescaleAndNormalize(t *testing.T) {
	const factor = 0.00392156862745098 // 1/255 as preprocessor_config.json stores it
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	img := twoPixels()

	// The expressions transformers evaluates: the uint8 array times a
	// Python float is float64, cast to float32; normalising is float32
	// arithmetic.
	rescaled := func(v uint8) float32 { return float32(float64(v) * factor) }

	for _, tc := range []struct {
		name string
		opts Options
		want func(v uint8, c int) float32
	}{
		{"rescale only", Options{Rescale: true, RescaleFactor: factor}, func(v uint8, c int) float32 {
			return rescaled(v)
		}},
		{"normalize only", Options{Normalize: true, Mean: mean, Std: std}, func(v uint8, c int) float32 {
			return (float32(v) - mean[c]) / std[c]
		}},
		{"both", Options{Rescale: true, RescaleFactor: factor, Normalize: true, Mean: mean, Std: std}, func(v uint8, c int) float32 {
			return (rescaled(v) - mean[c]) / std[c]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.PixelValues(img)
			if err != nil {
				t.Fatal(err)
			}
			for c := 0; c < 3; c++ {
				for i := 0; i < 2; i++ {
					v := img.Pix[3*i+c]
					if want := tc.want(v, c); got[2*c+i] != want {
						t.Errorf("channel %d pixel %d (value %d) = %v, want %v", c, i, v, got[2*c+i], want)
					}
				}
			}
		})
	}
}

func TestPixelValuesEndpointsWithHalfMeanStd(t *testing.T) {
	got, err := goldenOptions().PixelValues(&RGB{Width: 1, Height: 1, Pix: []uint8{0, 255, 0}})
	if err != nil {
		t.Fatal(err)
	}
	// The resize to 224×224 of a constant image keeps the values.
	plane := 224 * 224
	if got[0] != -1 || got[plane] != 1 || got[2*plane] != -1 {
		t.Errorf("values %v, %v, %v, want -1, 1, -1", got[0], got[plane], got[2*plane])
	}
}

func TestPixelValuesIntoBatch(t *testing.T) {
	opts := goldenOptions()
	opts.Width, opts.Height = 8, 6
	rng := rand.New(rand.NewPCG(5, 6))
	images := []*RGB{randomRGB(rng, 20, 10), randomRGB(rng, 5, 9)}

	per := 3 * 6 * 8
	batch := make([]float32, len(images)*per)
	for i, img := range images {
		if err := opts.PixelValuesInto(batch[i*per:(i+1)*per], img); err != nil {
			t.Fatal(err)
		}
	}
	for i, img := range images {
		single, err := opts.PixelValues(img)
		if err != nil {
			t.Fatal(err)
		}
		for j := range single {
			if batch[i*per+j] != single[j] {
				t.Fatalf("image %d value %d = %v in the batch, want %v", i, j, batch[i*per+j], single[j])
			}
		}
	}
}

func TestPixelValuesIntoRejectsWrongLength(t *testing.T) {
	opts := goldenOptions()
	for _, n := range []int{0, 3*224*224 - 1, 3*224*224 + 1} {
		if err := opts.PixelValuesInto(make([]float32, n), twoPixels()); err == nil {
			t.Errorf("destination of %d values accepted, want an error", n)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := goldenOptions()
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Options)
	}{
		{"zero resize width", func(o *Options) { o.Width = 0 }},
		{"negative crop height", func(o *Options) { o.CenterCrop, o.CropWidth, o.CropHeight = true, 2, -1 }},
		{"infinite rescale factor", func(o *Options) { o.RescaleFactor = math.Inf(1) }},
		{"zero std", func(o *Options) { o.Std[1] = 0 }},
		{"NaN mean", func(o *Options) { o.Mean[2] = float32(math.NaN()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := valid
			tc.change(&opts)
			if err := opts.Validate(); err == nil {
				t.Error("Validate accepted the options")
			}
			if _, err := opts.PixelValues(twoPixels()); err == nil {
				t.Error("PixelValues accepted the options")
			}
		})
	}
}

func TestOptionsOutputSize(t *testing.T) {
	for _, tc := range []struct {
		name          string
		opts          Options
		width, height int
	}{
		{"no resize or crop", Options{}, 40, 30},
		{"resize", Options{Resize: true, Width: 20, Height: 10}, 20, 10},
		{"crop after resize", BeitDefaults(), 224, 224},
	} {
		if w, h := tc.opts.OutputSize(40, 30); w != tc.width || h != tc.height {
			t.Errorf("%s: OutputSize = %dx%d, want %dx%d", tc.name, w, h, tc.width, tc.height)
		}
	}
}

// TestCenterCrop follows transformers' center_crop: the window starts at
// (size - crop) // 2 with Python's floor division, and an image smaller than
// the crop is padded with zeros, ending up at offset ceil((crop - size) / 2).
func TestCenterCrop(t *testing.T) {
	// grid returns a width×height image whose red channel is 10*y + x + 1,
	// so zero padding is distinguishable from every pixel.
	grid := func(width, height int) *RGB {
		img := NewRGB(width, height)
		for y := 0; y < height; y++ {
			for x := 0; x < width; x++ {
				img.Pix[3*(y*width+x)] = uint8(10*y + x + 1)
			}
		}
		return img
	}
	red := func(img *RGB) [][]uint8 {
		rows := make([][]uint8, img.Height)
		for y := range rows {
			for x := 0; x < img.Width; x++ {
				rows[y] = append(rows[y], img.Pix[3*(y*img.Width+x)])
			}
		}
		return rows
	}

	for _, tc := range []struct {
		name                  string
		srcWidth, srcHeight   int
		cropWidth, cropHeight int
		want                  [][]uint8
	}{
		// (4-2)//2 = 1 on both axes.
		{"even shrink", 4, 4, 2, 2, [][]uint8{{12, 13}, {22, 23}}},
		// Left (5-2)//2 = 1, top (3-2)//2 = 0.
		{"odd shrink", 5, 3, 2, 2, [][]uint8{{2, 3}, {12, 13}}},
		// Padding 2 columns puts the image at x = 1, padding 1 row puts
		// it at y = ceil(1/2) = 1.
		{"pad both", 2, 2, 4, 3, [][]uint8{{0, 0, 0, 0}, {0, 1, 2, 0}, {0, 11, 12, 0}}},
		// Crop across (left (3-1)//2 = 1), pad down (image at y = 1).
		{"crop and pad", 3, 1, 1, 3, [][]uint8{{0}, {2}, {0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := red(centerCrop(grid(tc.srcWidth, tc.srcHeight), tc.cropWidth, tc.cropHeight))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tc.want))
			}
			for y := range tc.want {
				if string(got[y]) != string(tc.want[y]) {
					t.Errorf("row %d = %v, want %v", y, got[y], tc.want[y])
				}
			}
		})
	}
}

func TestPixelValuesWithBeitDefaults(t *testing.T) {
	img := randomRGB(rand.New(rand.NewPCG(7, 8)), 300, 200)
	got, err := BeitDefaults().PixelValues(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3*224*224 {
		t.Fatalf("len = %d, want 3*224*224", len(got))
	}

	// The same steps by hand: resize to 256×256, take the middle 224×224
	// (offset 16), then scale to [-1, 1].
	resized, err := Resize(img, 256, 256)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]int{{0, 0}, {223, 223}, {100, 37}} {
		x, y := p[0], p[1]
		for c := 0; c < 3; c++ {
			v := resized.Pix[3*((y+16)*256+x+16)+c]
			want := (float32(float64(v)*(1.0/255)) - 0.5) / 0.5
			if g := got[c*224*224+y*224+x]; g != want {
				t.Errorf("channel %d at (%d, %d) = %v, want %v", c, x, y, g, want)
			}
		}
	}
}
