/* fcgi/http.c: the request read from CGI variables, the answer's status line and
 * headers, the body limit, and the one error form per route. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_http.h"

static void test_request_fields(void **state)
{
    (void)state;
    static const char *const params[] = {
        "REQUEST_METHOD", "POST", "REQUEST_URI", "/predict?preview=1", "QUERY_STRING",
        "preview=1", "CONTENT_TYPE", "image/png", "CONTENT_LENGTH", "42", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    assert_string_equal(x->method, "POST");
    assert_string_equal(x->path, "/predict");
    assert_string_equal(x->query, "preview=1");
    assert_string_equal(x->content_type, "image/png");
    assert_int_equal(x->content_length, 42);
    assert_int_equal(x->status, 0);
    out_free(&f.out);
}

static void test_bad_content_lengths(void **state)
{
    (void)state;
    static const char *const values[] = {"", "-1", "+5", "12x", "99999999999999999999", "0x10"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *params[] = {"REQUEST_METHOD", "POST", "CONTENT_LENGTH", values[i], NULL};
        fake_http f;
        assert_int_equal(fake_begin(&f, params, NULL, 1024)->content_length, -1);
        out_free(&f.out);
    }
    fake_http f;
    static const char *const none[] = {NULL};
    http_exchange *x = fake_begin(&f, none, NULL, 1024);
    assert_int_equal(x->content_length, -1);
    assert_string_equal(x->method, ""); /* absent variables read as "" */
    out_free(&f.out);
}

static void test_status_line_and_headers(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "GET", "REQUEST_URI", "/health", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    out_puts(x->out, "{\"a\":1}");
    http_send_json(x, 200, "X-Extra: yes\r\n");
    assert_string_equal(f.written, "Status: 200 OK\r\nContent-Type: application/json\r\n"
                                   "Cache-Control: no-store\r\nContent-Length: 8\r\n"
                                   "X-Extra: yes\r\n\r\n{\"a\":1}\n");
    assert_int_equal(x->status, 200);
    out_free(&f.out);
}

static void test_503_and_draining_headers(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "GET", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    http_send(x, 503, "text/plain", NULL);
    assert_non_null(strstr(f.written, "Status: 503 Service Unavailable\r\n"));
    assert_non_null(strstr(f.written, "Retry-After: 1\r\n"));
    assert_null(strstr(f.written, "Connection: close"));
    f.written_len = 0;
    atomic_store(&f.draining, true);
    http_send(x, 200, "text/plain", NULL);
    assert_non_null(strstr(f.written, "Connection: close\r\n"));
    assert_null(strstr(f.written, "Retry-After"));
    out_free(&f.out);
}

static void test_head_sends_no_body(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "HEAD", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    out_puts(x->out, "{}");
    http_send_json(x, 200, NULL);
    assert_non_null(strstr(f.written, "Content-Length: 3\r\n")); /* what GET would send */
    assert_string_equal(fake_body(&f), "");
    out_free(&f.out);
}

static void test_overflow_becomes_500(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "GET", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    for (int i = 0; i < 1000; i++)
        out_puts(x->out, "0123456789");
    assert_true(x->out->overflow);
    http_send(x, 200, "text/plain", NULL);
    assert_int_equal(x->status, 500);
    assert_string_equal(fake_body(&f),
                        "{\"error\":{\"code\":\"internal\",\"message\":\"response too large\"}}\n");
    out_free(&f.out);
}

static void test_tail_follows_body(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "POST", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    out_puts(x->out, "{}");
    http_send_with_tail(x, 200, "application/octet-stream", NULL, "\x01\x02\x03", 3);
    assert_non_null(strstr(f.written, "Content-Length: 5\r\n"));
    assert_memory_equal(fake_body(&f), "{}\x01\x02\x03", 5);
    out_free(&f.out);
}

/* One read_body case: the status it must send (0: the body is read) and its code. */
static void expect_body(const char *length, const char *body, size_t max_body, int status,
                        const char *code)
{
    const char *params[] = {"REQUEST_METHOD", "POST", "CONTENT_LENGTH", length, NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, length ? params : params + 4, body, max_body);
    size_t len = 99;
    bool ok = http_read_body(x, &len);
    assert_int_equal(ok, status == 0);
    assert_int_equal(x->status, status);
    if (ok) {
        assert_int_equal(len, strlen(body));
        assert_memory_equal(x->body, body, len);
        assert_int_equal(f.written_len, 0);
    } else {
        char want[64];
        snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",", code);
        assert_non_null(strstr(fake_body(&f), want));
    }
    out_free(&f.out);
}

static void test_body_limit_and_errors(void **state)
{
    (void)state;
    expect_body("5", "hello", 1024, 0, NULL);
    expect_body("1024", NULL, 1024, 400, "short_body"); /* at the limit: read, but short */
    expect_body("1025", "x", 1024, 413, "too_large");
    expect_body(NULL, "hello", 1024, 411, "length_required");
    expect_body("0", "", 1024, 400, "empty_body");
    expect_body("10", "hello", 1024, 400, "short_body");
}

static void test_too_large_reads_nothing(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "POST", "CONTENT_LENGTH", "2000", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, "abc", 1024);
    size_t len;
    assert_false(http_read_body(x, &len));
    assert_int_equal(f.body_pos, 0); /* refused before reading */
    assert_non_null(strstr(f.written, "Status: 413 Content Too Large\r\n"));
    out_free(&f.out);
}

static void test_error_forms(void **state)
{
    (void)state;
    static const char *const params[] = {"REQUEST_METHOD", "GET", NULL};
    fake_http f;
    http_exchange *x = fake_begin(&f, params, NULL, 1024);
    http_fail(x, 404, "not_found", NULL, "no route %s", "/x\"y");
    assert_string_equal(fake_body(&f),
                        "{\"error\":{\"code\":\"not_found\",\"message\":\"no route /x\\\"y\"}}\n");
    assert_non_null(strstr(f.written, "Status: 404 Not Found\r\n"));
    f.written_len = 0;
    x->error_form = HTTP_ERRORS_PLAIN;
    http_fail(x, 400, "bad_request", "Allow: POST\r\n", "bad %d", 7);
    assert_string_equal(fake_body(&f), "{\"error\":\"bad 7\"}\n");
    assert_non_null(strstr(f.written, "Allow: POST\r\n"));
    out_free(&f.out);
}

static void test_query_flag_and_media_type(void **state)
{
    (void)state;
    assert_true(http_query_flag("preview=1", "preview", false));
    assert_true(http_query_flag("a=b&preview", "preview", false));
    assert_true(http_query_flag("preview=YES", "preview", false));
    assert_false(http_query_flag("preview=false", "preview", true));
    assert_false(http_query_flag("previewx=1", "preview", false));
    assert_true(http_query_flag("preview=maybe", "preview", true)); /* unknown: default */
    assert_true(http_media_type_is(" Image/PNG; q=1", "image/png"));
    assert_false(http_media_type_is("image/pngx", "image/png"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_bad_content_lengths),
        cmocka_unit_test(test_status_line_and_headers),
        cmocka_unit_test(test_503_and_draining_headers),
        cmocka_unit_test(test_head_sends_no_body),
        cmocka_unit_test(test_overflow_becomes_500),
        cmocka_unit_test(test_tail_follows_body),
        cmocka_unit_test(test_body_limit_and_errors),
        cmocka_unit_test(test_too_large_reads_nothing),
        cmocka_unit_test(test_error_forms),
        cmocka_unit_test(test_query_flag_and_media_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
