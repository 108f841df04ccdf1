#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const char *http_param(const http_exchange *x, const char *name)
{
    return x->io.param(x->io.ctx, name);
}

static const char *param_or_empty(const http_exchange *x, const char *name)
{
    const char *v = http_param(x, name);
    return v ? v : "";
}

/* -1 unless the whole value is a decimal count without sign. */
static long long parse_length(const char *cl)
{
    if (!cl || !*cl || cl[0] == '-' || cl[0] == '+')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(cl, &end, 10);
    return !errno && *end == '\0' && v >= 0 ? v : -1;
}

void http_begin(http_exchange *x, http_io io, uint8_t *body, size_t max_body, out_buf *out,
                const atomic_bool *draining)
{
    memset(x, 0, sizeof *x);
    x->io = io;
    x->body = body;
    x->max_body = max_body;
    x->out = out;
    x->draining = draining;
    x->method = param_or_empty(x, "REQUEST_METHOD");
    x->query = param_or_empty(x, "QUERY_STRING");
    x->content_type = param_or_empty(x, "CONTENT_TYPE");
    const char *uri = param_or_empty(x, "REQUEST_URI");
    size_t n = strcspn(uri, "?");
    if (n >= sizeof x->path)
        n = sizeof x->path - 1; /* longer than any route: it will not match */
    memcpy(x->path, uri, n);
    x->path[n] = '\0';
    x->content_length = parse_length(http_param(x, "CONTENT_LENGTH"));
}

static bool value_is(const char *v, size_t vlen, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == vlen && !strncasecmp(v, *words, vlen))
            return true;
    return false;
}

bool http_query_flag(const char *query, const char *name, bool default_value)
{
    static const char *const yes[] = {"1", "true", "yes", NULL};
    static const char *const no[] = {"0", "false", "no", NULL};
    size_t nlen = strlen(name);
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            if (value_is(v, vlen, yes))
                return true;
            if (value_is(v, vlen, no))
                return false;
        } else if (len == nlen && strncmp(p, name, nlen) == 0) {
            return true; /* a bare ?preview */
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return default_value;
}

bool http_media_type_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    if (strncasecmp(content_type, type, n) != 0)
        return false;
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

bool http_read_body(http_exchange *x, size_t *len)
{
    *len = 0;
    if (x->content_length < 0) {
        http_fail(x, 411, "length_required", NULL, "Content-Length is required");
        return false;
    }
    if ((unsigned long long)x->content_length > x->max_body) {
        http_fail(x, 413, "too_large", NULL, "the body is %lld bytes; the limit is %zu",
                  x->content_length, x->max_body);
        return false;
    }
    if (x->content_length == 0) {
        http_fail(x, 400, "empty_body", NULL, "the body is empty");
        return false;
    }
    size_t want = (size_t)x->content_length;
    while (*len < want) {
        size_t chunk = want - *len > (1u << 30) ? (1u << 30) : want - *len;
        int n = x->io.read(x->io.ctx, (char *)x->body + *len, (int)chunk);
        if (n <= 0) {
            http_fail(x, 400, "short_body", NULL,
                      "the body ended before Content-Length (%lld) bytes", x->content_length);
            return false;
        }
        *len += (size_t)n;
    }
    return true;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return "Unknown";
}

void http_send_json(http_exchange *x, int status, const char *headers)
{
    http_send(x, status, "application/json", headers);
}

void http_send_with_tail(http_exchange *x, int status, const char *content_type,
                         const char *headers, const void *tail, size_t tail_len)
{
    out_buf *o = x->out;
    if (o->overflow) {
        out_reset(o);
        out_puts(o, "{\"error\":{\"code\":\"internal\",\"message\":\"response too large\"}}");
        status = 500;
        content_type = "application/json";
        headers = NULL;
        tail = NULL;
    }
    if (!tail)
        tail = "\n", tail_len = 1;
    x->status = status;
    /* while draining, keep-alive clients reconnect, and their load balancer sends the
     * new connection to a replica that is staying (lighttpd honours the header) */
    bool closing = x->draining && atomic_load_explicit(x->draining, memory_order_relaxed);
    /* every 503 (no model yet, draining) is temporary: clients may come back in a second */
    char head[512];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\nContent-Type: %s\r\n"
                     "Cache-Control: no-store\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                     status, reason(status), content_type, o->len + tail_len,
                     status == 503 ? "Retry-After: 1\r\n" : "",
                     closing ? "Connection: close\r\n" : "", headers ? headers : "");
    x->io.write(x->io.ctx, head, n < (int)sizeof head ? n : (int)sizeof head - 1);
    if (strcmp(x->method, "HEAD") != 0) {
        x->io.write(x->io.ctx, o->data, (int)o->len);
        x->io.write(x->io.ctx, tail, (int)tail_len);
    }
}

void http_send(http_exchange *x, int status, const char *content_type, const char *headers)
{
    http_send_with_tail(x, status, content_type, headers, NULL, 0);
}

void http_fail(http_exchange *x, int status, const char *code, const char *headers,
               const char *fmt, ...)
{
    char message[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    out_buf *o = x->out;
    out_reset(o);
    if (x->error_form == HTTP_ERRORS_CODED) {
        out_puts(o, "{\"error\":{\"code\":");
        out_json_string(o, code);
        out_puts(o, ",\"message\":");
        out_json_string(o, message);
        out_puts(o, "}}");
    } else {
        out_puts(o, "{\"error\":");
        out_json_string(o, message);
        out_puts(o, "}");
    }
    http_send_json(x, status, headers);
}
