/* The aspect transform (mn_aspect.h), through mn_augment_image: the identity at
 * strength 0, the same bytes for the same seed, half of the digits changed at strength
 * 1, widened up to square or narrowed to 65 %, with the rows and the mass centre kept,
 * and a digit too narrow (a 1) or already as wide as tall left alone. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_aspect.h"
#include "mn_augment.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define INK 64

/* An ellipse ring centred in the frame, half-axes rx (across) and ry (down), its pen
 * about 2.5 px wide: a "0" as tall or as wide as asked. */
static void ring(uint8_t *img, double rx, double ry)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double dx = (x - 13.5) / rx, dy = (y - 13.5) / ry, r = hypot(dx, dy);
            double cover = 1.25 - fabs(r - 1.0) * fmin(rx, ry);
            img[y * SIDE + x] = (uint8_t)(cover <= 0 ? 0 : cover >= 1 ? 255 : 255 * cover);
        }
}

/* A "d": a small ring low on the left, a stem 3 px wide down its right side, so that
 * the mass lies right of the box's middle (scaling about the middle moves it). */
static void letter_d(uint8_t *img)
{
    memset(img, 0, PIXELS);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double r = hypot(x - 11.0, y - 17.0);
            double cover = 1.25 - fabs(r - 4.0);
            if (x >= 15 && x <= 17 && y >= 4 && y <= 22)
                cover = 1.0;
            img[y * SIDE + x] = (uint8_t)(cover <= 0 ? 0 : cover >= 1 ? 255 : 255 * cover);
        }
}

static mn_augment aspect_at(float strength)
{
    mn_augment a;
    memset(&a, 0, sizeof a);
    a.strength[MN_AUG_ASPECT] = strength;
    return a;
}

typedef struct extent {
    int left, right, top, bottom; /* the box of the ink, inclusive */
    double cx;                    /* the column of the mass centre */
} extent;

static extent measure(const uint8_t *img)
{
    extent e = {SIDE, -1, SIDE, -1, 0.0};
    double sum = 0.0;
    for (int i = 0; i < PIXELS; i++) {
        const int x = i % SIDE, y = i / SIDE;
        sum += img[i];
        e.cx += (double)x * img[i];
        if (img[i] >= INK) {
            e.left = x < e.left ? x : e.left;
            e.right = x > e.right ? x : e.right;
            e.top = y < e.top ? y : e.top;
            e.bottom = y;
        }
    }
    e.cx /= sum;
    return e;
}

static void test_zero_strength_and_same_seed(void **state)
{
    (void)state;
    uint8_t in[PIXELS], a[PIXELS], b[PIXELS];
    ring(in, 5.0, 8.5);
    mn_augment none = aspect_at(0.0f), half = aspect_at(1.0f);
    int changed = 0;
    for (uint64_t i = 0; i < 64; i++) {
        uint64_t seed = mn_augment_seed(2, 0, i);
        mn_augment_image(&none, seed, 3, in, a);
        assert_memory_equal(in, a, PIXELS);
        mn_augment_image(&half, seed, 3, in, a);
        mn_augment_image(&half, seed, 3, in, b);
        assert_memory_equal(a, b, PIXELS);
        changed += memcmp(in, a, PIXELS) != 0;
    }
    /* strength 1 changes half of the digits */
    assert_in_range(changed, 20, 44);
}

/* Every change keeps the rows of ink and the mass centre's column (within the half
 * pixel of a whole-pixel shift, and the resampling's blur);
 * the width stays between 65 % of what it was and the height, a pixel either way for
 * the resampling; both wider and narrower digits come out. */
static void test_width_within_bounds(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    letter_d(in);
    const extent before = measure(in);
    const int width = before.right - before.left + 1, height = before.bottom - before.top + 1;
    mn_augment aug = aspect_at(MN_AUGMENT_MAX_STRENGTH); /* every digit */
    int wider = 0, narrower = 0;
    for (uint64_t i = 0; i < 64; i++) {
        mn_augment_image(&aug, mn_augment_seed(3, 0, i), 0, in, out);
        const extent after = measure(out);
        const int w = after.right - after.left + 1;
        if (after.top != before.top || after.bottom != before.bottom || w > height + 1 ||
            w < 0.65 * width - 1.0 || fabs(after.cx - before.cx) > 0.6)
            fail_msg("sample %d: rows %d..%d (were %d..%d), width %d (was %d, height %d), "
                     "centre column %.2f (was %.2f)", (int)i, after.top, after.bottom,
                     before.top, before.bottom, w, width, height, after.cx, before.cx);
        wider += w >= width + 2;
        narrower += w <= width - 2;
    }
    assert_in_range(wider, 16, 48);
    assert_in_range(narrower, 8, 48);
}

/* A digit under MN_ASPECT_MIN_WIDTH of its height (a 1) or as wide as tall keeps its
 * shape: it is never changed. */
static void test_narrow_and_wide_digits_kept(void **state)
{
    (void)state;
    uint8_t narrow[PIXELS], wide[PIXELS], out[PIXELS];
    ring(narrow, 2.5, 9.0); /* about 6 px wide, 19 tall */
    ring(wide, 9.0, 7.0);
    const extent n = measure(narrow);
    assert_true(n.right - n.left + 1 < MN_ASPECT_MIN_WIDTH * (n.bottom - n.top + 1));
    mn_augment aug = aspect_at(MN_AUGMENT_MAX_STRENGTH);
    for (uint64_t i = 0; i < 32; i++) {
        mn_augment_image(&aug, mn_augment_seed(4, 0, i), 1, narrow, out);
        assert_memory_equal(narrow, out, PIXELS);
        mn_augment_image(&aug, mn_augment_seed(4, 0, i), 2, wide, out);
        assert_memory_equal(wide, out, PIXELS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_strength_and_same_seed),
        cmocka_unit_test(test_width_within_bounds),
        cmocka_unit_test(test_narrow_and_wide_digits_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
