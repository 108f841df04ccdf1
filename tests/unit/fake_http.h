/* An http_io in memory for the fcgi/ unit tests: CGI variables from a list, the body
 * from a string, the answer collected into a buffer. */
#ifndef TESTS_UNIT_FAKE_HTTP_H
#define TESTS_UNIT_FAKE_HTTP_H

#include <stdbool.h>
#include <string.h>

#include "http.h"

typedef struct fake_http {
    const char *const *params; /* name, value, name, value, ..., NULL */
    const char *body;
    size_t body_len, body_pos;
    char written[8192];
    size_t written_len;
    uint8_t body_buf[4096];
    out_buf out;
    atomic_bool draining;
    http_exchange x;
} fake_http;

static const char *fake_param(void *ctx, const char *name)
{
    const fake_http *f = ctx;
    for (const char *const *p = f->params; p && *p; p += 2)
        if (!strcmp(p[0], name))
            return p[1];
    return NULL;
}

static int fake_read(void *ctx, char *buf, int len)
{
    fake_http *f = ctx;
    size_t n = f->body_len - f->body_pos;
    if ((size_t)len < n)
        n = (size_t)len;
    memcpy(buf, f->body + f->body_pos, n);
    f->body_pos += n;
    return (int)n;
}

static void fake_write(void *ctx, const char *buf, int len)
{
    fake_http *f = ctx;
    assert_true(f->written_len + (size_t)len < sizeof f->written);
    memcpy(f->written + f->written_len, buf, (size_t)len);
    f->written_len += (size_t)len;
    f->written[f->written_len] = '\0';
}

/* Starts an exchange on params and body with a max_body-byte limit (at most 4096). */
static http_exchange *fake_begin(fake_http *f, const char *const *params, const char *body,
                                 size_t max_body)
{
    memset(f, 0, sizeof *f);
    f->params = params;
    f->body = body ? body : "";
    f->body_len = strlen(f->body);
    assert_true(max_body <= sizeof f->body_buf);
    assert_true(out_init(&f->out, 4096));
    atomic_init(&f->draining, false);
    http_io io = {fake_param, fake_read, fake_write, f};
    http_begin(&f->x, io, f->body_buf, max_body, &f->out, &f->draining);
    return &f->x;
}

/* The answer's body: what follows the blank line after the headers. */
static const char *fake_body(const fake_http *f)
{
    const char *p = strstr(f->written, "\r\n\r\n");
    assert_non_null(p);
    return p + 4;
}

#endif
