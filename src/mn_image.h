/* Decoding an uploaded image from memory, with limits checked before any work.
 *
 * Only PNG, JPEG, GIF (first frame) and BMP are accepted, recognised by their magic
 * bytes: stb_image would also decode PSD, TGA, HDR, PIC and PNM, formats nobody
 * uploads on purpose and whose decoders are a larger attack surface.
 *
 * Order of checks, cheapest first, so that hostile input costs almost nothing:
 *   1. magic bytes (MN_ERR_FORMAT: "not a PNG, JPEG, GIF or BMP image (N bytes)");
 *   2. the dimensions read from the header by this module, then again by
 *      stbi_info_from_memory: a zero side or width*height above the caller's pixel cap
 *      (a 16-bit PNG's pixels count twice: stb decodes them in twice the memory) is
 *      MN_ERR_LIMIT, before a single pixel is decoded;
 *   3. cheap structural checks that stb does not make (it pads missing data with
 *      zeros): a JPEG without an end-of-image marker, a GIF whose first frame is cut
 *      short, a BMP shorter than its pixel array are MN_ERR_FORMAT ("truncated ...");
 *   4. the decode itself; anything stb refuses is MN_ERR_FORMAT with stb's reason.
 *
 * The result is 8-bit grayscale with alpha composited on white (a transparent
 * canvas drawing becomes dark ink on white paper), or on black when most of the
 * image is transparent and what is drawn is light (white strokes on a clear layer,
 * which on white would vanish). A 16-bit PNG's level is its high byte, rounded,
 * unless every level lies under 256: then it holds 8-bit levels (as Pillow saves an
 * image of integers), and the low byte is the level. JPEG EXIF orientation is
 * applied, so a phone photo comes out the way the phone showed it.
 *
 * Thread safety: no global state here. Debian's libstb is built with STBI_THREAD_LOCAL
 * (its failure reason and flip flag live in a TLS segment), so stbi_failure_reason()
 * is per thread; it is only used for messages anyway. Each decode pins stb's
 * per-thread vertical-flip flag to "off" so nothing else in the process can flip us. */
#ifndef MN_IMAGE_H
#define MN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"

/* Default pixel cap: 16 Mpx (4096 x 4096). The result takes 2 bytes per pixel (4 for a
 * 16-bit PNG) until it is made gray in place. */
#define MN_IMAGE_DEFAULT_MAX_PIXELS ((size_t)4096 * 4096)

typedef enum mn_image_format {
    MN_IMAGE_FORMAT_UNKNOWN = 0,
    MN_IMAGE_FORMAT_PNG,
    MN_IMAGE_FORMAT_JPEG,
    MN_IMAGE_FORMAT_GIF,
    MN_IMAGE_FORMAT_BMP
} mn_image_format;

typedef struct mn_image_info {
    mn_image_format format;
    int width, height;  /* pixels, as displayed (after EXIF orientation) */
    int orientation;    /* EXIF orientation 1..8 that decoding applies; 1 = as stored */
} mn_image_info;

/* An 8-bit grayscale image: `pixels` holds width*height bytes, row-major, top row
 * first, 0 = black, 255 = white. */
typedef struct mn_gray_image {
    int width, height;
    uint8_t *pixels;
} mn_gray_image;

/* The format the first bytes announce; MN_IMAGE_FORMAT_UNKNOWN for anything else
 * (including the other formats stb could decode). Never reads past `size`. */
mn_image_format mn_image_sniff(const void *data, size_t size);

/* "PNG", "JPEG", "GIF", "BMP" or "unknown". Static string. */
const char *mn_image_format_name(mn_image_format format);

/* Checks 1-3 above without decoding: fills *info (may be NULL) on MN_OK.
 * max_pixels is the cap on width*height; 0 means MN_IMAGE_DEFAULT_MAX_PIXELS. */
mn_status mn_image_probe(const void *data, size_t size, size_t max_pixels,
                         mn_image_info *info, mn_error *err);

/* Probes, then decodes to grayscale composited on white (or black, above), with EXIF
 * orientation applied. On MN_OK, *out owns a buffer allocated by stb_image (the only
 * allocation, about 2 bytes per pixel, 4 for a 16-bit PNG; the gray image is made in
 * place in it): release it with mn_gray_image_free(). On failure *out is {0, 0, NULL}.
 * info may be NULL. */
mn_status mn_image_decode_gray(const void *data, size_t size, size_t max_pixels,
                               mn_gray_image *out, mn_image_info *info, mn_error *err);

/* Frees an image returned by mn_image_decode_gray and zeroes *img. NULL-safe; do not
 * call it on an mn_gray_image whose pixels you supplied yourself. */
void mn_gray_image_free(mn_gray_image *img);

#endif
