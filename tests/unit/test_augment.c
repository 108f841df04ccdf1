/* Training-time augmentation (mn_augment.h): parsing the --augment list, exact identity
 * at strength 0, determinism per (seed, epoch, index), variety across samples, and
 * what each transform must keep: mass, gray range, position. */
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
#include "test_digit.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS

/* The ring at the centre. */
static void ring(uint8_t *img)
{
    test_ring(img, 13.5, 13.5);
}

static double mass(const uint8_t *img)
{
    double sum = 0;
    for (int i = 0; i < PIXELS; i++)
        sum += img[i];
    return sum;
}

static void centre(const uint8_t *img, double *cx, double *cy)
{
    double m = mass(img), sx = 0, sy = 0;
    for (int i = 0; i < PIXELS; i++) {
        sx += (double)(i % SIDE) * img[i];
        sy += (double)(i / SIDE) * img[i];
    }
    *cx = sx / m;
    *cy = sy / m;
}

static mn_augment only(int kind, float strength)
{
    mn_augment a;
    memset(&a, 0, sizeof a);
    a.strength[kind] = strength;
    return a;
}

/* The ring and its I-th sample in a run (RUN, epoch 0) under KIND alone at STRENGTH. */
typedef struct ring_sample {
    uint8_t in[PIXELS], out[PIXELS];
} ring_sample;

static ring_sample ring_under(int kind, float strength, uint64_t run, uint64_t i)
{
    ring_sample s;
    ring(s.in);
    mn_augment aug = only(kind, strength);
    mn_augment_image(&aug, mn_augment_seed(run, 0, i), -1, s.in, s.out);
    return s;
}

static void test_parse(void **state)
{
    (void)state;
    mn_augment a;
    mn_error err;
    char text[MN_AUGMENT_TEXT];
    assert_int_equal(mn_augment_parse("none", &a, &err), MN_OK);
    assert_false(mn_augment_enabled(&a));
    mn_augment_format(&a, text, sizeof text);
    assert_string_equal(text, "none");
    assert_int_equal(mn_augment_parse("lowres=0.5,affine", &a, &err), MN_OK);
    assert_true(a.strength[MN_AUG_AFFINE] == 1.0f && a.strength[MN_AUG_LOWRES] == 0.5f);
    assert_true(a.strength[MN_AUG_ELASTIC] == 0.0f && a.strength[MN_AUG_CONTRAST] == 0.0f);
    mn_augment_format(&a, text, sizeof text);
    assert_string_equal(text, "affine=1,lowres=0.5");
    mn_augment b;
    assert_int_equal(mn_augment_parse(text, &b, &err), MN_OK);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(mn_augment_parse("affine,warp", &a, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "'warp'"));
    assert_int_equal(mn_augment_parse("blur=3", &a, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "blur"));
    assert_int_equal(mn_augment_parse("blur=x", &a, &err), MN_ERR_ARG);
    assert_int_equal(mn_augment_parse("blur=", &a, &err), MN_ERR_ARG);
    assert_int_equal(mn_augment_parse("blur,", &a, &err), MN_ERR_ARG);
    assert_int_equal(mn_augment_parse("", &a, &err), MN_ERR_ARG);
    assert_int_equal(mn_augment_parse("affine=0", &a, &err), MN_OK);
    assert_false(mn_augment_enabled(&a));
}

static void test_seed_depends_on_each_part(void **state)
{
    (void)state;
    uint64_t s = mn_augment_seed(1, 2, 3);
    assert_true(s == mn_augment_seed(1, 2, 3));
    assert_true(s != mn_augment_seed(2, 2, 3));
    assert_true(s != mn_augment_seed(1, 3, 3));
    assert_true(s != mn_augment_seed(1, 2, 4));
    assert_true(mn_augment_seed(1, 2, 3) != mn_augment_seed(1, 3, 2)); /* not symmetric */
}

static void test_zero_strength_is_identity(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    ring(in);
    mn_augment none;
    memset(&none, 0, sizeof none);
    for (uint64_t seed = 0; seed < 8; seed++) {
        memset(out, 0xAB, sizeof out);
        mn_augment_image(&none, seed, -1, in, out);
        assert_memory_equal(in, out, PIXELS);
    }
}

/* Same seed: same bytes; across seeds: mostly different outputs, mostly changed. The
 * ring is given as a "1", the only digit the flag transform draws on. */
static void test_deterministic_and_varied(void **state)
{
    (void)state;
    uint8_t in[PIXELS], a[PIXELS], b[PIXELS], first[PIXELS];
    ring(in);
    for (int k = 0; k < MN_AUG_KINDS; k++) {
        mn_augment aug = only(k, 1.0f);
        int changed = 0, differs_from_first = 0;
        for (uint64_t i = 0; i < 32; i++) {
            uint64_t seed = mn_augment_seed(7, 0, i);
            mn_augment_image(&aug, seed, 1, in, a);
            mn_augment_image(&aug, seed, 1, in, b);
            assert_memory_equal(a, b, PIXELS);
            if (i == 0)
                memcpy(first, a, PIXELS);
            changed += memcmp(a, in, PIXELS) != 0;
            differs_from_first += memcmp(a, first, PIXELS) != 0;
        }
        /* lowres, flag, aspect and rotate apply to half of the images at strength 1,
         * blur changes the bytes only above a sigma of about 0.3; the others change
         * nearly all */
        int half = k == MN_AUG_LOWRES || k == MN_AUG_FLAG || k == MN_AUG_ASPECT ||
                   k == MN_AUG_ROTATE;
        int expected = half ? 8 : k == MN_AUG_BLUR ? 16 : 24;
        if (changed < expected || differs_from_first < expected)
            fail_msg("%s: %d of 32 changed, %d differ from the first", mn_augment_name(k),
                     changed, differs_from_first);
    }
}

/* At the tuned maximum (strength 1) the digit never fills the frame, and nearly
 * always keeps a fifth of its ink with its centre near the frame's: every transform at
 * once (as the calibration images have them) thins, blurs and thresholds a thin ring
 * away about one time in a hundred, and leaves a part of it off-centre about one time
 * in two hundred. */
static void test_digit_survives(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    ring(in);
    mn_augment all;
    for (int k = 0; k < MN_AUG_KINDS; k++)
        all.strength[k] = 1.0f;
    const double m = mass(in);
    int lost = 0;
    for (uint64_t i = 0; i < 256; i++) {
        mn_augment_image(&all, mn_augment_seed(3, 1, i), -1, in, out);
        double cx = 13.5, cy = 13.5, mo = mass(out);
        if (mo >= 0.5 * 255 * PIXELS)
            fail_msg("sample %d: mass %.0f, half the frame", (int)i, mo);
        if (mo > 0)
            centre(out, &cx, &cy);
        lost += mo < 0.2 * m || fabs(cx - 13.5) > 6 || fabs(cy - 13.5) > 6;
    }
    if (lost > 12)
        fail_msg("%d of 256 samples kept under a fifth of the ink or moved off-centre", lost);
}

/* Gamma keeps black black and white white; only the grays between move. */
static void test_contrast_keeps_the_ends(void **state)
{
    (void)state;
    int grays_moved = 0;
    for (uint64_t i = 0; i < 16; i++) {
        ring_sample s = ring_under(MN_AUG_CONTRAST, 2.0f, 5, i);
        for (int p = 0; p < PIXELS; p++) {
            if (s.in[p] == 0 || s.in[p] == 255)
                assert_int_equal(s.out[p], s.in[p]);
            else
                grays_moved += s.out[p] != s.in[p];
        }
    }
    assert_true(grays_moved > 0);
}

/* Blur spreads the ink over more pixels around the same centre; the faint result is
 * stretched back to full white, as the service would. */
static void test_blur_spreads_in_place(void **state)
{
    (void)state;
    int spread = 0;
    for (uint64_t i = 0; i < 16; i++) {
        ring_sample s = ring_under(MN_AUG_BLUR, 1.0f, 9, i);
        double cx, cy;
        centre(s.out, &cx, &cy);
        assert_true(fabs(cx - 13.5) < 0.3 && fabs(cy - 13.5) < 0.3);
        int lit_in = 0, lit_out = 0, top = 0;
        for (int p = 0; p < PIXELS; p++) {
            lit_in += s.in[p] > 0;
            lit_out += s.out[p] > 0;
            top = s.out[p] > top ? s.out[p] : top;
        }
        assert_int_equal(top, 255);
        spread += lit_out > lit_in;
    }
    assert_true(spread >= 8);
}

/* Strokes get thicker for some samples and thinner for others. */
static void test_stroke_thickens_and_thins(void **state)
{
    (void)state;
    int thicker = 0, thinner = 0;
    for (uint64_t i = 0; i < 32; i++) {
        ring_sample s = ring_under(MN_AUG_STROKE, 1.0f, 11, i);
        thicker += mass(s.out) > 1.05 * mass(s.in);
        thinner += mass(s.out) < 0.95 * mass(s.in);
    }
    assert_true(thicker >= 6 && thinner >= 6);
}

/* The mean |discrete Laplacian| over the interior: how sharp the edges are. */
static double sharpness(const uint8_t *p)
{
    double sum = 0.0;
    for (int y = 1; y < SIDE - 1; y++)
        for (int x = 1; x < SIDE - 1; x++)
            sum += fabs(4.0 * p[y * SIDE + x] - p[y * SIDE + x - 1] - p[y * SIDE + x + 1] -
                        p[(y - 1) * SIDE + x] - p[(y + 1) * SIDE + x]);
    return sum / ((SIDE - 2) * (SIDE - 2));
}

/* A scanner's copy, counted into 10-12 blocks a side and scaled back up smoothly, has
 * softer edges than the digit it came from, and stays where the digit was. */
static void test_lowres_loses_detail(void **state)
{
    (void)state;
    int softer = 0;
    for (uint64_t i = 0; i < 32; i++) {
        /* at strength 2, lowres applies to every image */
        ring_sample s = ring_under(MN_AUG_LOWRES, 2.0f, 13, i);
        assert_memory_not_equal(s.in, s.out, PIXELS);
        softer += sharpness(s.out) < 0.8 * sharpness(s.in);
        double cx, cy;
        centre(s.out, &cx, &cy);
        assert_true(fabs(cx - 13.5) < 1.0 && fabs(cy - 13.5) < 1.0);
    }
    assert_true(softer >= 28);
}

/* A bar 15 px long and 3 wide through the centre, upright. */
static void bar(uint8_t *img)
{
    memset(img, 0, PIXELS);
    for (int y = 7; y < 22; y++)
        for (int x = 12; x < 15; x++)
            img[y * SIDE + x] = 255;
}

/* The angle of an image's principal axis from the upright, in degrees: from the second
 * moments about its centre of mass. */
static double axis_degrees(const uint8_t *img)
{
    double cx, cy, sxx = 0, syy = 0, sxy = 0;
    centre(img, &cx, &cy);
    for (int i = 0; i < PIXELS; i++) {
        double dx = i % SIDE - cx, dy = i / SIDE - cy;
        sxx += dx * dx * img[i];
        syy += dy * dy * img[i];
        sxy += dx * dy * img[i];
    }
    return 0.5 * atan2(2 * sxy, syy - sxx) * 180.0 / M_PI;
}

/* A bar is turned about the centre, by up to 20 degrees either way, half of the time
 * at strength 1; its ink and its centre stay. */
static void test_rotate_turns_about_the_centre(void **state)
{
    (void)state;
    uint8_t in[PIXELS], out[PIXELS];
    bar(in);
    const mn_augment aug = only(MN_AUG_ROTATE, 1.0f);
    int turned = 0, left = 0, right = 0, far = 0;
    for (uint64_t i = 0; i < 200; i++) {
        mn_augment_image(&aug, mn_augment_seed(11, 0, i), 4, in, out);
        if (memcmp(in, out, PIXELS) == 0)
            continue;
        turned++;
        double cx, cy, angle = axis_degrees(out);
        centre(out, &cx, &cy);
        if (fabs(mass(out) - mass(in)) > 0.03 * mass(in) || fabs(cx - 13.0) > 0.3 ||
            fabs(cy - 14.0) > 0.3 || fabs(angle) > 20.5)
            fail_msg("sample %d: mass %.0f of %.0f, centre (%.2f, %.2f), %.1f degrees", (int)i,
                     mass(out), mass(in), cx, cy, angle);
        left += angle < -1.0;
        right += angle > 1.0;
        far += fabs(angle) > 15.0;
    }
    assert_in_range(turned, 80, 120);
    assert_true(left >= 30 && right >= 30 && far >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_seed_depends_on_each_part),
        cmocka_unit_test(test_zero_strength_is_identity),
        cmocka_unit_test(test_deterministic_and_varied),
        cmocka_unit_test(test_digit_survives),
        cmocka_unit_test(test_contrast_keeps_the_ends),
        cmocka_unit_test(test_blur_spreads_in_place),
        cmocka_unit_test(test_stroke_thickens_and_thins),
        cmocka_unit_test(test_lowres_loses_detail),
        cmocka_unit_test(test_rotate_turns_about_the_centre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
