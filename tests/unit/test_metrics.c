/* fcgi/metrics.c: the exposition is valid Prometheus text: every family has HELP and
 * TYPE before its samples, counters sum all workers, histogram buckets are cumulative
 * and end in +Inf = _count. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "model_store.h"

static const char *const labels[] = {"/predict", "/health", "other"};

typedef struct exposition {
    worker_stats a, b;
    out_buf o;
    model_store *store;
} exposition;

/* Two workers' counters, written out. */
static void write_two_workers(exposition *e)
{
    memset(e, 0, sizeof *e);
    metrics_record(&e->a, 0, 200, 0.0003);  /* bucket 0.0005 */
    metrics_record(&e->b, 0, 200, 0.002);   /* bucket 0.0025 */
    metrics_record(&e->b, 0, 422, 2.0);     /* above every bucket: +Inf only */
    metrics_record(&e->a, 2, 404, 0.0001);
    metrics_record(&e->a, 2, 418, 0.0001);  /* a code not counted by name */
    metrics_inference(&e->a, 1);
    metrics_inference(&e->b, 64);
    worker_stats *stats[] = {&e->a, &e->b};
    const metrics_source src = {stats, 2, labels, 3};
    e->store = model_store_create("/nonexistent/model.safetensors", 0);
    assert_non_null(e->store);
    assert_true(out_init(&e->o, 64 * 1024));
    metrics_write(&e->o, &src, e->store, 12.5);
    assert_false(e->o.overflow);
}

static void done(exposition *e)
{
    out_free(&e->o);
    model_store_destroy(e->store);
}

/* The value of the sample line that starts with "name " or "name{...} ". */
static double sample(const char *text, const char *series)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s ", series);
    const char *p = strstr(text, want);
    if (!p)
        fail_msg("no sample %s", series);
    return strtod(p + strlen(want), NULL);
}

static void test_counters_sum_workers(void **state)
{
    (void)state;
    exposition e;
    write_two_workers(&e);
    const char *t = e.o.data;
    assert_true(sample(t, "mnist_requests_total{route=\"/predict\",code=\"200\"}") == 2);
    assert_true(sample(t, "mnist_requests_total{route=\"/predict\",code=\"422\"}") == 1);
    assert_true(sample(t, "mnist_requests_total{route=\"other\",code=\"404\"}") == 1);
    assert_true(sample(t, "mnist_requests_total{route=\"other\",code=\"other\"}") == 1);
    assert_null(strstr(t, "route=\"/health\"")); /* nothing happened there yet */
    assert_true(sample(t, "mnist_inferences_total") == 65);
    assert_true(sample(t, "mnist_inference_executions_total") == 2);
    assert_true(sample(t, "mnist_uptime_seconds") == 12.5);
    assert_true(sample(t, "mnist_model_loads_total") == 0);
    done(&e);
}

static void test_histogram_cumulative(void **state)
{
    (void)state;
    exposition e;
    write_two_workers(&e);
    const char *t = e.o.data;
    const char *b = "mnist_request_duration_seconds_bucket{route=\"/predict\",le=";
    char s[160];
    static const struct { const char *le; double want; } cases[] = {
        {"0.00025", 0}, {"0.0005", 1}, {"0.001", 1}, {"0.0025", 2}, {"1", 2}, {"+Inf", 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(s, sizeof s, "%s\"%s\"}", b, cases[i].le);
        if (sample(t, s) != cases[i].want)
            fail_msg("%s is %g, not %g", s, sample(t, s), cases[i].want);
    }
    assert_true(sample(t, "mnist_request_duration_seconds_count{route=\"/predict\"}") == 3);
    double sum = sample(t, "mnist_request_duration_seconds_sum{route=\"/predict\"}");
    assert_true(sum > 2.0022 && sum < 2.0024);
    /* every bucket line of every route is at least the one before */
    double last = -1;
    const char *prev_route = "";
    for (const char *p = strstr(t, "_bucket{"); p; p = strstr(p + 1, "_bucket{")) {
        const char *route = strstr(p, "route=");
        if (strncmp(route, prev_route, 12) != 0)
            last = -1;
        double v = strtod(strstr(p, "} ") + 2, NULL);
        assert_true(v >= last);
        last = v;
        prev_route = route;
    }
    done(&e);
}

/* Each sample's family (the name up to { or space, less _bucket/_sum/_count for a
 * histogram) has "# HELP name " and "# TYPE name " lines before it. */
static void test_help_and_type_precede_samples(void **state)
{
    (void)state;
    exposition e;
    write_two_workers(&e);
    char help[256] = "", type[256] = "";
    int samples = 0;
    for (const char *line = e.o.data; *line; line += strcspn(line, "\n") + 1) {
        size_t len = strcspn(line, "\n");
        assert_true(line[len] == '\n'); /* the text ends with a newline */
        char name[128];
        if (sscanf(line, "# HELP %127s", name) == 1) {
            snprintf(help, sizeof help, "%s", name);
            continue;
        }
        if (sscanf(line, "# TYPE %127s", name) == 1) {
            assert_string_equal(name, help);
            const char *kind = line + 7 + strlen(name) + 1;
            assert_true(!strncmp(kind, "counter\n", 8) || !strncmp(kind, "gauge\n", 6) ||
                        !strncmp(kind, "histogram\n", 10));
            snprintf(type, sizeof type, "%s", name);
            continue;
        }
        assert_true(line[0] != '#');
        size_t n = strcspn(line, "{ ");
        snprintf(name, sizeof name, "%.*s", (int)n, line);
        if (strncmp(name, type, strlen(type)) != 0 || strcmp(type, help) != 0)
            fail_msg("sample %s is not under its HELP and TYPE (%s)", name, type);
        samples++;
    }
    assert_true(samples > 20);
    done(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_sum_workers),
        cmocka_unit_test(test_histogram_cumulative),
        cmocka_unit_test(test_help_and_type_precede_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
