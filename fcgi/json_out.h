/* A bounded output buffer with JSON helpers: responses are built in a per-thread
 * buffer allocated once, so answering allocates nothing. */
#ifndef FCGI_JSON_OUT_H
#define FCGI_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct out_buf {
    char *data;
    size_t len, cap;
    bool overflow;     /* something did not fit: the response is an error */
} out_buf;

bool out_init(out_buf *o, size_t cap);
void out_free(out_buf *o);
void out_reset(out_buf *o);
void out_printf(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_puts(out_buf *o, const char *s);
/* A JSON string literal, quoted and escaped (control characters as \u00XX; '/' not
 * escaped). */
void out_json_string(out_buf *o, const char *s);
/* A number as printf's %.9g writes it (a float's value reads back exactly); non-finite
 * values become null. */
void out_json_float(out_buf *o, double v);
/* A JSON array of n floats, each as out_json_float writes it. */
void out_json_float_array(out_buf *o, const float *v, size_t n);

#endif
