/* One strict JSON reader (RFC 8259) for untrusted input: a pull cursor over a buffer
 * that the caller walks in the shape it expects, with no allocation and no tree, so
 * that a v2 infer body's numbers go straight into floats.
 *
 * Strict means: the grammar exactly (no comments, single quotes, NaN or Infinity, no
 * leading zeros, '+' signs, trailing commas or a byte-order mark), no control
 * characters in strings, UTF-8 exactly as RFC 3629 says (no overlong forms, no
 * surrogates, nothing above U+10FFFF), \u escapes only as valid code points (a high
 * surrogate only with a low one after it). Numbers get exactly the value strtod (or,
 * read as floats, strtof) gives for their text. Nesting is bounded by the caller,
 * which descends itself; mn_json_skip takes a depth limit. Duplicate keys are the
 * caller's to find (it knows which keys it keeps); mn_json_str_is compares a key's
 * decoded value, so an escaped spelling is the same key.
 *
 * Implementation limits (RFC 8259, section 9): a number has at most
 * MN_JSON_MAX_NUMBER characters; a number beyond the double (or float) range is
 * refused, not made infinite. The first failure is kept in `error` with its offset;
 * later ones do not overwrite it. */
#ifndef MN_JSON_H
#define MN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define MN_JSON_MAX_NUMBER 320

typedef struct mn_json {
    const char *p, *end;     /* the cursor, and the end of the input */
    const char *start;
    const char *error;       /* the first failure: what was wrong, or NULL */
    size_t error_at;         /* its byte offset */
} mn_json;

/* A string as it stands in the input, between its quotes (already validated). */
typedef struct mn_json_str {
    const char *raw;
    size_t len;
    bool escaped;            /* contains a backslash: raw differs from the value */
} mn_json_str;

void mn_json_init(mn_json *j, const char *buf, size_t len);
/* Records why (unless a failure is already recorded) and returns false. */
bool mn_json_fail(mn_json *j, const char *why);

/* Inline: they run between every two of a big tensor's numbers. */
static inline void mn_json_ws(mn_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Whether c comes next (after whitespace); consumes nothing but the whitespace. */
static inline bool mn_json_peek(mn_json *j, char c)
{
    mn_json_ws(j);
    return j->p < j->end && *j->p == c;
}

/* Consumes c (after whitespace) if it is next. */
static inline bool mn_json_accept(mn_json *j, char c)
{
    if (!mn_json_peek(j, c))
        return false;
    j->p++;
    return true;
}

/* Consumes c or fails with "expected ...". */
bool mn_json_expect(mn_json *j, char c);
bool mn_json_string(mn_json *j, mn_json_str *out);
/* Whether the string's value (escapes decoded) is exactly the NUL-free word. */
bool mn_json_str_is(const mn_json_str *s, const char *word);
/* The string's value as UTF-8 into dst[0..cap), NUL-terminated, its length in *len
 * (may be NULL). False when it holds U+0000 (C strings cannot; *len is SIZE_MAX) or
 * does not fit (*len is the length it needs, without the NUL). */
bool mn_json_str_decode(const mn_json_str *s, char *dst, size_t cap, size_t *len);
bool mn_json_number(mn_json *j, double *out);
/* A number read as a float, exactly as strtof reads its text; fails beyond FLT_MAX. */
bool mn_json_float(mn_json *j, float *out);
/* A number (false only when malformed); *in_range tells whether it is written as an
 * integer, without sign, fraction or exponent, in [0, max] (max < 10^19): then *out
 * is its value. */
bool mn_json_uint(mn_json *j, unsigned long long max, unsigned long long *out, bool *in_range);

/* What the next value is, by its first character (after whitespace), and for
 * true, false and null the whole word; nothing is consumed and nothing further
 * checked. */
typedef enum mn_json_kind {
    MN_JSON_NONE,            /* the end of the input, or a character no value starts with */
    MN_JSON_OBJECT,
    MN_JSON_ARRAY,
    MN_JSON_STRING,
    MN_JSON_NUMBER,
    MN_JSON_BOOL,
    MN_JSON_NULL,
} mn_json_kind;
mn_json_kind mn_json_next(mn_json *j);
/* "an object", "an array", "a string", "a number", "a boolean", "null", "nothing". */
const char *mn_json_kind_name(mn_json_kind k);
bool mn_json_bool(mn_json *j, bool *out);
/* Skips any value, nested at most max_depth arrays or objects deep. */
bool mn_json_skip(mn_json *j, int max_depth);
/* Only whitespace is left. */
bool mn_json_at_end(mn_json *j);

/* The UTF-8 validator (RFC 3629): the length of the longest valid prefix of s[0..n). */
size_t mn_utf8_valid_prefix(const unsigned char *s, size_t n);

#endif
