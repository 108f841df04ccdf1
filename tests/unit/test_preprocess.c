/* MNIST-style preprocessing: polarity, background removal, cropping with noise,
 * scaling into 20x20, centring by centre of mass, normalisation, "no digit found",
 * and a near-MNIST digit passing through nearly unchanged. Digits are drawn here as
 * anti-aliased thick polylines. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stb_image_write.h>

#include "mn_image.h"
#include "mn_preprocess.h"

/* ------------------------------------------------------------------ drawing */

typedef struct canvas {
    int w, h;
    float *cover;  /* 0 = paper, 1 = ink */
} canvas;

static canvas canvas_new(int w, int h)
{
    canvas c = {w, h, calloc((size_t)w * (size_t)h, sizeof(float))};
    assert_non_null(c.cover);
    return c;
}

/* A thick segment, anti-aliased by distance from each pixel's centre. */
static void stroke(canvas *c, double x0, double y0, double x1, double y1, double radius)
{
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    int xa = (int)floor(fmin(x0, x1) - radius - 1), xb = (int)ceil(fmax(x0, x1) + radius + 1);
    int ya = (int)floor(fmin(y0, y1) - radius - 1), yb = (int)ceil(fmax(y0, y1) + radius + 1);
    for (int y = ya < 0 ? 0 : ya; y <= yb && y < c->h; y++)
        for (int x = xa < 0 ? 0 : xa; x <= xb && x < c->w; x++) {
            double px = x + 0.5, py = y + 0.5;
            double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
            double cov = radius + 0.5 - sqrt(ex * ex + ey * ey);
            cov = cov < 0 ? 0 : cov > 1 ? 1 : cov;
            float *p = &c->cover[(size_t)y * (size_t)c->w + (size_t)x];
            if (cov > *p)
                *p = (float)cov;
        }
}

/* A "7" with a crossbar in the box (x, y, size), plus a "2"-like hook when `two`. */
static void seven(canvas *c, double x, double y, double size, double radius)
{
    stroke(c, x + 0.15 * size, y + 0.1 * size, x + 0.85 * size, y + 0.1 * size, radius);
    stroke(c, x + 0.85 * size, y + 0.1 * size, x + 0.4 * size, y + 0.95 * size, radius);
    stroke(c, x + 0.35 * size, y + 0.5 * size, x + 0.75 * size, y + 0.5 * size, radius);
}

/* An elliptical "0" of width 0.6 * size. */
static void zero(canvas *c, double x, double y, double size, double radius)
{
    const int n = 48;
    double cx = x + 0.5 * size, cy = y + 0.5 * size, rx = 0.3 * size, ry = 0.45 * size;
    for (int i = 0; i < n; i++) {
        double a0 = 2 * M_PI * i / n, a1 = 2 * M_PI * (i + 1) / n;
        stroke(c, cx + rx * cos(a0), cy + ry * sin(a0), cx + rx * cos(a1), cy + ry * sin(a1),
               radius);
    }
}

/* Renders the canvas as gray: paper level + (ink - paper) * coverage. */
static mn_gray_image render(const canvas *c, int paper, int ink)
{
    mn_gray_image img = {c->w, c->h, malloc((size_t)c->w * (size_t)c->h)};
    assert_non_null(img.pixels);
    for (size_t i = 0; i < (size_t)c->w * (size_t)c->h; i++)
        img.pixels[i] = (uint8_t)lround(paper + (ink - paper) * c->cover[i]);
    return img;
}

/* ------------------------------------------------------------------ measures */

typedef struct shape {
    double cx, cy;       /* centre of mass, pixel-index coordinates */
    int x0, y0, x1, y1;  /* box of non-zero pixels, inclusive */
    int peak;
} shape;

static shape measure(const uint8_t p[MN_IMAGE_PIXELS])
{
    shape s = {0, 0, MN_IMAGE_SIDE, MN_IMAGE_SIDE, -1, -1, 0};
    double m = 0;
    for (int y = 0; y < MN_IMAGE_SIDE; y++)
        for (int x = 0; x < MN_IMAGE_SIDE; x++) {
            int v = p[y * MN_IMAGE_SIDE + x];
            if (!v)
                continue;
            m += v;
            s.cx += (double)x * v;
            s.cy += (double)y * v;
            s.x0 = x < s.x0 ? x : s.x0;
            s.y0 = y < s.y0 ? y : s.y0;
            s.x1 = x > s.x1 ? x : s.x1;
            s.y1 = y > s.y1 ? y : s.y1;
            s.peak = v > s.peak ? v : s.peak;
        }
    assert_true(m > 0);
    s.cx /= m;
    s.cy /= m;
    return s;
}

static double correlation(const uint8_t *a, const uint8_t *b, int n)
{
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

/* The best correlation of two 28x28 images over shifts of b by up to a pixel each
 * way: a digit read alike may land a pixel apart, its centre of mass rounded. */
static double shifted_correlation(const uint8_t *a, const uint8_t *b)
{
    double best = -1.0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            uint8_t moved[MN_IMAGE_PIXELS] = {0};
            for (int y = 0; y < MN_IMAGE_SIDE; y++)
                for (int x = 0; x < MN_IMAGE_SIDE; x++) {
                    const int sy = y - dy, sx = x - dx;
                    if (sy >= 0 && sy < MN_IMAGE_SIDE && sx >= 0 && sx < MN_IMAGE_SIDE)
                        moved[y * MN_IMAGE_SIDE + x] = b[sy * MN_IMAGE_SIDE + sx];
                }
            best = fmax(best, correlation(a, moved, MN_IMAGE_PIXELS));
        }
    return best;
}

/* The MNIST shape: fits 20x20, centre of mass at (14, 14) within rounding, strokes at
 * full white, background exactly 0. */
static void assert_mnist_like(const uint8_t p[MN_IMAGE_PIXELS], const mn_preprocess_info *info)
{
    shape s = measure(p);
    assert_true(s.x1 - s.x0 + 1 <= 20);
    assert_true(s.y1 - s.y0 + 1 <= 20);
    assert_true(fabs(s.cx - 14.0) <= 0.5);
    assert_true(fabs(s.cy - 14.0) <= 0.5);
    assert_int_equal(s.peak, 255);
    assert_true(info->box_w <= 20 && info->box_h <= 20);
    assert_true(info->box_w == 20 || info->box_h == 20);
}

static mn_preprocess_scratch *scratch;

static int setup(void **state)
{
    (void)state;
    scratch = malloc(sizeof *scratch);
    return scratch ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(scratch);
    return 0;
}

/* Preprocesses IMG, which must succeed, into the 28x28 bytes P (NULL: not wanted) and
 * INFO; the normalised floats are not looked at. */
static void preprocess_ok(const mn_gray_image *img, uint8_t *p, mn_preprocess_info *info)
{
    float out[MN_IMAGE_PIXELS];
    mn_error err = {{0}};
    if (mn_preprocess_gray(img, scratch, out, p, info, &err) != MN_OK)
        fail_msg("preprocessing failed: %s", err.msg);
}

/* How alike img (canvas c drawn some other way) and c drawn black on white read:
 * the shifted correlation of their previews; img's info in *info. Frees img. */
static double reads_as_drawn(const canvas *c, mn_gray_image img, mn_preprocess_info *info)
{
    mn_gray_image full = render(c, 255, 0);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    preprocess_ok(&full, want, info);
    preprocess_ok(&img, got, info);
    free(full.pixels);
    free(img.pixels);
    return shifted_correlation(want, got);
}

/* ------------------------------------------------------------------ tests */

static void test_black_on_white_is_inverted(void **state)
{
    (void)state;
    canvas c = canvas_new(280, 280);
    seven(&c, 40, 30, 220, 12);
    mn_gray_image dark_on_light = render(&c, 255, 0), light_on_dark = render(&c, 0, 255);

    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&dark_on_light, a, &info);
    assert_true(info.inverted);
    assert_int_equal(info.background, 255);
    assert_mnist_like(a, &info);
    /* corners are background: exactly 0 */
    assert_int_equal(a[0], 0);
    assert_int_equal(a[MN_IMAGE_PIXELS - 1], 0);

    preprocess_ok(&light_on_dark, b, &info);
    assert_false(info.inverted);
    /* the same digit either way round */
    int maxdiff = 0;
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        maxdiff = abs(a[i] - b[i]) > maxdiff ? abs(a[i] - b[i]) : maxdiff;
    assert_true(maxdiff <= 1);
    free(dark_on_light.pixels);
    free(light_on_dark.pixels);
    free(c.cover);
}

static void test_polarity_is_relative_to_the_background(void **state)
{
    (void)state;
    canvas c = canvas_new(120, 120);
    zero(&c, 20, 20, 80, 4);
    uint8_t ref[MN_IMAGE_PIXELS], p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    mn_gray_image img = render(&c, 0, 255);
    preprocess_ok(&img, ref, &info);
    free(img.pixels);
    /* dark ink on a dark-gray background: still ink, so inverted */
    img = render(&c, 100, 20);
    preprocess_ok(&img, p, &info);
    assert_true(info.inverted);
    assert_int_equal(info.background, 100);
    assert_true(correlation(ref, p, MN_IMAGE_PIXELS) > 0.98);
    free(img.pixels);
    /* chalk on a light-gray board: not inverted */
    img = render(&c, 160, 250);
    preprocess_ok(&img, p, &info);
    assert_false(info.inverted);
    assert_true(correlation(ref, p, MN_IMAGE_PIXELS) > 0.98);
    free(img.pixels);
    free(c.cover);
}

static void test_off_centre_small_digit_is_centred(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 160);
    seven(&c, 5, 8, 40, 2.5);  /* in the top-left corner, about 30x38 */
    mn_gray_image img = render(&c, 0, 255);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_mnist_like(p, &info);
    assert_true(info.crop_x >= 5 && info.crop_x + info.crop_w <= 46);
    assert_true(info.crop_y >= 8 && info.crop_y + info.crop_h <= 49);
    assert_int_equal(info.box_h, 20);  /* taller than wide */
    assert_true(info.box_w < 20);
    free(img.pixels);
    free(c.cover);
}

static void test_large_digit_fits_box(void **state)
{
    (void)state;
    canvas c = canvas_new(280, 280);
    zero(&c, 0, 5, 270, 14);  /* touches nearly the whole canvas */
    mn_gray_image img = render(&c, 255, 20);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_mnist_like(p, &info);
    assert_int_equal(info.box_h, 20);
    assert_in_range(info.box_w, 13, 15);  /* aspect 0.6 + stroke width kept */
    /* a ring: the middle of the 28x28 is empty, the top of the ring is bright */
    assert_int_equal(p[14 * MN_IMAGE_SIDE + 14], 0);
    free(img.pixels);
    free(c.cover);
}

static void test_blank_images_have_no_digit(void **state)
{
    (void)state;
    const int w = 300, h = 200;
    mn_gray_image img = {w, h, malloc((size_t)w * h)};
    assert_non_null(img.pixels);
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    mn_error err = {{0}};

    const int levels[] = {0, 128, 255};
    for (int k = 0; k < 3; k++) {
        memset(img.pixels, levels[k], (size_t)w * h);
        assert_int_equal(mn_preprocess_gray(&img, scratch, out, NULL, &info, &err),
                         MN_ERR_FORMAT);
        assert_true(info.no_digit);
        assert_string_equal(err.msg, MN_PREPROCESS_NO_DIGIT);
    }
    /* paper with mild noise and a soft lighting gradient */
    uint32_t s = 99;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            img.pixels[y * w + x] = (uint8_t)(200 + x / 30 + (int)((s >> 16) % 9) - 4);
        }
    assert_int_equal(mn_preprocess_gray(&img, scratch, out, NULL, &info, &err), MN_ERR_FORMAT);
    assert_true(info.no_digit);
    /* one dead pixel on a blank page is not a digit either */
    memset(img.pixels, 230, (size_t)w * h);
    img.pixels[77 * w + 123] = 0;
    assert_int_equal(mn_preprocess_gray(&img, scratch, out, NULL, &info, &err), MN_ERR_FORMAT);
    assert_true(info.no_digit);
    free(img.pixels);
}

/* A 28x28 digit built the MNIST way: drawn in a 20x20 box (anti-aliased rim
 * included), then placed so that its centre of mass is at (14, 14). */
static void near_mnist(uint8_t p[MN_IMAGE_PIXELS], bool ring)
{
    canvas c = canvas_new(20, 20);
    if (ring)
        zero(&c, 0, 0, 20, 1.2);
    else
        seven(&c, 0, 0, 20, 1.2);
    mn_gray_image g = render(&c, 0, 255);
    double m = 0, mx = 0, my = 0;
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 20; x++) {
            m += g.pixels[y * 20 + x];
            mx += (double)x * g.pixels[y * 20 + x];
            my += (double)y * g.pixels[y * 20 + x];
        }
    int dx = (int)lround(14.0 - mx / m), dy = (int)lround(14.0 - my / m);
    memset(p, 0, MN_IMAGE_PIXELS);
    for (int y = 0; y < 20; y++)
        memcpy(p + (dy + y) * MN_IMAGE_SIDE + dx, g.pixels + y * 20, 20);
    free(g.pixels);
    free(c.cover);
}

static void test_mnist_digit_passes_nearly_unchanged(void **state)
{
    (void)state;
    for (int ring = 0; ring < 2; ring++) {
        uint8_t in[MN_IMAGE_PIXELS], p[MN_IMAGE_PIXELS];
        near_mnist(in, ring);
        mn_gray_image img = {MN_IMAGE_SIDE, MN_IMAGE_SIDE, in};
        mn_preprocess_info info;
        preprocess_ok(&img, p, &info);
        assert_false(info.inverted);
        assert_true(correlation(in, p, MN_IMAGE_PIXELS) > 0.99);
        /* not moved, not rescaled: only the faintest rim is trimmed a little */
        assert_int_equal(info.box_h, 20);
        assert_false(info.low_res);
        int maxdiff = 0;
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            maxdiff = abs(in[i] - p[i]) > maxdiff ? abs(in[i] - p[i]) : maxdiff;
        assert_true(maxdiff <= 12);
    }
}

/* A "0" filling its canvas, its ink on much of the border (a low-resolution digit
 * scaled up): the background is the paper's dominant level, and the noise above it is
 * measured on the border pixels near that level, not on the ink there, so the cut
 * stays near the paper and the strokes keep their anti-aliased rim (with the ink
 * counted as noise the cut went to half the contrast: about 150 pixels lit, not 176). */
static void test_digit_filling_its_canvas(void **state)
{
    (void)state;
    canvas c = canvas_new(40, 40);
    zero(&c, -8, -8, 56, 3);
    mn_gray_image img = render(&c, 20, 230);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_false(info.inverted);
    assert_int_equal(info.background, 20);
    int lit = 0;
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        lit += p[i] > 0;
    assert_true(lit >= 165);
    for (int y = 12; y < 16; y++)
        for (int x = 12; x < 16; x++)
            assert_int_equal(p[y * MN_IMAGE_SIDE + x], 0);
    free(img.pixels);
    free(c.cover);
}

static void test_normalisation_matches_preview(void **state)
{
    (void)state;
    canvas c = canvas_new(100, 100);
    seven(&c, 10, 10, 80, 5);
    mn_gray_image img = render(&c, 240, 30);
    float out[MN_IMAGE_PIXELS];
    uint8_t p[MN_IMAGE_PIXELS];
    assert_int_equal(mn_preprocess_gray(&img, NULL, out, p, NULL, NULL), MN_OK);  /* own scratch */
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        assert_float_equal(out[i], (p[i] / 255.0f - 0.1307f) / 0.3081f, 1e-5);
    assert_float_equal(out[0], -0.1307f / 0.3081f, 1e-5);

    /* the pixels path gives the same numbers for the preview, so the UI can resend it */
    float as_float[MN_IMAGE_PIXELS], again[MN_IMAGE_PIXELS];
    uint8_t p2[MN_IMAGE_PIXELS];
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        as_float[i] = p[i];
    assert_int_equal(mn_preprocess_pixels(as_float, again, p2, NULL), MN_OK);
    assert_memory_equal(again, out, sizeof out);
    assert_memory_equal(p2, p, sizeof p);
    free(img.pixels);
    free(c.cover);
}

static void test_pixels_path_validates(void **state)
{
    (void)state;
    float in[MN_IMAGE_PIXELS] = {0}, out[MN_IMAGE_PIXELS];
    mn_error err = {{0}};
    in[5] = 255.0f;
    assert_int_equal(mn_preprocess_pixels(in, out, NULL, &err), MN_OK);
    assert_float_equal(out[5], (1.0f - 0.1307f) / 0.3081f, 1e-5);
    in[30] = 256.0f;
    assert_int_equal(mn_preprocess_pixels(in, out, NULL, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "pixel 30"));
    in[30] = -1.0f;
    assert_int_equal(mn_preprocess_pixels(in, out, NULL, &err), MN_ERR_ARG);
    in[30] = NAN;
    assert_int_equal(mn_preprocess_pixels(in, out, NULL, &err), MN_ERR_ARG);
}

static void test_specks_are_ignored(void **state)
{
    (void)state;
    canvas c = canvas_new(400, 300);
    seven(&c, 150, 60, 180, 8);
    mn_gray_image clean = render(&c, 250, 10);
    mn_gray_image dirty = render(&c, 250, 10);
    /* dust far from the digit: a few dark dots and a short scratch */
    const int dots[][2] = {{10, 10}, {380, 20}, {30, 280}, {390, 290}, {60, 150}};
    for (int k = 0; k < 5; k++)
        for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++)
                dirty.pixels[(dots[k][1] + dy) * 400 + dots[k][0] + dx] = 0;
    for (int x = 20; x < 32; x++)
        dirty.pixels[200 * 400 + x] = 40;

    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info ia, ib;
    preprocess_ok(&clean, a, &ia);
    preprocess_ok(&dirty, b, &ib);
    assert_int_equal(ib.crop_x, ia.crop_x);
    assert_int_equal(ib.crop_w, ia.crop_w);
    assert_int_equal(ib.crop_y, ia.crop_y);
    assert_int_equal(ib.crop_h, ia.crop_h);
    assert_memory_equal(a, b, sizeof a);
    free(clean.pixels);
    free(dirty.pixels);
    free(c.cover);
}

/* The preview and crop of a dark "7" on white in a w x h canvas, with marks drawn by
 * `mark` (NULL: none) before it is rendered. */
static void seven_with(int w, int h, void (*mark)(canvas *), uint8_t p[MN_IMAGE_PIXELS],
                       mn_preprocess_info *info)
{
    canvas c = canvas_new(w, h);
    seven(&c, 80, 60, 120, 6);
    if (mark)
        mark(&c);
    mn_gray_image img = render(&c, 250, 20);
    preprocess_ok(&img, p, info);
    free(img.pixels);
    free(c.cover);
}

static void box_round(canvas *c)
{
    stroke(c, 40, 30, 240, 30, 2);
    stroke(c, 240, 30, 240, 220, 2);
    stroke(c, 240, 220, 40, 220, 2);
    stroke(c, 40, 220, 40, 30, 2);
}

static void ring_round(canvas *c)
{
    for (int i = 0; i < 64; i++) {
        double a0 = 2 * M_PI * i / 64, a1 = 2 * M_PI * (i + 1) / 64;
        stroke(c, 140 + 115 * cos(a0), 125 + 105 * sin(a0), 140 + 115 * cos(a1),
               125 + 105 * sin(a1), 2);
    }
}

static void line_under(canvas *c) { stroke(c, 60, 205, 230, 205, 2); }
static void comb_under(canvas *c)
{
    stroke(c, 50, 215, 240, 215, 2);
    stroke(c, 50, 215, 50, 175, 2);
    stroke(c, 240, 215, 240, 175, 2);
}
static void short_line_under(canvas *c) { stroke(c, 110, 205, 150, 205, 2); }
static void bar_over(canvas *c) { stroke(c, 60, 40, 230, 40, 2); }

static void test_marks_round_the_digit_are_left_out(void **state)
{
    (void)state;
    /* a box, as on a form, a ring, as round a circled digit, a line under it and a
     * form's comb are no part of the digit: the digit reads as it does alone */
    void (*marks[])(canvas *) = {box_round, ring_round, line_under, comb_under};
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info alone, info;
    seven_with(280, 250, NULL, want, &alone);
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        seven_with(280, 250, marks[k], got, &info);
        if (memcmp(want, got, sizeof want) || info.crop_x != alone.crop_x ||
            info.crop_w != alone.crop_w || info.crop_h != alone.crop_h)
            fail_msg("mark %zu: the digit was not read as alone", k);
    }
}

static void test_marks_that_may_be_the_digit_are_kept(void **state)
{
    (void)state;
    mn_preprocess_info alone, info;
    uint8_t p[MN_IMAGE_PIXELS];
    seven_with(280, 250, NULL, p, &alone);
    /* a line under the digit but narrower than it (the base of a 2 drawn apart) */
    seven_with(280, 250, short_line_under, p, &info);
    assert_true(info.crop_y + info.crop_h > alone.crop_y + alone.crop_h + 10);
    /* a bar over it (the bar of a 5 or a 7 drawn apart) */
    seven_with(280, 250, bar_over, p, &info);
    assert_true(info.crop_y < alone.crop_y - 10);
    /* a ring round a dot of 1/30 of its mass: a 0, as written, with a speck */
    canvas c = canvas_new(200, 200);
    zero(&c, 20, 10, 180, 5);
    stroke(&c, 110, 100, 110, 100, 7);
    mn_gray_image img = render(&c, 250, 20);
    preprocess_ok(&img, p, &info);
    assert_in_range(info.crop_w, 100, 130);
    free(img.pixels);
    free(c.cover);
    /* a marker's thick 0 round a blot of 1/10 of its mass: the ring fills more than a
     * quarter of its box, which a frame's thin line never does */
    c = canvas_new(200, 200);
    zero(&c, 20, 10, 180, 18);
    stroke(&c, 110, 100, 110, 100, 22);
    img = render(&c, 250, 20);
    preprocess_ok(&img, p, &info);
    assert_in_range(info.crop_w, 120, 160);
    free(img.pixels);
    free(c.cover);
}

static void test_thin_small_digit_in_a_large_noisy_photo(void **state)
{
    (void)state;
    /* a 1 of 80 px, 5 px wide, in 12 Mpx of noisy paper: its 400 pixels of ink are
     * fewer than 1/10000 of the image, and than 1/20000, yet they are the digit, not
     * outliers to ignore nor a speck */
    canvas c = canvas_new(4000, 3000);
    stroke(&c, 1800, 1200, 1800, 1280, 2);
    mn_gray_image img = render(&c, 210, 40);
    uint32_t s = 3;
    for (size_t i = 0; i < (size_t)4000 * 3000; i++) {
        s = s * 1103515245u + 12345u;
        img.pixels[i] = (uint8_t)(img.pixels[i] + (int)((s >> 16) % 9) - 4);
    }
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_in_range(info.crop_x, 1790, 1800);
    assert_in_range(info.crop_y, 1190, 1200);
    assert_int_equal(info.box_h, 20);
    free(img.pixels);
    free(c.cover);
}

/* A w x h desk at level 70 with noise of +-4 and, at (sx, sy), a side x side sheet at
 * level `paper` (a gradient from 20 to 250 across it when paper < 0) with canvas c's
 * ink (level 30) on it, c placed at the sheet's corner. */
static mn_gray_image on_desk(int w, int h, int sx, int sy, int side, int paper, const canvas *c)
{
    mn_gray_image img = {w, h, malloc((size_t)w * h)};
    assert_non_null(img.pixels);
    uint32_t s = 17;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            int v = 70 + (int)((s >> 16) % 9) - 4;
            if (x >= sx && x < sx + side && y >= sy && y < sy + side) {
                v = paper >= 0 ? paper : 20 + 230 * (x - sx) / side;
                if (c && x - sx < c->w && y - sy < c->h)
                    v = (int)lround(v + (30 - v) * c->cover[(size_t)(y - sy) * c->w + (x - sx)]);
            }
            img.pixels[(size_t)y * w + x] = (uint8_t)v;
        }
    return img;
}

static void test_sheet_on_a_desk_is_read_on_the_sheet(void **state)
{
    (void)state;
    /* a sheet lighter than the desk is no digit: the digit on it is */
    canvas c = canvas_new(170, 170);
    seven(&c, 30, 25, 110, 5);
    mn_gray_image desk = on_desk(320, 300, 70, 60, 170, 230, &c), paper = render(&c, 230, 30);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&paper, want, &info);
    preprocess_ok(&desk, got, &info);
    assert_true(shifted_correlation(want, got) > 0.9);
    assert_true(info.inverted);
    assert_in_range(info.crop_x, 70 + 30, 70 + 60);
    assert_in_range(info.crop_y, 60 + 25, 60 + 45);
    free(desk.pixels);
    free(paper.pixels);
    free(c.cover);
}

static void test_gradient_square_on_a_desk_is_no_sheet(void **state)
{
    (void)state;
    /* its darker part lies below the desk's level, as ink on a sheet would, and its
     * lighter part is a solid block; but that block's border is no paper (no level
     * dominates it), so the picture is read whole, as before: its lightest strip,
     * the full height of the square (a sheet would be cut a sixteenth in) */
    mn_gray_image img = on_desk(300, 300, 30, 30, 240, -1, NULL);
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    assert_int_equal(mn_preprocess_gray(&img, scratch, out, NULL, &info, NULL), MN_OK);
    assert_int_equal(info.crop_y, 30);
    assert_int_equal(info.crop_h, 240);
    free(img.pixels);
}

/* Gray lines every `spacing` pixels across the whole image, `width` thick: rows, and
 * columns too when `squared`. */
static void rule(mn_gray_image *img, int spacing, int width, int level, bool squared)
{
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            bool on = y % spacing < width || (squared && x % spacing < width);
            uint8_t *p = &img->pixels[y * img->width + x];
            if (on && level < *p)
                *p = (uint8_t)level;
        }
}

/* A digit on ruled or squared paper: the lines (crossing it too) are not the digit;
 * the result is the plain paper's within the lines' small gaps. */
static void test_ruled_paper_lines_are_removed(void **state)
{
    (void)state;
    canvas c = canvas_new(320, 320);
    seven(&c, 70, 50, 200, 9);
    mn_gray_image plain = render(&c, 250, 20);
    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info ia, ib;
    preprocess_ok(&plain, a, &ia);
    for (int squared = 0; squared < 2; squared++) {
        mn_gray_image ruled = render(&c, 250, 20);
        rule(&ruled, 32, 2, 110, squared);
        preprocess_ok(&ruled, b, &ib);
        assert_true(abs(ib.crop_x - ia.crop_x) <= 2 && abs(ib.crop_w - ia.crop_w) <= 4);
        assert_true(abs(ib.crop_y - ia.crop_y) <= 2 && abs(ib.crop_h - ia.crop_h) <= 4);
        assert_true(correlation(a, b, MN_IMAGE_PIXELS) > 0.97);
        assert_mnist_like(b, &ib);
        free(ruled.pixels);
    }
    free(plain.pixels);
    free(c.cover);
}

/* A digit whose thick bar crosses its whole canvas is not a ruled line: the bar stays. */
static void test_a_bar_across_the_canvas_is_kept(void **state)
{
    (void)state;
    canvas c = canvas_new(64, 64);
    stroke(&c, 0, 8, 64, 8, 4);   /* the top bar of a "7", edge to edge */
    stroke(&c, 56, 8, 24, 62, 4);
    mn_gray_image img = render(&c, 0, 255);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_int_equal(info.crop_y, 4);  /* the bar's top edge, not the stem's */
    assert_int_equal(info.crop_w, 64);
    free(img.pixels);
    free(c.cover);
}

static void test_photo_like_input(void **state)
{
    (void)state;
    /* gray paper with a lighting gradient and noise, dark but not black ink, thin
     * strokes on a large image: the result still looks like the clean digit */
    const int w = 1000, h = 800;
    canvas c = canvas_new(w, h);
    seven(&c, 350, 200, 400, 4);
    mn_gray_image photo = render(&c, 0, 0);
    uint32_t s = 7;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            double paper = 170 + 40.0 * x / w + 10.0 * y / h + (double)((s >> 16) % 11) - 5;
            double ink = 60;
            double cov = c.cover[(size_t)y * w + x];
            photo.pixels[(size_t)y * w + x] = (uint8_t)lround(paper + (ink - paper) * cov);
        }
    canvas clean_c = canvas_new(280, 280);
    seven(&clean_c, 0, 0, 280, 2.8);
    mn_gray_image clean = render(&clean_c, 255, 0);

    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&photo, a, &info);
    assert_true(info.inverted);
    assert_mnist_like(a, &info);
    /* the background is exactly 0 outside the digit's box */
    for (int y = 0; y < MN_IMAGE_SIDE; y++)
        for (int x = 0; x < MN_IMAGE_SIDE; x++)
            if (x < info.offset_x || x >= info.offset_x + info.box_w || y < info.offset_y ||
                y >= info.offset_y + info.box_h)
                assert_int_equal(a[y * MN_IMAGE_SIDE + x], 0);
    preprocess_ok(&clean, b, &info);
    assert_true(correlation(a, b, MN_IMAGE_PIXELS) > 0.9);
    /* the paper's noise inside the box is removed too: no more lit pixels than the
     * clean drawing has, give or take the rim */
    int lit_photo = 0, lit_clean = 0;
    for (int i = 0; i < MN_IMAGE_PIXELS; i++) {
        lit_photo += a[i] > 0;
        lit_clean += b[i] > 0;
    }
    assert_true(lit_photo <= lit_clean + 10);
    free(photo.pixels);
    free(clean.pixels);
    free(c.cover);
    free(clean_c.cover);
}

/* How much light falls at (x, y) of a w x h sheet, 0..1. */
typedef double light_fn(int x, int y, int w, int h);

static double even_light(int x, int y, int w, int h)
{
    (void)x, (void)y, (void)w, (void)h;
    return 1.0;
}

/* The light on the left 30% of the sheet (a soft edge crossing the digit) cut to 45%,
 * the rest falling off to 80% to the right, darkening paper and ink alike. (A shadow
 * over most of the border would be taken for the paper, and the lit paper for ink.) */
static double side_shadow(int x, int y, int w, int h)
{
    (void)y, (void)h;
    double edge = (x - 0.3 * w) / 6.0; /* the shadow's soft edge */
    double cast = 0.45 + 0.55 / (1.0 + exp(-edge));
    return cast * (1.0 - 0.2 * x / w);
}

/* A soft oval shadow (light cut to half) over the top right of a 400x300 sheet,
 * under light that falls off by a fifth towards the bottom right: the border has no
 * one paper level, so its spread is taken for noise and the cut lies halfway to the
 * ink, and the shadow's edge on the border stays under a cut that high. */
static double corner_shadow(int x, int y, int w, int h)
{
    double edge = (hypot((x - 300.0) / 150.0, (y - 90.0) / 110.0) - 1.0) * 110.0;
    return (1.0 - 0.5 / (1.0 + exp(edge / 20.0))) * (1.0 - 0.1 * ((double)x / w + (double)y / h));
}

/* A soft round shadow (light cut to 45 %) inside a 480x400 sheet (x 200..440, y
 * 80..320), right of a digit drawn at the left: it reaches no edge. */
static double inner_shadow(int x, int y, int w, int h)
{
    (void)w, (void)h;
    double edge = hypot(x - 320.0, y - 200.0) - 120.0;
    return 1.0 - 0.55 / (1.0 + exp(edge / 24.0));
}

/* Two soft round shadows (light cut to half) over the top left and the bottom right
 * corners of a 480x400 sheet of squared paper (lines 2 of every 24 pixels, at 70 %):
 * the border is shaded in two stretches, lit between; and as the lines make the blocks
 * under the shadows show levels the paper's closing does not, nothing inside says
 * "shadow" either. */
static double two_shadows(int x, int y, int w, int h)
{
    double top_left = hypot(x + 40.0, y + 40.0) - 128.0;
    double bottom_right = hypot(x - w - 40.0, y - h - 40.0) - 128.0;
    double line = (x % 24 < 2 || y % 24 < 2) ? 0.7 : 1.0;
    return line * (1.0 - 0.5 / (1.0 + exp(top_left / 20.0))) *
           (1.0 - 0.5 / (1.0 + exp(bottom_right / 20.0)));
}

/* Renders a "0" of `size` at (left, top) on w x h paper (level 230, ink 40, noise of
 * +-noise) under the given light. */
static mn_gray_image lit_zero(light_fn *light, int w, int h, double left, double top,
                              double size, int noise)
{
    canvas c = canvas_new(w, h);
    zero(&c, left, top, size, 7);
    mn_gray_image img = render(&c, 0, 0);
    uint32_t s = 11;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double cov = c.cover[(size_t)y * w + x];
            s = s * 1103515245u + 12345u;
            double v = light(x, y, w, h) * (230 + (40 - 230) * cov) +
                       (double)((int)((s >> 16) % (2 * noise + 1)) - noise);
            img.pixels[(size_t)y * w + x] = (uint8_t)lround(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    free(c.cover);
    return img;
}

static mn_gray_image shadowed_zero(bool shadow, int w, int h, double left, double top)
{
    return lit_zero(shadow ? side_shadow : even_light, w, h, left, top, 220, 4);
}

/* A "2" stored as 8x8 block counts (0..16 scaled to 0..255, as old scanners kept
 * digits) and scaled up 16 times, blocky. Its gray blocks lie on the border too. */
static const uint8_t blocky_two[8][8] = {
    {0, 0, 0, 32, 112, 191, 159, 16},  {0, 0, 80, 159, 64, 0, 64, 112},
    {0, 0, 0, 0, 0, 0, 32, 143},       {0, 0, 0, 0, 0, 16, 175, 16},
    {0, 0, 0, 0, 80, 191, 16, 0},      {48, 112, 16, 175, 128, 0, 0, 0},
    {128, 239, 255, 96, 0, 0, 0, 0},   {16, 64, 32, 128, 191, 80, 0, 0},
};

/* A "3" stored so, with faint blocks (16, 32) near its border: measured as noise on
 * the border of the 8x8 image itself, they would raise the cut. */
static const uint8_t blocky_three[8][8] = {
    {0, 32, 159, 191, 159, 16, 0, 0},   {0, 191, 239, 191, 239, 175, 0, 0},
    {0, 32, 32, 0, 175, 255, 0, 0},     {0, 0, 0, 207, 255, 207, 0, 0},
    {0, 0, 0, 128, 239, 255, 80, 0},    {0, 0, 0, 0, 0, 207, 191, 0},
    {0, 0, 239, 223, 191, 255, 159, 0}, {0, 0, 80, 175, 191, 128, 16, 0},
};

/* A thick "0" stored at 8x8, dark on light, filling it: ink on most of its border. */
static const uint8_t thick_zero[8][8] = {
    {255, 96, 0, 0, 16, 96, 239, 255},   {159, 0, 0, 159, 80, 0, 64, 255},
    {112, 0, 32, 255, 175, 0, 0, 239},   {127, 0, 64, 255, 255, 64, 0, 191},
    {191, 0, 16, 255, 255, 127, 0, 127}, {239, 0, 0, 159, 255, 112, 0, 96},
    {255, 64, 0, 16, 159, 16, 0, 80},    {255, 239, 112, 16, 0, 0, 64, 223},
};

/* A "0" stored at 8x8 from a bitmap drawn with a broad pen: its strokes two blocks
 * wide, its loop nearly closed. */
static const uint8_t fat_zero[8][8] = {
    {0, 0, 96, 255, 255, 96, 0, 0},     {0, 128, 255, 255, 255, 255, 128, 0},
    {16, 255, 255, 112, 112, 255, 255, 16}, {64, 255, 255, 0, 0, 255, 255, 64},
    {64, 255, 255, 0, 0, 255, 255, 64},  {16, 255, 255, 112, 112, 255, 255, 16},
    {0, 128, 255, 255, 255, 255, 128, 0}, {0, 0, 96, 255, 255, 96, 0, 0},
};

/* A "9" stored so (an MNIST test digit in the classic format): scaled up blocky, its
 * loop is wide for the canvas, and the paper's block closing (step 1b) took it for shade. */
static const uint8_t blocky_nine[8][8] = {
    {0, 0, 48, 223, 207, 48, 0, 0},   {0, 0, 191, 16, 16, 159, 0, 0},
    {0, 64, 159, 0, 32, 239, 48, 0},  {0, 80, 175, 32, 159, 255, 64, 0},
    {0, 0, 96, 143, 64, 207, 64, 0},  {0, 0, 0, 0, 0, 191, 64, 0},
    {0, 0, 0, 0, 0, 191, 0, 0},       {0, 0, 0, 0, 0, 207, 0, 0},
};

/* An 8x8 digit scaled up `scale` times by repeating pixels; binary: its ink all white. */
static mn_gray_image scaled_up(const uint8_t digit[8][8], int scale, bool binary)
{
    const int side = 8 * scale;
    mn_gray_image img = {side, side, malloc((size_t)side * side)};
    assert_non_null(img.pixels);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            uint8_t v = digit[y / scale][x / scale];
            img.pixels[y * side + x] = binary && v ? 255 : v;
        }
    return img;
}

static int lit_pixels(const uint8_t p[MN_IMAGE_PIXELS])
{
    int n = 0;
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        n += p[i] > 0;
    return n;
}

/* A "2" stored at 8x8 (an MNIST training digit in the classic format) whose curve
 * and base barely meet: at this size the base parts from the curve at the mask level,
 * as flat and as wide as a line under a digit. */
static const uint8_t parted_two[8][8] = {
    {96, 239, 255, 191, 48, 0, 0, 0},    {223, 64, 16, 32, 159, 48, 0, 0},
    {80, 0, 0, 0, 80, 96, 0, 0},         {0, 0, 0, 0, 143, 16, 0, 0},
    {0, 0, 0, 143, 16, 0, 0, 0},         {0, 0, 32, 32, 0, 0, 0, 32},
    {48, 175, 80, 64, 128, 159, 207, 255}, {239, 255, 223, 159, 128, 128, 80, 64},
};

static void test_parts_of_a_tiny_digit_are_no_marks(void **state)
{
    (void)state;
    /* on paper two pixels wide all round (12x12), under 32 px: marks are not looked
     * for, and the 2's base stays in the crop */
    mn_gray_image img = {12, 12, calloc(144, 1)};
    assert_non_null(img.pixels);
    for (int y = 0; y < 8; y++)
        memcpy(img.pixels + (y + 2) * 12 + 2, parted_two[y], 8);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_int_equal(info.crop_y + info.crop_h, 10);
    free(img.pixels);
}

static void test_gray_blocks_on_the_border_are_ink(void **state)
{
    (void)state;
    /* the border holds gray blocks (16..128) besides the black paper; they are ink,
     * not noise: the border is flat (neighbours repeat their level), so nothing of
     * the digit is cut away, and it covers about as many pixels as the same blocks
     * all white */
    mn_gray_image gray = scaled_up(blocky_two, 16, false), white = scaled_up(blocky_two, 16, true);
    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&gray, a, &info);
    assert_false(info.inverted);
    preprocess_ok(&white, b, &info);
    assert_true(lit_pixels(a) * 10 >= lit_pixels(b) * 9);
    free(gray.pixels);
    free(white.pixels);
}

static void test_blocky_digit_is_read_at_its_own_resolution(void **state)
{
    (void)state;
    /* repeated pixels are taken back to the 8x8 they came from, an 8x8 image is too
     * small to measure noise on its border, and a blocky image is no photo whose
     * paper step 1b would flatten, so every scale gives the same preview as the 8x8
     * image itself; each is read at low resolution (info.low_res) */
    const uint8_t(*digits[])[8] = {blocky_two, blocky_three, thick_zero, blocky_nine};
    const int scales[] = {2, 3, 7, 8, 16, 25};
    for (size_t d = 0; d < 4; d++) {
        mn_gray_image small = scaled_up(digits[d], 1, false);
        uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
        mn_preprocess_info info;
        preprocess_ok(&small, want, &info);
        assert_true(info.low_res);
        for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
            mn_gray_image big = scaled_up(digits[d], scales[k], false);
            preprocess_ok(&big, got, &info);
            if (memcmp(want, got, sizeof want) || !info.low_res)
                fail_msg("digit %zu, scale %d: the preview differs from the 8x8 image's, or "
                         "it was not read at low resolution", d, scales[k]);
            free(big.pixels);
        }
        free(small.pixels);
    }
}

/* The 8x8 digit as stored before its 17 levels (0..16) were scaled to 0..255; dark:
 * 16 - level, dark ink on light paper. */
static mn_gray_image stored_levels(const uint8_t digit[8][8], bool dark)
{
    mn_gray_image img = {8, 8, malloc(64)};
    assert_non_null(img.pixels);
    for (int i = 0; i < 64; i++) {
        int k = (digit[i / 8][i % 8] * 16 + 127) / 255;
        img.pixels[i] = (uint8_t)(dark ? 16 - k : k);
    }
    return img;
}

static void test_digit_saved_with_its_17_levels_is_read(void **state)
{
    (void)state;
    /* an 8x8 digit of levels 0..16, saved without scaling them to 0..255: a faint
     * image, yet its paper is one exact level, so it reads as the scaled one does */
    const uint8_t(*digits[])[8] = {blocky_two, blocky_three, blocky_nine};
    for (size_t d = 0; d < 3; d++) {
        mn_gray_image scaled = scaled_up(digits[d], 1, false);
        mn_gray_image light = stored_levels(digits[d], false);
        mn_gray_image dark = stored_levels(digits[d], true);
        uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
        mn_preprocess_info info;
        preprocess_ok(&scaled, want, &info);
        preprocess_ok(&light, got, &info);
        assert_memory_equal(want, got, sizeof want);
        /* what it says of the input is in the input's levels */
        assert_false(info.inverted);
        assert_int_equal(info.background, 0);
        assert_int_equal(info.ink, 16);
        assert_true(info.low_res);
        preprocess_ok(&dark, got, &info);
        assert_true(info.inverted);
        assert_int_equal(info.background, 16);
        assert_true(correlation(want, got, MN_IMAGE_PIXELS) > 0.99);
        free(scaled.pixels);
        free(light.pixels);
        free(dark.pixels);
    }
}

static void test_faint_digit_on_exact_paper_is_read(void **state)
{
    (void)state;
    /* 15 levels between paper and ink, a drawing's exact paper: read as the same
     * digit drawn black on white */
    canvas c = canvas_new(120, 100);
    seven(&c, 30, 15, 70, 4);
    mn_preprocess_info info;
    assert_true(reads_as_drawn(&c, render(&c, 200, 185), &info) > 0.97);
    assert_true(info.inverted);
    assert_int_equal(info.background, 200);
    free(c.cover);
}

static void test_faint_digit_touching_the_border_is_read(void **state)
{
    (void)state;
    /* the 7's bar runs off the left edge and its stem off the bottom: the paper is
     * what most of the border ring shows, not all of it */
    canvas c = canvas_new(100, 100);
    seven(&c, -20, 12, 92, 4);
    mn_preprocess_info info;
    assert_true(reads_as_drawn(&c, render(&c, 200, 188), &info) > 0.95);
    free(c.cover);
}

static void test_large_faint_digit_is_read_averaged_down(void **state)
{
    (void)state;
    /* more than 256 pixels a side: stretched in cells of 3x3 pixels; the crop is
     * still given in the input's pixels */
    canvas c = canvas_new(600, 500);
    seven(&c, 150, 80, 350, 18);
    mn_gray_image faint = render(&c, 200, 185), full = render(&c, 255, 0);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info a, b;
    preprocess_ok(&full, want, &a);
    preprocess_ok(&faint, got, &b);
    assert_true(shifted_correlation(want, got) > 0.95);
    assert_in_range(b.crop_x, a.crop_x - 3, a.crop_x + 3);
    assert_in_range(b.crop_y, a.crop_y - 3, a.crop_y + 3);
    assert_in_range(b.crop_w, a.crop_w - 6, a.crop_w + 6);
    assert_in_range(b.crop_h, a.crop_h - 6, a.crop_h + 6);
    free(faint.pixels);
    free(full.pixels);
    free(c.cover);
}

/* The faint "7" (paper 200, ink 185) with uniform noise of +-amp levels. */
static mn_gray_image faint_seven(const canvas *c, int amp, uint32_t seed)
{
    mn_gray_image img = render(c, 200, 185);
    for (int i = 0; i < c->w * c->h; i++) {
        seed = seed * 1103515245u + 12345u;
        img.pixels[i] = (uint8_t)(img.pixels[i] + (int)((seed >> 16) % (2 * amp + 1)) - amp);
    }
    return img;
}

static void test_faint_digit_above_faint_noise_is_read(void **state)
{
    (void)state;
    /* noise of +-2 levels on paper: the ink reaches 13 levels beyond it */
    canvas c = canvas_new(120, 100);
    seven(&c, 30, 15, 70, 4);
    mn_preprocess_info info;
    assert_true(reads_as_drawn(&c, faint_seven(&c, 2, 7), &info) > 0.9);
    free(c.cover);
}

static void expect_no_digit(const mn_gray_image *img, const char *what)
{
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    if (mn_preprocess_gray(img, scratch, out, NULL, &info, NULL) != MN_ERR_FORMAT || !info.no_digit)
        fail_msg("%s: read as a digit", what);
}

static void test_faint_images_without_a_digit_have_no_digit(void **state)
{
    (void)state;
    canvas c = canvas_new(120, 100);
    seven(&c, 30, 15, 70, 4);
    /* noise of +-6 levels: the ink's 15 levels are no surer than it */
    mn_gray_image img = faint_seven(&c, 6, 7);
    expect_no_digit(&img, "a faint 7 under noise as strong");
    /* blank paper whose noise spans two levels */
    uint32_t s = 11;
    for (int i = 0; i < 120 * 100; i++) {
        s = s * 1103515245u + 12345u;
        img.pixels[i] = (uint8_t)(200 + (int)((s >> 16) % 3) - 1);
    }
    expect_no_digit(&img, "paper with noise of one level");
    /* a faint gradient across the page, with that noise */
    for (int i = 0; i < 120 * 100; i++)
        img.pixels[i] = (uint8_t)(img.pixels[i] + (i % 120) / 6);
    expect_no_digit(&img, "a faint gradient");
    /* a smudge 3 levels deep on exact paper: too faint to be ink */
    canvas blot = canvas_new(120, 100);
    stroke(&blot, 50, 40, 70, 60, 12);
    mn_gray_image smudge = render(&blot, 200, 197);
    expect_no_digit(&smudge, "a smudge 3 levels deep");
    free(smudge.pixels);
    free(blot.cover);
    /* a faint dead pixel on exact paper is a speck */
    memset(img.pixels, 200, 120 * 100);
    img.pixels[50 * 120 + 60] = 190;
    expect_no_digit(&img, "a faint dead pixel");
    /* an 8x8 image of faint noise: its commonest level is no extreme, so no paper */
    mn_gray_image tiny = {8, 8, img.pixels};
    for (int i = 0; i < 64; i++) {
        s = s * 1103515245u + 12345u;
        tiny.pixels[i] = (uint8_t)(100 + (s >> 16) % 21);
    }
    expect_no_digit(&tiny, "8x8 of faint noise");
    /* 16x16 whose commonest level lies between its extremes, though an eighth of it
     * is at the darkest: gray, not paper */
    tiny = (mn_gray_image){16, 16, img.pixels};
    for (int i = 0; i < 256; i++) {
        s = s * 1103515245u + 12345u;
        tiny.pixels[i] = (uint8_t)(i < 40 ? 100 : i < 120 ? 105 : 100 + (s >> 16) % 11);
    }
    expect_no_digit(&tiny, "16x16 of gray");
    free(img.pixels);
    free(c.cover);
}

static void test_small_digit_is_scaled_up_smoothly(void **state)
{
    (void)state;
    /* 8x8 into a 20x20 box: each pixel covers 2.5 output pixels; scaled up as blocks,
     * about half of the neighbouring ink pixels along a row would be equal, smoothly
     * almost none are */
    mn_gray_image small = scaled_up(blocky_two, 1, false);
    uint8_t p[MN_IMAGE_PIXELS];
    preprocess_ok(&small, p, NULL);
    int pairs = 0, equal = 0;
    for (int y = 0; y < MN_IMAGE_SIDE; y++)
        for (int x = 0; x + 1 < MN_IMAGE_SIDE; x++) {
            const uint8_t a = p[y * MN_IMAGE_SIDE + x], b = p[y * MN_IMAGE_SIDE + x + 1];
            if (a > 0 && b > 0 && a < 255 && b < 255) {
                pairs++;
                equal += a == b;
            }
        }
    assert_true(pairs >= 40);
    assert_true(equal * 10 < pairs);
    free(small.pixels);
}

/* An 8x8 image scaled up `scale` times smoothly (bilinear, pixel centres aligned). */
static mn_gray_image smoothly_up(const uint8_t digit[8][8], int scale)
{
    const int side = 8 * scale;
    mn_gray_image img = {side, side, malloc((size_t)side * side)};
    assert_non_null(img.pixels);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double fy = fmin(fmax((y + 0.5) / scale - 0.5, 0.0), 7.0);
            double fx = fmin(fmax((x + 0.5) / scale - 0.5, 0.0), 7.0);
            int y0 = (int)fy, x0 = (int)fx, y1 = y0 < 7 ? y0 + 1 : 7, x1 = x0 < 7 ? x0 + 1 : 7;
            double ty = fy - y0, tx = fx - x0;
            double top = digit[y0][x0] * (1 - tx) + digit[y0][x1] * tx;
            double bottom = digit[y1][x0] * (1 - tx) + digit[y1][x1] * tx;
            img.pixels[y * side + x] = (uint8_t)lround(top * (1 - ty) + bottom * ty);
        }
    return img;
}


/* A "2" stored at 8x8 (an MNIST test digit in the classic format) that fills its
 * canvas: scaled up smoothly, its ink blurred over most of every row. */
static const uint8_t filling_two[8][8] = {
    {0, 0, 48, 191, 255, 239, 48, 0},      {0, 0, 80, 175, 16, 64, 223, 16},
    {0, 0, 80, 128, 0, 32, 255, 48},       {0, 0, 0, 0, 0, 112, 239, 0},
    {0, 0, 0, 0, 16, 191, 128, 0},         {128, 255, 255, 191, 207, 207, 0, 0},
    {191, 159, 112, 239, 207, 64, 0, 0},   {112, 255, 239, 112, 16, 0, 0, 0},
};

/* A row of such a digit where the faint ink crosses 90 % of the canvas, between rows
 * crossed 80 to 89 %, is no ruled line: no line is found, and the digit is read at its
 * own resolution, as the 8x8 image itself is (the line search found one here, and
 * filled that row from its neighbours). */
static void test_a_stroke_across_a_smooth_upscale_is_no_line(void **state)
{
    (void)state;
    mn_gray_image small = scaled_up(filling_two, 1, false), big = smoothly_up(filling_two, 8);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&small, want, &info);
    preprocess_ok(&big, got, &info);
    assert_int_equal(scratch->line_cell, 0);
    assert_true(info.low_res);
    assert_true(correlation(want, got, MN_IMAGE_PIXELS) > 0.9);
    free(small.pixels);
    free(big.pixels);
}

/* thick_zero slanting so far that its ink reaches two opposite corners: no side has
 * three corners of paper */
static const uint8_t *two_corners_inked(uint8_t digit[8][8])
{
    memcpy(digit, thick_zero, sizeof thick_zero);
    digit[0][7] = digit[7][0] = 0;
    return &digit[0][0];
}

static void preprocess_as(const mn_gray_image *img, mn_polarity polarity, uint8_t *p,
                          mn_preprocess_info *info)
{
    float out[MN_IMAGE_PIXELS];
    mn_error err = {{0}};
    if (mn_preprocess_gray_as(img, polarity, scratch, out, p, info, &err) != MN_OK)
        fail_msg("preprocessing as %d failed: %s", (int)polarity, err.msg);
}

static void test_corners_show_the_paper(void **state)
{
    (void)state;
    /* the border is split between paper and ink, but three corners (all four here)
     * are light: dark ink, the paper at the lightest level, whether the digit is
     * scaled up blocky or smoothly, and the negative is the same digit */
    mn_gray_image blocky = scaled_up(thick_zero, 10, false), smooth = smoothly_up(thick_zero, 10);
    mn_gray_image neg = scaled_up(thick_zero, 10, false);
    for (size_t i = 0; i < 80 * 80; i++)
        neg.pixels[i] = (uint8_t)(255 - neg.pixels[i]);
    uint8_t want[MN_IMAGE_PIXELS], p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&blocky, want, &info);
    assert_false(info.ambiguous);
    assert_true(info.inverted);
    assert_int_equal(info.background, 255);
    preprocess_ok(&smooth, NULL, &info);
    assert_false(info.ambiguous);
    assert_true(info.inverted);
    assert_int_equal(info.background, 255);
    preprocess_ok(&neg, p, &info);
    assert_false(info.ambiguous);
    assert_false(info.inverted);
    assert_int_equal(info.background, 0);
    assert_memory_equal(p, want, sizeof p);
    free(blocky.pixels);
    free(smooth.pixels);
    free(neg.pixels);
}

static void test_a_digit_filling_its_canvas_reads_either_way(void **state)
{
    (void)state;
    uint8_t digit[8][8];
    const uint8_t(*slanted)[8] = (const uint8_t(*)[8])two_corners_inked(digit);
    mn_gray_image img = scaled_up(slanted, 10, false), neg = scaled_up(slanted, 10, false);
    for (size_t i = 0; i < 80 * 80; i++)
        neg.pixels[i] = (uint8_t)(255 - neg.pixels[i]);
    uint8_t dark[MN_IMAGE_PIXELS], light[MN_IMAGE_PIXELS], p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    /* no paper level dominates the border, which repeats its levels, and the
     * corners are split: ambiguous */
    preprocess_ok(&img, NULL, &info);
    assert_true(info.ambiguous);
    /* forced, the paper is the image's extreme level on that side */
    preprocess_as(&img, MN_POLARITY_DARK_INK, dark, &info);
    assert_true(info.inverted);
    assert_int_equal(info.background, 255);
    preprocess_as(&img, MN_POLARITY_LIGHT_INK, light, &info);
    assert_false(info.inverted);
    assert_int_equal(info.background, 0);
    assert_memory_not_equal(dark, light, sizeof dark);
    /* the negative read the other way round is the same digit */
    preprocess_as(&neg, MN_POLARITY_LIGHT_INK, p, &info);
    assert_memory_equal(p, dark, sizeof p);
    preprocess_as(&neg, MN_POLARITY_DARK_INK, p, &info);
    assert_memory_equal(p, light, sizeof p);
    free(img.pixels);
    free(neg.pixels);
}

static void test_polarity_is_forced_only_when_ambiguous(void **state)
{
    (void)state;
    /* a 7 on white paper all round: not ambiguous, and no polarity changes the
     * reading */
    canvas c = canvas_new(280, 280);
    seven(&c, 40, 30, 220, 12);
    mn_gray_image img = render(&c, 255, 0);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, want, &info);
    assert_false(info.ambiguous);
    preprocess_as(&img, MN_POLARITY_LIGHT_INK, got, &info);
    assert_memory_equal(want, got, sizeof want);
    assert_true(info.inverted);
    float out[MN_IMAGE_PIXELS];
    mn_error err = {{0}};
    assert_int_equal(mn_preprocess_gray_as(&img, (mn_polarity)7, scratch, out, NULL, NULL, &err),
                     MN_ERR_ARG);
    free(img.pixels);
    free(c.cover);
}

static void test_smooth_digit_filling_its_canvas_is_ambiguous(void **state)
{
    (void)state;
    /* scaled up smoothly, neighbours seldom repeat a level, but the border changes
     * smoothly, unlike noise: still a clean image, still ambiguous */
    uint8_t digit[8][8];
    mn_gray_image img = smoothly_up((const uint8_t(*)[8])two_corners_inked(digit), 10);
    mn_preprocess_info info;
    preprocess_ok(&img, NULL, &info);
    assert_true(info.ambiguous);
    free(img.pixels);
    /* a smooth texture (random levels scaled up so) is not: no level of it is flat
     * paper, and forcing paper on one of its extremes would make a digit of it */
    uint8_t texture[8][8];
    uint64_t state_rng = 12345;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) {
            state_rng = state_rng * 6364136223846793005ULL + 1442695040888963407ULL;
            texture[y][x] = (uint8_t)(40 + (state_rng >> 33) % 176);
        }
    img = smoothly_up((const uint8_t(*)[8])texture, 10);
    mn_error err = {{0}};
    float out[MN_IMAGE_PIXELS];
    info.ambiguous = true;
    mn_preprocess_gray(&img, scratch, out, NULL, &info, &err);
    assert_false(info.ambiguous);
    free(img.pixels);
}

static void test_smooth_digit_keeps_its_gray_strokes(void **state)
{
    (void)state;
    /* scaled up smoothly to fill its canvas, a digit's gray strokes spread the levels
     * of the border: in a clean image that is ink, not noise, so the cut stays at the
     * least margin and the strokes cover as much as when the 8x8 image itself is sent
     * (measured as noise, the cut went half way to the ink and broke the ring) */
    mn_gray_image small = scaled_up(thick_zero, 1, false), big = smoothly_up(thick_zero, 8);
    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    preprocess_ok(&small, a, NULL);
    preprocess_ok(&big, b, NULL);
    assert_true(lit_pixels(b) * 10 >= lit_pixels(a) * 9);
    free(small.pixels);
    free(big.pixels);
}

static void test_shadow_is_flattened(void **state)
{
    (void)state;
    /* the shadowed paper is far darker than the lit paper's cut: one global cut would
     * call it ink and crop the shadow; estimated locally, the paper's light divides
     * out and the digit comes out like the same digit on evenly lit paper */
    mn_gray_image flat = shadowed_zero(false, 400, 300, 60, 40);
    mn_gray_image shaded = shadowed_zero(true, 400, 300, 60, 40);
    uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&flat, a, &info);
    preprocess_ok(&shaded, b, &info);
    assert_mnist_like(b, &info);
    int both = 0, either = 0;  /* inked pixels: intersection over union */
    for (int i = 0; i < MN_IMAGE_PIXELS; i++) {
        both += a[i] > 64 && b[i] > 64;
        either += a[i] > 64 || b[i] > 64;
    }
    assert_true(both * 10 >= either * 8);
    assert_true(correlation(a, b, MN_IMAGE_PIXELS) > 0.9);
    /* the crop is the digit's box (60 + 0.2 * 220 .. 60 + 0.8 * 220), not the shadow */
    assert_true(abs(info.crop_x - 104) <= 12 && abs(info.crop_w - 132) <= 24);
    free(flat.pixels);
    free(shaded.pixels);
}

/* Fails unless the crop is within 10 pixels of (x, y) and 20 of w x h. */
static void assert_crop_near(const mn_preprocess_info *info, int x, int y, int w, int h)
{
    if (abs(info->crop_x - x) > 10 || abs(info->crop_w - w) > 20 || abs(info->crop_y - y) > 10 ||
        abs(info->crop_h - h) > 20)
        fail_msg("crop %d,%d %dx%d, not about %d,%d %dx%d", info->crop_x, info->crop_y,
                 info->crop_w, info->crop_h, x, y, w, h);
}

/* The 0 of `size` at (left, top) on noisy (+-12) w x h paper under `light`: read as an
 * MNIST-like digit, its crop within 10 pixels of (x, y) and 20 of cw x ch. */
static void assert_flattened(light_fn *light, int w, int h, double left, double top, double size,
                             int x, int y, int cw, int ch)
{
    mn_gray_image img = lit_zero(light, w, h, left, top, size, 12);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_mnist_like(p, &info);
    assert_crop_near(&info, x, y, cw, ch);
    free(img.pixels);
}

static void test_shadow_in_a_corner_is_flattened(void **state)
{
    (void)state;
    /* a noisy photo (+-12): unflattened, the noise on the shadow crossed the cut in
     * specks, and the crop took them in with the digit beside it */
    /* the crop is the digit's box (10 + 0.2 * 180 .. 10 + 0.8 * 180, 60 + 0.05 * 180 ..
     * 60 + 0.95 * 180, and the pen), not the shadow */
    assert_flattened(corner_shadow, 400, 300, 10, 60, 180, 46, 69, 122, 176);
}

static void test_shadow_inside_the_sheet_is_flattened(void **state)
{
    (void)state;
    /* a noisy photo (+-12) whose border shows evenly lit paper: only the shade seen
     * inside tells of the shadow, which is darker than the cut, and the crop took it
     * in with the digit */
    /* the crop is the digit's box (10 + 0.2 * 200 .. 10 + 0.8 * 200, 100 + 0.05 * 200 ..
     * 100 + 0.95 * 200, and the pen), not the shadow */
    assert_flattened(inner_shadow, 480, 400, 10, 100, 200, 50, 110, 122, 182);
}

static void test_shadows_on_two_sides_are_flattened(void **state)
{
    (void)state;
    /* a noisy photo (+-12) under two shadows, each crossing the border round a
     * corner: the crop took them in with the digit between them */
    /* the crop is the digit's box (150 + 0.2 * 200 .. 150 + 0.8 * 200, 100 + 0.05 *
     * 200 .. 100 + 0.95 * 200, and the pen), not the shadows */
    assert_flattened(two_shadows, 480, 400, 150, 100, 200, 190, 110, 122, 182);
}

/* Blocky digits scaled up on noisy paper: the closing takes their crowded strokes for
 * shade inside the sheet, but their own blocks show ink or paper, not that level, so
 * they are not flat-fielded. Flat-fielded, the strokes the closing took for paper
 * would fall apart (a correlation of 0.6-0.7 with the clean digit's preview). */
static void test_noisy_blocky_digit_is_no_shadow(void **state)
{
    (void)state;
    const uint8_t(*digits[])[8] = {blocky_two, blocky_three};
    for (size_t d = 0; d < 2; d++) {
        mn_gray_image clean = scaled_up(digits[d], 16, false);
        mn_gray_image noisy = scaled_up(digits[d], 16, false);
        uint32_t s = 3;
        for (int i = 0; i < noisy.width * noisy.height; i++) {
            s = s * 1103515245u + 12345u;
            int v = noisy.pixels[i] + (int)((s >> 16) % 21) - 10;
            noisy.pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        uint8_t a[MN_IMAGE_PIXELS], b[MN_IMAGE_PIXELS];
        mn_preprocess_info info;
        preprocess_ok(&clean, a, &info);
        preprocess_ok(&noisy, b, &info);
        const double r = correlation(a, b, MN_IMAGE_PIXELS);
        if (r < 0.85)
            fail_msg("digit %zu: correlation with the clean digit's preview %.3f", d, r);
        free(clean.pixels);
        free(noisy.pixels);
    }
}

static void test_shadowed_crop_stays_inside_an_odd_image(void **state)
{
    (void)state;
    /* flat-fielding works on a 2x downsampled copy of this 401x301 sheet; the digit runs
     * off its right and bottom edges, into the last, half-covered pixels of that copy,
     * and the crop reported in input pixels must still end at the image's edge */
    mn_gray_image img = shadowed_zero(true, 401, 301, 230, 90);
    mn_preprocess_info info;
    preprocess_ok(&img, NULL, &info);
    assert_true(info.crop_x >= 0 && info.crop_y >= 0);
    assert_int_equal(info.crop_x + info.crop_w, img.width);
    assert_int_equal(info.crop_y + info.crop_h, img.height);
    free(img.pixels);
}

static void test_even_light_is_left_alone(void **state)
{
    (void)state;
    /* a clean scan larger than the component grid, with a thick bar along the top edge
     * (ink on the border, as a digit filling its canvas has): evenly lit, so not
     * flat-fielded; that would work on a 4x downsampled copy, and the crop would come
     * out in multiples of 4 pixels instead of the bars' exact box */
    const int w = 1003, h = 803;
    mn_gray_image img = {w, h, malloc((size_t)w * (size_t)h)};
    assert_non_null(img.pixels);
    uint32_t s = 5;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            bool bar = y < 121 && x >= 301 && x < 702;        /* top bar, on the edge */
            bool stem = x >= 601 && x < 702 && y < 651;       /* down stroke */
            s = s * 1103515245u + 12345u;
            int noise = (int)((s >> 16) % 5) - 2;
            img.pixels[(size_t)y * w + x] = (uint8_t)((bar || stem ? 30 : 225) + noise);
        }
    mn_preprocess_info info;
    preprocess_ok(&img, NULL, &info);
    assert_int_equal(info.crop_x, 301);
    assert_int_equal(info.crop_y, 0);
    assert_int_equal(info.crop_w, 401);
    assert_int_equal(info.crop_h, 651);
    free(img.pixels);
}

static void test_thin_pen_in_a_big_photo(void **state)
{
    (void)state;
    /* a 6 Mpx photo, a ballpoint "7" 200 pixels tall with strokes 2-3 pixels wide:
     * found, and after the 10x reduction its strokes are thickened to MNIST's pen
     * (without that, about 37 pixels reach 128; MNIST digits have some 100) */
    const int w = 3000, h = 2000;
    canvas c = canvas_new(w, h);
    seven(&c, 1800, 1200, 200, 1.0);
    mn_gray_image img = render(&c, 235, 40);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_mnist_like(p, &info);
    assert_true(info.crop_x >= 1800 && info.crop_x + info.crop_w <= 2000);
    int bright = 0;
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        bright += p[i] >= 128;
    assert_true(bright >= 60);
    free(img.pixels);
    free(c.cover);
}

/* Pixels at least half white along row y of a preview, from the left edge to the
 * column of the centre: the width of a "0"'s left stroke where it crosses the row. */
static int left_stroke(const uint8_t p[MN_IMAGE_PIXELS], int y)
{
    int n = 0;
    for (int x = 0; x < MN_IMAGE_SIDE / 2; x++)
        n += p[y * MN_IMAGE_SIDE + x] >= 128;
    return n;
}

static void test_broad_pen_is_thinned(void **state)
{
    (void)state;
    /* a "0" drawn with a marker, its strokes about 5 pixels wide at 20x20, comes out
     * with strokes about as wide as one drawn with MNIST's pen, which is left as it is
     * (unthinned, the marker's left stroke is 5 pixels, and 1.9 times as many pixels
     * are bright) */
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    int stroke_px[2], bright[2] = {0, 0};
    const double radius[2] = {10.0, 40.0};  /* MNIST's pen, a marker */
    for (int k = 0; k < 2; k++) {
        canvas c = canvas_new(300, 300);
        zero(&c, 20, 20, 260, radius[k]);
        mn_gray_image img = render(&c, 240, 20);
        preprocess_ok(&img, p, &info);
        assert_mnist_like(p, &info);
        stroke_px[k] = left_stroke(p, 14);
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            bright[k] += p[i] >= 128;
        free(img.pixels);
        free(c.cover);
    }
    assert_in_range(stroke_px[0], 2, 3);
    assert_true(stroke_px[1] <= stroke_px[0] + 1);
    assert_true(bright[1] * 10 <= bright[0] * 14);
}

static void test_fat_digit_at_low_resolution_is_thinned(void **state)
{
    (void)state;
    /* fat_zero's strokes, two blocks wide, come out 3 pixels wide, and its hole about
     * 40 pixels (unthinned: 5 and 24) */
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    mn_gray_image img = scaled_up(fat_zero, 1, false);
    preprocess_ok(&img, p, &info);
    assert_true(info.low_res);
    int hole = 0;
    for (int y = 10; y < 18; y++)
        for (int x = 10; x < 18; x++)
            hole += p[y * MN_IMAGE_SIDE + x] < 64;
    assert_true(left_stroke(p, 14) <= 4);
    assert_true(hole >= 32);
    free(img.pixels);
}

static void write_cb(void *ctx, void *data, int size)
{
    uint8_t **p = ctx;
    /* first 4 bytes hold the length so far */
    uint32_t len;
    memcpy(&len, *p, 4);
    *p = realloc(*p, 4 + len + (size_t)size);
    assert_non_null(*p);
    memcpy(*p + 4 + len, data, (size_t)size);
    len += (uint32_t)size;
    memcpy(*p, &len, 4);
}

static void test_transparent_canvas_png_end_to_end(void **state)
{
    (void)state;
    /* what a browser canvas exports: black strokes, transparent elsewhere */
    canvas c = canvas_new(280, 280);
    zero(&c, 40, 20, 240, 10);
    uint8_t *rgba = malloc(280 * 280 * 4);
    assert_non_null(rgba);
    for (int i = 0; i < 280 * 280; i++) {
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0;
        rgba[4 * i + 3] = (uint8_t)lround(255 * c.cover[i]);
    }
    uint8_t *file = calloc(1, 4);
    assert_non_null(file);
    assert_true(stbi_write_png_to_func(write_cb, &file, 280, 280, 4, rgba, 280 * 4));
    uint32_t len;
    memcpy(&len, file, 4);

    mn_gray_image img;
    mn_error err = {{0}};
    assert_int_equal(mn_image_decode_gray(file + 4, len, 0, &img, NULL, &err), MN_OK);
    uint8_t p[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&img, p, &info);
    assert_true(info.inverted);
    assert_mnist_like(p, &info);
    assert_int_equal(p[14 * MN_IMAGE_SIDE + 14], 0);  /* the hole of the 0 */
    mn_gray_image_free(&img);
    free(file);
    free(rgba);
    free(c.cover);
}

static void test_light_gray_digit_in_a_jpeg_is_read(void **state)
{
    (void)state;
    /* a 7 in light gray (25 levels under the paper) saved as JPEG: its paper is a
     * level or two, not one, yet the ink lies far beyond it */
    canvas c = canvas_new(112, 112);
    seven(&c, 20, 16, 80, 4);
    mn_gray_image faint = render(&c, 200, 175), full = render(&c, 255, 0);
    uint8_t *file = calloc(1, 4);
    assert_non_null(file);
    assert_true(stbi_write_jpg_to_func(write_cb, &file, 112, 112, 1, faint.pixels, 75));
    uint32_t len;
    memcpy(&len, file, 4);
    mn_gray_image img;
    assert_int_equal(mn_image_decode_gray(file + 4, len, 0, &img, NULL, NULL), MN_OK);
    uint8_t want[MN_IMAGE_PIXELS], got[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    preprocess_ok(&full, want, &info);
    preprocess_ok(&img, got, &info);
    assert_true(correlation(want, got, MN_IMAGE_PIXELS) > 0.9);
    mn_gray_image_free(&img);
    free(file);
    free(faint.pixels);
    free(full.pixels);
    free(c.cover);
}

static void test_arguments(void **state)
{
    (void)state;
    float out[MN_IMAGE_PIXELS];
    mn_gray_image empty = {0, 10, (uint8_t *)out};
    mn_preprocess_info info;
    assert_int_equal(mn_preprocess_gray(NULL, scratch, out, NULL, NULL, NULL), MN_ERR_ARG);
    assert_int_equal(mn_preprocess_gray(&empty, scratch, out, NULL, &info, NULL), MN_ERR_ARG);
    assert_false(info.no_digit);
    uint8_t one = 0;
    mn_gray_image tiny = {1, 1, &one};
    assert_int_equal(mn_preprocess_gray(&tiny, scratch, NULL, NULL, NULL, NULL), MN_ERR_ARG);
    /* a 1x1 image is valid input, and blank */
    assert_int_equal(mn_preprocess_gray(&tiny, scratch, out, NULL, &info, NULL), MN_ERR_FORMAT);
    assert_true(info.no_digit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_black_on_white_is_inverted),
        cmocka_unit_test(test_polarity_is_relative_to_the_background),
        cmocka_unit_test(test_off_centre_small_digit_is_centred),
        cmocka_unit_test(test_large_digit_fits_box),
        cmocka_unit_test(test_blank_images_have_no_digit),
        cmocka_unit_test(test_mnist_digit_passes_nearly_unchanged),
        cmocka_unit_test(test_digit_filling_its_canvas),
        cmocka_unit_test(test_normalisation_matches_preview),
        cmocka_unit_test(test_pixels_path_validates),
        cmocka_unit_test(test_specks_are_ignored),
        cmocka_unit_test(test_thin_small_digit_in_a_large_noisy_photo),
        cmocka_unit_test(test_sheet_on_a_desk_is_read_on_the_sheet),
        cmocka_unit_test(test_gradient_square_on_a_desk_is_no_sheet),
        cmocka_unit_test(test_marks_round_the_digit_are_left_out),
        cmocka_unit_test(test_marks_that_may_be_the_digit_are_kept),
        cmocka_unit_test(test_ruled_paper_lines_are_removed),
        cmocka_unit_test(test_a_bar_across_the_canvas_is_kept),
        cmocka_unit_test(test_a_stroke_across_a_smooth_upscale_is_no_line),
        cmocka_unit_test(test_photo_like_input),
        cmocka_unit_test(test_gray_blocks_on_the_border_are_ink),
        cmocka_unit_test(test_parts_of_a_tiny_digit_are_no_marks),
        cmocka_unit_test(test_blocky_digit_is_read_at_its_own_resolution),
        cmocka_unit_test(test_small_digit_is_scaled_up_smoothly),
        cmocka_unit_test(test_digit_saved_with_its_17_levels_is_read),
        cmocka_unit_test(test_faint_digit_on_exact_paper_is_read),
        cmocka_unit_test(test_faint_digit_touching_the_border_is_read),
        cmocka_unit_test(test_large_faint_digit_is_read_averaged_down),
        cmocka_unit_test(test_faint_digit_above_faint_noise_is_read),
        cmocka_unit_test(test_faint_images_without_a_digit_have_no_digit),
        cmocka_unit_test(test_light_gray_digit_in_a_jpeg_is_read),
        cmocka_unit_test(test_corners_show_the_paper),
        cmocka_unit_test(test_a_digit_filling_its_canvas_reads_either_way),
        cmocka_unit_test(test_polarity_is_forced_only_when_ambiguous),
        cmocka_unit_test(test_smooth_digit_filling_its_canvas_is_ambiguous),
        cmocka_unit_test(test_smooth_digit_keeps_its_gray_strokes),
        cmocka_unit_test(test_shadow_is_flattened),
        cmocka_unit_test(test_shadow_in_a_corner_is_flattened),
        cmocka_unit_test(test_shadow_inside_the_sheet_is_flattened),
        cmocka_unit_test(test_shadows_on_two_sides_are_flattened),
        cmocka_unit_test(test_noisy_blocky_digit_is_no_shadow),
        cmocka_unit_test(test_broad_pen_is_thinned),
        cmocka_unit_test(test_fat_digit_at_low_resolution_is_thinned),
        cmocka_unit_test(test_shadowed_crop_stays_inside_an_odd_image),
        cmocka_unit_test(test_even_light_is_left_alone),
        cmocka_unit_test(test_thin_pen_in_a_big_photo),
        cmocka_unit_test(test_transparent_canvas_png_end_to_end),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
