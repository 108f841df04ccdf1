/* Request and inference counters for GET /metrics (Prometheus text format 0.0.4).
 *
 * Each worker thread owns one stats block and is its only writer (relaxed atomic
 * adds: no lock, no shared cache line on the hot path); a scrape sums the blocks. */
#ifndef FCGI_METRICS_H
#define FCGI_METRICS_H

#include <stdatomic.h>

#include "json_out.h"

typedef enum {
    ROUTE_PREDICT, ROUTE_HEALTH, ROUTE_LIVE, ROUTE_V2_META, ROUTE_V2_INFER, ROUTE_METRICS,
    ROUTE_REPORT, ROUTE_OTHER, ROUTE_COUNT
} route_id;

enum { METRIC_CODES = 12, METRIC_BUCKETS = 12 };

typedef struct worker_stats {
    atomic_ulong requests[ROUTE_COUNT][METRIC_CODES];
    atomic_ulong latency[ROUTE_COUNT][METRIC_BUCKETS + 1];  /* per bucket, not cumulative */
    atomic_ulong latency_us_sum[ROUTE_COUNT];
    atomic_ulong inferences;   /* images through the network */
    atomic_ulong executions;   /* forward passes (a batch is one) */
} worker_stats;

void metrics_record(worker_stats *s, route_id route, int status, double seconds);
void metrics_inference(worker_stats *s, unsigned long images);

typedef struct model_store model_store;

/* Writes the exposition of all workers' stats and the model store's state. */
void metrics_write(out_buf *o, worker_stats *const *stats, int nstats, model_store *store,
                   double uptime_seconds);

#endif
