package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ImageProcessorConfig is preprocessor_config.json of a BeitImageProcessor,
// or of the older BeitFeatureExtractor whose "size" is a plain integer.
type ImageProcessorConfig struct {
	DoResize      bool
	Height, Width int // resize target in pixels
	Resample      int // PIL resampling filter; only 3 (bicubic) is supported

	DoCenterCrop          bool
	CropHeight, CropWidth int
	DoRescale             bool
	RescaleFactor         float64
	DoNormalize           bool
	ImageMean, ImageStd   [3]float32
}

type rawImageProcessorConfig struct {
	DoResize      *bool           `json:"do_resize"`
	Size          json.RawMessage `json:"size"`
	Resample      *int            `json:"resample"`
	DoCenterCrop  *bool           `json:"do_center_crop"`
	CropSize      json.RawMessage `json:"crop_size"`
	DoRescale     *bool           `json:"do_rescale"`
	RescaleFactor *float64        `json:"rescale_factor"`
	DoNormalize   *bool           `json:"do_normalize"`
	ImageMean     json.RawMessage `json:"image_mean"`
	ImageStd      json.RawMessage `json:"image_std"`
}

// pilBicubic is PIL.Image.Resampling.BICUBIC.
const pilBicubic = 3

// ReadImageProcessorConfig reads dir/preprocessor_config.json.
func ReadImageProcessorConfig(dir string) (ImageProcessorConfig, error) {
	path := filepath.Join(dir, "preprocessor_config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return ImageProcessorConfig{}, err
	}
	c, err := ParseImageProcessorConfig(data)
	if err != nil {
		return ImageProcessorConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseImageProcessorConfig parses a preprocessor_config.json. Missing keys
// take BeitImageProcessor's defaults: resize to 256x256 bicubic, center crop
// to 224x224, rescale by 1/255, normalize with mean and std 0.5.
func ParseImageProcessorConfig(data []byte) (ImageProcessorConfig, error) {
	var raw rawImageProcessorConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return ImageProcessorConfig{}, fmt.Errorf("invalid preprocessor config JSON: %w", err)
	}
	c := ImageProcessorConfig{
		DoResize:      boolOr(raw.DoResize, true),
		Resample:      intOr(raw.Resample, pilBicubic),
		DoCenterCrop:  boolOr(raw.DoCenterCrop, true),
		DoRescale:     boolOr(raw.DoRescale, true),
		RescaleFactor: 1.0 / 255,
		DoNormalize:   boolOr(raw.DoNormalize, true),
		ImageMean:     [3]float32{0.5, 0.5, 0.5},
		ImageStd:      [3]float32{0.5, 0.5, 0.5},
	}
	if raw.RescaleFactor != nil {
		c.RescaleFactor = *raw.RescaleFactor
	}

	var err error
	if c.Height, c.Width, err = parseSize("size", raw.Size, 256); err != nil {
		return ImageProcessorConfig{}, err
	}
	if c.CropHeight, c.CropWidth, err = parseSize("crop_size", raw.CropSize, 224); err != nil {
		return ImageProcessorConfig{}, err
	}
	if c.ImageMean, err = parseChannelValues("image_mean", raw.ImageMean, c.ImageMean); err != nil {
		return ImageProcessorConfig{}, err
	}
	if c.ImageStd, err = parseChannelValues("image_std", raw.ImageStd, c.ImageStd); err != nil {
		return ImageProcessorConfig{}, err
	}

	if c.DoResize && c.Resample != pilBicubic {
		return ImageProcessorConfig{}, fmt.Errorf("resample %d is not supported (want 3, bicubic)", c.Resample)
	}
	for _, s := range []struct {
		field string
		value int
	}{{"size height", c.Height}, {"size width", c.Width}, {"crop_size height", c.CropHeight}, {"crop_size width", c.CropWidth}} {
		if s.value < 1 || s.value > maxImageSize {
			return ImageProcessorConfig{}, fmt.Errorf("%s %d is out of range [1, %d]", s.field, s.value, maxImageSize)
		}
	}
	if c.DoRescale && !(c.RescaleFactor > 0) {
		return ImageProcessorConfig{}, fmt.Errorf("rescale_factor %g must be positive", c.RescaleFactor)
	}
	for i, s := range c.ImageStd {
		if c.DoNormalize && s == 0 {
			return ImageProcessorConfig{}, fmt.Errorf("image_std[%d] is 0", i)
		}
	}
	return c, nil
}

// OutputSize returns the height and width of the pixel values the processor
// produces, which must equal the model's image_size.
func (c ImageProcessorConfig) OutputSize(inputHeight, inputWidth int) (height, width int) {
	height, width = inputHeight, inputWidth
	if c.DoResize {
		height, width = c.Height, c.Width
	}
	if c.DoCenterCrop {
		height, width = c.CropHeight, c.CropWidth
	}
	return height, width
}

// parseSize accepts the current {"height": h, "width": w} form and the legacy
// plain integer, which means a square.
func parseSize(field string, raw json.RawMessage, def int) (height, width int, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, def, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, n, nil
	}
	var hw struct {
		Height       *int `json:"height"`
		Width        *int `json:"width"`
		ShortestEdge *int `json:"shortest_edge"`
	}
	if err := json.Unmarshal(raw, &hw); err != nil {
		return 0, 0, fmt.Errorf("%s %s is not an integer or a {height, width} object", field, raw)
	}
	if hw.ShortestEdge != nil {
		return 0, 0, fmt.Errorf("%s %s is not supported: BEiT resizes to a fixed height and width, not a shortest edge", field, raw)
	}
	if hw.Height == nil || hw.Width == nil {
		return 0, 0, fmt.Errorf("%s %s lacks height or width", field, raw)
	}
	return *hw.Height, *hw.Width, nil
}

// parseChannelValues accepts a list of three floats or a single float that
// applies to every channel.
func parseChannelValues(field string, raw json.RawMessage, def [3]float32) ([3]float32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var one float32
	if err := json.Unmarshal(raw, &one); err == nil {
		return [3]float32{one, one, one}, nil
	}
	var list []float32
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 3 {
		return def, fmt.Errorf("%s %s is not a number or a list of 3 numbers", field, raw)
	}
	return [3]float32{list[0], list[1], list[2]}, nil
}
