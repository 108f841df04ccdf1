/* Step 3 of preprocessing (src/mn_crop.c): a line of print over or under the digit
 * (a worksheet's "Write a digit here"), or before or after it ("Answer:"), is left
 * out of the crop, and a stroke of the digit drawn apart (the bar of a 5) is not. The
 * digit is test_page.h's 0, 100 pixels tall; the print is a row of letters (bars)
 * touching one another, so that it is one component heavy enough to be kept without
 * the rule. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_page.h"

enum { TOP = 100, BOTTOM = 200 };

/* A line of `n` letters `h` tall from (x, y): each an 8-wide box outline with a
 * stroke 2 thick, one pixel apart, joined by a baseline. */
static void print_line(mn_gray_image *img, int x, int y, int n, int h)
{
    for (int k = 0; k < n; k++) {
        const int x0 = x + 9 * k;
        fill(img, x0, y, x0 + 8, y + 2, PAGE_INK);
        fill(img, x0, y, x0 + 2, y + h, PAGE_INK);
        fill(img, x0 + 6, y, x0 + 8, y + h, PAGE_INK);
    }
    fill(img, x, y + h - 2, x + 9 * n - 1, y + h, PAGE_INK);
}

static void test_print_over_and_under_the_digit_is_left_out(void **state)
{
    (void)state;
    /* 14 letters 12 tall, 44 above the 0 (more than 3 x 12 and 100 / 3) */
    mn_gray_image img = page();
    zero(&img, TOP);
    print_line(&img, 40, TOP - 56, 14, 12);
    assert_true(crops_the_zero(img, TOP));
    /* 6 letters under it, as far (narrower than the 0: no underline) */
    img = page();
    zero(&img, TOP);
    print_line(&img, 104, BOTTOM + 38, 6, 12);
    assert_true(crops_the_zero(img, TOP));
    /* both */
    img = page();
    zero(&img, TOP);
    print_line(&img, 40, TOP - 56, 14, 12);
    print_line(&img, 104, BOTTOM + 38, 6, 12);
    assert_true(crops_the_zero(img, TOP));
    /* over a bar drawn apart near the 0's top (a 5's): the bar is kept, the print not */
    img = page();
    zero(&img, TOP);
    fill(&img, 100, TOP - 28, 160, TOP - 16, PAGE_INK);
    print_line(&img, 40, TOP - 80, 14, 12);
    assert_int_equal(crop_of(img).crop_y, TOP - 28);
}

/* The top of the crop of img (freed). */
static int crop_top(mn_gray_image img)
{
    return crop_of(img).crop_y;
}

static void test_strokes_apart_and_large_marks_are_kept(void **state)
{
    (void)state;
    /* letters 16 tall, 40 above the 0: beyond a third of its height, but under 3
     * times their own height away (a 5's bar drawn apart, a broken stroke's piece) */
    mn_gray_image img = page();
    zero(&img, TOP);
    print_line(&img, 40, TOP - 56, 14, 16);
    assert_int_equal(crop_top(img), TOP - 56);
    /* letters 22 tall, 70 above: over a fifth of the 0's height */
    img = page();
    zero(&img, TOP);
    print_line(&img, 40, TOP - 92, 14, 22);
    assert_int_equal(crop_top(img), TOP - 92);
    /* a solid bar 12 tall, 44 above, as wide as the line: over half the 0's mass */
    img = page();
    zero(&img, TOP);
    fill(&img, 20, TOP - 56, 240, TOP - 44, PAGE_INK);
    assert_int_equal(crop_top(img), TOP - 56);
    /* a block 30 wide and 20 tall, 60 above: under twice as wide as tall */
    img = page();
    zero(&img, TOP);
    fill(&img, 115, TOP - 80, 145, TOP - 60, PAGE_INK);
    assert_int_equal(crop_top(img), TOP - 80);
}

static void test_print_before_and_after_the_digit_is_left_out(void **state)
{
    (void)state;
    /* 6 letters 12 tall on the 0's last rows, ending 30 before it (over twice their
     * height) */
    mn_gray_image img = page();
    zero(&img, TOP);
    print_line(&img, 17, BOTTOM - 12, 6, 12);
    assert_true(crops_the_zero(img, TOP));
    /* after it */
    img = page();
    zero(&img, TOP);
    print_line(&img, 190, BOTTOM - 12, 6, 12);
    assert_true(crops_the_zero(img, TOP));
}

static void test_marks_beside_the_digit_are_kept(void **state)
{
    (void)state;
    /* the same letters 14 before it: under twice their height away */
    mn_gray_image img = page();
    zero(&img, TOP);
    print_line(&img, 33, BOTTOM - 12, 6, 12);
    assert_int_equal(crop_of(img).crop_x, 33);
    /* a solid bar 50 x 8, 30 before it: a sliver of a stroke, not letters */
    img = page();
    zero(&img, TOP);
    fill(&img, 20, BOTTOM - 20, 70, BOTTOM - 12, PAGE_INK);
    assert_int_equal(crop_of(img).crop_x, 20);
    /* the letters reaching above the 0's top row */
    img = page();
    zero(&img, TOP);
    print_line(&img, 17, TOP - 6, 6, 12);
    assert_int_equal(crop_of(img).crop_x, 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_print_over_and_under_the_digit_is_left_out),
        cmocka_unit_test(test_strokes_apart_and_large_marks_are_kept),
        cmocka_unit_test(test_print_before_and_after_the_digit_is_left_out),
        cmocka_unit_test(test_marks_beside_the_digit_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
