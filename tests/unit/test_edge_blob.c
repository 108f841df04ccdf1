/* Step 3 of preprocessing (src/mn_crop.c): a thing at the picture's edge (a thumb
 * over the corner of a photo, a shadowed table edge, a scan's punched holes) is no
 * part of the digit, and a part of the digit is never taken for one. The digit here is test_page.h's 0; the
 * things are gray (110) discs and bars. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_page.h"

enum { SIDE = PAGE_SIDE, INK = PAGE_INK, TOP = 80, GRAY = 110 };

/* A disc of radius r at (cx, cy), clipped to the page. */
static void disc(mn_gray_image *img, int cx, int cy, int r, int level)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
                img->pixels[y * SIDE + x] = (uint8_t)level;
}

static void test_a_thumb_at_the_corner_is_left_out(void **state)
{
    (void)state;
    mn_gray_image img = page();
    zero(&img, TOP);
    disc(&img, 0, SIDE, 60, GRAY);
    assert_true(crops_the_zero(img, TOP));
    /* a dark table edge along the bottom, gray in the photo's light */
    img = page();
    zero(&img, TOP);
    fill(&img, 0, 225, SIDE, SIDE, GRAY);
    assert_true(crops_the_zero(img, TOP));
}

static void test_what_may_be_the_digit_is_kept(void **state)
{
    (void)state;
    /* as dark as the ink: a blot, or the digit's own stroke */
    mn_gray_image img = page();
    zero(&img, TOP);
    disc(&img, 0, SIDE, 60, INK);
    assert_false(crops_the_zero(img, TOP));
    /* beside the 0, within a quarter of its size: a piece of it, broken off */
    img = page();
    zero(&img, TOP);
    fill(&img, 180, 100, SIDE, 160, GRAY);
    assert_false(crops_the_zero(img, TOP));
    /* not solid: a gray stroke from the edge, a diagonal filling little of its box */
    img = page();
    zero(&img, TOP);
    for (int k = 0; k < 55; k++)
        fill(&img, k, 246 - k, k + 14, 260 - k, GRAY);
    assert_false(crops_the_zero(img, TOP));
    /* away from the edge: a gray blot on the page may be what was written */
    img = page();
    zero(&img, TOP);
    disc(&img, 40, 220, 25, GRAY);
    assert_false(crops_the_zero(img, TOP));
    /* the 0 itself at the edge (a digit filling its canvas): nothing is left out */
    img = page();
    fill(&img, 0, 60, 60, 72, INK);
    fill(&img, 0, 148, 60, 160, INK);
    fill(&img, 48, 60, 60, 160, INK);
    disc(&img, SIDE, SIDE, 60, GRAY);
    const mn_preprocess_info info = crop_of(img);
    assert_true(info.crop_x + info.crop_w > 200);
}

/* A page with the 0 at `top` and two dark discs of radius r, one over the other,
 * centred `x` pixels from the left edge: a binder's holes, as a scanner with a dark lid
 * shows them. */
static mn_gray_image with_holes(int top, int x, int r)
{
    mn_gray_image img = page();
    zero(&img, top);
    disc(&img, x, 40, r, INK);
    disc(&img, x, 220, r, INK);
    return img;
}

static void test_punched_holes_are_left_out(void **state)
{
    (void)state;
    assert_true(crops_the_zero(with_holes(TOP, 14, 11), TOP));
}

static void test_what_may_be_a_stroke_beside_the_digit_is_kept(void **state)
{
    (void)state;
    /* a disc more than its size from the edge */
    assert_int_equal(crop_of(with_holes(TOP, 40, 11)).crop_x, 30);
    /* a disc over a third of the digit's height across */
    assert_int_equal(crop_of(with_holes(TOP, 20, 18)).crop_x, 3);
    /* a digit that touches the edge (one filling its canvas, whose pieces lie near
     * the edge too) */
    assert_int_equal(crop_of(with_holes(0, 14, 11)).crop_x, 4);
    /* solid squares: a block of a digit scaled up from a few pixels */
    mn_gray_image img = page();
    zero(&img, TOP);
    fill(&img, 4, 30, 26, 52, INK);
    assert_int_equal(crop_of(img).crop_x, 4);
    /* an oblong blob, twice as tall as wide (16 x 32) */
    img = page();
    zero(&img, TOP);
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 40; x++)
            if ((x - 12) * (x - 12) * 4 + (y - 40) * (y - 40) < 16 * 16)
                img.pixels[y * SIDE + x] = INK;
    assert_int_equal(crop_of(img).crop_x, 5);
    /* a ring (an o) */
    img = page();
    zero(&img, TOP);
    disc(&img, 18, 40, 16, INK);
    disc(&img, 18, 40, 11, PAGE_PAPER);
    assert_int_equal(crop_of(img).crop_x, 3);
    /* a disc beside the digit, within a quarter of its size of it */
    img = page();
    zero(&img, 120);
    disc(&img, 130, 245, 11, INK);
    assert_int_equal(crop_of(img).crop_h, 256 - 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_thumb_at_the_corner_is_left_out),
        cmocka_unit_test(test_what_may_be_the_digit_is_kept),
        cmocka_unit_test(test_punched_holes_are_left_out),
        cmocka_unit_test(test_what_may_be_a_stroke_beside_the_digit_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
