/* The multipart/form-data parser and the base64 / data: URL decoders of mnist-fcgi. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "multipart.h"

#define BODY(...) __VA_ARGS__
static const char ok_body[] = BODY(
    "preamble is ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "\r\n"
    "hello\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"d.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n--Xy not a delimiter\r\n"
    "--XyZ--\r\n");

static void test_finds_named_part(void **state)
{
    (void)state;
    const char *data;
    size_t len;
    assert_int_equal(multipart_find(ok_body, sizeof ok_body - 1, "XyZ", "file", &data, &len),
                     MULTIPART_OK);
    assert_int_equal(len, strlen("\x89PNG\r\n--Xy not a delimiter"));
    assert_memory_equal(data, "\x89PNG\r\n--Xy not a delimiter", len);
    assert_int_equal(multipart_find(ok_body, sizeof ok_body - 1, "XyZ", "note", &data, &len),
                     MULTIPART_OK);
    assert_int_equal(len, 5);
    assert_int_equal(multipart_find(ok_body, sizeof ok_body - 1, "XyZ", "other", &data, &len),
                     MULTIPART_NOT_FOUND);
}

static void test_body_starting_with_delimiter(void **state)
{
    (void)state;
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=file\r\n\r\nAB\r\n--b--";
    const char *data;
    size_t len;
    assert_int_equal(multipart_find(body, sizeof body - 1, "b", "file", &data, &len), MULTIPART_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(data, "AB", 2);
}

static void test_malformed_bodies(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                                                   /* empty */
        "no delimiter at all",
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nAB",     /* truncated */
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nAB\r\n--c--", /* wrong boundary */
        "--b\r\nContent-Type: image/png\r\n\r\nAB\r\n--b--",                    /* no disposition */
        "--b\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nAB\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"file\r\n\r\nAB\r\n--b--", /* open quote */
        "--b\r\nContent-Disposition form-data\r\n\r\nAB\r\n--b--",              /* no colon */
        "--bjunk\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nAB\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\nAB\r\n--b--", /* no blank line */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *data;
        size_t len;
        multipart_status st = multipart_find(bad[i], strlen(bad[i]), "b", "file", &data, &len);
        if (st != MULTIPART_MALFORMED)
            fail_msg("case %zu: status %d, want MULTIPART_MALFORMED", i, st);
    }
}

static void test_boundary_parameter(void **state)
{
    (void)state;
    char b[80];
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b), MULTIPART_OK);
    assert_string_equal(b, "abc123");
    assert_int_equal(multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b'c\"", b, sizeof b), MULTIPART_OK);
    assert_string_equal(b, "a b'c");
    assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b), MULTIPART_NO_BOUNDARY);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof b), MULTIPART_NO_BOUNDARY);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=a{b", b, sizeof b), MULTIPART_NO_BOUNDARY);
    char longb[120] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'x', 71);
    assert_int_equal(multipart_boundary(longb, b, sizeof b), MULTIPART_NO_BOUNDARY);
    assert_int_equal(multipart_boundary(NULL, b, sizeof b), MULTIPART_NO_BOUNDARY);
}

static void check_b64(const char *in, const char *want)
{
    uint8_t out[64];
    size_t len;
    assert_true(base64_decoded_max(strlen(in)) <= sizeof out);
    if (!base64_decode(in, strlen(in), out, &len))
        fail_msg("'%s' refused", in);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, padded and unpadded */
    check_b64("", "");
    check_b64("Zg==", "f");
    check_b64("Zm8=", "fo");
    check_b64("Zm9v", "foo");
    check_b64("Zm9vYg==", "foob");
    check_b64("Zm9vYmE=", "fooba");
    check_b64("Zm9vYmFy", "foobar");
    check_b64("Zm9vYg", "foob");
    check_b64("Zm9v\r\nYmFy", "foobar");
    static const char *const bad[] = {"Z", "Zm9vY", "Zg=", "Zg===", "Zh==", "Zm9v!", "Zg==Zg==", "Zm-_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t len;
        if (base64_decode(bad[i], strlen(bad[i]), out, &len))
            fail_msg("'%s' accepted", bad[i]);
    }
}

static void test_data_url(void **state)
{
    (void)state;
    const char *payload;
    size_t len;
    bool b64;
    const char url[] = "data:Image/PNG;base64,iVBORw0KGgo=";
    assert_true(data_url_split(url, strlen(url), &payload, &len, &b64));
    assert_true(b64);
    assert_ptr_equal(payload, url + strlen("data:Image/PNG;base64,"));
    assert_int_equal(len, strlen("iVBORw0KGgo="));
    const char plain[] = "data:,hello";
    assert_true(data_url_split(plain, strlen(plain), &payload, &len, &b64));
    assert_false(b64);
    assert_ptr_equal(payload, plain + 6);
    assert_int_equal(len, 5);
    assert_false(data_url_split("iVBORw0KGgo=", 12, &payload, &len, &b64));
    assert_false(data_url_split("data:image/png;base64", 21, &payload, &len, &b64));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_named_part),
        cmocka_unit_test(test_body_starting_with_delimiter),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_boundary_parameter),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_data_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
