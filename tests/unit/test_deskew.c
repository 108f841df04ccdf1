/* Deskewing (mn_deskew.h): a leaning stroke is stood upright about its centre of
 * mass, an upright one is left alone, and the lean is measured with its sign. The
 * images are bars whose geometry is known, drawn in the network's normalisation. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_deskew.h"

#define SIDE MN_IMAGE_SIDE

static float paper(void)
{
    return -MN_MNIST_MEAN / MN_MNIST_STD;
}

static float ink(void)
{
    return (1.0f - MN_MNIST_MEAN) / MN_MNIST_STD;
}

/* A bar 3 pixels wide from row 4 to row 23 whose middle column moves `lean` pixels
 * right per row upwards, centred on column 14 at row 14. */
static void leaning_bar(float x[MN_IMAGE_PIXELS], double lean)
{
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        x[i] = paper();
    for (int y = 4; y < 24; y++) {
        const int mid = (int)lround(14.0 + lean * (14.0 - y));
        for (int i = mid - 1; i <= mid + 1; i++)
            x[y * SIDE + i] = ink();
    }
}

/* The ink's column spread: the largest over rows of (last ink column - first). */
static int widest_row(const float x[MN_IMAGE_PIXELS])
{
    int widest = 0;
    for (int y = 0; y < SIDE; y++) {
        int first = -1, last = -1;
        for (int i = 0; i < SIDE; i++)
            if (x[y * SIDE + i] > paper() + 0.5f) {
                first = first < 0 ? i : first;
                last = i;
            }
        widest = first >= 0 && last - first > widest ? last - first : widest;
    }
    return widest;
}

/* The ink's extent in columns over the whole image. */
static int columns_spanned(const float x[MN_IMAGE_PIXELS])
{
    int lo = SIDE, hi = -1;
    for (int y = 0; y < SIDE; y++)
        for (int i = 0; i < SIDE; i++)
            if (x[y * SIDE + i] > paper() + 0.5f) {
                lo = i < lo ? i : lo;
                hi = i > hi ? i : hi;
            }
    return hi - lo;
}

static double ink_column(const float x[MN_IMAGE_PIXELS])
{
    double m = 0.0, s = 0.0;
    for (int y = 0; y < SIDE; y++)
        for (int i = 0; i < SIDE; i++) {
            m += x[y * SIDE + i] - paper();
            s += (x[y * SIDE + i] - paper()) * i;
        }
    return s / m;
}

static void test_lean_is_measured_with_its_sign(void **state)
{
    (void)state;
    float x[MN_IMAGE_PIXELS];
    leaning_bar(x, 0.5);
    assert_float_equal(mn_deskew_shear(x), 0.5, 0.05);
    leaning_bar(x, -0.3);
    assert_float_equal(mn_deskew_shear(x), -0.3, 0.05);
    leaning_bar(x, 0.0);
    assert_float_equal(mn_deskew_shear(x), 0.0, 1e-9);
}

/* An upright bar comes out exactly as it went in. */
static void test_upright_is_unchanged(void **state)
{
    (void)state;
    float x[MN_IMAGE_PIXELS], before[MN_IMAGE_PIXELS];
    leaning_bar(x, 0.0);
    memcpy(before, x, sizeof x);
    mn_deskew(x);
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        assert_float_equal(x[i], before[i], 1e-4);
}

/* A bar leaning 0.6 px a row spans 14 columns; stood up it spans about its own
 * width, each row keeps one stroke, and the centre of mass stays put. */
static void test_leaning_bar_stands_up(void **state)
{
    (void)state;
    float x[MN_IMAGE_PIXELS];
    leaning_bar(x, 0.6);
    const double centre = ink_column(x);
    assert_true(columns_spanned(x) >= 12);
    mn_deskew(x);
    assert_true(columns_spanned(x) <= 5);
    assert_true(widest_row(x) <= 4);
    assert_float_equal(ink_column(x), centre, 0.05);
    assert_float_equal(mn_deskew_shear(x), 0.0, 0.05);
}

/* A lean past 45 degrees is taken back by 45 degrees only, so a digit lying on its
 * side is not sheared across the frame. */
static void test_lean_is_clamped(void **state)
{
    (void)state;
    float x[MN_IMAGE_PIXELS];
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        x[i] = paper();
    for (int k = 0; k < 10; k++) /* a line falling 1 row per 2 columns: lean 2 */
        x[(19 - k) * SIDE + 4 + 2 * k] = ink();
    assert_float_equal(mn_deskew_shear(x), MN_DESKEW_MAX_SHEAR, 1e-9);
}

static void test_blank_is_left_alone(void **state)
{
    (void)state;
    float x[MN_IMAGE_PIXELS];
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        x[i] = paper();
    assert_float_equal(mn_deskew_shear(x), 0.0, 0.0);
    mn_deskew(x);
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        assert_float_equal(x[i], paper(), 0.0);
}

/* The preview is the 8-bit image the input was normalised from. */
static void test_preview_inverts_the_normalisation(void **state)
{
    (void)state;
    uint8_t pixels[MN_IMAGE_PIXELS], preview[MN_IMAGE_PIXELS];
    float x[MN_IMAGE_PIXELS];
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        pixels[i] = (uint8_t)(i * 7);
    mn_normalize_pixels(pixels, MN_IMAGE_PIXELS, x);
    mn_deskew_preview(x, preview);
    assert_memory_equal(preview, pixels, sizeof pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lean_is_measured_with_its_sign),
        cmocka_unit_test(test_upright_is_unchanged),
        cmocka_unit_test(test_leaning_bar_stands_up),
        cmocka_unit_test(test_lean_is_clamped),
        cmocka_unit_test(test_blank_is_left_alone),
        cmocka_unit_test(test_preview_inverts_the_normalisation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
