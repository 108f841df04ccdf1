/* A small strict JSON scanner (RFC 8259) for request bodies that json-c would turn
 * into tens of thousands of allocated objects: the v2 infer request's numbers are
 * parsed straight into a float array. No allocation, bounded nesting, exact grammar:
 * no comments, single quotes, NaN, leading zeros, control characters in strings or
 * invalid UTF-8 escapes. */
#ifndef FCGI_JSON_SCAN_H
#define FCGI_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct json_scan {
    const char *p, *end;
    const char *error;      /* set on the first failure: what was wrong */
} json_scan;

void js_init(json_scan *s, const char *buf, size_t len);

/* Inline: they run between every two of a big tensor's numbers. */
static inline void js_ws(json_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Consumes c (after whitespace) if it is next. */
static inline bool js_accept(json_scan *s, char c)
{
    js_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}
/* Consumes c or fails with "expected ...". */
bool js_expect(json_scan *s, char c);
/* A string: *raw and *len point at its escaped contents (between the quotes). */
bool js_string(json_scan *s, const char **raw, size_t *len);
/* Whether a string's raw contents equal the plain ASCII word (no escapes). */
bool js_raw_equals(const char *raw, size_t len, const char *word);
bool js_number(json_scan *s, double *out);
/* true or false. */
bool js_bool(json_scan *s, bool *out);
/* Skips any value, nested at most max_depth deep. */
bool js_skip(json_scan *s, int max_depth);
/* Only whitespace is left. */
bool js_at_end(json_scan *s);
bool js_fail(json_scan *s, const char *why);

#endif
