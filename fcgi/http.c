#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static const char *param(worker *w, const char *name)
{
    const char *v = FCGX_GetParam(name, w->req.envp);
    return v ? v : "";
}

void http_parse_request(worker *w, http_request *r)
{
    memset(r, 0, sizeof *r);
    r->method = param(w, "REQUEST_METHOD");
    r->query = param(w, "QUERY_STRING");
    r->content_type = param(w, "CONTENT_TYPE");
    const char *uri = param(w, "REQUEST_URI");
    size_t n = strcspn(uri, "?");
    if (n >= sizeof r->path)
        n = sizeof r->path - 1; /* longer than any route: it will not match */
    memcpy(r->path, uri, n);
    r->path[n] = '\0';
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", w->req.envp);
    r->content_length = -1;
    if (cl && *cl) {
        char *end;
        errno = 0;
        long long v = strtoll(cl, &end, 10);
        if (!errno && *end == '\0' && v >= 0 && cl[0] != '-' && cl[0] != '+')
            r->content_length = v;
    }
}

bool http_query_flag(const char *query, const char *name, bool default_value)
{
    size_t nlen = strlen(name);
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            if ((vlen == 1 && *v == '1') || (vlen == 4 && !strncasecmp(v, "true", 4)) ||
                (vlen == 3 && !strncasecmp(v, "yes", 3)))
                return true;
            if ((vlen == 1 && *v == '0') || (vlen == 5 && !strncasecmp(v, "false", 5)) ||
                (vlen == 2 && !strncasecmp(v, "no", 2)))
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

body_status http_read_body(worker *w, const http_request *r, size_t *len)
{
    *len = 0;
    if (r->content_length < 0)
        return BODY_MISSING_LENGTH;
    if ((unsigned long long)r->content_length > w->srv->opts.max_body)
        return BODY_TOO_LARGE;
    if (r->content_length == 0)
        return BODY_EMPTY;
    size_t want = (size_t)r->content_length;
    while (*len < want) {
        size_t chunk = want - *len > (1u << 30) ? (1u << 30) : want - *len;
        int n = FCGX_GetStr((char *)w->body + *len, (int)chunk, w->req.in);
        if (n <= 0)
            return BODY_SHORT;
        *len += (size_t)n;
    }
    return BODY_OK;
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

void http_send_json(worker *w, http_request *r, int status, const char *headers)
{
    http_send(w, r, status, "application/json", headers);
}

void http_send_with_tail(worker *w, http_request *r, int status, const char *content_type,
                         const char *headers, const void *tail, size_t tail_len)
{
    if (w->out.overflow) {
        out_reset(&w->out);
        out_puts(&w->out, "{\"error\":{\"code\":\"internal\",\"message\":\"response too large\"}}");
        status = 500;
        content_type = "application/json";
        headers = NULL;
        tail = NULL;
    }
    if (!tail)
        tail = "\n", tail_len = 1;
    r->status = status;
    /* formatted here: libfcgi's own FCGX_FPrintF knows no %zu */
    /* while draining, keep-alive clients reconnect, and their load balancer sends the
     * new connection to a replica that is staying (lighttpd honours the header) */
    bool closing = atomic_load_explicit(&w->srv->draining, memory_order_relaxed);
    /* every 503 (no model yet, draining) is temporary: clients may come back in a second */
    char head[512];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\nContent-Type: %s\r\n"
                     "Cache-Control: no-store\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                     status, reason(status), content_type, w->out.len + tail_len,
                     status == 503 ? "Retry-After: 1\r\n" : "",
                     closing ? "Connection: close\r\n" : "", headers ? headers : "");
    FCGX_PutStr(head, n < (int)sizeof head ? n : (int)sizeof head - 1, w->req.out);
    if (strcmp(r->method, "HEAD") != 0) {
        FCGX_PutStr(w->out.data, (int)w->out.len, w->req.out);
        FCGX_PutStr(tail, (int)tail_len, w->req.out);
    }
}

void http_send(worker *w, http_request *r, int status, const char *content_type,
               const char *headers)
{
    http_send_with_tail(w, r, status, content_type, headers, NULL, 0);
}

void http_send_error(worker *w, http_request *r, int status, const char *code,
                     const char *headers, const char *fmt, ...)
{
    char message[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    out_reset(&w->out);
    if (code) {
        out_puts(&w->out, "{\"error\":{\"code\":");
        out_json_string(&w->out, code);
        out_puts(&w->out, ",\"message\":");
        out_json_string(&w->out, message);
        out_puts(&w->out, "}}");
    } else {
        out_puts(&w->out, "{\"error\":");
        out_json_string(&w->out, message);
        out_puts(&w->out, "}");
    }
    http_send_json(w, r, status, headers);
}
