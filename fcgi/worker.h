/* One worker thread: its libfcgi request, its preallocated buffers and counters, and
 * the turn of one request (parse, route, count, log). */
#ifndef FCGI_WORKER_H
#define FCGI_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "json_out.h"
#include "metrics.h"
#include "service.h"

typedef struct worker {
    const service *svc;
    FCGX_Request req;
    uint8_t *body;            /* svc->max_body bytes: the request body */
    out_buf out;              /* the response body */
    infer_buffers buf;
    worker_stats stats;       /* written by this thread only */
    bool quiet;               /* no log line per request */
} worker;

/* Allocates everything a request needs, once. False when out of memory or libfcgi
 * refuses; worker_free cleans up either way. */
bool worker_init(worker *w, const service *svc, int listen_fd, bool quiet);
void worker_free(worker *w);

/* Answers the request accepted into w->req, counts it and logs it. */
void worker_handle(worker *w);

#endif
