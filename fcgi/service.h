/* What a route handler is given besides its exchange (fcgi/http.h): the services
 * shared by all threads and the calling thread's own inference buffers. Types only. */
#ifndef FCGI_SERVICE_H
#define FCGI_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "metrics.h"
#include "mn_net.h"
#include "mn_preprocess.h"
#include "model_store.h"

/* Shared by every thread; fixed after start but for the atomics behind the pointers. */
typedef struct service {
    model_store *store;
    const atomic_bool *draining; /* told to stop (SIGUSR1): readiness 503 */
    double started;              /* mn_clock_seconds() at start */
    size_t max_body;             /* --max-body (bytes) */
    size_t max_pixels;           /* --max-pixels: decoded image size cap */
    int max_batch;               /* --max-batch: images per v2 infer request */
    metrics_source metrics;      /* every worker's counters, for GET /metrics */
} service;

/* One thread's preallocated inference state: the hot path allocates nothing here. */
typedef struct infer_buffers {
    uint8_t *decoded;         /* max_body bytes: base64-decoded images */
    mn_workspace *ws;
    mn_preprocess_scratch *scratch;
    float input[MN_IMAGE_PIXELS];
    uint8_t preview[MN_IMAGE_PIXELS];
    float probs[MN_NUM_CLASSES];
    float *batch_input;       /* max_batch x 784: v2 infer */
    float *batch_probs;       /* max_batch x 10 */
} infer_buffers;

typedef struct handler_env {
    const service *svc;
    infer_buffers *buf;       /* the calling thread's */
    worker_stats *stats;      /* the calling thread's, for metrics_inference */
} handler_env;

/* A route handler answers the exchange, errors through http_fail. */
typedef void handler_fn(http_exchange *x, const handler_env *env);

#endif
