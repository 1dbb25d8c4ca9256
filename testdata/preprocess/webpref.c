/* Writes the WebP test images of package preprocess and their reference
   decodes with libwebp.

     webpref encode IN.rgb WIDTH HEIGHT QUALITY OUT.webp
       encodes raw 8-bit RGB, lossy at QUALITY, or lossless if QUALITY < 0.
     webpref decode IN.webp OUT.rgb
       decodes with the library defaults (fancy upsampling) to raw RGB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

static int encode(const char *in, int w, int h, float quality, const char *out) {
  FILE *f = fopen(in, "rb");
  if (!f) return 1;
  unsigned char *buf = malloc((size_t)w * h * 3);
  if (fread(buf, 1, (size_t)w * h * 3, f) != (size_t)w * h * 3) return 1;
  fclose(f);
  uint8_t *data;
  size_t n = quality < 0 ? WebPEncodeLosslessRGB(buf, w, h, w * 3, &data)
                         : WebPEncodeRGB(buf, w, h, w * 3, quality, &data);
  if (n == 0) return 1;
  f = fopen(out, "wb");
  if (!f) return 1;
  fwrite(data, 1, n, f);
  fclose(f);
  return 0;
}

static int decode(const char *in, const char *out) {
  FILE *f = fopen(in, "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc(n);
  if (fread(data, 1, n, f) != (size_t)n) return 1;
  fclose(f);
  int w, h;
  uint8_t *rgb = WebPDecodeRGB(data, n, &w, &h);
  if (!rgb) return 1;
  f = fopen(out, "wb");
  if (!f) return 1;
  fwrite(rgb, 1, (size_t)w * h * 3, f);
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && !strcmp(argv[1], "encode")) return encode(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), argv[6]);
  if (argc == 4 && !strcmp(argv[1], "decode")) return decode(argv[2], argv[3]);
  fprintf(stderr, "usage: webpref encode IN.rgb W H QUALITY OUT.webp | webpref decode IN.webp OUT.rgb\n");
  return 2;
}
