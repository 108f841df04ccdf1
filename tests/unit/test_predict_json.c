/* fcgi/predict_json.c, the JSON form of POST /predict: "image" as base64 or a data:
 * URL, "pixels" as 784 numbers, and each refusal with its status, code and message. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "predict_json.h"

static uint8_t decoded[4096];
static float pixels[MN_IMAGE_PIXELS];
static char body[16384];

static bool parse_sized(const char *text, size_t max_decoded, predict_json *out)
{
    memset(decoded, 0xee, sizeof decoded);
    memset(pixels, 0, sizeof pixels);
    return predict_json_parse(text, strlen(text), decoded, max_decoded, pixels, out);
}

static bool parse(const char *text, predict_json *out)
{
    return parse_sized(text, sizeof decoded, out);
}

static void test_base64_image(void **state)
{
    (void)state;
    predict_json out;
    /* "GIF89a" and a byte above 127 */
    assert_true(parse("{\"image\": \"R0lGODlh/w==\"}", &out));
    assert_int_equal(out.image_len, 7);
    assert_memory_equal(decoded, "GIF89a\xff", 7);
    assert_false(out.have_pixels);
    assert_true(parse(" {\"image\":\"data:image/gif;base64,R0lGODlh/w==\",\"extra\":[{}]} ", &out));
    assert_int_equal(out.image_len, 7);
    assert_memory_equal(decoded, "GIF89a\xff", 7);
    /* escapes, as PHP writes them: unescaped, then decoded */
    assert_true(parse("{\"\\u0069mage\":\"data:image\\/gif;base64,R0lGODlh\\/w==\"}", &out));
    assert_int_equal(out.image_len, 7);
    assert_memory_equal(decoded, "GIF89a\xff", 7);
}

static size_t put_pixels(char *p, size_t n, const char *last)
{
    char *start = p;
    p += sprintf(p, "{\"pixels\":[");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%zu.5", i ? "," : "", i % 255);
    p += sprintf(p, "%s]}", last);
    return (size_t)(p - start);
}

static void test_pixels(void **state)
{
    (void)state;
    predict_json out;
    put_pixels(body, MN_IMAGE_PIXELS - 1, ",255");
    assert_true(parse(body, &out));
    assert_true(out.have_pixels);
    for (size_t i = 0; i + 1 < MN_IMAGE_PIXELS; i++)
        assert_true(pixels[i] == (float)(i % 255) + 0.5f);
    assert_true(pixels[MN_IMAGE_PIXELS - 1] == 255.0f);
}

typedef struct refusal {
    const char *body;
    int status;
    const char *code, *message;
} refusal;

static void check_refusal(const char *text, size_t max_decoded, const refusal *want)
{
    predict_json out;
    assert_false(parse_sized(text, max_decoded, &out));
    if (out.status != want->status || strcmp(out.code, want->code) != 0 ||
        strcmp(out.message, want->message) != 0)
        fail_msg("%.120s\n  said: %d %s %s\n  want: %d %s %s", text, out.status, out.code,
                 out.message, want->status, want->code, want->message);
    assert_false(out.have_pixels);
    assert_int_equal(out.image_len, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const one_of =
        "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers)";
    static const refusal cases[] = {
        {"", 400, "bad_json", "malformed JSON at byte 0: expected a JSON object"},
        {"{", 400, "bad_json", "malformed JSON at byte 1: expected a string"},
        {"[1]", 400, "bad_json", "the body must be a JSON object"},
        {"\"x\"", 400, "bad_json", "the body must be a JSON object"},
        {"[1", 400, "bad_json", "malformed JSON at byte 2: expected ',' or ']'"},
        {"{}", 400, "bad_request", one_of},
        {"{\"x\":1}", 400, "bad_request", one_of},
        {"{\"image\":\"QQ==\"} x", 400, "bad_json", "malformed JSON at byte 17: data after the JSON value"},
        {"{\"image\":\"QQ==\",}", 400, "bad_json", "malformed JSON at byte 16: expected a string"},
        {"{'image':'QQ=='}", 400, "bad_json", "malformed JSON at byte 1: expected a string"},
        {"{\"image\":\"QQ==\",\"pixels\":[]}", 400, "bad_request",
         "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers), once"},
        {"{\"image\":\"QQ==\",\"image\":\"QQ==\"}", 400, "bad_request",
         "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers), once"},
        {"{\"image\":5}", 400, "bad_image_field", "\"image\" must be a string"},
        {"{\"image\":\"Q\"}", 400, "bad_base64", "\"image\" is not valid base64"},
        {"{\"image\":\"QQ=!\"}", 400, "bad_base64", "\"image\" is not valid base64"},
        {"{\"image\":\"QQ\\u0000\"}", 400, "bad_base64", "\"image\" is not valid base64"},
        {"{\"image\":\"\\uD800\"}", 400, "bad_json",
         "malformed JSON at byte 10: unpaired surrogate in a \\u escape"},
        {"{\"image\":\"data:text/plain,hello\"}", 400, "bad_base64",
         "data: URLs must be base64-encoded"},
        {"{\"pixels\":5}", 400, "bad_pixels",
         "\"pixels\" must be an array of 784 numbers (28x28, row-major)"},
        {"{\"pixels\":[]}", 400, "bad_pixels",
         "\"pixels\" must be an array of 784 numbers (28x28, row-major), got 0"},
        {"{\"pixels\":[1,2]}", 400, "bad_pixels",
         "\"pixels\" must be an array of 784 numbers (28x28, row-major), got 2"},
        {"{\"pixels\":[1,\"2\"]}", 400, "bad_pixels", "\"pixels\"[1] must be a number from 0 to 255"},
        {"{\"pixels\":[1,-1]}", 400, "bad_pixels", "\"pixels\"[1] must be a number from 0 to 255"},
        {"{\"pixels\":[255.5]}", 400, "bad_pixels", "\"pixels\"[0] must be a number from 0 to 255"},
        {"{\"pixels\":[1,]}", 400, "bad_json", "malformed JSON at byte 13: expected a value"},
        {"{\"pixels\":[01]}", 400, "bad_json", "malformed JSON at byte 11: leading zero in a number"},
        {"{\"x\":[[[[[[[[1]]]]]]]]}", 400, "bad_json", "malformed JSON at byte 12: nested too deeply"},
        {"\xef\xbb\xbf{}", 400, "bad_json", "malformed JSON at byte 0: expected a JSON object"},
        /* malformed anywhere is bad_json, even after a member that is wrong */
        {"{\"pixels\": []} {}", 400, "bad_json", "malformed JSON at byte 15: data after the JSON value"},
        {"{\"image\": 5, \"x\": [1,]}", 400, "bad_json", "malformed JSON at byte 21: expected a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_refusal(cases[i].body, sizeof decoded, &cases[i]);
    /* 785 numbers, and an image that could decode to more than the buffer holds */
    put_pixels(body, MN_IMAGE_PIXELS, ",1");
    check_refusal(body, sizeof decoded,
                  &(refusal){"", 400, "bad_pixels",
                             "\"pixels\" must be an array of 784 numbers (28x28, row-major), got 785"});
    check_refusal("{\"image\":\"QUFBQUFB\"}", 8,
                  &(refusal){"", 400, "bad_base64", "\"image\" is not valid base64"});
    check_refusal("{\"image\":\"QUFB\\/UFB\"}", 4,
                  &(refusal){"", 400, "bad_base64", "\"image\" is not valid base64"});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_image),
        cmocka_unit_test(test_pixels),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
