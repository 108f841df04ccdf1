/* Step 1 of preprocessing (src/mn_levels.c) under a shadow across the page: the
 * border holds paper at two levels, and the lit paper may lie further from the
 * shaded paper than the ink does. The polarity must still be the ink's. Pictures
 * here are rectangles of flat levels, asked of mn_levels_find, and one whole
 * shadowed digit cropped by mn_preprocess_gray. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_levels.h"
#include "mn_preprocess.h"

enum { SIDE = 200 };

static mn_gray_image picture(int level)
{
    mn_gray_image img = {SIDE, SIDE, malloc((size_t)SIDE * SIDE)};
    assert_non_null(img.pixels);
    memset(img.pixels, level, (size_t)SIDE * SIDE);
    return img;
}

/* [x0, x1) x [y0, y1) at `level`. */
static void fill(mn_gray_image *img, int x0, int y0, int x1, int y1, int level)
{
    for (int y = y0; y < y1; y++)
        memset(img->pixels + (size_t)y * SIDE + x0, level, (size_t)(x1 - x0));
}

/* A "0": a ring of bars 12 wide round [70, 130) x [50, 150). */
static void zero(mn_gray_image *img, int level)
{
    fill(img, 70, 50, 130, 62, level);
    fill(img, 70, 138, 130, 150, level);
    fill(img, 70, 50, 82, 150, level);
    fill(img, 118, 50, 130, 150, level);
}

/* The 0 in ink 40 on paper 235 under a shadow that darkens the right 60 % of the
 * page to 130, and the ink there to 30. */
static mn_gray_image shadowed_zero(void)
{
    mn_gray_image img = picture(130);
    fill(&img, 0, 0, 80, SIDE, 235);
    zero(&img, 30);
    fill(&img, 70, 50, 80, 150, 40);
    return img;
}

/* Whether mn_levels_find takes img's ink for dark; frees img. */
static bool dark_ink(mn_gray_image img)
{
    levels lv;
    assert_true(mn_levels_find(&img, MN_POLARITY_AUTO, &lv));
    free(img.pixels);
    return lv.inverted;
}

/* Shade 130 with its border ring's top 4 rows at 235 and bottom 4 rows at `dark`,
 * each but for a 4x4 corner of shade: a quarter of the ring each, half of it shade. */
static mn_gray_image quarters(int dark)
{
    mn_gray_image img = picture(130);
    fill(&img, 0, 0, SIDE - 4, 4, 235);
    fill(&img, 4, SIDE - 4, SIDE, SIDE, dark);
    return img;
}

static void test_dark_ink_under_a_shadow(void **state)
{
    (void)state;
    /* lit paper 235 on the left 40 %, shade 130 on the rest of the page (most of the
     * border); ink 40 lit, 30 shaded: the lit paper lies further from the shade
     * (105) than the ink (90 to 100), and a quarter of the border is lit */
    assert_true(dark_ink(shadowed_zero()));
}

static void test_light_ink_under_a_deep_shadow(void **state)
{
    (void)state;
    /* chalk 200 on a board of 120 (most of the border), a deep shadow of 10 over
     * its left 40 %: the shadow lies further from the board than the chalk */
    mn_gray_image img = picture(120);
    fill(&img, 0, 0, 80, SIDE, 10);
    zero(&img, 200);
    assert_false(dark_ink(img));
}

static void test_what_reaches_further_decides_otherwise(void **state)
{
    (void)state;
    /* chalk 250 touching the border in one place, under a quarter of it, on a board
     * of 120 with a dark smudge of 10 inside: the chalk reaches further, and is ink */
    mn_gray_image img = picture(120);
    zero(&img, 250);
    fill(&img, 118, 0, 130, 50, 250);
    fill(&img, 90, 90, 110, 110, 10);
    assert_false(dark_ink(img));
    /* and the same, the other way round: ink 20 touching the border of a page at 130,
     * a light speck of 235 inside */
    img = picture(130);
    zero(&img, 20);
    fill(&img, 118, 0, 130, 50, 20);
    fill(&img, 90, 90, 110, 110, 235);
    assert_true(dark_ink(img));
    /* a quarter of the border ring (4 pixels thick) at each extreme, half at the
     * shade: neither extreme is taken for paper, and the one further from the shade
     * is the ink (the light one, 105 against 100; then the dark one, 110) */
    assert_false(dark_ink(quarters(30)));
    assert_true(dark_ink(quarters(20)));
}

static void test_shadowed_digit_is_cropped_as_lit(void **state)
{
    (void)state;
    /* the same 0 read whole, under the shadow: dark ink, and the crop is the 0's box
     * (the lit paper is no part of the digit) */
    mn_gray_image shaded = shadowed_zero();
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    assert_int_equal(mn_preprocess_gray(&shaded, NULL, out, NULL, &info, NULL), MN_OK);
    free(shaded.pixels);
    assert_true(info.inverted);
    assert_in_range(info.crop_x, 67, 73);
    assert_in_range(info.crop_y, 47, 53);
    assert_in_range(info.crop_w, 55, 66);
    assert_in_range(info.crop_h, 95, 106);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dark_ink_under_a_shadow),
        cmocka_unit_test(test_light_ink_under_a_deep_shadow),
        cmocka_unit_test(test_what_reaches_further_decides_otherwise),
        cmocka_unit_test(test_shadowed_digit_is_cropped_as_lit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
