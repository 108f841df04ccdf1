/* Request and inference counters for GET /metrics (Prometheus text format 0.0.4).
 *
 * Each worker thread owns one stats block and is its only writer (relaxed atomic
 * adds: no lock, no shared cache line on the hot path); a scrape sums the blocks. */
#ifndef FCGI_METRICS_H
#define FCGI_METRICS_H

#include <stdatomic.h>

#include "json_out.h"

/* Routes are counted by their index into the caller's label list (fcgi/routes.h);
 * METRIC_ROUTES bounds that list. */
enum { METRIC_ROUTES = 12, METRIC_CODES = 12, METRIC_BUCKETS = 12 };

typedef struct worker_stats {
    atomic_ulong requests[METRIC_ROUTES][METRIC_CODES];
    atomic_ulong latency[METRIC_ROUTES][METRIC_BUCKETS + 1];  /* per bucket, not cumulative */
    atomic_ulong latency_us_sum[METRIC_ROUTES];
    atomic_ulong inferences;   /* images through the network */
    atomic_ulong executions;   /* forward passes (a batch is one) */
} worker_stats;

/* Counts one answer of route (an index below METRIC_ROUTES) with its status and time. */
void metrics_record(worker_stats *s, int route, int status, double seconds);
void metrics_inference(worker_stats *s, unsigned long images);

typedef struct model_store model_store;

/* What a scrape reads: every worker's stats and the route labels, by index. The
 * first route's 200 series is always written, so that dashboards see it from the start. */
typedef struct metrics_source {
    worker_stats *const *stats;
    int nstats;
    const char *const *route_labels;
    int nroutes;
} metrics_source;

/* Writes the exposition (Prometheus text format 0.0.4) of the source and of the model
 * store's state. */
void metrics_write(out_buf *o, const metrics_source *src, model_store *store,
                   double uptime_seconds);

#endif
