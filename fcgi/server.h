/* The responder's shared configuration and per-thread state. */
#ifndef FCGI_SERVER_H
#define FCGI_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <fcgiapp.h>

#include "json_out.h"
#include "metrics.h"
#include "mn_net.h"
#include "mn_preprocess.h"
#include "model_store.h"

typedef struct server_options {
    char model_path[4096];    /* --model, env MODEL_PATH */
    char listen[4096];        /* --listen: ":PORT", "HOST:PORT" or a socket path; "" = fd 0 */
    char pid_file[4096];      /* --pid-file: where the process to send SIGUSR1 to writes its pid */
    int threads;              /* --threads, default: online CPUs */
    int reload_interval_ms;   /* --reload-interval (ms), 0 = never */
    size_t max_body;          /* --max-body (bytes) */
    size_t max_pixels;        /* --max-pixels: decoded image size cap */
    int max_batch;            /* --max-batch: images per v2 infer request */
    bool quiet;               /* --quiet: no per-request log lines */
    bool no_supervise;        /* --no-supervise: no supervisor process (fcgi/supervise.c) */
} server_options;

typedef struct server {
    server_options opts;
    model_store *store;
    int listen_fd;
    struct timespec started;  /* CLOCK_MONOTONIC */
    atomic_bool draining;     /* told to stop (SIGUSR1): readiness 503, every answer closes */
    worker_stats **stats;     /* one per worker, summed by /metrics */
    int nstats;
} server;

/* One worker thread's request and preallocated buffers. */
typedef struct worker {
    server *srv;
    FCGX_Request req;
    uint8_t *body;            /* max_body bytes: the request body */
    uint8_t *decoded;         /* max_body bytes: base64-decoded images */
    out_buf out;              /* the response body */
    mn_workspace *ws;
    mn_preprocess_scratch *scratch;
    float input[MN_IMAGE_PIXELS];
    uint8_t preview[MN_IMAGE_PIXELS];
    float probs[MN_NUM_CLASSES];
    float *batch_input;       /* max_batch x 784: v2 infer */
    float *batch_probs;       /* max_batch x 10 */
    worker_stats stats;
} worker;

bool worker_init(worker *w, server *srv);
void worker_free(worker *w);

/* Answers the request accepted into w->req. */
void handle_request(worker *w);

#endif
