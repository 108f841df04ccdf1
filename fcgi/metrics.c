#include "config.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "model_store.h"

static const int codes[METRIC_CODES] = {200, 400, 404, 405, 411, 413, 415, 422, 500, 503, 504, 0};
static const double buckets[METRIC_BUCKETS] = {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

void metrics_record(worker_stats *s, int route, int status, double seconds)
{
    int c = METRIC_CODES - 1; /* "other" */
    for (int i = 0; i < METRIC_CODES - 1; i++)
        if (codes[i] == status)
            c = i;
    int b = METRIC_BUCKETS;
    for (int i = 0; i < METRIC_BUCKETS; i++)
        if (seconds <= buckets[i]) {
            b = i;
            break;
        }
    atomic_fetch_add_explicit(&s->requests[route][c], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->latency_us_sum[route], (unsigned long)(seconds * 1e6 + 0.5),
                              memory_order_relaxed);
}

void metrics_inference(worker_stats *s, unsigned long images)
{
    atomic_fetch_add_explicit(&s->inferences, images, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->executions, 1, memory_order_relaxed);
}

static unsigned long sum(worker_stats *const *stats, int n, size_t offset)
{
    unsigned long total = 0;
    for (int i = 0; i < n; i++)
        total += atomic_load_explicit((atomic_ulong *)((char *)stats[i] + offset),
                                      memory_order_relaxed);
    return total;
}

/* A label value with the exposition format's escapes: backslash, quote, newline. */
static void label_value(out_buf *o, const char *s)
{
    out_puts(o, "\"");
    for (; *s && !o->overflow; s++) {
        if (*s == '\\') out_puts(o, "\\\\");
        else if (*s == '"') out_puts(o, "\\\"");
        else if (*s == '\n') out_puts(o, "\\n");
        else out_printf(o, "%c", *s);
    }
    out_puts(o, "\"");
}

#define OFFSET(field) offsetof(worker_stats, field)

static void write_requests(out_buf *o, const metrics_source *src)
{
    out_puts(o, "# HELP mnist_requests_total Requests answered, by route and HTTP status code.\n"
                "# TYPE mnist_requests_total counter\n");
    for (int r = 0; r < src->nroutes; r++)
        for (int c = 0; c < METRIC_CODES; c++) {
            unsigned long v = sum(src->stats, src->nstats, OFFSET(requests[r][c]));
            if (!v && !(r == 0 && c == 0))
                continue; /* series appear once they occur; the first route's 200 always */
            out_printf(o, "mnist_requests_total{route=\"%s\",code=\"", src->route_labels[r]);
            if (codes[c])
                out_printf(o, "%d\"} %lu\n", codes[c], v);
            else
                out_printf(o, "other\"} %lu\n", v);
        }
}

static void write_latency(out_buf *o, const metrics_source *src)
{
    out_puts(o, "# HELP mnist_request_duration_seconds Time to answer a request, by route.\n"
                "# TYPE mnist_request_duration_seconds histogram\n");
    for (int r = 0; r < src->nroutes; r++) {
        const char *label = src->route_labels[r];
        unsigned long count = 0;
        for (int b = 0; b <= METRIC_BUCKETS; b++)
            count += sum(src->stats, src->nstats, OFFSET(latency[r][b]));
        if (!count && r != 0)
            continue;
        unsigned long cumulative = 0;
        for (int b = 0; b <= METRIC_BUCKETS; b++) {
            cumulative += sum(src->stats, src->nstats, OFFSET(latency[r][b]));
            out_printf(o, "mnist_request_duration_seconds_bucket{route=\"%s\",le=\"", label);
            if (b < METRIC_BUCKETS)
                out_printf(o, "%g\"} %lu\n", buckets[b], cumulative);
            else
                out_printf(o, "+Inf\"} %lu\n", cumulative);
        }
        out_printf(o, "mnist_request_duration_seconds_sum{route=\"%s\"} %.6f\n", label,
                   (double)sum(src->stats, src->nstats, OFFSET(latency_us_sum[r])) * 1e-6);
        out_printf(o, "mnist_request_duration_seconds_count{route=\"%s\"} %lu\n", label, count);
    }
}

static void write_model_state(out_buf *o, model_store *store);

void metrics_write(out_buf *o, const metrics_source *src, model_store *store,
                   double uptime_seconds)
{
    write_requests(o, src);
    write_latency(o, src);
    worker_stats *const *stats = src->stats;
    int n = src->nstats;
    out_printf(o, "# HELP mnist_inferences_total Images run through the network.\n"
                  "# TYPE mnist_inferences_total counter\n"
                  "mnist_inferences_total %lu\n"
                  "# HELP mnist_inference_executions_total Forward passes run; a batch is one "
                  "(inferences / executions is the mean batch size).\n"
                  "# TYPE mnist_inference_executions_total counter\n"
                  "mnist_inference_executions_total %lu\n",
               sum(stats, n, OFFSET(inferences)), sum(stats, n, OFFSET(executions)));

    write_model_state(o, store);
    out_printf(o, "# HELP mnist_uptime_seconds Seconds since the responder started.\n"
                  "# TYPE mnist_uptime_seconds gauge\n"
                  "mnist_uptime_seconds %.3f\n", uptime_seconds);
}

static void write_model_state(out_buf *o, model_store *store)
{
    char error[600];
    time_t error_at;
    unsigned long loads, refused;
    model_store_status(store, error, sizeof error, &error_at, &loads, &refused);
    out_printf(o, "# HELP mnist_model_loads_total Model files loaded and swapped in.\n"
                  "# TYPE mnist_model_loads_total counter\n"
                  "mnist_model_loads_total %lu\n"
                  "# HELP mnist_model_load_failures_total Model files refused by the checks.\n"
                  "# TYPE mnist_model_load_failures_total counter\n"
                  "mnist_model_load_failures_total %lu\n", loads, refused);

    live_model *m = model_store_acquire(store);
    out_puts(o, "# HELP mnist_model_info The model being served (value 1).\n"
                "# TYPE mnist_model_info gauge\n");
    if (m) {
        const char *created = mn_metadata_get(&m->meta, "created");
        out_puts(o, "mnist_model_info{version=");
        label_value(o, m->version);
        out_puts(o, ",created=");
        label_value(o, created ? created : "");
        out_puts(o, ",sha256=");
        label_value(o, m->sha256);
        out_puts(o, "} 1\n");
    }
    out_puts(o, "# HELP mnist_model_loaded_timestamp_seconds When the model being served was loaded.\n"
                "# TYPE mnist_model_loaded_timestamp_seconds gauge\n");
    if (m)
        out_printf(o, "mnist_model_loaded_timestamp_seconds %lld\n", (long long)m->loaded_at);
    model_release(m);
}
