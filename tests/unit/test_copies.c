/* Scanner's copies (trainer/copies.h): which image a copy shows, and copies that are
 * deterministic, centred as the service centres digits, and blind to the lowres
 * transform. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copies.h"
#include "test_digit.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS

/* The ring off centre (at (10.5, 12.5)): preprocessing must bring it to the middle. */
static void ring(uint8_t *img)
{
    test_ring(img, 10.5, 12.5);
}

static void test_copy_sources(void **state)
{
    (void)state;
    for (size_t s = 0; s < 1000; s++)
        assert_int_equal(copy_source(1000, 100, s), s);
    for (size_t c = 0; c < 100; c++)
        assert_int_equal(copy_source(1000, 100, 1000 + c), c * 10);
    assert_int_equal(copy_source(7, 3, 9), 4); /* spread even when it does not divide */
}

/* classic_copy of the ring: whether the service reads that copy at low resolution */
static bool copy_of_ring(const mn_augment *aug, uint64_t seed, float *x)
{
    uint8_t digit[PIXELS];
    mn_preprocess_scratch *scratch = malloc(sizeof *scratch);
    assert_non_null(scratch);
    ring(digit);
    bool low_res = classic_copy(aug, seed, 0, digit, scratch, x);
    free(scratch);
    return low_res;
}

/* the input's mass centre, in pixels, weighing each pixel by how far above paper it is */
static void centre(const float *x, double *cx, double *cy)
{
    const float paper = -MN_MNIST_MEAN / MN_MNIST_STD;
    double m = 0, sx = 0, sy = 0;
    for (int i = 0; i < PIXELS; i++) {
        double w = x[i] - paper;
        m += w;
        sx += w * (i % SIDE);
        sy += w * (i / SIDE);
    }
    assert_true(m > 0);
    *cx = sx / m;
    *cy = sy / m;
}

static void test_classic_copy_is_served_form(void **state)
{
    (void)state;
    const mn_augment none = {{0}};
    float a[PIXELS], b[PIXELS];
    int differ = 0, low_res = 0;
    for (uint64_t i = 0; i < 16; i++) {
        const uint64_t seed = mn_augment_seed(1, 0, i);
        low_res += copy_of_ring(&none, seed, a);
        copy_of_ring(&none, seed, b);
        assert_memory_equal(a, b, sizeof a);
        double cx, cy;
        centre(a, &cx, &cy);
        /* preprocessing puts the centre of mass at (14, 14), to the pixel */
        assert_true(fabs(cx - 14.0) <= 0.75 && fabs(cy - 14.0) <= 0.75);
        for (int p = 0; p < PIXELS; p++)
            assert_true(a[p] >= -MN_MNIST_MEAN / MN_MNIST_STD - 1e-4f &&
                        a[p] <= (1.0f - MN_MNIST_MEAN) / MN_MNIST_STD + 1e-4f);
        /* as stored, or on a margin scaled up: not every copy of the ring is alike */
        if (i > 0) {
            float first[PIXELS];
            copy_of_ring(&none, mn_augment_seed(1, 0, 0), first);
            differ += memcmp(first, a, sizeof a) != 0;
        }
    }
    assert_true(differ > 0);
    /* an 8x8 as stored, or one scaled up 3 times or more, is read at its own pixels */
    assert_in_range(low_res, 8, 16);
}

static void test_classic_copy_ignores_lowres(void **state)
{
    (void)state;
    mn_augment stroke = {{0}}, with_lowres;
    stroke.strength[MN_AUG_STROKE] = 1.0f;
    with_lowres = stroke;
    with_lowres.strength[MN_AUG_LOWRES] = MN_AUGMENT_MAX_STRENGTH;
    float a[PIXELS], b[PIXELS];
    for (uint64_t i = 0; i < 8; i++) {
        copy_of_ring(&stroke, mn_augment_seed(5, 1, i), a);
        copy_of_ring(&with_lowres, mn_augment_seed(5, 1, i), b);
        assert_memory_equal(a, b, sizeof a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_sources),
        cmocka_unit_test(test_classic_copy_is_served_form),
        cmocka_unit_test(test_classic_copy_ignores_lowres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
