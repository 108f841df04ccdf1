#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

bool out_init(out_buf *o, size_t cap)
{
    o->data = malloc(cap);
    o->cap = o->data ? cap : 0;
    out_reset(o);
    return o->data != NULL;
}

void out_free(out_buf *o)
{
    free(o->data);
    o->data = NULL;
    o->cap = 0;
}

void out_reset(out_buf *o)
{
    o->len = 0;
    o->overflow = false;
    if (o->cap)
        o->data[0] = '\0';
}

void out_printf(out_buf *o, const char *fmt, ...)
{
    if (o->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->data + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = true;
        o->data[o->len] = '\0';
        return;
    }
    o->len += (size_t)n;
}

void out_puts(out_buf *o, const char *s)
{
    size_t n = strlen(s);
    if (o->overflow || n >= o->cap - o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->data + o->len, s, n + 1);
    o->len += n;
}

void out_json_string(out_buf *o, const char *s)
{
    out_puts(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p && !o->overflow; p++) {
        switch (*p) {
        case '"': out_puts(o, "\\\""); break;
        case '\\': out_puts(o, "\\\\"); break;
        case '\n': out_puts(o, "\\n"); break;
        case '\r': out_puts(o, "\\r"); break;
        case '\t': out_puts(o, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                out_printf(o, "\\u%04x", *p);
            } else {
                char c[2] = {(char)*p, '\0'};
                out_puts(o, c);
            }
        }
    }
    out_puts(o, "\"");
}

void out_json_float(out_buf *o, double v)
{
    if (isfinite(v))
        out_printf(o, "%.9g", v);
    else
        out_puts(o, "null");
}
