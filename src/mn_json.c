#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mn_json.h"

void mn_json_init(mn_json *j, const char *buf, size_t len)
{
    j->p = j->start = buf;
    j->end = buf + len;
    j->error = NULL;
    j->error_at = 0;
}

bool mn_json_fail(mn_json *j, const char *why)
{
    if (!j->error) {
        j->error = why;
        j->error_at = (size_t)(j->p - j->start);
    }
    return false;
}

bool mn_json_expect(mn_json *j, char c)
{
    if (mn_json_accept(j, c))
        return true;
    switch (c) {
    case '{': return mn_json_fail(j, "expected an object");
    case '}': return mn_json_fail(j, "expected ',' or '}'");
    case '[': return mn_json_fail(j, "expected an array");
    case ']': return mn_json_fail(j, "expected ',' or ']'");
    case ':': return mn_json_fail(j, "expected ':'");
    default: return mn_json_fail(j, "unexpected character");
    }
}

/* ------------------------------------------------------------------ UTF-8 */

/* Length of the valid UTF-8 sequence at p (1..4), or 0: RFC 3629's table, so no
 * overlong forms, no surrogates (ED A0..BF) and nothing above U+10FFFF (F4 90..). */
static int utf8_length(const unsigned char *p, const unsigned char *end)
{
    const unsigned c = p[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    if (end - p < n || p[1] < lo || p[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

size_t mn_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int k = utf8_length(s + i, s + n);
        if (!k)
            break;
        i += (size_t)k;
    }
    return i;
}

/* ------------------------------------------------------------------ strings */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at p (at least 4 bytes), or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at p (p[0] == '\\', p[1] == 'u'), with its low surrogate when it is a
 * high one: its length (6 or 12) and code point; 0 when its hex digits are bad, -1
 * when it is half a surrogate pair. */
static int u_escape(const char *p, const char *end, long *cp)
{
    if (end - p < 6 || (*cp = hex4(p + 2)) < 0)
        return 0;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return -1; /* a low surrogate with no high one before it */
    if (*cp < 0xd800 || *cp > 0xdbff)
        return 6;
    long low;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (low = hex4(p + 8)) < 0 ||
        low < 0xdc00 || low > 0xdfff)
        return -1; /* a high surrogate not followed by a low one */
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
    return 12;
}

/* One escape at p (p[0] == '\\'): its length in the input, or 0 with *why set. */
static int escape_length(const char *p, const char *end, const char **why)
{
    if (end - p >= 2 && p[1] == 'u') {
        long cp;
        const int n = u_escape(p, end, &cp);
        *why = n < 0 ? "unpaired surrogate in a \\u escape" : "invalid \\u escape";
        return n > 0 ? n : 0;
    }
    *why = "invalid escape in a string";
    return end - p >= 2 && p[1] && strchr("\"\\/bfnrt", p[1]) ? 2 : 0;
}

bool mn_json_string(mn_json *j, mn_json_str *out)
{
    if (!mn_json_peek(j, '"'))
        return mn_json_fail(j, "expected a string");
    const char *start = ++j->p;
    bool escaped = false;
    while (j->p < j->end) {
        const unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            *out = (mn_json_str){start, (size_t)(j->p - start), escaped};
            j->p++;
            return true;
        }
        int n;
        if (c >= 0x20 && c < 0x80 && c != '\\')
            n = 1;
        else if (c < 0x20)
            return mn_json_fail(j, "control character in a string");
        else if (c == '\\') {
            escaped = true;
            const char *why;
            if (!(n = escape_length(j->p, j->end, &why)))
                return mn_json_fail(j, why);
        } else if (!(n = utf8_length((const unsigned char *)j->p, (const unsigned char *)j->end)))
            return mn_json_fail(j, "invalid UTF-8 in a string");
        j->p += n;
    }
    return mn_json_fail(j, "unterminated string");
}

/* The next character of a validated string's value at *p as UTF-8 into out[0..4):
 * its byte count; *p moves past it. */
static int next_char(const char **p, const char *end, char out[4])
{
    const char *s = *p;
    if (*s != '\\') {
        int n = utf8_length((const unsigned char *)s, (const unsigned char *)end);
        memcpy(out, s, (size_t)n);
        *p += n;
        return n;
    }
    if (s[1] != 'u') {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        out[0] = to[strchr(from, s[1]) - from];
        *p += 2;
        return 1;
    }
    long cp;
    *p += u_escape(s, end, &cp);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

bool mn_json_str_is(const mn_json_str *s, const char *word)
{
    const size_t wlen = strlen(word);
    if (!s->escaped)
        return s->len == wlen && memcmp(s->raw, word, wlen) == 0;
    const char *p = s->raw, *end = s->raw + s->len;
    size_t at = 0;
    while (p < end) {
        char c[4];
        const int n = next_char(&p, end, c);
        if (at + (size_t)n > wlen || memcmp(word + at, c, (size_t)n) != 0)
            return false;
        at += (size_t)n;
    }
    return at == wlen;
}

bool mn_json_str_decode(const mn_json_str *s, char *dst, size_t cap, size_t *len)
{
    const char *p = s->raw, *end = s->raw + s->len;
    size_t at = 0;
    bool nul = false;
    while (p < end) {
        char c[4];
        const int n = next_char(&p, end, c);
        nul |= c[0] == '\0';
        if (at + (size_t)n < cap)
            memcpy(dst + at, c, (size_t)n);
        at += (size_t)n; /* past cap: counted on, for *len */
    }
    if (len)
        *len = nul ? SIZE_MAX : at;
    if (nul || at >= cap)
        return false;
    dst[at] = '\0';
    return true;
}

/* ------------------------------------------------------------------ literals */

static bool literal_ahead(const mn_json *j, const char *word, size_t n)
{
    return (size_t)(j->end - j->p) >= n && memcmp(j->p, word, n) == 0;
}

/* Consumes the literal word if it is next. */
static bool accept_word(mn_json *j, const char *word, size_t n)
{
    if (!literal_ahead(j, word, n))
        return false;
    j->p += n;
    return true;
}

bool mn_json_bool(mn_json *j, bool *out)
{
    mn_json_ws(j);
    *out = accept_word(j, "true", 4);
    if (*out || accept_word(j, "false", 5))
        return true;
    return mn_json_fail(j, "expected true or false");
}

bool mn_json_skip(mn_json *j, int max_depth)
{
    mn_json_ws(j);
    if (j->p >= j->end)
        return mn_json_fail(j, "unexpected end of input");
    const char c = *j->p;
    if (c == '{' || c == '[') {
        if (max_depth <= 0)
            return mn_json_fail(j, "nested too deeply");
        j->p++;
        const char close = c == '{' ? '}' : ']';
        if (mn_json_accept(j, close))
            return true;
        do {
            mn_json_str key;
            if (c == '{' && (!mn_json_string(j, &key) || !mn_json_expect(j, ':')))
                return false;
            if (!mn_json_skip(j, max_depth - 1))
                return false;
        } while (mn_json_accept(j, ','));
        return mn_json_expect(j, close);
    }
    if (c == '"') {
        mn_json_str s;
        return mn_json_string(j, &s);
    }
    if (accept_word(j, "true", 4) || accept_word(j, "false", 5) || accept_word(j, "null", 4))
        return true;
    double v;
    return mn_json_number(j, &v);
}

mn_json_kind mn_json_next(mn_json *j)
{
    mn_json_ws(j);
    if (j->p >= j->end)
        return MN_JSON_NONE;
    switch (*j->p) {
    case '{': return MN_JSON_OBJECT;
    case '[': return MN_JSON_ARRAY;
    case '"': return MN_JSON_STRING;
    case 't': return literal_ahead(j, "true", 4) ? MN_JSON_BOOL : MN_JSON_NONE;
    case 'f': return literal_ahead(j, "false", 5) ? MN_JSON_BOOL : MN_JSON_NONE;
    case 'n': return literal_ahead(j, "null", 4) ? MN_JSON_NULL : MN_JSON_NONE;
    case '-': return MN_JSON_NUMBER;
    default: return *j->p >= '0' && *j->p <= '9' ? MN_JSON_NUMBER : MN_JSON_NONE;
    }
}

const char *mn_json_kind_name(mn_json_kind k)
{
    static const char *const names[] = {"nothing", "an object", "an array", "a string",
                                        "a number", "a boolean", "null"};
    return names[k];
}

bool mn_json_at_end(mn_json *j)
{
    mn_json_ws(j);
    return j->p == j->end || mn_json_fail(j, "data after the JSON value");
}
