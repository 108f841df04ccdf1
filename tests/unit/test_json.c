/* src/mn_json: the strict reader. Its numbers: the 8-bytes-at-a-time path (taken when
 * 18 or more bytes follow) must give exactly what the general path (taken near the
 * end of the input) gives, for valid numbers and for everything that merely starts
 * like one, and both exactly what strtod and strtof give. Then RFC 8259 conformance
 * in the manner of JSONTestSuite: y_ documents accepted, n_ refused, i_ (where the
 * RFC leaves a choice) decided as mn_json.h says; strings, UTF-8, escapes. */
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

#include "mn_json.h"

typedef struct parsed {
    bool ok, fok;
    double v;
    float f;
    size_t used;  /* bytes consumed */
} parsed;

static parsed parse(const char *buf, size_t len)
{
    mn_json j;
    mn_json_init(&j, buf, len);
    parsed r = {false, false, 0.0, 0.0f, 0};
    r.ok = mn_json_number(&j, &r.v);
    r.used = (size_t)(j.p - buf);
    mn_json_init(&j, buf, len);
    r.fok = mn_json_float(&j, &r.f);
    if (r.ok && r.fok)
        assert_int_equal(r.used, (size_t)(j.p - buf));
    return r;
}

/* A valid number's values are strtod's and strtof's for the same text. */
static void check_strtod(const char *text, const parsed *p)
{
    if (!p->ok)
        return;
    const double want = strtod(text, NULL);
    if (memcmp(&want, &p->v, sizeof want) != 0)
        fail_msg("'%s': %.17g, strtod says %.17g", text, p->v, want);
    const float wantf = strtof(text, NULL);
    if (p->fok != isfinite(wantf) || (p->fok && memcmp(&wantf, &p->f, sizeof wantf) != 0))
        fail_msg("'%s': float %.9g, strtof says %.9g", text, (double)p->f, (double)wantf);
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
    if (fast.ok != general.ok || fast.used != general.used || fast.fok != general.fok ||
        (fast.ok && memcmp(&fast.v, &general.v, sizeof fast.v) != 0) ||
        (fast.fok && memcmp(&fast.f, &general.f, sizeof fast.f) != 0))
        fail_msg("'%s': with room to spare %s %.17g (%zu bytes), at the end %s %.17g (%zu bytes)",
                 text, fast.ok ? "ok" : "error", fast.v, fast.used, general.ok ? "ok" : "error",
                 general.v, general.used);
    if (general.ok && general.used == n)
        check_strtod(text, &general);
}

static void test_examples(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0", "-0", "7", "-7", "0.5", "-0.424212", "2.79683", "12345678", "1234567",
        "1234567.1234567", "9999999.9999999", "0.12345678", "0.1234567", "00", "01", "-01",
        "1.", "1.e5", "1e5", "1E-3", "-", "-x", ".5", "1.5.3", "1..2", "3.14x",
        "123456789012345678901234567890", "0.000000000000000000001", "1e400", "-1e-400",
        "4503599627370497.5", "1.7976931348623157e308", "+1", "1e", "1e+", "-0.0e-0",
        /* float midpoints, where rounding through double differs from strtof */
        "1.00000005960464477539062500001", "0.500000029802322387695312", "16777217",
        "3.4028235677973366e38", "3.4028236e38", "3.399255862374309e+22", "1.4e-45", "7.0e-46", "1e-50",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_both_paths(cases[i]);
    /* and the values themselves, where the fast path is taken */
    char buf[64];
    snprintf(buf, sizeof buf, "-0.424212%s", "]]]]]]]]]]]]]]]]]]]]]]]]");
    parsed p = parse(buf, strlen(buf));
    assert_true(p.ok);
    assert_true(p.v == -0.424212);
    assert_true(p.f == -0.424212f);
    assert_int_equal(p.used, 9);
    /* beyond FP32 but a double: the float read refuses, the double read accepts */
    p = parse("3.5e38", 6);
    assert_true(p.ok);
    assert_false(p.fok);
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

/* long valid numbers (up to 30 digits a part, with exponents): the 8-digit steps and
 * the digit-by-digit path agree, and both with strtod and strtof */
static void test_long_numbers_agree(void **state)
{
    (void)state;
    uint64_t x = 987654321;
    for (int i = 0; i < 100000; i++) {
        char text[96], *p = text;
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint64_t y = x;
        const int int_digits = 1 + (int)((x >> 10) % 30), frac_digits = (int)((x >> 20) % 31);
        const int zeros = (int)((x >> 30) % 12); /* leading zeros after the point */
        if ((x >> 40) & 1)
            *p++ = '-';
        for (int k = 0; k < int_digits; k++) {
            y = y * 2862933555777941757u + 3037000493u;
            *p++ = (char)('0' + (k == 0 ? (int_digits > 1 ? 1 + (y >> 40) % 9 : (y >> 40) % 10)
                                        : (y >> 40) % 10));
        }
        if (frac_digits) {
            *p++ = '.';
            for (int k = 0; k < frac_digits; k++) {
                y = y * 2862933555777941757u + 3037000493u;
                *p++ = (char)('0' + (k < zeros ? 0 : (y >> 40) % 10));
            }
        }
        if ((x >> 41) & 1)
            p += sprintf(p, "e%d", (int)((x >> 44) % 90) - 45);
        *p = '\0';
        check_both_paths(text);
    }
}

/* ------------------------------------------------------------------ documents */

/* Whether the whole of text[0..len) is one JSON value (nested at most 32 deep). */
static bool document_ok(const char *text, size_t len)
{
    mn_json j;
    mn_json_init(&j, text, len);
    bool ok = mn_json_skip(&j, 32) && mn_json_at_end(&j);
    assert_true(ok == (j.error == NULL)); /* a refusal always says why */
    return ok;
}

#define DOC(s) document_ok(s, sizeof(s) - 1)

/* JSONTestSuite's y_ cases (the spirit of them): valid documents. */
static void test_accepts_valid_documents(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "[]", "{}", " [ ] ", "\t\r\n{}\n", "0", "-0", "\"\"", "true", "false", "null",
        "[1,2,3]", "{\"a\":[1,{\"b\":null}]}", "[-0.0e+1]", "[1E22]", "[1e-400]",
        "[\"\\u0000\"]", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\uD834\\uDD1E\"]",
        "[\"\xf0\x9d\x84\x9e\"]", "[\"\xe2\x82\xac\"]", "[\"\xc2\xa9\"]", "[\"\xef\xbf\xbf\"]",
        "[\"\xf4\x8f\xbf\xbf\"]", "[\"\\u00e9\"]", "{\"a\":1,\"a\":2}", "[\"\x7f\"]",
        "[123456789012345678901234567890]",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!document_ok(yes[i], strlen(yes[i])))
            fail_msg("refused a valid document: %s", yes[i]);
    assert_true(DOC("[\"a\\u0000b\"]")); /* strlen would stop at a NUL in the source */
}

/* JSONTestSuite's n_ cases: documents every strict reader must refuse. */
static void test_refuses_invalid_documents(void **state)
{
    (void)state;
    static const char *const no[] = {
        "", " ", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "[1 2]", "{\"a\" 1}",
        "{\"a\":}", "{a:1}", "{'a':1}", "['a']", "[01]", "[-01]", "[+1]", "[.5]", "[1.]",
        "[1.e1]", "[1e]", "[1e+]", "[0x10]", "[NaN]", "[Infinity]", "[-Infinity]", "[nul]",
        "[True]", "[tru]", "[1]x", "[1][2]", "{}}", "/*c*/[]", "[]//c", "\xef\xbb\xbf[]",
        "[\"a\tb\"]", "[\"a\nb\"]", "[\"\x1f\"]", "[\"\\x41\"]", "[\"\\a\"]", "[\"\\u12\"]",
        "[\"\\u00G0\"]", "[\"\\uD800\"]", "[\"\\uDC00\"]", "[\"\\uD800\\u0041\"]",
        "[\"\\uD800x\"]", "[\"\\uDBFF\\uDBFF\"]", "[\"abc]", "[\"\\\"]", "[1e999]",
        "[-1e400]", "[\"\xc0\xaf\"]", "[\"\xe0\x80\xaf\"]", "[\"\xf0\x80\x80\xaf\"]",
        "[\"\xed\xa0\x80\"]", "[\"\xed\xbf\xbf\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xf5\x80\x80\x80\"]",
        "[\"\x80\"]", "[\"\xc3\"]", "[\"\xe2\x82\"]", "[\"\xff\"]", "[\"\xfe\"]", "[\xe2\x82\xac]",
        "[1,,2]", "{\"a\":1 \"b\":2}", "{\"a\"::1}", "[\"a\"\"b\"]", "[-]", "[- 1]", "[1 .5]",
        "[1e1.5]", "[\"\\u+041\"]",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (document_ok(no[i], strlen(no[i])))
            fail_msg("accepted an invalid document: %s", no[i]);
    assert_false(DOC("[\"a\0b\"]")); /* a raw NUL is a control character */
    assert_false(DOC("[1]\0"));      /* and not whitespace after the value */
}

/* Nesting: the caller's limit holds exactly, and deep input fails, not the stack. */
static void test_depth_limit(void **state)
{
    (void)state;
    enum { DEEP = 100000 };
    static char deep[2 * DEEP];
    memset(deep, '[', DEEP);
    memset(deep + DEEP, ']', DEEP);
    mn_json j;
    mn_json_init(&j, deep, sizeof deep);
    assert_false(mn_json_skip(&j, 32));
    assert_string_equal(j.error, "nested too deeply");
    assert_int_equal(j.error_at, 32);
    /* 32 levels pass a limit of 32, 33 do not */
    mn_json_init(&j, deep + DEEP - 32, 64);
    assert_true(mn_json_skip(&j, 32) && mn_json_at_end(&j));
    mn_json_init(&j, deep + DEEP - 33, 66);
    assert_false(mn_json_skip(&j, 32));
}

/* The first failure is kept with its offset; later ones do not replace it. */
static void test_first_error_kept(void **state)
{
    (void)state;
    mn_json j;
    mn_json_init(&j, "[1, 01]", 7);
    assert_false(mn_json_skip(&j, 4));
    assert_string_equal(j.error, "leading zero in a number");
    assert_int_equal(j.error_at, 4);
    assert_false(mn_json_fail(&j, "something else"));
    assert_string_equal(j.error, "leading zero in a number");
}

static mn_json_str string_of(const char *text)
{
    mn_json j;
    mn_json_str s = {0};
    mn_json_init(&j, text, strlen(text));
    assert_true(mn_json_string(&j, &s));
    assert_true(mn_json_at_end(&j));
    return s;
}

static void test_string_values(void **state)
{
    (void)state;
    char buf[32];
    size_t len = 99;
    mn_json_str s = string_of("\"plain\"");
    assert_false(s.escaped);
    assert_true(mn_json_str_is(&s, "plain"));
    assert_false(mn_json_str_is(&s, "plai"));
    assert_false(mn_json_str_is(&s, "plainer"));
    /* an escaped spelling is the same key */
    s = string_of("\"na\\u006De\"");
    assert_true(s.escaped);
    assert_true(mn_json_str_is(&s, "name"));
    assert_false(mn_json_str_is(&s, "nam"));
    assert_false(mn_json_str_is(&s, "names"));
    /* every escape, and a surrogate pair, decoded to UTF-8 */
    s = string_of("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\uD834\\uDD1E\"");
    assert_true(mn_json_str_decode(&s, buf, sizeof buf, &len));
    assert_int_equal(len, 8 + 2 + 3 + 4);
    assert_memory_equal(buf, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", len + 1);
    assert_true(mn_json_str_is(&s, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"));
    /* the buffer holds the value and its NUL, or the decode fails */
    s = string_of("\"abc\"");
    assert_true(mn_json_str_decode(&s, buf, 4, &len));
    assert_string_equal(buf, "abc");
    assert_false(mn_json_str_decode(&s, buf, 3, &len));
    assert_int_equal(len, 3); /* the length it needs */
    /* U+0000 cannot be a C string */
    s = string_of("\"a\\u0000b\"");
    assert_false(mn_json_str_decode(&s, buf, sizeof buf, &len));
    assert_true(len == SIZE_MAX);
    assert_false(mn_json_str_is(&s, "a"));
}

/* Each kind of bad string says what is wrong. */
static void test_string_errors(void **state)
{
    (void)state;
    static const struct { const char *text, *why; } cases[] = {
        {"\"\\uD800\"", "unpaired surrogate in a \\u escape"},
        {"\"\\uDC00\\uD800\"", "unpaired surrogate in a \\u escape"},
        {"\"\\u12G4\"", "invalid \\u escape"},
        {"\"\\u12\"", "invalid \\u escape"},
        {"\"\\q\"", "invalid escape in a string"},
        {"\"a\tb\"", "control character in a string"},
        {"\"\xc0\xaf\"", "invalid UTF-8 in a string"},
        {"\"abc", "unterminated string"},
        {"abc", "expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_json j;
        mn_json_str s;
        mn_json_init(&j, cases[i].text, strlen(cases[i].text));
        assert_false(mn_json_string(&j, &s));
        assert_string_equal(j.error, cases[i].why);
    }
}

static void test_scalars_and_kinds(void **state)
{
    (void)state;
    mn_json j;
    bool b = false;
    mn_json_init(&j, " true false nul", 15);
    assert_true(mn_json_bool(&j, &b) && b);
    assert_true(mn_json_bool(&j, &b) && !b);
    assert_false(mn_json_bool(&j, &b));
    static const struct { const char *text; mn_json_kind kind; } kinds[] = {
        {" {", MN_JSON_OBJECT}, {"[", MN_JSON_ARRAY}, {"\"", MN_JSON_STRING},
        {"-", MN_JSON_NUMBER}, {"7", MN_JSON_NUMBER}, {"false", MN_JSON_BOOL},
        {"null", MN_JSON_NULL}, {"", MN_JSON_NONE}, {"x", MN_JSON_NONE},
        {"tru", MN_JSON_NONE}, {"nul", MN_JSON_NONE}, {"False", MN_JSON_NONE}, {"true", MN_JSON_BOOL},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        mn_json_init(&j, kinds[i].text, strlen(kinds[i].text));
        assert_int_equal(mn_json_next(&j), kinds[i].kind);
    }
    assert_string_equal(mn_json_kind_name(MN_JSON_NUMBER), "a number");
}

static void test_unsigned_integers(void **state)
{
    (void)state;
    static const struct { const char *text; bool in_range; unsigned long long v; } cases[] = {
        {"0", true, 0}, {"1000", true, 1000}, {"1001", false, 0}, {"-1", false, 0},
        {"-0", false, 0}, {"1.0", false, 0}, {"1e3", false, 0},
        {"123456789012345678901", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_json j;
        unsigned long long v = 7;
        bool in_range = !cases[i].in_range;
        mn_json_init(&j, cases[i].text, strlen(cases[i].text));
        assert_true(mn_json_uint(&j, 1000, &v, &in_range));
        assert_true(mn_json_at_end(&j));
        if (in_range != cases[i].in_range || (in_range && v != cases[i].v))
            fail_msg("%s: in range %d, value %llu", cases[i].text, in_range, v);
    }
    mn_json j;
    unsigned long long v;
    bool in_range;
    mn_json_init(&j, "01", 2);
    assert_false(mn_json_uint(&j, 1000, &v, &in_range));
    /* the largest offsets a safetensors file may have */
    mn_json_init(&j, "9223372036854775806", 19);
    assert_true(mn_json_uint(&j, 9223372036854775806ull, &v, &in_range) && in_range);
    assert_true(v == 9223372036854775806ull);
}

/* The one UTF-8 validator, byte by byte: RFC 3629's table. */
static void test_utf8_validator(void **state)
{
    (void)state;
    static const struct { const char *s; size_t valid; } cases[] = {
        {"abc", 3}, {"\xc2\x80", 2}, {"\xc1\xbf", 0}, {"\xdf\xbf", 2}, {"\xe0\xa0\x80", 3},
        {"\xe0\x9f\xbf", 0}, {"\xed\x9f\xbf", 3}, {"\xed\xa0\x80", 0}, {"\xee\x80\x80", 3},
        {"\xf0\x90\x80\x80", 4}, {"\xf0\x8f\xbf\xbf", 0}, {"\xf4\x8f\xbf\xbf", 4},
        {"\xf4\x90\x80\x80", 0}, {"a\xf8\x88\x80\x80\x80", 1}, {"ab\x80", 2}, {"\xe2\x82", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = mn_utf8_valid_prefix((const unsigned char *)cases[i].s, strlen(cases[i].s));
        if (got != cases[i].valid)
            fail_msg("case %zu: %zu valid bytes, expected %zu", i, got, cases[i].valid);
    }
}

/* A number's length limit (an implementation limit RFC 8259 allows). */
static void test_number_length_limit(void **state)
{
    (void)state;
    char text[MN_JSON_MAX_NUMBER + 2];
    memset(text, '1', sizeof text);
    text[1] = '.';
    mn_json j;
    double v;
    mn_json_init(&j, text, MN_JSON_MAX_NUMBER);
    assert_true(mn_json_number(&j, &v));
    assert_true(v == strtod("1.1111111111111111111111", NULL));
    mn_json_init(&j, text, MN_JSON_MAX_NUMBER + 1);
    assert_false(mn_json_number(&j, &v));
    assert_string_equal(j.error, "number too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_random_numbers_agree),
        cmocka_unit_test(test_tensor_like_numbers_agree),
        cmocka_unit_test(test_long_numbers_agree),
        cmocka_unit_test(test_accepts_valid_documents),
        cmocka_unit_test(test_refuses_invalid_documents),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_first_error_kept),
        cmocka_unit_test(test_string_values),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_scalars_and_kinds),
        cmocka_unit_test(test_unsigned_integers),
        cmocka_unit_test(test_utf8_validator),
        cmocka_unit_test(test_number_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
