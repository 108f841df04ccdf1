#include "config.h"

#include <math.h>
#include <stdint.h>
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

/* Powers of ten as double literals (each the nearest double: exact up to 1e22). */
static const double pow10_table[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54};

/* The 9 significant digits of a (> 0) as an integer in [1e8, 1e9), and a's decimal
 * exponent; false when a lies outside the range the table covers. */
static bool nine_digits(double a, uint32_t *digits, int *exp10)
{
    int e = (int)floor(log10(a));
    for (int tries = 0; tries < 3; tries++) {  /* log10 can be one off near powers of 10 */
        if (e < -46 || e > 38)
            return false;
        double scaled = 8 - e >= 0 ? a * pow10_table[8 - e] : a / pow10_table[e - 8];
        double d = nearbyint(scaled);
        if (d >= 1e9)
            e++;
        else if (d < 1e8)
            e--;
        else {
            *digits = (uint32_t)d;
            *exp10 = e;
            return true;
        }
    }
    return false;
}

/* printf's %.9g without printf: glibc's exact conversion costs about a microsecond a
 * number, and a v2 answer for 256 images holds 2,560 of them. One multiplication by a
 * power of ten is exact to about 3e-16, so the ninth digit can only differ from
 * printf's at a near-tie, by one: nine digits still read back as the same float
 * (tests/unit/test_json_out.c checks both). */
void out_json_float(out_buf *o, double v)
{
    if (!isfinite(v)) {
        out_puts(o, "null");
        return;
    }
    uint32_t d;
    int e;
    if (v == 0.0 || !nine_digits(fabs(v), &d, &e)) {
        out_printf(o, "%.9g", v);
        return;
    }
    char digits[9], buf[32], *p = buf;
    for (int i = 8; i >= 0; i--, d /= 10)
        digits[i] = (char)('0' + d % 10);
    int n = 9;  /* significant digits left once trailing zeros go */
    while (n > 1 && digits[n - 1] == '0')
        n--;
    if (v < 0)
        *p++ = '-';
    if (e < -4 || e >= 9) {  /* d.ddde-XX */
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)n - 1);
            p += n - 1;
        }
        const int ae = e < 0 ? -e : e;  /* two digits: |e| <= 46 here */
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        *p++ = (char)('0' + ae / 10);
        *p++ = (char)('0' + ae % 10);
    } else if (e >= 0) {  /* ddd.ddd: e + 1 digits before the point */
        for (int i = 0; i <= e; i++)
            *p++ = i < n ? digits[i] : '0';
        if (n > e + 1) {
            *p++ = '.';
            memcpy(p, digits + e + 1, (size_t)(n - e - 1));
            p += n - e - 1;
        }
    } else {  /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -e - 1; i++)
            *p++ = '0';
        memcpy(p, digits, (size_t)n);
        p += n;
    }
    *p = '\0';
    out_puts(o, buf);
}

void out_json_float_array(out_buf *o, const float *v, size_t n)
{
    out_puts(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_puts(o, ",");
        out_json_float(o, v[i]);
    }
    out_puts(o, "]");
}
