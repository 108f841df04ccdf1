/* Image decoding with limits: every accepted format decoded to the expected gray
 * values (alpha on white, EXIF orientation), and every refusal with the right status:
 * limits before decoding, truncation, garbage, formats refused by sniffing. Images are
 * made here with stb_image_write and a small GIF encoder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stb_image.h>
#include <stb_image_write.h>
#include <zlib.h>

#include "mn_image.h"

/* ------------------------------------------------------------------ encoders */

typedef struct membuf {
    uint8_t *data;
    size_t len, cap;
} membuf;

static void put(membuf *m, const void *p, size_t n)
{
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2 + 64;
        m->data = realloc(m->data, m->cap);
        assert_non_null(m->data);
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
}

static void put8(membuf *m, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(m, &b, 1);
}

static void put16le(membuf *m, unsigned v)
{
    put8(m, v & 0xff);
    put8(m, v >> 8);
}

static void write_cb(void *ctx, void *data, int size)
{
    put(ctx, data, (size_t)size);
}

static membuf png(int w, int h, int comp, const uint8_t *px)
{
    membuf m = {0};
    assert_true(stbi_write_png_to_func(write_cb, &m, w, h, comp, px, w * comp));
    return m;
}

static membuf jpg(int w, int h, int comp, const uint8_t *px)
{
    membuf m = {0};
    assert_true(stbi_write_jpg_to_func(write_cb, &m, w, h, comp, px, 95));
    return m;
}

static membuf bmp(int w, int h, int comp, const uint8_t *px)
{
    membuf m = {0};
    assert_true(stbi_write_bmp_to_func(write_cb, &m, w, h, comp, px));
    return m;
}

/* A GIF with a 256-entry gray palette (index = gray level), one frame per image, LZW
 * codes written as literals with a clear code often enough that they stay 9 bits. */
static void gif_frame(membuf *m, int w, int h, const uint8_t *px, int transparent)
{
    if (transparent >= 0) {  /* graphic control extension */
        const uint8_t gce[] = {0x21, 0xf9, 4, 1, 0, 0, (uint8_t)transparent, 0};
        put(m, gce, sizeof gce);
    }
    put8(m, 0x2c);
    put16le(m, 0);
    put16le(m, 0);
    put16le(m, (unsigned)w);
    put16le(m, (unsigned)h);
    put8(m, 0);  /* no local colour table */
    put8(m, 8);  /* LZW minimum code size */

    membuf codes = {0};
    uint32_t acc = 0;
    int bits = 0, since_clear = 0;
#define EMIT(code)                                        \
    do {                                                  \
        acc |= (uint32_t)(code) << bits;                  \
        bits += 9;                                        \
        while (bits >= 8) {                               \
            put8(&codes, acc & 0xff);                     \
            acc >>= 8;                                    \
            bits -= 8;                                    \
        }                                                 \
    } while (0)
    EMIT(256);
    for (int i = 0; i < w * h; i++) {
        if (since_clear == 250) {
            EMIT(256);
            since_clear = 0;
        }
        EMIT(px[i]);
        since_clear++;
    }
    EMIT(257);
#undef EMIT
    if (bits > 0)
        put8(&codes, acc & 0xff);
    for (size_t i = 0; i < codes.len; i += 255) {
        size_t n = codes.len - i < 255 ? codes.len - i : 255;
        put8(m, (unsigned)n);
        put(m, codes.data + i, n);
    }
    put8(m, 0);
    free(codes.data);
}

static membuf gif_start(int w, int h)
{
    membuf m = {0};
    put(&m, "GIF89a", 6);
    put16le(&m, (unsigned)w);
    put16le(&m, (unsigned)h);
    put8(&m, 0xf7);  /* global colour table of 256 entries */
    put8(&m, 0);
    put8(&m, 0);
    for (int i = 0; i < 256; i++) {
        uint8_t rgb[3] = {(uint8_t)i, (uint8_t)i, (uint8_t)i};
        put(&m, rgb, 3);
    }
    return m;
}

/* A PNG with only the signature and an IHDR claiming w x h (and a valid CRC). */
static membuf png_header_only(uint32_t w, uint32_t h)
{
    membuf m = {0};
    const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    put(&m, sig, 8);
    uint8_t chunk[4 + 4 + 13] = {0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                 (uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8),
                                 (uint8_t)w, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
                                 (uint8_t)(h >> 8), (uint8_t)h, 8, 0, 0, 0, 0};
    put(&m, chunk, sizeof chunk);
    uLong crc = crc32(0L, chunk + 4, sizeof chunk - 4);
    uint8_t c[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                    (uint8_t)crc};
    put(&m, c, 4);
    return m;
}

/* Inserts an EXIF APP1 segment carrying `orientation` right after SOI. */
static membuf with_exif(const membuf *jpeg, int orientation)
{
    const uint8_t app1[] = {
        0xff, 0xe1, 0, 34,                          /* marker, length 34 */
        'E', 'x', 'i', 'f', 0, 0,                   /* EXIF header */
        'M', 'M', 0, 42, 0, 0, 0, 8,                /* big-endian TIFF, IFD0 at 8 */
        0, 1,                                       /* one entry */
        0x01, 0x12, 0, 3, 0, 0, 0, 1,               /* Orientation, SHORT, count 1 */
        0, (uint8_t)orientation, 0, 0,              /* value */
        0, 0, 0, 0,                                 /* no next IFD */
    };
    membuf m = {0};
    put(&m, jpeg->data, 2);
    put(&m, app1, sizeof app1);
    put(&m, jpeg->data + 2, jpeg->len - 2);
    return m;
}

static mn_status decode(const membuf *m, size_t max_pixels, mn_gray_image *img, mn_error *err)
{
    return mn_image_decode_gray(m->data, m->len, max_pixels, img, NULL, err);
}

/* Decodes M, which must be sniffed as FORMAT and decode to a W x H image. */
static mn_gray_image decode_ok(const membuf *m, mn_image_format format, int w, int h)
{
    assert_int_equal(mn_image_sniff(m->data, m->len), format);
    mn_gray_image img;
    mn_error err = {{0}};
    if (decode(m, 0, &img, &err) != MN_OK)
        fail_msg("decoding failed: %s", err.msg);
    assert_int_equal(img.width, w);
    assert_int_equal(img.height, h);
    return img;
}

/* The first LEN bytes of M must be refused as a truncated image. */
static void expect_truncated(const membuf *m, size_t len)
{
    mn_gray_image img;
    mn_error err = {{0}};
    assert_int_equal(mn_image_decode_gray(m->data, len, 0, &img, NULL, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
}

/* ------------------------------------------------------------------ accepted */

static void test_png_gray_exact(void **state)
{
    (void)state;
    uint8_t px[7 * 5];
    for (int i = 0; i < 7 * 5; i++)
        px[i] = (uint8_t)(i * 7);
    membuf m = png(7, 5, 1, px);
    assert_int_equal(mn_image_sniff(m.data, m.len), MN_IMAGE_FORMAT_PNG);

    mn_gray_image img;
    mn_image_info info;
    mn_error err = {{0}};
    assert_int_equal(mn_image_decode_gray(m.data, m.len, 0, &img, &info, &err), MN_OK);
    assert_int_equal(img.width, 7);
    assert_int_equal(img.height, 5);
    assert_int_equal(info.format, MN_IMAGE_FORMAT_PNG);
    assert_int_equal(info.orientation, 1);
    assert_memory_equal(img.pixels, px, sizeof px);
    mn_gray_image_free(&img);
    assert_null(img.pixels);
    free(m.data);
}

static void test_png_rgba_alpha_on_white(void **state)
{
    (void)state;
    /* transparent, opaque black, half-transparent black, opaque white, pure red */
    const uint8_t px[5 * 4] = {0, 0, 0, 0,   0, 0, 0, 255,   0, 0, 0, 128,
                               255, 255, 255, 255,   255, 0, 0, 255};
    membuf m = png(5, 1, 4, px);
    mn_gray_image img;
    mn_error err = {{0}};
    assert_int_equal(decode(&m, 0, &img, &err), MN_OK);
    assert_int_equal(img.width, 5);
    assert_int_equal(img.pixels[0], 255);  /* transparent shows the white paper */
    assert_int_equal(img.pixels[1], 0);
    assert_in_range(img.pixels[2], 126, 128);
    assert_int_equal(img.pixels[3], 255);
    assert_in_range(img.pixels[4], 74, 78);  /* luma of red, about 0.3 */
    mn_gray_image_free(&img);
    free(m.data);
}

static void test_png_light_drawing_on_a_clear_layer(void **state)
{
    (void)state;
    /* white strokes on a transparent layer (a dark theme's canvas): on white they
     * would vanish, so transparency shows black; gray+alpha pairs */
    const uint8_t light[4 * 2] = {255, 0, 255, 0, 255, 255, 255, 0};
    membuf m = png(4, 1, 2, light);
    mn_gray_image img;
    assert_int_equal(decode(&m, 0, &img, NULL), MN_OK);
    const uint8_t on_black[4] = {0, 0, 255, 0};
    assert_memory_equal(img.pixels, on_black, 4);
    mn_gray_image_free(&img);
    free(m.data);
    /* light, but mostly opaque (a photo with clear corners): white, as ever */
    const uint8_t photo[4 * 2] = {255, 0, 200, 255, 200, 255, 200, 255};
    m = png(4, 1, 2, photo);
    assert_int_equal(decode(&m, 0, &img, NULL), MN_OK);
    assert_int_equal(img.pixels[0], 255);
    mn_gray_image_free(&img);
    free(m.data);
}

static void test_png_gray_alpha(void **state)
{
    (void)state;
    const uint8_t px[3 * 2] = {0, 0, 100, 255, 0, 64};  /* gray+alpha pairs */
    membuf m = png(3, 1, 2, px);
    mn_gray_image img;
    assert_int_equal(decode(&m, 0, &img, NULL), MN_OK);
    assert_int_equal(img.pixels[0], 255);
    assert_int_equal(img.pixels[1], 100);
    assert_in_range(img.pixels[2], 190, 192);  /* 255 * 191/255 */
    mn_gray_image_free(&img);
    free(m.data);
}

/* Appends a PNG chunk: length, type, data, CRC. */
static void put_chunk(membuf *m, const char type[4], const uint8_t *data, size_t n)
{
    const uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    put(m, len, 4);
    put(m, type, 4);
    if (n)
        put(m, data, n);
    uLong crc = crc32(crc32(0L, (const Bytef *)type, 4), data, (uInt)n);
    const uint8_t c[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                          (uint8_t)crc};
    put(m, c, 4);
}

/* A 16-bit PNG (stb_image_write makes only 8-bit ones): comp 1 gray, 2 gray+alpha;
 * px holds w * h * comp samples. */
static membuf png16(int w, int h, int comp, const uint16_t *px)
{
    const size_t row = 1 + (size_t)w * (size_t)comp * 2;
    uint8_t *raw = calloc((size_t)h, row);
    assert_non_null(raw);
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w * comp; i++) {  /* filter byte 0, then big-endian samples */
            raw[(size_t)y * row + 1 + 2 * (size_t)i] = (uint8_t)(px[y * w * comp + i] >> 8);
            raw[(size_t)y * row + 2 + 2 * (size_t)i] = (uint8_t)px[y * w * comp + i];
        }
    uLongf zlen = compressBound((uLong)(row * (size_t)h));
    uint8_t *z = malloc(zlen);
    assert_non_null(z);
    assert_int_equal(compress(z, &zlen, raw, (uLong)(row * (size_t)h)), Z_OK);
    membuf m = {0};
    const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    put(&m, sig, 8);
    const uint8_t ihdr[13] = {0, 0, 0, (uint8_t)w, 0, 0, 0, (uint8_t)h, 16,
                              comp == 1 ? 0 : 4, 0, 0, 0};
    put_chunk(&m, "IHDR", ihdr, sizeof ihdr);
    put_chunk(&m, "IDAT", z, zlen);
    put_chunk(&m, "IEND", NULL, 0);
    free(raw);
    free(z);
    return m;
}

static void test_png_16_bit(void **state)
{
    (void)state;
    uint16_t px[8 * 4];
    uint8_t want[8 * 4];
    /* the whole 16-bit range: the level is the value over 257, rounded */
    for (int i = 0; i < 32; i++) {
        px[i] = (uint16_t)(i * 2113);
        want[i] = (uint8_t)((2 * i * 2113 + 257) / 514);  /* rounded */
    }
    membuf m = png16(8, 4, 1, px);
    mn_gray_image img = decode_ok(&m, MN_IMAGE_FORMAT_PNG, 8, 4);
    assert_memory_equal(img.pixels, want, sizeof want);
    mn_gray_image_free(&img);
    free(m.data);
    /* every level under 256: 8-bit levels saved in 16 bits, as Pillow saves an "I"
     * image; by its high byte it would be black */
    for (int i = 0; i < 32; i++)
        px[i] = want[i] = (uint8_t)(i * 7);
    m = png16(8, 4, 1, px);
    img = decode_ok(&m, MN_IMAGE_FORMAT_PNG, 8, 4);
    assert_memory_equal(img.pixels, want, sizeof want);
    mn_gray_image_free(&img);
    /* its 32 pixels count twice against the limit: stb needs twice the memory */
    mn_error err = {{0}};
    assert_int_equal(decode(&m, 63, &img, &err), MN_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "16-bit pixels count twice"));
    assert_null(img.pixels);
    assert_int_equal(decode(&m, 64, &img, &err), MN_OK);
    mn_gray_image_free(&img);
    free(m.data);
    /* with alpha, which always scales: transparent is white */
    const uint16_t pairs[3 * 2] = {0, 0, 100, 65535, 0, 16448};
    m = png16(3, 1, 2, pairs);
    img = decode_ok(&m, MN_IMAGE_FORMAT_PNG, 3, 1);
    assert_int_equal(img.pixels[0], 255);
    assert_int_equal(img.pixels[1], 100);
    assert_in_range(img.pixels[2], 190, 192);  /* 255 * 191/255 */
    mn_gray_image_free(&img);
    free(m.data);
}

/* Dark top-left quadrant on white, 32 wide and 16 high. */
static void quadrant_image(uint8_t *px)
{
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 32; x++)
            px[y * 32 + x] = (x < 16 && y < 8) ? 0 : 255;
}

static void test_jpeg(void **state)
{
    (void)state;
    uint8_t px[32 * 16];
    quadrant_image(px);
    membuf m = jpg(32, 16, 1, px);
    mn_gray_image img = decode_ok(&m, MN_IMAGE_FORMAT_JPEG, 32, 16);
    long diff = 0;
    for (int i = 0; i < 32 * 16; i++)
        diff += abs((int)img.pixels[i] - (int)px[i]);
    assert_true(diff / (32 * 16) < 6);  /* lossy, but close */
    mn_gray_image_free(&img);
    free(m.data);
}

/* The offset of the first segment with marker m in a JPEG, or 0. */
static size_t jpeg_segment(const membuf *m, uint8_t marker)
{
    for (size_t i = 2; i + 4 <= m->len && m->data[i] == 0xff;
         i += 2 + ((size_t)m->data[i + 2] << 8 | m->data[i + 3]))
        if (m->data[i + 1] == marker)
            return i;
    return 0;
}

static void test_jpeg_undefined_tables(void **state)
{
    /* stb_image would decode a scan with a Huffman or quantisation table that no
     * segment defines, reading uninitialised memory (a heap-use-after-free under ASan,
     * found by fuzzing): such files are refused before stb sees them */
    (void)state;
    uint8_t px[32 * 16];
    quadrant_image(px);
    mn_gray_image img;
    mn_error err = {{0}};

    membuf ac = jpg(32, 16, 1, px);
    size_t dht = jpeg_segment(&ac, 0xc4);
    assert_true(dht > 0);
    /* stb writes the DC and AC tables of luma in one DHT: make the AC one table 3 */
    size_t k = dht + 4, count = 0;
    for (int b = 1; b <= 16; b++)
        count += ac.data[k + b];
    uint8_t *second = ac.data + k + 17 + count;
    assert_int_equal(*second, 0x10); /* class 1 (AC), table 0 */
    assert_int_equal(decode(&ac, 0, &img, &err), MN_OK);
    mn_gray_image_free(&img);
    *second = 0x13;
    assert_int_equal(decode(&ac, 0, &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "corrupt JPEG image: a scan uses an undefined Huffman table");
    assert_null(img.pixels);

    membuf q = jpg(32, 16, 1, px);
    size_t dqt = jpeg_segment(&q, 0xdb);
    assert_true(dqt > 0);
    assert_int_equal(q.data[dqt + 4], 0x00); /* 8-bit table 0, used by the luma */
    q.data[dqt + 4] = 0x02;
    assert_int_equal(decode(&q, 0, &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "corrupt JPEG image: a scan uses an undefined quantisation table");
    free(ac.data);
    free(q.data);
}

static void test_jpeg_exif_orientation(void **state)
{
    (void)state;
    uint8_t px[32 * 16];
    quadrant_image(px);
    membuf plain = jpg(32, 16, 1, px);
    /* where the dark quadrant's centre (stored at x 8, y 4) is displayed, per tag */
    const struct {
        int orientation, w, h, dark_x, dark_y, light_x, light_y;
    } cases[] = {
        {1, 32, 16, 8, 4, 24, 12},
        {3, 32, 16, 23, 11, 8, 4},   /* rotated 180 */
        {6, 16, 32, 11, 8, 4, 24},   /* rotated 90 clockwise */
        {8, 16, 32, 4, 23, 4, 8},    /* rotated 90 anticlockwise */
        {2, 32, 16, 23, 4, 8, 4},    /* mirrored */
        {5, 16, 32, 4, 8, 11, 24},   /* transposed */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        membuf m = with_exif(&plain, cases[c].orientation);
        mn_gray_image img;
        mn_image_info info;
        mn_error err = {{0}};
        assert_int_equal(mn_image_decode_gray(m.data, m.len, 0, &img, &info, &err), MN_OK);
        assert_int_equal(info.orientation, cases[c].orientation);
        assert_int_equal(img.width, cases[c].w);
        assert_int_equal(img.height, cases[c].h);
        assert_true(img.pixels[cases[c].dark_y * img.width + cases[c].dark_x] < 40);
        assert_true(img.pixels[cases[c].light_y * img.width + cases[c].light_x] > 215);
        mn_gray_image_free(&img);
        free(m.data);
    }
    free(plain.data);
}

static void test_gif_first_frame_and_transparency(void **state)
{
    (void)state;
    enum { W = 20, H = 30 };  /* 600 pixels: several LZW clear codes */
    uint8_t first[W * H], second[W * H];
    for (int i = 0; i < W * H; i++) {
        first[i] = (uint8_t)(i % 200);
        second[i] = 7;
    }
    first[0] = 250;  /* the transparent index */
    membuf m = gif_start(W, H);
    gif_frame(&m, W, H, first, 250);
    gif_frame(&m, W, H, second, -1);
    put8(&m, 0x3b);
    mn_gray_image img = decode_ok(&m, MN_IMAGE_FORMAT_GIF, W, H);
    assert_int_equal(img.pixels[0], 255);  /* transparent -> white */
    for (int i = 1; i < W * H; i++)
        assert_int_equal(img.pixels[i], first[i]);
    mn_gray_image_free(&img);

    /* the same file cut inside the first frame's data is refused, not half-decoded */
    expect_truncated(&m, 13 + 768 + 8 + 10 + 100);
    free(m.data);
}

static void test_bmp(void **state)
{
    (void)state;
    uint8_t px[9 * 4 * 3];
    for (int i = 0; i < 9 * 4; i++)
        px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = (uint8_t)(i * 5);
    membuf m = bmp(9, 4, 3, px);
    mn_gray_image img = decode_ok(&m, MN_IMAGE_FORMAT_BMP, 9, 4);
    for (int i = 0; i < 9 * 4; i++)
        assert_true(abs((int)img.pixels[i] - i * 5) <= 1);
    mn_gray_image_free(&img);

    /* stb would pad a short pixel array with black; we refuse it */
    expect_truncated(&m, m.len - 20);
    free(m.data);
}

static void test_probe_does_not_decode(void **state)
{
    (void)state;
    uint8_t px[40 * 30] = {0};
    membuf m = png(40, 30, 1, px);
    mn_image_info info = {0};
    assert_int_equal(mn_image_probe(m.data, m.len, 0, &info, NULL), MN_OK);
    assert_int_equal(info.format, MN_IMAGE_FORMAT_PNG);
    assert_int_equal(info.width, 40);
    assert_int_equal(info.height, 30);
    free(m.data);
}

/* ------------------------------------------------------------------ refused */

static void test_limit_before_decoding(void **state)
{
    (void)state;
    /* 50000 x 50000: 2.5 Gpx; only the header exists, so anything but a header check
     * would fail differently (stb itself calls this PNG "corrupt") */
    membuf m = png_header_only(50000, 50000);
    mn_gray_image img = {1, 1, (uint8_t *)&img};
    mn_error err = {{0}};
    assert_int_equal(decode(&m, 0, &img, &err), MN_ERR_LIMIT);
    assert_null(img.pixels);
    assert_non_null(strstr(err.msg, "50000x50000"));
    assert_int_equal(mn_image_probe(m.data, m.len, 0, NULL, NULL), MN_ERR_LIMIT);
    free(m.data);

    /* the caller's cap is honoured exactly */
    uint8_t px[100 * 100] = {0};
    m = png(100, 100, 1, px);
    assert_int_equal(decode(&m, 9999, &img, &err), MN_ERR_LIMIT);
    assert_int_equal(decode(&m, 10000, &img, &err), MN_OK);
    mn_gray_image_free(&img);
    free(m.data);

    /* a JPEG frame header of 65535 x 65535 with nothing after it: limit, not format */
    const uint8_t big_jpeg[] = {0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xff, 0xff, 0xff, 0xff,
                                1, 1, 0x11, 0};
    assert_int_equal(mn_image_probe(big_jpeg, sizeof big_jpeg, 0, NULL, &err), MN_ERR_LIMIT);
    /* a GIF with a big logical screen and no data */
    membuf g = gif_start(60000, 60000);
    assert_int_equal(mn_image_probe(g.data, g.len, 0, NULL, &err), MN_ERR_LIMIT);
    free(g.data);
}

static void test_zero_size(void **state)
{
    (void)state;
    mn_error err = {{0}};
    membuf m = png_header_only(0, 10);
    assert_int_equal(mn_image_probe(m.data, m.len, 0, NULL, &err), MN_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "zero"));
    free(m.data);
    m = gif_start(16, 0);
    assert_int_equal(mn_image_probe(m.data, m.len, 0, NULL, &err), MN_ERR_LIMIT);
    free(m.data);
    /* and no bytes at all */
    assert_int_equal(mn_image_probe("", 0, 0, NULL, &err), MN_ERR_FORMAT);
}

static void test_truncated(void **state)
{
    (void)state;
    uint8_t px[64 * 64];
    for (int i = 0; i < 64 * 64; i++)
        px[i] = (uint8_t)((i * 31) ^ (i >> 3));
    mn_gray_image img;
    mn_error err = {{0}};

    membuf p = png(64, 64, 1, px);
    for (size_t cut = 8; cut < p.len; cut += p.len / 7) {
        err.msg[0] = 0;
        assert_int_equal(mn_image_decode_gray(p.data, cut, 0, &img, NULL, &err),
                         MN_ERR_FORMAT);
        assert_null(img.pixels);
        assert_true(strlen(err.msg) > 10);
    }
    /* only IEND missing: refused as truncated */
    assert_int_equal(mn_image_decode_gray(p.data, p.len - 12, 0, &img, NULL, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "truncated or corrupt PNG image");
    /* an IDAT claiming 2 GiB in a small file: refused before stb allocates for it */
    size_t idat = 8;
    while (memcmp(p.data + idat + 4, "IDAT", 4) != 0)
        idat += 12 + ((size_t)p.data[idat] << 24 | (size_t)p.data[idat + 1] << 16 |
                      (size_t)p.data[idat + 2] << 8 | p.data[idat + 3]);
    memcpy(p.data + idat, "\x7f\xff\xff\xf0", 4);
    assert_int_equal(mn_image_decode_gray(p.data, p.len, 0, &img, NULL, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "truncated or corrupt PNG image");
    free(p.data);

    membuf j = jpg(64, 64, 1, px);
    expect_truncated(&j, j.len - 2); /* only the end-of-image marker missing */
    assert_int_equal(mn_image_decode_gray(j.data, j.len / 2, 0, &img, NULL, &err),
                     MN_ERR_FORMAT);
    /* data after the end-of-image marker is harmless */
    put(&j, "trailer", 7);
    assert_int_equal(mn_image_decode_gray(j.data, j.len, 0, &img, NULL, &err), MN_OK);
    mn_gray_image_free(&img);
    free(j.data);
}

static void test_garbage(void **state)
{
    (void)state;
    uint8_t junk[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (uint8_t)(s >> 16);
    }
    mn_gray_image img;
    mn_error err = {{0}};
    assert_int_equal(mn_image_decode_gray(junk, sizeof junk, 0, &img, NULL, &err),
                     MN_ERR_FORMAT);
    assert_string_equal(err.msg, "not a PNG, JPEG, GIF or BMP image (4096 bytes)");

    /* random bytes behind each real signature: refused, never crash */
    const uint8_t *sigs[] = {(const uint8_t *)"\x89PNG\r\n\x1a\n", (const uint8_t *)"\xff\xd8\xff",
                             (const uint8_t *)"GIF89a"};
    const size_t lens[] = {8, 3, 6};
    for (int k = 0; k < 3; k++) {
        for (int round = 0; round < 50; round++) {
            for (size_t i = 0; i < sizeof junk; i++) {
                s = s * 1103515245u + 12345u;
                junk[i] = (uint8_t)(s >> 16);
            }
            memcpy(junk, sigs[k], lens[k]);
            mn_status st = mn_image_decode_gray(junk, sizeof junk, 0, &img, NULL, &err);
            if (st == MN_OK)  /* possible in principle for GIF, but must be sane */
                mn_gray_image_free(&img);
            else
                assert_true(st == MN_ERR_FORMAT || st == MN_ERR_LIMIT);
        }
    }
    /* a PNG signature with a corrupt IHDR */
    membuf p = png_header_only(8, 8);
    p.data[12] = 'X';
    assert_int_equal(decode(&p, 0, &img, &err), MN_ERR_FORMAT);
    free(p.data);
}

static void test_other_formats_refused_by_sniffing(void **state)
{
    (void)state;
    uint8_t px[8 * 8] = {0};
    int w, h, comp;
    mn_error err = {{0}};
    mn_gray_image img;

    membuf t = {0};
    assert_true(stbi_write_tga_to_func(write_cb, &t, 8, 8, 1, px));
    assert_true(stbi_info_from_memory(t.data, (int)t.len, &w, &h, &comp));  /* stb would */
    assert_int_equal(mn_image_sniff(t.data, t.len), MN_IMAGE_FORMAT_UNKNOWN);
    assert_int_equal(decode(&t, 0, &img, &err), MN_ERR_FORMAT);
    char expected[64];
    snprintf(expected, sizeof expected, "not a PNG, JPEG, GIF or BMP image (%zu bytes)", t.len);
    assert_string_equal(err.msg, expected);
    free(t.data);

    const char pgm[] = "P5 8 8 255\n"
                       "0123456789012345678901234567890123456789012345678901234567890123";
    assert_true(stbi_info_from_memory((const uint8_t *)pgm, (int)sizeof pgm - 1, &w, &h, &comp));
    assert_int_equal(mn_image_decode_gray(pgm, sizeof pgm - 1, 0, &img, NULL, &err),
                     MN_ERR_FORMAT);

    /* "BM" followed by text is not a bitmap */
    const char text[] = "BM is a text file that happens to start like a bitmap";
    assert_int_equal(mn_image_sniff(text, sizeof text - 1), MN_IMAGE_FORMAT_UNKNOWN);
}

static void test_arguments(void **state)
{
    (void)state;
    mn_gray_image img;
    assert_int_equal(mn_image_decode_gray(NULL, 10, 0, &img, NULL, NULL), MN_ERR_ARG);
    assert_int_equal(mn_image_decode_gray("x", 1, 0, NULL, NULL, NULL), MN_ERR_ARG);
    assert_int_equal(mn_image_sniff(NULL, 10), MN_IMAGE_FORMAT_UNKNOWN);
    assert_string_equal(mn_image_format_name(MN_IMAGE_FORMAT_GIF), "GIF");
    mn_gray_image_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_gray_exact),
        cmocka_unit_test(test_png_rgba_alpha_on_white),
        cmocka_unit_test(test_png_gray_alpha),
        cmocka_unit_test(test_png_light_drawing_on_a_clear_layer),
        cmocka_unit_test(test_png_16_bit),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_jpeg_undefined_tables),
        cmocka_unit_test(test_jpeg_exif_orientation),
        cmocka_unit_test(test_gif_first_frame_and_transparency),
        cmocka_unit_test(test_bmp),
        cmocka_unit_test(test_probe_does_not_decode),
        cmocka_unit_test(test_limit_before_decoding),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_other_formats_refused_by_sniffing),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
