/* Tests for mn_rng: its outputs are those of the reference xoshiro256** (written out
 * below as its author publishes it) from a state made of chained reference splitmix64
 * steps, a seed reproduces its sequence, and the helpers stay in their ranges. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_rng.h"

/* ---- the reference algorithms (prng.di.unimi.it: splitmix64.c, xoshiro256starstar.c) */

static uint64_t ref_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}

static uint64_t ref_rotl(const uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t ref_xoshiro_next(uint64_t s[4])
{
    const uint64_t result = ref_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return result;
}

/* the project's seeding (mn_rng.c says why it is not the reference one): each word is
 * one splitmix64 step from the previous word, the first from the seed */
static void ref_seed(uint64_t s[4], uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        s[i] = ref_splitmix64(&x);
        x = s[i];
    }
}

/* ---- the tests */

static void test_splitmix64_anchor(void **state)
{
    (void)state;
    /* splitmix64's first output from 0, as published: anchors the reference itself */
    uint64_t x = 0;
    assert_true(ref_splitmix64(&x) == 0xe220a8397b1dcdafull);
    assert_true(mn_mix64(0) == 0xe220a8397b1dcdafull);
}

static void test_matches_reference(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 42, 0x5348554646ull, UINT64_MAX};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        uint64_t ref[4];
        ref_seed(ref, seeds[k]);
        mn_rng rng;
        mn_rng_seed(&rng, seeds[k]);
        assert_memory_equal(rng.s, ref, sizeof ref);
        for (int i = 0; i < 64; i++)
            assert_true(mn_rng_next(&rng) == ref_xoshiro_next(ref));
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    mn_rng a, b, c;
    mn_rng_seed(&a, 12345);
    mn_rng_seed(&b, 12345);
    mn_rng_seed(&c, 12346);
    int same_as_other_seed = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mn_rng_next(&a);
        assert_true(x == mn_rng_next(&b));
        same_as_other_seed += x == mn_rng_next(&c);
    }
    assert_int_equal(same_as_other_seed, 0);
    /* the state is all there is: a copy continues the same sequence (checkpoints) */
    mn_rng copy = a;
    for (int i = 0; i < 10; i++)
        assert_true(mn_rng_next(&copy) == mn_rng_next(&a));
}

static void test_uniform(void **state)
{
    (void)state;
    mn_rng rng, raw;
    mn_rng_seed(&rng, 7);
    mn_rng_seed(&raw, 7);
    double sum = 0;
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        float u = mn_rng_uniform(&rng);
        assert_true(u >= 0.0f && u < 1.0f);
        /* the top 24 bits of one output, exactly */
        assert_true(u * 16777216.0f == (float)(mn_rng_next(&raw) >> 40));
        sum += u;
    }
    assert_true(sum / N > 0.49 && sum / N < 0.51);
}

/* between(lo, hi) is the uniform draw scaled to [lo, hi], one draw each, either
 * order of the bounds' signs. */
static void test_between(void **state)
{
    (void)state;
    mn_rng a, b;
    mn_rng_seed(&a, 11);
    mn_rng_seed(&b, 11);
    for (int i = 0; i < 10000; i++) {
        const float lo = i % 2 ? -0.33f : 1.5f, hi = i % 2 ? 0.33f : 3.5f;
        const float v = mn_rng_between(&a, lo, hi);
        assert_true(v >= lo && v <= hi);
        assert_true(v == lo + (hi - lo) * mn_rng_uniform(&b));
    }
}

static void test_below(void **state)
{
    (void)state;
    mn_rng rng;
    mn_rng_seed(&rng, 3);
    static const uint32_t bounds[] = {1, 2, 3, 7, 1000, 0x80000001u, UINT32_MAX};
    for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++)
        for (int i = 0; i < 10000; i++)
            assert_true(mn_rng_below(&rng, bounds[k]) < bounds[k]);
    /* every value of a small range, each about equally often */
    int counts[6] = {0};
    for (int i = 0; i < 60000; i++)
        counts[mn_rng_below(&rng, 6)]++;
    for (int v = 0; v < 6; v++)
        assert_true(counts[v] > 9500 && counts[v] < 10500);
}

static void test_shuffle(void **state)
{
    (void)state;
    mn_rng rng;
    mn_rng_seed(&rng, 11);
    uint32_t a[100];
    for (uint32_t i = 0; i < 100; i++)
        a[i] = i;
    mn_rng_shuffle_u32(&rng, a, 100);
    bool seen[100] = {false};
    int in_place = 0;
    for (uint32_t i = 0; i < 100; i++) {
        assert_true(a[i] < 100 && !seen[a[i]]);
        seen[a[i]] = true;
        in_place += a[i] == i;
    }
    assert_true(in_place < 10); /* a permutation, and not the identity */
    /* n of 0 and 1 change nothing; all six orders of three items occur */
    uint32_t one = 5;
    mn_rng_shuffle_u32(&rng, &one, 1);
    mn_rng_shuffle_u32(&rng, NULL, 0);
    assert_int_equal(one, 5);
    int orders[6] = {0};
    for (int t = 0; t < 6000; t++) {
        uint32_t b[3] = {0, 1, 2};
        mn_rng_shuffle_u32(&rng, b, 3);
        orders[b[0] * 2 + (b[1] > b[2])]++;
    }
    for (int o = 0; o < 6; o++)
        assert_true(orders[o] > 800 && orders[o] < 1200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64_anchor),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_between),
        cmocka_unit_test(test_below),
        cmocka_unit_test(test_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
