/* Step 3 of preprocessing (src/mn_crop.c): several characters written side by side
 * ("42") are refused as such, not read as one digit; a digit whose strokes stand
 * apart is still read. The characters here are hollow boxes (a 0 as a form's font
 * draws it) and bars, dark on white. */
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

static mn_gray_image paper(int w, int h)
{
    mn_gray_image img = {w, h, malloc((size_t)w * (size_t)h)};
    assert_non_null(img.pixels);
    memset(img.pixels, 255, (size_t)w * (size_t)h);
    return img;
}

/* Ink over [x0, x1) x [y0, y1). */
static void bar(mn_gray_image *img, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y < y1; y++)
        memset(img->pixels + (size_t)y * (size_t)img->width + x0, 0, (size_t)(x1 - x0));
}

/* A hollow box w x h at (x, y), its lines t thick: a 0. */
static void box(mn_gray_image *img, int x, int y, int w, int h, int t)
{
    bar(img, x, y, x + w, y + t);
    bar(img, x, y + h - t, x + w, y + h);
    bar(img, x, y, x + t, y + h);
    bar(img, x + w - t, y, x + w, y + h);
}

/* What preprocessing makes of img, which it frees: MN_OK, or the refusal with its
 * flags checked against its message. */
static mn_status read_image(mn_gray_image img, mn_preprocess_info *info)
{
    float out[MN_IMAGE_PIXELS];
    mn_error err = {{0}};
    mn_status st = mn_preprocess_gray(&img, NULL, out, NULL, info, &err);
    free(img.pixels);
    if (info->several_digits) {
        assert_int_equal(st, MN_ERR_FORMAT);
        assert_false(info->no_digit);
        assert_string_equal(err.msg, MN_PREPROCESS_SEVERAL_DIGITS);
    }
    return st;
}

/* Two 0s (w x 80, lines 8 thick) `gap` pixels apart on a 300x160 page, read. */
static mn_status two_zeros(int w, int gap, mn_preprocess_info *info)
{
    mn_gray_image img = paper(300, 160);
    box(&img, 40, 40, w, 80, 8);
    box(&img, 40 + w + gap, 40, w, 80, 8);
    return read_image(img, info);
}

static void test_digits_side_by_side_are_refused(void **state)
{
    (void)state;
    mn_preprocess_info info;
    /* "00": a gap of a quarter of their height */
    assert_int_equal(two_zeros(40, 20, &info), MN_ERR_FORMAT);
    assert_true(info.several_digits);
    /* "000", the middle one a bar (a 1) */
    mn_gray_image img = paper(300, 160);
    box(&img, 30, 40, 50, 80, 8);
    bar(&img, 110, 40, 120, 120);
    box(&img, 150, 40, 50, 80, 8);
    assert_int_equal(read_image(img, &info), MN_ERR_FORMAT);
    assert_true(info.several_digits);
    /* small: two 0s of 20 px, 6 apart, sent at the 48x28 they were written */
    img = paper(48, 28);
    box(&img, 4, 4, 14, 20, 2);
    box(&img, 24, 4, 14, 20, 2);
    assert_int_equal(read_image(img, &info), MN_ERR_FORMAT);
    assert_true(info.several_digits);
}

static void test_one_digit_with_parts_apart_is_read(void **state)
{
    (void)state;
    mn_preprocess_info info;
    /* two tall parts, but the gap is under 1/6 of the height (a wide 4 whose stem
     * stands apart from its corner) */
    assert_int_equal(two_zeros(50, 12, &info), MN_OK);
    assert_false(info.several_digits);
    /* a gap of a quarter of the height, but the row is narrower than 6/5 of its height */
    assert_int_equal(two_zeros(30, 20, &info), MN_OK);
    /* a part beside the 0 under 2/3 of its height: a mark, not a character */
    mn_gray_image img = paper(300, 160);
    box(&img, 40, 40, 50, 80, 8);
    box(&img, 110, 70, 40, 50, 8);
    assert_int_equal(read_image(img, &info), MN_OK);
    /* a thin line well beside it (a margin's rule, a stroke of the pen's slip), as tall
     * and far enough to be a 1, but under 1/8 of the ink */
    img = paper(300, 160);
    box(&img, 40, 40, 50, 80, 8);
    bar(&img, 134, 40, 137, 120);
    assert_int_equal(read_image(img, &info), MN_OK);
    assert_false(info.several_digits);
}

/* Two parts 3 pixels wide and 6 tall, 2 apart, on an 8x8 canvas (as a wide digit
 * broken in two may be stored at 8x8), each pixel repeated `scale` times. */
static mn_gray_image broken_at_8x8(int scale)
{
    static const char *const rows[8] = {
        "........", ".##..##.", "#......#", "#.#..#.#",
        "#......#", "#.#..#.#", ".##..##.", "........",
    };
    mn_gray_image img = paper(8 * scale, 8 * scale);
    for (int y = 0; y < img.height; y++)
        for (int x = 0; x < img.width; x++)
            if (rows[y / scale][x / scale] == '#')
                img.pixels[y * img.width + x] = 0;
    return img;
}

static void test_few_pixels_tall_is_read(void **state)
{
    (void)state;
    mn_preprocess_info info;
    /* under the box's 20 pixels, the 48x28 pair of 0s above at 8 pixels tall: at that
     * size a digit broken in two looks the same */
    mn_gray_image img = paper(24, 12);
    box(&img, 2, 2, 6, 8, 1);
    box(&img, 13, 2, 6, 8, 1);
    assert_int_equal(read_image(img, &info), MN_OK);
    /* scaled up 4 times by repeating pixels: 24 pixels tall, but read at 8x8 */
    assert_int_equal(read_image(broken_at_8x8(4), &info), MN_OK);
    assert_true(info.low_res);
    assert_false(info.several_digits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_side_by_side_are_refused),
        cmocka_unit_test(test_one_digit_with_parts_apart_is_read),
        cmocka_unit_test(test_few_pixels_tall_is_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
