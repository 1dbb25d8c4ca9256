// Package preprocess turns encoded images into the pixel_values tensor that
// Hugging Face's BeitImageProcessor (used by BEiT and Data2Vec-Vision
// checkpoints) feeds to the model. Each step reproduces what transformers
// 4.36 does with Pillow 9.4, so a Go port classifies an image with the same
// input as the Python reference:
//
//  1. Decode (DecodeBytes, Decode) reads the header first and rejects an
//     image larger than a pixel limit before any pixel is decoded. It accepts
//     JPEG, PNG, GIF (first frame), BMP, TIFF and WebP.
//  2. The EXIF Orientation tag is applied, because transformers' load_image
//     calls PIL.ImageOps.exif_transpose before convert("RGB"). The tag is
//     read from a JPEG APP1 segment, a PNG eXIf chunk, a WebP EXIF chunk or
//     the first TIFF directory. An image without a readable tag is left as
//     stored.
//  3. The decoded image becomes 8-bit RGB the way Pillow's convert("RGB")
//     does it (FromImage): grey is replicated, alpha is dropped and not
//     composited, palettes are looked up.
//  4. Resize scales with Pillow's antialiased bicubic filter, including its
//     fixed-point arithmetic, so PNG input matches Pillow exactly.
//  5. PixelValues (or PixelValuesInto) optionally center-crops, rescales and
//     normalises into a float32 CHW tensor, following Options.
//
// Pillow decodes JPEG with libjpeg-turbo and WebP with libwebp. This package
// decodes with Go's decoders and then redoes the chroma upsampling and
// colour conversion of those libraries, which Go does differently. Lossy
// WebP then matches libwebp exactly. JPEG still differs by up to a few
// levels at some pixels, because Go's inverse DCT rounds differently.
//
// FromRGBA wraps browser canvas pixels, which are already decoded and
// oriented, so they can enter the pipeline at step 4.
package preprocess
