/* Writes the JPEG test images of package preprocess and their reference
   decodes with libjpeg-turbo.

     jpegref encode IN.rgb WIDTH HEIGHT HSAMP VSAMP QUALITY OUT.jpg
       encodes raw 8-bit RGB with luma sampling factors HSAMP×VSAMP
       (chroma 1×1), so 2 2 gives 4:2:0, 2 1 gives 4:2:2, 1 2 gives 4:4:0.
     jpegref decode IN.jpg OUT.rgb
       decodes with the library defaults to raw 8-bit RGB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static int decode(const char *in, const char *out) {
  FILE *f = fopen(in, "rb");
  if (!f) return 1;
  struct jpeg_decompress_struct d;
  struct jpeg_error_mgr e;
  d.err = jpeg_std_error(&e);
  jpeg_create_decompress(&d);
  jpeg_stdio_src(&d, f);
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d);
  FILE *o = fopen(out, "wb");
  if (!o) return 1;
  JSAMPLE *row = malloc((size_t)d.output_width * d.output_components);
  while (d.output_scanline < d.output_height) {
    jpeg_read_scanlines(&d, &row, 1);
    fwrite(row, 1, (size_t)d.output_width * d.output_components, o);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  fclose(o);
  fclose(f);
  return 0;
}

static int encode(const char *in, int w, int h, int hsamp, int vsamp, int quality, const char *out) {
  FILE *f = fopen(in, "rb");
  if (!f) return 1;
  unsigned char *buf = malloc((size_t)w * h * 3);
  if (fread(buf, 1, (size_t)w * h * 3, f) != (size_t)w * h * 3) return 1;
  fclose(f);
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);

  FILE *o = fopen(out, "wb");
  if (!o) return 1;
  jpeg_stdio_dest(&c, o);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  c.comp_info[0].h_samp_factor = hsamp;
  c.comp_info[0].v_samp_factor = vsamp;
  c.comp_info[1].h_samp_factor = c.comp_info[1].v_samp_factor = 1;
  c.comp_info[2].h_samp_factor = c.comp_info[2].v_samp_factor = 1;

  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = buf + (size_t)c.next_scanline * w * 3;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(o);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "decode")) return decode(argv[2], argv[3]);
  if (argc == 9 && !strcmp(argv[1], "encode"))
    return encode(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), argv[8]);
  fprintf(stderr, "usage: jpegref encode IN.rgb W H HSAMP VSAMP QUALITY OUT.jpg | jpegref decode IN.jpg OUT.rgb\n");
  return 2;
}
