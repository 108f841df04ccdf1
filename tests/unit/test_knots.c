/* mn_knots: a small image scaled up by linear interpolation is found, at whole and
 * fractional factors and in a crop, and taken back to its own pixels; drawn images and
 * noise are not. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mn_knots.h"
#include "mn_rng.h"

enum { SMALL = 8, MAX_BIG = 8 * 32 };

/* A digit-like 8x8 of 17 levels: a thick "7" with gray edges. */
static const uint8_t seven[SMALL * SMALL] = {
    0,  32, 128, 255, 255, 255, 240, 16,
    0,  0,  0,   16,  64,  200, 255, 32,
    0,  0,  0,   0,   96,  255, 128, 0,
    0,  0,  0,   32,  255, 224, 0,   0,
    0,  0,  0,   160, 255, 64,  0,   0,
    0,  0,  48,  255, 176, 0,   0,   0,
    0,  0,  144, 255, 48,  0,   0,   0,
    0,  0,  208, 128, 0,   0,   0,   0,
};

/* SMALL x SMALL scaled up to side x side as image tools do it: each output pixel
 * samples the input at ((x + 0.5) * SMALL / side - 0.5), linearly between pixel
 * centres, clamped at the edges, rounded to the nearest level. */
static void bilinear_up(const uint8_t *in, int side, uint8_t *out)
{
    const double scale = (double)SMALL / side;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double sx = fmin(fmax((x + 0.5) * scale - 0.5, 0.0), SMALL - 1.0);
            double sy = fmin(fmax((y + 0.5) * scale - 0.5, 0.0), SMALL - 1.0);
            int x0 = (int)sx, y0 = (int)sy;
            int x1 = x0 + 1 < SMALL ? x0 + 1 : x0, y1 = y0 + 1 < SMALL ? y0 + 1 : y0;
            double ax = sx - x0, ay = sy - y0;
            double top = in[y0 * SMALL + x0] * (1 - ax) + in[y0 * SMALL + x1] * ax;
            double bottom = in[y1 * SMALL + x0] * (1 - ax) + in[y1 * SMALL + x1] * ax;
            out[y * side + x] = (uint8_t)lround(top * (1 - ay) + bottom * ay);
        }
}

static void test_linear_upscale_is_taken_back(void **state)
{
    (void)state;
    static uint8_t big[MAX_BIG * MAX_BIG];
    uint8_t native[MN_PREPROCESS_BOX * MN_PREPROCESS_BOX];
    /* whole factors 3 to 32, and factors such as 3.5 (to 28x28) or 12.5 (to 100x100) */
    const int sides[] = {24, 28, 32, 40, 50, 56, 64, 96, 100, 150, 200, 256};
    for (size_t k = 0; k < sizeof sides / sizeof sides[0]; k++) {
        const int side = sides[k];
        bilinear_up(seven, side, big);
        mn_gray_image img = {side, side, big}, out;
        rect whole = {0, 0, side - 1, side - 1};
        if (!mn_knots_native(&img, whole, 10, native, &out))
            fail_msg("%dx%d bilinear not found", side, side);
        assert_int_equal(out.width, SMALL);
        assert_int_equal(out.height, SMALL);
        for (int i = 0; i < SMALL * SMALL; i++)
            if (abs(native[i] - seven[i]) > 4)
                fail_msg("%dx%d: pixel %d is %d, was %d", side, side, i, native[i], seven[i]);
        /* a crop that cuts into the first and last cells keeps the whole ones inside */
        const int f = side / SMALL;
        rect cut = {f, 0, side - 1 - f, side - 1};
        if (!mn_knots_native(&img, cut, 10, native, &out))
            fail_msg("%dx%d bilinear, cropped, not found", side, side);
        assert_int_equal(out.width, SMALL - 2);
        for (int i = 0; i < out.width; i++)
            if (abs(native[i] - seven[1 + i]) > 4) /* row 0, from column 1 */
                fail_msg("%dx%d cropped: pixel %d is %d, was %d", side, side, i, native[i],
                         seven[1 + i]);
    }
}

static void test_too_many_cells_is_not_small(void **state)
{
    (void)state;
    static uint8_t big[SMALL * 4 * SMALL * 4];
    uint8_t native[MN_PREPROCESS_BOX * MN_PREPROCESS_BOX];
    bilinear_up(seven, SMALL * 4, big);
    mn_gray_image img = {SMALL * 4, SMALL * 4, big}, out;
    rect whole = {0, 0, SMALL * 4 - 1, SMALL * 4 - 1};
    assert_false(mn_knots_native(&img, whole, SMALL - 1, native, &out));
}

/* A ring drawn anti-aliased at full resolution, and noise: no knots. */
static void test_drawn_and_noisy_images_are_not_upscales(void **state)
{
    (void)state;
    enum { SIDE = 64 };
    static uint8_t px[SIDE * SIDE];
    uint8_t native[MN_PREPROCESS_BOX * MN_PREPROCESS_BOX];
    mn_gray_image img = {SIDE, SIDE, px}, out;
    rect whole = {0, 0, SIDE - 1, SIDE - 1};
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double cover = 3.0 - fabs(hypot(x - 31.5, (y - 31.5) * 0.8) - 18.0);
            px[y * SIDE + x] = (uint8_t)(cover <= 0 ? 0 : cover >= 1 ? 255 : 255 * cover);
        }
    assert_false(mn_knots_native(&img, whole, 10, native, &out));
    mn_rng rng;
    mn_rng_seed(&rng, 5);
    bilinear_up(seven, SIDE, px); /* an upscale with sensor noise on it */
    for (int i = 0; i < SIDE * SIDE; i++)
        px[i] = (uint8_t)fmin(255.0, px[i] + 6.0 * mn_rng_uniform(&rng));
    assert_false(mn_knots_native(&img, whole, 10, native, &out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_upscale_is_taken_back),
        cmocka_unit_test(test_too_many_cells_is_not_small),
        cmocka_unit_test(test_drawn_and_noisy_images_are_not_upscales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
