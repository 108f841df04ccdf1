/* fcgi/json_out.c: JSON strings and numbers. out_json_float must write what printf's
 * %.9g writes (but for the ninth digit at a near-tie) and always read back as the same
 * float. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_out.h"

static const char *format(out_buf *o, double v)
{
    out_reset(o);
    out_json_float(o, v);
    assert_false(o->overflow);
    return o->data;
}

static void test_float_examples(void **state)
{
    (void)state;
    out_buf o;
    assert_true(out_init(&o, 256));
    static const struct { double v; const char *want; } cases[] = {
        {0.0, "0"}, {-0.0, "-0"}, {1.0, "1"}, {-1.0, "-1"}, {0.5, "0.5"}, {10.0, "10"},
        {123456789.0, "123456789"}, {1e9, "1e+09"}, {1234567890.0, "1.23456789e+09"},
        {0.0001, "0.0001"}, {0.00001, "1e-05"}, {0.000123, "0.000123"},
        {(float)0.999999642, "0.999999642"}, {(float)2.23836956e-11, "2.23836956e-11"},
        {FLT_MAX, "3.40282347e+38"}, {FLT_MIN, "1.17549435e-38"},
        {FLT_TRUE_MIN, "1.40129846e-45"}, {1e300, "1.00000000e+300"}, {0.9933, "0.9933"},
        {NAN, "null"}, {INFINITY, "null"}, {-INFINITY, "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[64];
        if (isfinite(cases[i].v))
            snprintf(want, sizeof want, "%.9g", cases[i].v);  /* the reference itself */
        else
            strcpy(want, cases[i].want);
        const char *got = format(&o, cases[i].v);
        if (strcmp(got, want) != 0)
            fail_msg("%.17g: got '%s', printf writes '%s'", cases[i].v, got, want);
    }
    out_free(&o);
}

/* Every exponent a float can have, random mantissas: the text reads back as the same
 * float, and differs from printf's in at most one case in 10,000 (near-ties). */
static void test_random_floats_round_trip(void **state)
{
    (void)state;
    out_buf o;
    assert_true(out_init(&o, 256));
    uint64_t x = 0x9e3779b97f4a7c15u;
    long n = 0, differ = 0;
    for (int i = 0; i < 250000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t bits = (uint32_t)(x >> 32);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            continue;
        const char *got = format(&o, f);
        char *end;
        float back = strtof(got, &end);
        if (*end != '\0' || memcmp(&back, &f, sizeof f) != 0)
            fail_msg("%.9g was written as '%s', which reads back as %.9g", (double)f, got, (double)back);
        char want[64];
        snprintf(want, sizeof want, "%.9g", (double)f);
        differ += strcmp(got, want) != 0;
        n++;
    }
    if (differ * 10000 > n)
        fail_msg("%ld of %ld floats differ from printf's %%.9g", differ, n);
    out_free(&o);
}

static void test_overflow_is_reported(void **state)
{
    (void)state;
    out_buf o;
    assert_true(out_init(&o, 8));
    out_json_float(&o, 0.123456789);  /* "0.123456789" needs 12 bytes */
    assert_true(o.overflow);
    out_free(&o);
}

static void test_float_arrays(void **state)
{
    (void)state;
    out_buf o;
    assert_true(out_init(&o, 256));
    const float v[] = {1.0f, 0.5f, -2.5e-8f, 0.1f};
    out_json_float_array(&o, v, 4);
    char want[128];
    snprintf(want, sizeof want, "[%.9g,%.9g,%.9g,%.9g]", v[0], v[1], v[2], v[3]);
    assert_string_equal(o.data, want);
    out_reset(&o);
    out_json_float_array(&o, v, 0);
    assert_string_equal(o.data, "[]");
    out_free(&o);
}

static void test_strings_are_escaped(void **state)
{
    (void)state;
    out_buf o;
    assert_true(out_init(&o, 256));
    out_json_string(&o, "a\"b\\c\nd\x01/e");
    assert_string_equal(o.data, "\"a\\\"b\\\\c\\nd\\u0001/e\"");
    out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_examples),
        cmocka_unit_test(test_random_floats_round_trip),
        cmocka_unit_test(test_overflow_is_reported),
        cmocka_unit_test(test_float_arrays),
        cmocka_unit_test(test_strings_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
