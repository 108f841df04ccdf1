/* The classic 8x8 format (mn_classic.h): a digit fitted to 32x32 by its ink's box,
 * counted in 4x4 blocks of 17 levels, and shown on a margin scaled up. Expectations
 * are worked out from that definition on shapes whose counts are known. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_classic.h"

#define SIDE 28
#define N MN_CLASSIC_SIDE

/* A solid rectangle of the given gray level, w x h at (x0, y0), on black. */
static void rectangle(uint8_t *img, int x0, int y0, int w, int h, uint8_t level)
{
    memset(img, 0, SIDE * SIDE);
    for (int y = y0; y < y0 + h; y++)
        memset(img + y * SIDE + x0, level, (size_t)w);
}

static void test_blank_stays_blank(void **state)
{
    (void)state;
    uint8_t digit[SIDE * SIDE] = {0}, out[MN_CLASSIC_PIXELS];
    memset(out, 7, sizeof out);
    mn_classic_store(digit, out);
    for (int i = 0; i < MN_CLASSIC_PIXELS; i++)
        assert_int_equal(out[i], 0);
}

/* A 10x20 bar is fitted to 16x32, centred: bitmap columns 8..23, which are blocks
 * 2..5, full on every row; the other blocks are empty. */
static void test_bar_fills_its_blocks(void **state)
{
    (void)state;
    uint8_t digit[SIDE * SIDE], out[MN_CLASSIC_PIXELS];
    rectangle(digit, 9, 4, 10, 20, 255);
    mn_classic_store(digit, out);
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++)
            assert_int_equal(out[y * N + x], x >= 2 && x <= 5 ? 255 : 0);
}

/* Where the bar stands in its frame does not matter: the ink's box is what is fitted. */
static void test_position_does_not_matter(void **state)
{
    (void)state;
    uint8_t a[SIDE * SIDE], b[SIDE * SIDE], out_a[MN_CLASSIC_PIXELS], out_b[MN_CLASSIC_PIXELS];
    rectangle(a, 1, 1, 7, 12, 200);
    rectangle(b, 17, 14, 7, 12, 200);
    mn_classic_store(a, out_a);
    mn_classic_store(b, out_b);
    assert_memory_equal(out_a, out_b, sizeof out_a);
}

/* Ink is what reaches 128: a bar at 127 leaves nothing, at 128 it is all ink. */
static void test_threshold_at_128(void **state)
{
    (void)state;
    uint8_t digit[SIDE * SIDE], out[MN_CLASSIC_PIXELS];
    int sum = 0;
    rectangle(digit, 9, 4, 10, 20, 127);
    mn_classic_store(digit, out);
    for (int i = 0; i < MN_CLASSIC_PIXELS; i++)
        sum += out[i];
    assert_int_equal(sum, 0);
    rectangle(digit, 9, 4, 10, 20, 128);
    mn_classic_store(digit, out);
    assert_int_equal(out[3 * N + 3], 255);
}

/* A diagonal stroke cuts blocks partly: every value is one of the 17 levels, and
 * some are between the extremes. */
static void test_seventeen_levels(void **state)
{
    (void)state;
    uint8_t digit[SIDE * SIDE] = {0}, out[MN_CLASSIC_PIXELS];
    for (int i = 4; i < 24; i++)
        for (int d = 0; d < 3; d++)
            digit[i * SIDE + i + d] = 255;
    mn_classic_store(digit, out);
    int partial = 0;
    for (int i = 0; i < MN_CLASSIC_PIXELS; i++) {
        const long level = lround(out[i] * 16.0 / 255.0);
        assert_int_equal(out[i], lround(level * 255.0 / 16.0));
        partial += out[i] > 0 && out[i] < 255;
    }
    assert_true(partial >= 8);
}

/* Factor 1 is the image on its paper; at factor 3 the centre pixel of each block
 * samples that pixel exactly, and the paper's corners stay paper. */
static void test_margin_scaled_up(void **state)
{
    (void)state;
    enum { F = MN_CLASSIC_FRAME, K = 3 };
    uint8_t small[MN_CLASSIC_PIXELS], one[F * F], three[F * K * F * K];
    for (int i = 0; i < MN_CLASSIC_PIXELS; i++)
        small[i] = (uint8_t)(i * 4 + 3);
    mn_classic_with_margin(small, 1, one);
    for (int y = 0; y < F; y++)
        for (int x = 0; x < F; x++) {
            const int inside = x >= MN_CLASSIC_MARGIN && x < MN_CLASSIC_MARGIN + N &&
                               y >= MN_CLASSIC_MARGIN && y < MN_CLASSIC_MARGIN + N;
            assert_int_equal(one[y * F + x], inside ? small[(y - MN_CLASSIC_MARGIN) * N +
                                                             x - MN_CLASSIC_MARGIN] : 0);
        }
    mn_classic_with_margin(small, K, three);
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            const int row = (y + MN_CLASSIC_MARGIN) * K + 1, col = (x + MN_CLASSIC_MARGIN) * K + 1;
            assert_int_equal(three[row * F * K + col], small[y * N + x]);
        }
    assert_int_equal(three[0], 0);
    assert_int_equal(three[F * K * F * K - 1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_stays_blank),
        cmocka_unit_test(test_bar_fills_its_blocks),
        cmocka_unit_test(test_position_does_not_matter),
        cmocka_unit_test(test_threshold_at_128),
        cmocka_unit_test(test_seventeen_levels),
        cmocka_unit_test(test_margin_scaled_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
