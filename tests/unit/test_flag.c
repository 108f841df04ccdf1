/* The flag transform (mn_flag.h), through mn_augment_image: it draws only on 1s, the
 * identity at strength 0, the same bytes for the same seed, and a flag where a
 * continental writer puts it: down to the left from the top of the stem, steeper than a
 * 7's bar, with the digit's height and centre kept. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_augment.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define INK 128
#define TOP 4
#define BOTTOM 23
#define STEM_X 13.5

/* An MNIST-like "1": a vertical bar 2.5 px wide from row TOP to row BOTTOM. */
static void stem(uint8_t *img)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double d = fabs(x - STEM_X), cover = y < TOP || y > BOTTOM ? 0.0 : 1.75 - d;
            img[y * SIDE + x] = (uint8_t)(cover <= 0 ? 0 : cover >= 1 ? 255 : 255 * cover);
        }
}

static mn_augment flag_at(float strength)
{
    mn_augment a;
    memset(&a, 0, sizeof a);
    a.strength[MN_AUG_FLAG] = strength;
    return a;
}

typedef struct extent {
    int top, bottom;    /* rows of ink */
    int left_top;       /* the leftmost ink column in the top third */
    int width_bottom;   /* ink pixels in the lowest row of ink */
    double cx, cy;      /* the mass centre */
} extent;

static extent measure(const uint8_t *img)
{
    extent e = {SIDE, -1, SIDE, 0, 0.0, 0.0};
    double sum = 0.0;
    for (int i = 0; i < PIXELS; i++) {
        sum += img[i];
        e.cx += (double)(i % SIDE) * img[i];
        e.cy += (double)(i / SIDE) * img[i];
        if (img[i] >= INK) {
            e.top = i / SIDE < e.top ? i / SIDE : e.top;
            e.bottom = i / SIDE;
        }
    }
    e.cx /= sum;
    e.cy /= sum;
    for (int y = e.top; y <= e.top + (e.bottom - e.top) / 3; y++)
        for (int x = 0; x < SIDE; x++)
            if (img[y * SIDE + x] >= INK && x < e.left_top)
                e.left_top = x;
    for (int x = 0; x < SIDE; x++)
        e.width_bottom += img[e.bottom * SIDE + x] >= INK;
    return e;
}

static void test_only_ones_get_a_flag(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    stem(in);
    mn_augment aug = flag_at(MN_AUGMENT_MAX_STRENGTH); /* every 1 */
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t seed = mn_augment_seed(1, 0, i);
        for (int label = -1; label < 10; label++) {
            mn_augment_image(&aug, seed, label, in, out);
            if (label == 1)
                assert_memory_not_equal(in, out, PIXELS);
            else
                assert_memory_equal(in, out, PIXELS);
        }
    }
}

static void test_zero_strength_and_same_seed(void **state)
{
    (void)state;
    uint8_t in[PIXELS], a[PIXELS], b[PIXELS];
    stem(in);
    mn_augment none = flag_at(0.0f), half = flag_at(1.0f);
    int flagged = 0;
    for (uint64_t i = 0; i < 64; i++) {
        uint64_t seed = mn_augment_seed(2, 0, i);
        mn_augment_image(&none, seed, 1, in, a);
        assert_memory_equal(in, a, PIXELS);
        mn_augment_image(&half, seed, 1, in, a);
        mn_augment_image(&half, seed, 1, in, b);
        assert_memory_equal(a, b, PIXELS);
        flagged += memcmp(in, a, PIXELS) != 0;
    }
    /* strength 1 flags half of the 1s */
    assert_in_range(flagged, 20, 44);
}

/* The flag reaches 3 px or more left of the stem near its top, the digit stays as tall
 * (a foot may add a row), and its mass centre moves by under a pixel. */
static void test_flag_at_the_top_left(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    stem(in);
    const extent before = measure(in);
    mn_augment aug = flag_at(MN_AUGMENT_MAX_STRENGTH);
    int footed = 0;
    for (uint64_t i = 0; i < 48; i++) {
        mn_augment_image(&aug, mn_augment_seed(3, 0, i), 1, in, out);
        const extent after = measure(out);
        int height_before = before.bottom - before.top, height_after = after.bottom - after.top;
        if (after.left_top > before.left_top - 3 || height_after < height_before ||
            height_after > height_before + 1 || fabs(after.cx - before.cx) > 0.75 ||
            fabs(after.cy - before.cy) > 0.75)
            fail_msg("sample %d: left %d (stem %d), height %d (was %d), centre (%.2f, %.2f)",
                     (int)i, after.left_top, before.left_top, height_after, height_before,
                     after.cx, after.cy);
        footed += after.width_bottom >= before.width_bottom + 3;
    }
    assert_in_range(footed, 6, 28); /* a third of them */
}

/* The flag falls at least 40 degrees below the level (less would be a 7's bar): every
 * new pixel left of the stem lies below the line at 40 degrees from the stem's top,
 * give or take the pen's half width. The digit is shifted back to its mass centre, so
 * positions are taken from the stem's top in the output. */
static void test_flag_is_steeper_than_a_bar(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    stem(in);
    mn_augment aug = flag_at(MN_AUGMENT_MAX_STRENGTH);
    const double slope = tan(40.0 * M_PI / 180.0), pen = 2.5;
    for (uint64_t i = 0; i < 48; i++) {
        mn_augment_image(&aug, mn_augment_seed(4, 0, i), 1, in, out);
        const extent e = measure(out);
        double stem_x = 0.0, weight = 0.0; /* the stem's column, from its lowest third */
        for (int y = e.bottom - 6; y < e.bottom - 1; y++)
            for (int x = 0; x < SIDE; x++) {
                stem_x += (double)x * out[y * SIDE + x];
                weight += out[y * SIDE + x];
            }
        stem_x /= weight;
        for (int y = e.top; y < e.top + (e.bottom - e.top) / 2; y++)
            for (int x = 0; x < (int)(stem_x - pen); x++)
                if (out[y * SIDE + x] >= INK && y - e.top < slope * (stem_x - x) - pen)
                    fail_msg("sample %d: ink at (%d, %d) above 40 degrees from (%.1f, %d)",
                             (int)i, x, y, stem_x, e.top);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_ones_get_a_flag),
        cmocka_unit_test(test_zero_strength_and_same_seed),
        cmocka_unit_test(test_flag_at_the_top_left),
        cmocka_unit_test(test_flag_is_steeper_than_a_bar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
