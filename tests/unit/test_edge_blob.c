/* Step 3 of preprocessing (src/mn_crop.c): a thing at the picture's edge (a thumb
 * over the corner of a photo, a shadowed table edge) is no part of the digit, and a
 * part of the digit is never taken for one. The digit here is a hollow box (a 0) of
 * ink 35 on paper 228; the things are gray (110) discs and bars. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_image.h"
#include "mn_preprocess.h"

enum { SIDE = 260, PAPER = 228, INK = 35, GRAY = 110 };

static mn_gray_image page(void)
{
    mn_gray_image img = {SIDE, SIDE, malloc((size_t)SIDE * SIDE)};
    assert_non_null(img.pixels);
    memset(img.pixels, PAPER, (size_t)SIDE * SIDE);
    return img;
}

/* [x0, x1) x [y0, y1) at `level`, clipped to the page. */
static void fill(mn_gray_image *img, int x0, int y0, int x1, int y1, int level)
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < SIDE; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < SIDE; x++)
            img->pixels[y * SIDE + x] = (uint8_t)level;
}

/* A disc of radius r at (cx, cy), clipped to the page. */
static void disc(mn_gray_image *img, int cx, int cy, int r, int level)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
                img->pixels[y * SIDE + x] = (uint8_t)level;
}

/* The 0: lines 12 thick round [100, 160) x [80, 180). */
static void zero(mn_gray_image *img)
{
    fill(img, 100, 80, 160, 92, INK);
    fill(img, 100, 168, 160, 180, INK);
    fill(img, 100, 80, 112, 180, INK);
    fill(img, 148, 80, 160, 180, INK);
}

/* The crop of img, which is freed; preprocessing must succeed. */
static mn_preprocess_info crop_of(mn_gray_image img)
{
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    mn_error err = {{0}};
    if (mn_preprocess_gray(&img, NULL, out, NULL, &info, &err) != MN_OK)
        fail_msg("preprocessing failed: %s", err.msg);
    free(img.pixels);
    return info;
}

/* Whether the crop of img is the 0's alone. */
static bool crops_the_zero(mn_gray_image img)
{
    mn_gray_image alone = page();
    zero(&alone);
    const mn_preprocess_info want = crop_of(alone), got = crop_of(img);
    return got.crop_x == want.crop_x && got.crop_y == want.crop_y &&
           got.crop_w == want.crop_w && got.crop_h == want.crop_h;
}

static void test_a_thumb_at_the_corner_is_left_out(void **state)
{
    (void)state;
    mn_gray_image img = page();
    zero(&img);
    disc(&img, 0, SIDE, 60, GRAY);
    assert_true(crops_the_zero(img));
    /* a dark table edge along the bottom, gray in the photo's light */
    img = page();
    zero(&img);
    fill(&img, 0, 225, SIDE, SIDE, GRAY);
    assert_true(crops_the_zero(img));
}

static void test_what_may_be_the_digit_is_kept(void **state)
{
    (void)state;
    /* as dark as the ink: a blot, or the digit's own stroke */
    mn_gray_image img = page();
    zero(&img);
    disc(&img, 0, SIDE, 60, INK);
    assert_false(crops_the_zero(img));
    /* beside the 0, within a quarter of its size: a piece of it, broken off */
    img = page();
    zero(&img);
    fill(&img, 180, 100, SIDE, 160, GRAY);
    assert_false(crops_the_zero(img));
    /* not solid: a gray stroke from the edge, a diagonal filling little of its box */
    img = page();
    zero(&img);
    for (int k = 0; k < 55; k++)
        fill(&img, k, 246 - k, k + 14, 260 - k, GRAY);
    assert_false(crops_the_zero(img));
    /* away from the edge: a gray blot on the page may be what was written */
    img = page();
    zero(&img);
    disc(&img, 40, 220, 25, GRAY);
    assert_false(crops_the_zero(img));
    /* the 0 itself at the edge (a digit filling its canvas): nothing is left out */
    img = page();
    fill(&img, 0, 60, 60, 72, INK);
    fill(&img, 0, 148, 60, 160, INK);
    fill(&img, 48, 60, 60, 160, INK);
    disc(&img, SIDE, SIDE, 60, GRAY);
    const mn_preprocess_info info = crop_of(img);
    assert_true(info.crop_x + info.crop_w > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_thumb_at_the_corner_is_left_out),
        cmocka_unit_test(test_what_may_be_the_digit_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
