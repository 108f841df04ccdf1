/* fcgi/json_scan.c's numbers: the 8-bytes-at-a-time path (taken when 18 or more bytes
 * follow) must give exactly what the general path (taken near the end of the input)
 * gives, for valid numbers and for everything that merely starts like one. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_scan.h"

typedef struct parsed {
    bool ok;
    double v;
    size_t used;  /* bytes consumed */
} parsed;

static parsed parse(const char *buf, size_t len)
{
    json_scan s;
    js_init(&s, buf, len);
    parsed r = {false, 0.0, 0};
    r.ok = js_number(&s, &r.v);
    r.used = (size_t)(s.p - buf);
    return r;
}

/* text parsed with 32 bytes of "]" after it (fast path possible) and as the whole
 * input (general path only): the same verdict, value bits and length */
static void check_both_paths(const char *text)
{
    char padded[128];
    size_t n = strlen(text);
    assert_true(n + 32 < sizeof padded);
    memcpy(padded, text, n);
    memset(padded + n, ']', 32);
    parsed fast = parse(padded, n + 32), general = parse(text, n);
    if (fast.ok != general.ok || fast.used != general.used ||
        (fast.ok && memcmp(&fast.v, &general.v, sizeof fast.v) != 0))
        fail_msg("'%s': with room to spare %s %.17g (%zu bytes), at the end %s %.17g (%zu bytes)",
                 text, fast.ok ? "ok" : "error", fast.v, fast.used, general.ok ? "ok" : "error",
                 general.v, general.used);
}

static void test_examples(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0", "-0", "7", "-7", "0.5", "-0.424212", "2.79683", "12345678", "1234567",
        "1234567.1234567", "9999999.9999999", "0.12345678", "0.1234567", "00", "01", "-01",
        "1.", "1.e5", "1e5", "1E-3", "-", "-x", ".5", "1.5.3", "1..2", "3.14x",
        "123456789012345678901234567890", "0.000000000000000000001", "1e400", "-1e-400",
        "4503599627370497.5", "1.7976931348623157e308",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_both_paths(cases[i]);
    /* and the values themselves, where the fast path is taken */
    char buf[64];
    snprintf(buf, sizeof buf, "-0.424212%s", "]]]]]]]]]]]]]]]]]]]]]]]]");
    parsed p = parse(buf, strlen(buf));
    assert_true(p.ok);
    assert_true(p.v == -0.424212);
    assert_int_equal(p.used, 9);
}

/* random strings over the characters numbers are made of */
static void test_random_numbers_agree(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789-.eE+0123456789";
    uint64_t x = 0x2545F4914F6CDD1Du;
    for (int i = 0; i < 300000; i++) {
        char text[40];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int n = 1 + (int)(x % 24);
        uint64_t y = x;
        for (int k = 0; k < n; k++) {
            y = y * 6364136223846793005u + 1442695040888963407u;
            text[k] = alphabet[(y >> 33) % (sizeof alphabet - 1)];
        }
        text[n] = '\0';
        check_both_paths(text);
    }
}

/* well-formed numbers like those in a v2 tensor: every length of each part */
static void test_tensor_like_numbers_agree(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int int_digits = (int)((x >> 20) % 9), frac_digits = (int)((x >> 30) % 10);
        char text[40], *p = text;
        if ((x >> 40) & 1)
            *p++ = '-';
        uint64_t y = x;
        for (int k = 0; k < (int_digits ? int_digits : 1); k++) {
            y = y * 2862933555777941757u + 3037000493u;
            *p++ = (char)('0' + (k == 0 && int_digits > 1 ? 1 + (y >> 40) % 9 : (y >> 40) % 10));
        }
        if (!int_digits)
            p[-1] = '0';
        if (frac_digits) {
            *p++ = '.';
            for (int k = 0; k < frac_digits; k++) {
                y = y * 2862933555777941757u + 3037000493u;
                *p++ = (char)('0' + (y >> 40) % 10);
            }
        }
        *p = '\0';
        check_both_paths(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_random_numbers_agree),
        cmocka_unit_test(test_tensor_like_numbers_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
