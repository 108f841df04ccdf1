/* The request as the handlers see it, and the ways to answer it. */
#ifndef FCGI_HTTP_H
#define FCGI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

typedef struct http_request {
    const char *method;
    char path[512];           /* REQUEST_URI without its query */
    const char *query;        /* QUERY_STRING, "" when absent */
    const char *content_type; /* "" when absent */
    long long content_length; /* -1 when absent or not a number */
    int status;               /* the status sent, for the log */
} http_request;

void http_parse_request(worker *w, http_request *r);

/* Whether the query has name=1|true|yes (or name=0|false|no for false). */
bool http_query_flag(const char *query, const char *name, bool default_value);

/* Case-insensitive match of the media type (parameters ignored). */
bool http_media_type_is(const char *content_type, const char *type);

typedef enum { BODY_OK, BODY_MISSING_LENGTH, BODY_TOO_LARGE, BODY_SHORT, BODY_EMPTY } body_status;

/* Reads exactly Content-Length bytes into w->body (refusing above max_body before
 * reading anything). */
body_status http_read_body(worker *w, const http_request *r, size_t *len);

/* Sends w->out as a JSON response with the given status and extra header lines
 * (each ending in \r\n, may be NULL). */
void http_send_json(worker *w, http_request *r, int status, const char *headers);
/* The same with another Content-Type. */
void http_send(worker *w, http_request *r, int status, const char *content_type,
               const char *headers);
/* w->out (without http_send's closing newline) then tail_len bytes of tail: a JSON
 * header followed by binary data. A NULL tail is http_send's newline. */
void http_send_with_tail(worker *w, http_request *r, int status, const char *content_type,
                         const char *headers, const void *tail, size_t tail_len);

/* Sends {"error": {"code": code, "message": message}}, or the Open Inference
 * Protocol's {"error": message} when code is NULL. */
void http_send_error(worker *w, http_request *r, int status, const char *code,
                     const char *headers, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
