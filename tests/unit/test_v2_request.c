/* fcgi/v2_request.c, the v2 infer body's contract: JSON and binary tensor data,
 * shapes, datatype, outputs, and every refusal with its message. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_net.h"
#include "v2_request.h"

enum { MAX_BATCH = 3 };

static float data[MAX_BATCH * MN_IMAGE_PIXELS];
static char body[MAX_BATCH * MN_IMAGE_PIXELS * 16 + 4096];
static char msg[256];

/* The value of pixel i in the test bodies: distinct, with up to 6 decimals. */
static double pixel(size_t i)
{
    return (double)(i % 1000) / 7.0 - 60.0;
}

/* "[v0,v1,...]" for n pixels starting at first, nested as [rows][28] when nested. */
static size_t put_values(char *p, size_t first, size_t n, bool nested)
{
    char *start = p;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (nested && i % 28 == 0)
            p += sprintf(p, "%s[", i ? "," : "");
        else if (i)
            *p++ = ',';
        p += sprintf(p, "%.6f", pixel(first + i));
        if (nested && i % 28 == 27)
            *p++ = ']';
    }
    *p++ = ']';
    *p = '\0';
    return (size_t)(p - start);
}

/* A request for n images with the given shape text, then `extra` members. */
static size_t make_body(int n, const char *shape, bool nested, const char *extra)
{
    char *p = body;
    p += sprintf(p, "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":%s,\"data\":",
                 shape);
    p += put_values(p, 0, (size_t)n * MN_IMAGE_PIXELS, nested);
    p += sprintf(p, "}]%s}", extra);
    return (size_t)(p - body);
}

static bool parse(size_t len, long long header_len, v2_request *req)
{
    memset(data, 0, sizeof data);
    return v2_parse_infer(body, len, header_len, MAX_BATCH, data, req, msg, sizeof msg);
}

static void check_values(int n)
{
    for (size_t i = 0; i < (size_t)n * MN_IMAGE_PIXELS; i++) {
        char text[32];
        snprintf(text, sizeof text, "%.6f", pixel(i));
        if (data[i] != strtof(text, NULL))
            fail_msg("value %zu: %.9g, expected %s", i, (double)data[i], text);
    }
}

static void test_flat_and_nested_data(void **state)
{
    (void)state;
    v2_request req;
    assert_true(parse(make_body(1, "[1,784]", false, ""), -1, &req));
    assert_int_equal(req.batch, 1);
    assert_true(req.want_probabilities);
    assert_false(req.binary_output);
    assert_null(req.id);
    check_values(1);
    assert_true(parse(make_body(2, "[2,1,28,28]", true, ""), -1, &req));
    assert_int_equal(req.batch, 2);
    check_values(2);
    /* the full batch, shape written with integral non-integer spellings */
    assert_true(parse(make_body(3, "[3.0,784e0]", false, ""), -1, &req));
    assert_int_equal(req.batch, 3);
    check_values(3);
}

static void test_id_outputs_and_parameters(void **state)
{
    (void)state;
    v2_request req;
    size_t len = make_body(1, "[1,784]", false,
                           ",\"id\":\"a\\\"b\",\"outputs\":[{\"name\":\"probabilities\","
                           "\"parameters\":{\"binary_data\":true}}],\"x-ext\":{\"k\":[1,{}]}");
    assert_true(parse(len, -1, &req));
    assert_int_equal(req.id_len, 4);
    assert_memory_equal(req.id, "a\\\"b", 4); /* escaped, as in the body */
    assert_true(req.id > body && req.id < body + len);
    assert_true(req.want_probabilities);
    assert_true(req.binary_output);
    /* the request's default, overridden by an output's own parameter */
    assert_true(parse(make_body(1, "[1,784]", false,
                                ",\"parameters\":{\"binary_data_output\":true}"), -1, &req));
    assert_true(req.binary_output);
    assert_true(parse(make_body(1, "[1,784]", false,
                                ",\"parameters\":{\"binary_data_output\":true},\"outputs\":[{\"name\":"
                                "\"probabilities\",\"parameters\":{\"binary_data\":false}}]"),
                      -1, &req));
    assert_false(req.binary_output);
    /* an empty list asks for every output; an escaped key is the same key */
    assert_true(parse(make_body(1, "[1,784]", false, ",\"outputs\":[]"), -1, &req));
    assert_true(req.want_probabilities);
    assert_true(parse(make_body(1, "[1,784]", false,
                                ",\"outputs\":[{\"n\\u0061me\":\"probabilities\"}]"), -1, &req));
    assert_true(req.want_probabilities);
}

/* The JSON part, then n images of little-endian FP32. */
static size_t make_binary_body(int n, size_t size_said, size_t size_sent, long long *header_len)
{
    int k = sprintf(body, "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[%d,784],"
                          "\"parameters\":{\"binary_data_size\":%zu}}]}", n, size_said);
    *header_len = k;
    for (size_t i = 0; i < size_sent / 4; i++) {
        float f = (float)pixel(i);
        memcpy(body + k + 4 * i, &f, 4); /* the test hosts are little-endian, as configure says */
    }
    return (size_t)k + size_sent;
}

static void test_binary_data(void **state)
{
    (void)state;
    v2_request req;
    long long hl;
    const size_t bytes = 2 * MN_IMAGE_PIXELS * 4;
    size_t len = make_binary_body(2, bytes, bytes, &hl);
    assert_true(parse(len, hl, &req));
    assert_int_equal(req.batch, 2);
    for (size_t i = 0; i < 2 * MN_IMAGE_PIXELS; i++)
        assert_true(data[i] == (float)pixel(i));
    /* a non-finite value in the binary part */
    len = make_binary_body(1, bytes / 2, bytes / 2, &hl);
    const float inf = 1.0f / 0.0f;
    memcpy(body + hl + 4 * 5, &inf, 4);
    assert_false(parse(len, hl, &req));
    assert_string_equal(msg, "binary input value 5 is not a finite number");
}

typedef struct refusal {
    const char *body;
    const char *msg;         /* the whole message, or its start when it ends in '*' */
} refusal;

static void check_refusal(const char *text, size_t len, long long header_len, const char *want)
{
    v2_request req;
    memcpy(body, text, len);
    assert_false(parse(len, header_len, &req));
    size_t n = strlen(want);
    bool prefix = n && want[n - 1] == '*';
    if (prefix ? strncmp(msg, want, n - 1) != 0 : strcmp(msg, want) != 0)
        fail_msg("%.*s\n  said: %s\n  want: %s", (int)(len < 200 ? len : 200), text, msg, want);
}

#define IN "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\","

static void test_refusals(void **state)
{
    (void)state;
    static const refusal cases[] = {
        {"", "malformed JSON at byte 0: expected an object"},
        {"[]", "malformed JSON at byte 0: expected an object"},
        {"{\"inputs\": [", "malformed JSON at byte 12: expected an object"},
        {"{} x", "malformed JSON at byte 3: data after the JSON value"},
        {"{}", "the request needs \"inputs\""},
        {"{\"inputs\":[]}", "\"inputs\" must hold exactly one tensor, \"input\""},
        {"{\"inputs\":[{}],\"inputs\":[]}", "the input needs \"name\""},
        {"{\"id\":\"a\",\"id\":\"b\"}", "\"id\" appears twice"},
        {"{\"outputs\":[],\"outputs\":[]}", "\"outputs\" appears twice"},
        {"{\"parameters\":{},\"parameters\":{}}", "\"parameters\" appears twice"},
        {"{\"parameters\":{\"binary_data_output\":1}}",
         "parameter \"binary_data_output\" must be true or false"},
        {"{\"parameters\":{\"binary_data_output\":true,\"binary_data_output\":true}}",
         "parameter \"binary_data_output\" appears twice"},
        {"{\"inputs\":[{\"name\":\"image\"}]}",
         "unknown input \"image\": the model's input is \"input\""},
        {"{\"inputs\":[{\"datatype\":\"FP16\"}]}", "input datatype must be FP32, not \"FP16\""},
        {"{\"inputs\":[{\"name\":\"input\",\"name\":\"input\"}]}",
         "an input member (name, datatype, shape, data or parameters) appears twice"},
        {"{\"inputs\":[{\"name\":\"input\"}]}", "the input needs \"datatype\""},
        {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\"}]}", "the input needs \"shape\""},
        {IN "\"shape\":[1,784]}]}", "the input needs \"data\" (or binary_data_size)"},
        {IN "\"shape\":[1,784],\"data\":[],\"parameters\":{\"binary_data_size\":4}}]}",
         "the input has both \"data\" and binary_data_size"},
        {IN "\"shape\":[1,783],\"data\":[]}]}",
         "input shape must be [N,1,28,28] or [N,784] with N >= 1"},
        {IN "\"shape\":[0,784],\"data\":[]}]}",
         "input shape must be [N,1,28,28] or [N,784] with N >= 1"},
        {IN "\"shape\":[1,1,28,28,1],\"data\":[]}]}", "input shape must be [N,1,28,28] or [N,784]"},
        {IN "\"shape\":[1.5,784],\"data\":[]}]}", "input shape must be [N,1,28,28] or [N,784]"},
        {IN "\"shape\":[4,784],\"data\":[]}]}",
         "a batch of 4 exceeds the limit of 3 images per request"},
        {IN "\"shape\":[1,784],\"data\":[1,2]}]}",
         "input data holds 2 values; shape [1,...] needs 784"},
        {IN "\"shape\":[1,784],\"data\":[1,\"2\"]}]}", "data must hold numbers only"},
        {IN "\"shape\":[1,784],\"data\":[1,null]}]}", "data must hold numbers only"},
        {IN "\"shape\":[1,784],\"data\":[[[[[[1]]]]]]}]}", "data nested deeper than the shape"},
        {IN "\"shape\":[1,784],\"data\":[1e39]}]}",
         "malformed JSON at byte 69: number out of FP32 range"},
        {IN "\"shape\":[1,784],\"data\":[01]}]}", "malformed JSON at byte 69: leading zero in a number"},
        {IN "\"shape\":[1,784],\"data\":[1,]}]}", "malformed JSON at byte 71: expected a value"},
        {IN "\"shape\":[1,784],\"data\":[NaN]}]}", "malformed JSON at byte 69: expected a value"},
        {IN "\"shape\":[1,784],\"parameters\":{\"binary_data_size\":-4}}]}",
         "parameter \"binary_data_size\" must be a byte count"},
        {IN "\"shape\":[1,784],\"parameters\":{\"binary_data_size\":3136}}]}",
         "binary_data_size needs the Inference-Header-Content-Length header"},
        {"{\"outputs\":[{\"name\":\"logits\"}]}",
         "unknown output \"logits\": the model's output is \"probabilities\""},
        {"{\"outputs\":[{\"name\":\"probabilities\",\"name\":\"probabilities\"}]}",
         "an output's \"name\" appears twice"},
        {"{\"outputs\":[{}]}", "each requested output needs a \"name\""},
        {"{\"id\":\"" "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123" "x\"}",
         "\"id\" is longer than 256 bytes"},
        {"{\"id\":\"\xc3\x28\"}", "malformed JSON at byte 7: invalid UTF-8 in a string"},
        {"{\"id\":\"\\uD800\"}", "malformed JSON at byte 7: unpaired surrogate in a \\u escape"},
        {"{\"x\":" "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}",
         "malformed JSON at byte 21: nested too deeply"},
        {"\xef\xbb\xbf{}", "malformed JSON at byte 0: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_refusal(cases[i].body, strlen(cases[i].body), -1, cases[i].msg);
}

static void test_binary_refusals(void **state)
{
    (void)state;
    long long hl;
    const size_t bytes = MN_IMAGE_PIXELS * 4;
    size_t len = make_binary_body(1, bytes, bytes - 4, &hl);
    check_refusal(body, len, hl,
                  "binary_data_size is 3136 and 3132 bytes follow the JSON; the shape needs 3136");
    len = make_binary_body(1, bytes - 4, bytes, &hl);
    check_refusal(body, len, hl,
                  "binary_data_size is 3132 and 3136 bytes follow the JSON; the shape needs 3136");
    check_refusal("{}", 2, 3, "Inference-Header-Content-Length 3 exceeds the body's 2 bytes");
    /* a valid input, then a second */
    char copy[sizeof body];
    len = make_body(1, "[1,784]", false, "");
    memcpy(copy, body, len - 3);
    memcpy(copy + len - 3, "},{}]}", 6);
    check_refusal(copy, len + 3, -1, "\"inputs\" must hold exactly one tensor, \"input\"");
    len = make_body(1, "[1,784]", false, "");
    memcpy(body + len, "\0\0\0\0", 4);
    memcpy(copy, body, len + 4);
    check_refusal(copy, len + 4, (long long)len,
                  "binary data follows the JSON, but no input has binary_data_size");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_and_nested_data),
        cmocka_unit_test(test_id_outputs_and_parameters),
        cmocka_unit_test(test_binary_data),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_binary_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
