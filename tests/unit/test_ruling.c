/* Step 1c of preprocessing: the lines of ruled or squared paper in a photo, painted
 * over (src/mn_ruling.c), asked directly of mn_ruling_paint_over on drawn pages:
 * what is a paper's line, and what is a digit's stroke that must stay. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_preprocess.h"
#include "mn_ruling.h"

enum { W = 200, H = 200, PAPER = 220, LINE = 170, PENCIL = 100 };

/* Dark on light: the cut 12 levels of ink above the paper. */
static const levels LV = {.inverted = true, .bg = 255 - PAPER, .cut = 255 - PAPER + 12,
                          .ink = 255 - PENCIL, .mask = 255 - 150};

static mn_gray_image page(int w, int h)
{
    mn_gray_image img = {w, h, malloc((size_t)w * (size_t)h)};
    assert_non_null(img.pixels);
    memset(img.pixels, PAPER, (size_t)w * (size_t)h);
    return img;
}

/* A line `width` pixels wide from (x0, y at x0) to (x1, y + drift at x1), level (an
 * upright one from the top with `upright`: x and y swapped). */
static void draw_line(mn_gray_image *img, bool upright, double at, double drift, int from,
                      int to, double width, int level)
{
    const int along = upright ? img->height : img->width;
    const int across = upright ? img->width : img->height;
    for (int i = from; i < to; i++) {
        const double centre = at + drift * i / (along - 1);
        for (int j = 0; j < across; j++)
            if (fabs(j - centre) < width / 2)
                img->pixels[upright ? (size_t)i * (size_t)img->width + (size_t)j
                                    : (size_t)j * (size_t)img->width + (size_t)i] =
                    (uint8_t)level;
    }
}

/* Squared paper turned so that its lines drift by `drift` pixels across the page, a
 * line every 20 pixels. */
static void draw_squares(mn_gray_image *img, double drift)
{
    for (int k = -20; k < W + 20; k += 20) {
        draw_line(img, false, k, drift, 0, W, 2.0, LINE);
        draw_line(img, true, k, -drift, 0, H, 2.0, LINE);
    }
}

/* A pencil bar [x0, x1) x [y0, y1), a digit's stroke. */
static void draw_bar(mn_gray_image *img, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y < y1; y++)
        memset(img->pixels + (size_t)y * (size_t)img->width + (size_t)x0, PENCIL, (size_t)(x1 - x0));
}

static int at(const mn_gray_image *img, int x, int y)
{
    return img->pixels[(size_t)y * (size_t)img->width + (size_t)x];
}

/* Pixels of img darker than the paper by more than the cut, outside [x0, x1) x [y0, y1)
 * and 12 pixels in from the edges (what a line that lies mostly outside the picture
 * shows in a corner is left). */
static int ink_outside(const mn_gray_image *img, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = 12; y < img->height - 12; y++)
        for (int x = 12; x < img->width - 12; x++)
            n += (x < x0 || x >= x1 || y < y0 || y >= y1) && 255 - at(img, x, y) > LV.cut;
    return n;
}

static mn_preprocess_scratch scratch;

static void test_squares_at_a_slant_are_painted_over(void **state)
{
    (void)state;
    for (int drift = 0; drift <= 24; drift += 6) {  /* level to 7 degrees */
        mn_gray_image img = page(W, H);
        draw_squares(&img, drift);
        draw_bar(&img, 90, 60, 106, 140);
        assert_true(mn_ruling_paint_over(&img, &LV, &scratch));
        /* the paper's lines are gone, the stroke is whole (a line that runs along its
         * side or end blends into it there) */
        assert_int_equal(ink_outside(&img, 86, 56, 110, 144), 0);
        for (int y = 63; y < 137; y++)
            assert_int_equal(at(&img, 98, y), PENCIL);
        free(img.pixels);
    }
}

static void test_lines_that_stop_short_are_painted_over(void **state)
{
    (void)state;
    /* a page in perspective: its ruled lines cover 85 % of the picture's width */
    mn_gray_image img = page(W, H);
    for (int y = 20; y < H; y += 25)
        draw_line(&img, false, y, 3, 15, W - 15, 2.0, LINE);
    assert_true(mn_ruling_paint_over(&img, &LV, &scratch));
    assert_int_equal(ink_outside(&img, 0, 0, 0, 0), 0);
    free(img.pixels);
}

static void test_a_stroke_across_a_line_continues(void **state)
{
    (void)state;
    mn_gray_image img = page(W, H);
    for (int y = 20; y < H; y += 25)
        draw_line(&img, false, y, 10, 0, W, 2.0, LINE);
    draw_bar(&img, 90, 30, 104, 170);  /* crosses five lines */
    assert_true(mn_ruling_paint_over(&img, &LV, &scratch));
    for (int y = 30; y < 170; y++)
        for (int x = 90; x < 104; x++)
            assert_int_equal(at(&img, x, y), PENCIL);
    free(img.pixels);
}

static void test_strokes_are_no_paper_lines(void **state)
{
    (void)state;
    /* one long straight stroke alone: a line comes in a family */
    mn_gray_image img = page(W, H);
    draw_line(&img, true, 80, 20, 0, H, 3.0, PENCIL);
    assert_false(mn_ruling_paint_over(&img, &LV, &scratch));
    /* broad stripes, level: paths at a slant cross them in thin runs, but no pixel
     * of theirs is painted */
    mn_gray_image stripes = page(W, H), drawn = page(W, H);
    for (int y = 20; y < H; y += 50) {
        draw_line(&stripes, false, y, 0, 0, W, 16.0, PENCIL);
        draw_line(&drawn, false, y, 0, 0, W, 16.0, PENCIL);
    }
    (void)mn_ruling_paint_over(&stripes, &LV, &scratch);
    assert_memory_equal(stripes.pixels, drawn.pixels, (size_t)W * H);
    /* short lines: a digit's strokes, however many */
    mn_gray_image hatch = page(W, H);
    for (int y = 40; y < 160; y += 10)
        draw_line(&hatch, false, y, 6, 40, 150, 2.0, PENCIL);
    assert_false(mn_ruling_paint_over(&hatch, &LV, &scratch));
    /* nothing painted where nothing was found */
    mn_gray_image again = page(W, H);
    draw_line(&again, true, 80, 20, 0, H, 3.0, PENCIL);
    assert_memory_equal(img.pixels, again.pixels, (size_t)W * H);
    free(img.pixels);
    free(stripes.pixels);
    free(drawn.pixels);
    free(hatch.pixels);
    free(again.pixels);
}

static void test_small_pictures_are_left_alone(void **state)
{
    (void)state;
    mn_gray_image img = page(60, 60);
    for (int y = 5; y < 60; y += 10)
        draw_line(&img, false, y, 3, 0, 60, 2.0, LINE);
    assert_false(mn_ruling_paint_over(&img, &LV, &scratch));
    free(img.pixels);
}

static void test_an_evenly_lit_page_is_copied_without_its_lines(void **state)
{
    (void)state;
    /* 300 pixels a side: the copy is averaged down in cells of 2 x 2 */
    mn_gray_image img = page(300, 300);
    for (int k = 0; k < 300; k += 30) {
        draw_line(&img, false, k, 20, 0, 300, 3.0, LINE);
        draw_line(&img, true, k, -20, 0, 300, 3.0, LINE);
    }
    draw_bar(&img, 140, 90, 164, 210);
    mn_gray_image before = page(300, 300);
    memcpy(before.pixels, img.pixels, (size_t)300 * 300);
    mn_gray_image copy = {0, 0, NULL};
    int ds = 0;
    assert_true(mn_ruling_paint_copy(&img, &LV, &scratch, &copy, &ds));
    assert_int_equal(ds, 2);
    assert_int_equal(copy.width, 150);
    assert_int_equal(copy.height, 150);
    assert_ptr_equal(copy.pixels, scratch.flat);
    assert_int_equal(ink_outside(&copy, 66, 41, 86, 109), 0);  /* as above, a line may blend */
    assert_int_equal(at(&copy, 76, 75), PENCIL);
    assert_memory_equal(img.pixels, before.pixels, (size_t)300 * 300);  /* not written */
    free(img.pixels);
    free(before.pixels);
}

static void test_a_page_without_lines_is_not_copied(void **state)
{
    (void)state;
    mn_gray_image img = page(300, 300);
    draw_bar(&img, 140, 90, 164, 210);
    mn_gray_image copy = {7, 7, NULL};
    int ds = 5;
    assert_false(mn_ruling_paint_copy(&img, &LV, &scratch, &copy, &ds));
    assert_int_equal(copy.width, 7);
    assert_int_equal(ds, 5);
    /* nor level lines across the whole page: step 3 takes those out at full
     * resolution */
    mn_gray_image ruled = page(300, 300);
    for (int y = 15; y < 300; y += 30)
        draw_line(&ruled, false, y, 0, 0, 300, 2.0, LINE);
    assert_false(mn_ruling_paint_copy(&ruled, &LV, &scratch, &copy, &ds));
    assert_int_equal(ds, 5);
    free(ruled.pixels);
    /* nor a stroke that reaches two opposite sides, one crossing each */
    draw_bar(&img, 0, 20, 300, 26);
    assert_false(mn_ruling_paint_copy(&img, &LV, &scratch, &copy, &ds));
    free(img.pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_squares_at_a_slant_are_painted_over),
        cmocka_unit_test(test_lines_that_stop_short_are_painted_over),
        cmocka_unit_test(test_a_stroke_across_a_line_continues),
        cmocka_unit_test(test_strokes_are_no_paper_lines),
        cmocka_unit_test(test_small_pictures_are_left_alone),
        cmocka_unit_test(test_an_evenly_lit_page_is_copied_without_its_lines),
        cmocka_unit_test(test_a_page_without_lines_is_not_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
