/* Limits that both mnist-serve (for lighttpd.conf, through the environment) and
 * mnist-fcgi (its defaults) take from here, so that the two cannot disagree. */
#ifndef FCGI_SERVE_LIMITS_H
#define FCGI_SERVE_LIMITS_H

/* The largest request body, in bytes: lighttpd refuses more (413) before the
 * responder sees it; mnist-fcgi's --max-body defaults to it. A multiple of 1 KiB,
 * lighttpd's unit (server.max-request-size = env.MNIST_MAX_REQUEST_KIB). */
#define SERVE_MAX_BODY_BYTES (8u << 20)

/* Worker threads when mnist-fcgi is given no --threads: the online CPUs, at most
 * this many. lighttpd runs one responder (max-procs 1) that holds them all. */
#define SERVE_MAX_DEFAULT_THREADS 64

#endif
