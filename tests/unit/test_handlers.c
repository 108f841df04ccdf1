/* The handlers behind the route table (fcgi/status.c, fcgi/v2.c, fcgi/model_json.c)
 * on a real model store: what /health, /metrics and the v2 routes answer with a
 * model, without one, and while draining; versions named in v2 paths. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_http.h"
#include "mn_clock.h"
#include "mn_model.h"
#include "routes.h"
#include "test_support.h"

typedef struct fixture {
    char dir[PATH_MAX], path[PATH_MAX + 32];
    atomic_bool draining;
    service svc;
    infer_buffers buf;
    worker_stats stats;
    worker_stats *all_stats[1];
    fake_http f;
} fixture;

static void save_model(const char *path)
{
    mn_params p;
    mn_metadata meta;
    assert_int_equal(mn_params_alloc(&p, NULL), MN_OK);
    mn_params_init(&p, 7);
    mn_metadata_init(&meta);
    assert_int_equal(mn_metadata_set(&meta, "architecture", "MNISTNet", NULL), MN_OK);
    assert_int_equal(mn_metadata_set(&meta, "test_accuracy", "0.9875", NULL), MN_OK);
    assert_int_equal(mn_model_save(path, &p, &meta, NULL), MN_OK);
    mn_params_free(&p);
}

/* A service on DIR/mnist_model.safetensors, saved first when with_model. */
static fixture *start(bool with_model)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    scratch_dir_create(fx->dir, sizeof fx->dir, "mn_handlers");
    snprintf(fx->path, sizeof fx->path, "%s/mnist_model.safetensors", fx->dir);
    if (with_model)
        save_model(fx->path);
    atomic_init(&fx->draining, false);
    fx->all_stats[0] = &fx->stats;
    fx->svc = (service){model_store_create(fx->path, 0), &fx->draining, mn_clock_seconds(),
                        4096, 1u << 20, 2,
                        {fx->all_stats, 1, route_labels, ROUTE_COUNT}};
    assert_non_null(fx->svc.store);
    fx->buf.decoded = malloc(4096);
    fx->buf.scratch = malloc(sizeof *fx->buf.scratch);
    fx->buf.batch_input = calloc(2 * MN_IMAGE_PIXELS, sizeof(float));
    fx->buf.batch_probs = calloc(2 * MN_NUM_CLASSES, sizeof(float));
    assert_int_equal(mn_workspace_create(&fx->buf.ws, 2, 1, NULL), MN_OK);
    return fx;
}

static void stop(fixture *fx)
{
    out_free(&fx->f.out);
    model_store_destroy(fx->svc.store);
    free(fx->buf.decoded);
    free(fx->buf.scratch);
    free(fx->buf.batch_input);
    free(fx->buf.batch_probs);
    mn_workspace_destroy(fx->buf.ws);
    scratch_dir_remove(fx->dir);
    free(fx);
}

/* Dispatches one request, which must be answered with STATUS; returns the answer's
 * body (valid until the next request). */
static const char *answer(fixture *fx, const char *method, const char *path, const char *body,
                          int status)
{
    char length[32];
    snprintf(length, sizeof length, "%zu", body ? strlen(body) : (size_t)0);
    const char *params[] = {"REQUEST_METHOD", method, "REQUEST_URI", path,
                            "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", length, NULL};
    out_free(&fx->f.out);
    http_exchange *x = fake_begin(&fx->f, params, body, 4096);
    const handler_env env = {&fx->svc, &fx->buf, &fx->stats};
    route_dispatch(x, &env);
    if (fx->f.x.status != status)
        fail_msg("%s %s: status %d, wanted %d", method, path, fx->f.x.status, status);
    return fake_body(&fx->f);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *served_version(fixture *fx, char *out)
{
    live_model *m = model_store_acquire(fx->svc.store);
    assert_non_null(m);
    strcpy(out, m->version);
    model_release(m);
    return out;
}

static void test_health_with_model_then_draining(void **state)
{
    (void)state;
    fixture *fx = start(true);
    char v[13], want[64];
    served_version(fx, v);
    const char *b = answer(fx, "GET", "/health", NULL, 200);
    assert_true(starts_with(b, "{\"status\":\"ok\",\"model\":{\"version\":\""));
    snprintf(want, sizeof want, "\"version\":\"%s\"", v);
    assert_non_null(strstr(b, want));
    assert_non_null(strstr(b, "\"test_accuracy\":0.9875"));
    atomic_store(&fx->draining, true);
    b = answer(fx, "GET", "/health", NULL, 503);
    assert_true(starts_with(b, "{\"status\":\"draining\""));
    answer(fx, "GET", "/v2/health/ready", NULL, 503);
    b = answer(fx, "GET", "/health/live", NULL, 200); /* liveness ignores the drain */
    assert_true(starts_with(b, "{\"status\":\"alive\",\"uptime_seconds\":"));
    stop(fx);
}

static void test_without_model(void **state)
{
    (void)state;
    fixture *fx = start(false);
    const char *b = answer(fx, "GET", "/health", NULL, 503);
    assert_non_null(strstr(b, "\"status\":\"unavailable\""));
    assert_non_null(strstr(b, "\"error\":{\"code\":\"no_model\""));
    b = answer(fx, "POST", "/v2/models/mnist/infer", "{}", 503);
    assert_string_equal(b, "{\"error\":\"no model is loaded yet\"}\n");
    answer(fx, "GET", "/v2/models/mnist/ready", NULL, 503);
    stop(fx);
}

static void test_v2_versions_and_models(void **state)
{
    (void)state;
    fixture *fx = start(true);
    char v[13], path[128];
    served_version(fx, v);
    snprintf(path, sizeof path, "/v2/models/mnist/versions/%s/ready", v);
    assert_string_equal(answer(fx, "GET", path, NULL, 200), "{\"ready\":true}\n");
    const char *b =
        answer(fx, "GET", "/v2/models/mnist/versions/000000000000/ready", NULL, 404);
    assert_true(starts_with(b, "{\"error\":\"unknown version '000000000000' of model"));
    assert_non_null(strstr(b, v));
    b = answer(fx, "GET", "/v2/models/resnet/ready", NULL, 404);
    assert_true(starts_with(b, "{\"error\":\"unknown model 'resnet'"));
    b = answer(fx, "GET", "/v2/models/mnist/other", NULL, 404);
    assert_string_equal(b, "{\"error\":\"no route /v2/models/mnist/other\"}\n");
    snprintf(path, sizeof path, "/v2/models/mnist/versions/%s", v);
    b = answer(fx, "GET", path, NULL, 200);
    assert_true(starts_with(b, "{\"name\":\"mnist\",\"versions\":[\""));
    assert_non_null(strstr(b, "\"parameters\":{\"version\":"));
    stop(fx);
}

static void test_v2_infer_runs_the_batch(void **state)
{
    (void)state;
    fixture *fx = start(true);
    char body[4000];
    int n = snprintf(body, sizeof body, "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\","
                     "\"datatype\":\"FP32\",\"shape\":[2,784],\"data\":[");
    for (int i = 0; i < 2 * MN_IMAGE_PIXELS; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, i ? ",0" : "0");
    snprintf(body + n, sizeof body - (size_t)n, "]}]}");
    const char *b = answer(fx, "POST", "/v2/models/mnist/infer", body, 200);
    assert_non_null(strstr(b, "\"id\":\"r1\""));
    assert_non_null(strstr(b, "\"shape\":[2,10]"));
    assert_int_equal(atomic_load(&fx->stats.inferences), 2);
    assert_int_equal(atomic_load(&fx->stats.executions), 1);
    /* the probabilities of each image sum to 1 */
    const char *p = strstr(b, "\"data\":[") + 8;
    double total = 0;
    for (int i = 0; i < 2 * MN_NUM_CLASSES; i++) {
        char *end;
        total += strtod(p, &end);
        p = end + 1;
    }
    assert_true(total > 1.999 && total < 2.001);
    b = answer(fx, "POST", "/v2/models/mnist/infer", "{\"inputs\":[]}", 400);
    assert_true(starts_with(b, "{\"error\":\""));
    stop(fx);
}

static void test_metrics_route_labels(void **state)
{
    (void)state;
    fixture *fx = start(true);
    metrics_record(&fx->stats, ROUTE_V2_INFER, 200, 0.001);
    const char *b = answer(fx, "GET", "/metrics", NULL, 200);
    assert_non_null(strstr(fx->f.written, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(
        strstr(b, "\nmnist_requests_total{route=\"/v2/models/mnist/infer\",code=\"200\"} 1\n"));
    assert_non_null(strstr(b, "mnist_model_info{version=\""));
    stop(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_with_model_then_draining),
        cmocka_unit_test(test_without_model),
        cmocka_unit_test(test_v2_versions_and_models),
        cmocka_unit_test(test_v2_infer_runs_the_batch),
        cmocka_unit_test(test_metrics_route_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
