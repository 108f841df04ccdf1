/* fcgi/routes.c: every route reaches its handler with its methods, other methods get
 * 405 with Allow, unknown paths 404 in the route's error form; and lighttpd.conf
 * forwards exactly the table's first path segments to the responder. The handlers
 * are stubs here that record which one ran. */
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
#include "predict.h"
#include "routes.h"
#include "status.h"
#include "v2.h"

static const char *ran; /* the stub handler that ran last */

#define STUB(name)                                                  \
    void name(http_exchange *x, const handler_env *env)             \
    {                                                               \
        (void)env;                                                  \
        ran = #name;                                                \
        out_reset(x->out);                                          \
        http_send_json(x, 200, NULL);                               \
    }
STUB(handle_predict)
STUB(handle_health)
STUB(handle_live)
STUB(handle_metrics)
STUB(handle_report)
STUB(v2_server_metadata)
STUB(v2_live)
STUB(v2_ready)
STUB(v2_model_metadata)
STUB(v2_model_ready)
STUB(v2_infer)
STUB(v2_not_found)

typedef struct dispatched {
    fake_http f;
    route_id id;
} dispatched;

static void dispatch(dispatched *d, const char *method, const char *path)
{
    const char *params[] = {"REQUEST_METHOD", method, "REQUEST_URI", path, NULL};
    ran = NULL;
    http_exchange *x = fake_begin(&d->f, params, NULL, 1024);
    const handler_env env = {NULL, NULL, NULL};
    d->id = route_dispatch(x, &env);
}

/* method path -> the handler, the metrics label */
static const struct { const char *method, *path, *handler; route_id id; } served[] = {
    {"POST", "/predict", "handle_predict", ROUTE_PREDICT},
    {"GET", "/health", "handle_health", ROUTE_HEALTH},
    {"HEAD", "/health", "handle_health", ROUTE_HEALTH},
    {"GET", "/health/live", "handle_live", ROUTE_LIVE},
    {"GET", "/metrics", "handle_metrics", ROUTE_METRICS},
    {"GET", "/model/report", "handle_report", ROUTE_REPORT},
    {"GET", "/v2", "v2_server_metadata", ROUTE_V2_META},
    {"GET", "/v2/", "v2_server_metadata", ROUTE_V2_META},
    {"GET", "/v2/health/live", "v2_live", ROUTE_V2_META},
    {"GET", "/v2/health/ready", "v2_ready", ROUTE_V2_META},
    {"GET", "/v2/models/mnist", "v2_model_metadata", ROUTE_V2_META},
    {"GET", "/v2/models/mnist/ready", "v2_model_ready", ROUTE_V2_META},
    {"POST", "/v2/models/mnist/infer", "v2_infer", ROUTE_V2_INFER},
    {"GET", "/v2/models/mnist/versions/abc123", "v2_model_metadata", ROUTE_V2_META},
    {"HEAD", "/v2/models/mnist/versions/abc123/ready", "v2_model_ready", ROUTE_V2_META},
    {"POST", "/v2/models/mnist/versions/abc123/infer", "v2_infer", ROUTE_V2_INFER},
    {"GET", "/v2/models/other", "v2_not_found", ROUTE_V2_META},
    {"POST", "/v2/nothing/here", "v2_not_found", ROUTE_V2_META},
    {"GET", "/v2/models/mnist/versions//infer", "v2_not_found", ROUTE_V2_META},
};

static void test_each_route_reaches_its_handler(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
        dispatched d;
        dispatch(&d, served[i].method, served[i].path);
        if (!ran || strcmp(ran, served[i].handler) != 0)
            fail_msg("%s %s ran %s, not %s", served[i].method, served[i].path,
                     ran ? ran : "nothing", served[i].handler);
        assert_int_equal(d.id, served[i].id);
        assert_int_equal(d.f.x.status, 200);
        out_free(&d.f.out);
    }
}

static void test_wrong_method_is_405_with_allow(void **state)
{
    (void)state;
    static const struct { const char *method, *path, *allow, *body; } cases[] = {
        {"GET", "/predict", "Allow: POST\r\n", "{\"error\":{\"code\":\"method_not_allowed\""},
        {"DELETE", "/health", "Allow: GET, HEAD\r\n", "{\"error\":{\"code\":"},
        {"POST", "/metrics", "Allow: GET, HEAD\r\n", "{\"error\":{\"code\":"},
        {"PUT", "/model/report", "Allow: GET, HEAD\r\n", "{\"error\":{\"code\":"},
        {"GET", "/v2/models/mnist/infer", "Allow: POST\r\n", "{\"error\":\"/v2/models/mnist"},
        {"POST", "/v2/health/ready", "Allow: GET, HEAD\r\n", "{\"error\":\"/v2/health"},
        {"HEADX", "/health/live", "Allow: GET, HEAD\r\n", "{\"error\":{"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dispatched d;
        dispatch(&d, cases[i].method, cases[i].path);
        assert_null(ran);
        assert_int_equal(d.f.x.status, 405);
        assert_non_null(strstr(d.f.written, "Status: 405 Method Not Allowed\r\n"));
        assert_non_null(strstr(d.f.written, cases[i].allow));
        if (strstr(d.f.written, cases[i].body) == NULL)
            fail_msg("%s %s answered %s", cases[i].method, cases[i].path, d.f.written);
        out_free(&d.f.out);
    }
}

static void test_unknown_paths_are_404(void **state)
{
    (void)state;
    static const char *const paths[] = {"/", "/predict/", "/predictx", "/health/", "/v2x",
                                        "/model", "/metrics/x", "/V2"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        dispatched d;
        dispatch(&d, "GET", paths[i]);
        assert_null(ran);
        assert_int_equal(d.id, ROUTE_OTHER);
        assert_int_equal(d.f.x.status, 404);
        assert_non_null(strstr(fake_body(&d.f), "{\"error\":{\"code\":\"not_found\""));
        out_free(&d.f.out);
    }
}

static void test_path_patterns(void **state)
{
    (void)state;
    assert_true(route_path_matches("/a/*/c", "/a/b/c"));
    assert_false(route_path_matches("/a/*/c", "/a//c"));
    assert_false(route_path_matches("/a/*/c", "/a/b/c/"));
    assert_false(route_path_matches("/a/*", "/a/b/c"));
    assert_true(route_path_matches("/a/**", "/a/"));
    assert_true(route_path_matches("/a/**", "/a/b/c"));
    assert_false(route_path_matches("/a/**", "/a"));
    assert_false(route_path_matches("/abc", "/ab"));
    assert_true(route_method_allowed("HEAD", "GET, HEAD"));
    assert_false(route_method_allowed("GE", "GET, HEAD"));
    assert_false(route_method_allowed("get", "GET"));
}

static void test_every_label_is_set(void **state)
{
    (void)state;
    for (int i = 0; i < ROUTE_COUNT; i++)
        assert_non_null(route_labels[i]);
    size_t n;
    const route *t = route_table(&n);
    for (size_t i = 0; i < n; i++)
        assert_true(t[i].id < ROUTE_COUNT && t[i].id != ROUTE_OTHER);
}

/* The first segments lighttpd.conf's API block forwards, from its
 * $HTTP["url"] =~ "^/(a|b|c)(/|$|\?)" line, as "|a|b|c|". */
static void conf_segments(char *out, size_t size)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/lighttpd/lighttpd.conf", top ? top : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set top_srcdir)", path);
    char line[1024];
    int found = 0;
    static const char start[] = "$HTTP[\"url\"] =~ \"^/(";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, start, sizeof start - 1)) {
            const char *p = line + sizeof start - 1;
            size_t n = strcspn(p, ")");
            assert_string_equal(p + n, ")(/|$|\\?)\" {\n"); /* whole segments only */
            snprintf(out, size, "|%.*s|", (int)n, p);
            found++;
        }
    fclose(f);
    assert_int_equal(found, 1);
}

static void test_lighttpd_forwards_exactly_the_table(void **state)
{
    (void)state;
    char conf[256];
    conf_segments(conf, sizeof conf);
    char table[256] = "|";
    size_t n;
    const route *t = route_table(&n);
    for (size_t i = 0; i < n; i++) {
        char seg[64];
        snprintf(seg, sizeof seg, "|%.*s|", (int)strcspn(t[i].pattern + 1, "/"), t[i].pattern + 1);
        if (!strstr(conf, seg))
            fail_msg("route %s is not forwarded by lighttpd.conf (%s)", t[i].pattern, conf);
        if (!strstr(table, seg))
            strcat(table, seg + 1);
    }
    /* and nothing else: each forwarded segment is some route's */
    for (const char *p = conf + 1; *p; p += strcspn(p, "|") + 1) {
        char seg[64];
        snprintf(seg, sizeof seg, "|%.*s|", (int)strcspn(p, "|"), p);
        if (!strstr(table, seg))
            fail_msg("lighttpd.conf forwards %s, which no route serves", seg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_route_reaches_its_handler),
        cmocka_unit_test(test_wrong_method_is_405_with_allow),
        cmocka_unit_test(test_unknown_paths_are_404),
        cmocka_unit_test(test_path_patterns),
        cmocka_unit_test(test_every_label_is_set),
        cmocka_unit_test(test_lighttpd_forwards_exactly_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
