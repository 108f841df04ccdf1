/* One HTTP exchange as a handler sees it: the request, the worker's buffers it may
 * use, and the ways to answer it. Knows nothing of workers or of libfcgi: the bytes
 * come and go through http_io (fcgi/worker.c plugs in libfcgi; tests plug in memory). */
#ifndef FCGI_HTTP_H
#define FCGI_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_out.h"

/* Where the request's parameters and body come from and the answer goes. */
typedef struct http_io {
    const char *(*param)(void *ctx, const char *name); /* CGI variable, NULL when absent */
    int (*read)(void *ctx, char *buf, int len);        /* bytes read; <= 0 at end or error */
    void (*write)(void *ctx, const char *buf, int len);
    void *ctx;
} http_io;

/* How errors look: the service's {"error":{"code","message"}} or the Open Inference
 * Protocol's {"error": message}. The route decides (fcgi/routes.c). */
typedef enum { HTTP_ERRORS_CODED, HTTP_ERRORS_PLAIN } http_error_form;

typedef struct http_exchange {
    /* the request */
    const char *method;
    char path[512];           /* REQUEST_URI without its query */
    const char *query;        /* QUERY_STRING, "" when absent */
    const char *content_type; /* "" when absent */
    long long content_length; /* -1 when absent or not a number */
    /* the worker's buffers, lent for this request */
    uint8_t *body;            /* max_body bytes: http_read_body fills it */
    size_t max_body;
    out_buf *out;             /* the response body being built */
    const atomic_bool *draining; /* when true, every answer says Connection: close */
    http_io io;
    http_error_form error_form;
    int status;               /* the status sent, 0 before; for metrics and the log */
} http_exchange;

/* Reads the request's parameters through io into x. */
void http_begin(http_exchange *x, http_io io, uint8_t *body, size_t max_body, out_buf *out,
                const atomic_bool *draining);

/* A CGI variable of the request ("HTTP_..." for headers), NULL when absent. */
const char *http_param(const http_exchange *x, const char *name);

/* Whether the query has name=1|true|yes (or name=0|false|no for false). */
bool http_query_flag(const char *query, const char *name, bool default_value);

/* Case-insensitive match of the media type (parameters ignored). */
bool http_media_type_is(const char *content_type, const char *type);

/* Reads exactly Content-Length bytes into x->body, refusing above max_body before
 * reading anything. On false the error was sent: 411 length_required, 413 too_large,
 * 400 empty_body or short_body. */
bool http_read_body(http_exchange *x, size_t *len);

/* Sends x->out as a JSON response with the given status and extra header lines
 * (each ending in \r\n, may be NULL). */
void http_send_json(http_exchange *x, int status, const char *headers);
/* The same with another Content-Type. */
void http_send(http_exchange *x, int status, const char *content_type, const char *headers);
/* x->out (without http_send's closing newline) then tail_len bytes of tail: a JSON
 * header followed by binary data. A NULL tail is http_send's newline. An overflowed
 * x->out becomes a 500. */
void http_send_with_tail(http_exchange *x, int status, const char *content_type,
                         const char *headers, const void *tail, size_t tail_len);

/* The one way handlers report an error: status, a machine-readable code and a
 * message, in the route's error form (the plain form drops the code). */
void http_fail(http_exchange *x, int status, const char *code, const char *headers,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
