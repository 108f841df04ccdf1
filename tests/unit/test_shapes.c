/* The pictures without a digit (mn_shapes.h): the same bytes for the same seed, the
 * kinds drawn evenly, each picture a digit's size inside the frame, the filled kinds
 * solid and the outlines open in the middle, half of the filled ones fading. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_rng.h"
#include "mn_shapes.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define SEEDS 1000
#define INK 64  /* a faded fill keeps 35 % of full white: 89 */

static uint64_t seed_of(int k)
{
    return mn_mix64(0x7465737473ull + (uint64_t)k);
}

static void test_same_seed_same_picture(void **state)
{
    (void)state;
    uint8_t a[PIXELS], b[PIXELS], c[PIXELS];
    mn_shape_draw(seed_of(1), a);
    mn_shape_draw(seed_of(1), b);
    mn_shape_draw(seed_of(2), c);
    assert_memory_equal(a, b, PIXELS);
    assert_memory_not_equal(a, c, PIXELS);
}

static void test_kinds_are_even(void **state)
{
    (void)state;
    int count[MN_SHAPE_KINDS] = {0};
    for (int k = 0; k < SEEDS; k++) {
        enum mn_shape_kind kind = mn_shape_kind_of(seed_of(k));
        assert_in_range(kind, 0, MN_SHAPE_KINDS - 1);
        count[kind]++;
    }
    for (int kind = 0; kind < MN_SHAPE_KINDS; kind++)
        assert_in_range(count[kind], SEEDS / MN_SHAPE_KINDS * 4 / 5, SEEDS / MN_SHAPE_KINDS * 6 / 5);
}

/* The ink's bounding box; false when there is no ink. */
static bool ink_box(const uint8_t *img, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = *y0 = SIDE;
    *x1 = *y1 = -1;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            if (img[y * SIDE + x] >= INK) {
                *x0 = x < *x0 ? x : *x0;
                *x1 = x > *x1 ? x : *x1;
                *y0 = y < *y0 ? y : *y0;
                *y1 = y > *y1 ? y : *y1;
            }
    return *x1 >= 0;
}

/* Every picture lies inside the frame with a pixel to spare and is as big as MNIST's
 * digits: 12 to 24 pixels along its longer side. */
static void test_a_digit_s_size_inside_the_frame(void **state)
{
    (void)state;
    for (int k = 0; k < SEEDS; k++) {
        uint8_t img[PIXELS];
        int x0, y0, x1, y1;
        mn_shape_draw(seed_of(k), img);
        assert_true(ink_box(img, &x0, &y0, &x1, &y1));
        assert_true(x0 >= 1 && y0 >= 1 && x1 <= SIDE - 2 && y1 <= SIDE - 2);
        const int w = x1 - x0 + 1, h = y1 - y0 + 1, longer = w > h ? w : h;
        assert_in_range(longer, 12, 24);
    }
}

/* Dark pixels that the frame's border cannot reach through other dark pixels: the
 * holes an outline encloses. */
static int enclosed_dark(const uint8_t *img)
{
    bool reached[PIXELS] = {false};
    int stack[PIXELS], top = 0, dark = 0;
    for (int i = 0; i < PIXELS; i++) {
        const int x = i % SIDE, y = i / SIDE;
        dark += img[i] < INK;
        if ((x == 0 || y == 0 || x == SIDE - 1 || y == SIDE - 1) && img[i] < INK) {
            reached[i] = true;
            stack[top++] = i;
        }
    }
    int outside = top;
    while (top) {
        const int i = stack[--top], x = i % SIDE, y = i / SIDE;
        const int next[4] = {x > 0 ? i - 1 : -1, x < SIDE - 1 ? i + 1 : -1,
                             y > 0 ? i - SIDE : -1, y < SIDE - 1 ? i + SIDE : -1};
        for (int d = 0; d < 4; d++)
            if (next[d] >= 0 && !reached[next[d]] && img[next[d]] < INK) {
                reached[next[d]] = true;
                stack[top++] = next[d];
                outside++;
            }
    }
    return dark - outside;
}

/* Stars and polygons are filled (no hole); most triangles are open inside. */
static void test_fills_are_solid_and_outlines_open(void **state)
{
    (void)state;
    int triangles = 0, open = 0;
    for (int k = 0; k < SEEDS; k++) {
        uint8_t img[PIXELS];
        const enum mn_shape_kind kind = mn_shape_kind_of(seed_of(k));
        mn_shape_draw(seed_of(k), img);
        if (kind == MN_SHAPE_STAR || kind == MN_SHAPE_POLYGON)
            assert_int_equal(enclosed_dark(img), 0);
        if (kind == MN_SHAPE_TRIANGLE) {
            triangles++;
            open += enclosed_dark(img) >= 4;
        }
    }
    assert_true(open >= triangles * 9 / 10);
}

/* About half of the filled shapes fade: unfaded, a third of the ink or more is full
 * white (all but the anti-aliased edge); faded, only a sliver of it. */
static void test_half_of_the_fills_fade(void **state)
{
    (void)state;
    int filled = 0, faded = 0;
    for (int k = 0; k < SEEDS; k++) {
        const enum mn_shape_kind kind = mn_shape_kind_of(seed_of(k));
        if (kind != MN_SHAPE_STAR && kind != MN_SHAPE_POLYGON)
            continue;
        uint8_t img[PIXELS];
        mn_shape_draw(seed_of(k), img);
        int ink = 0, white = 0;
        for (int i = 0; i < PIXELS; i++) {
            ink += img[i] >= INK;
            white += img[i] >= 250;
        }
        filled++;
        assert_true(white >= ink / 3 || white <= ink / 10);
        faded += white <= ink / 10;
    }
    assert_in_range(faded, filled * 2 / 5, filled * 3 / 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_picture),
        cmocka_unit_test(test_kinds_are_even),
        cmocka_unit_test(test_a_digit_s_size_inside_the_frame),
        cmocka_unit_test(test_fills_are_solid_and_outlines_open),
        cmocka_unit_test(test_half_of_the_fills_fade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
