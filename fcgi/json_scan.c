#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

void js_init(json_scan *s, const char *buf, size_t len)
{
    s->p = buf;
    s->end = buf + len;
    s->error = NULL;
}

bool js_fail(json_scan *s, const char *why)
{
    if (!s->error)
        s->error = why;
    return false;
}

bool js_expect(json_scan *s, char c)
{
    if (js_accept(s, c))
        return true;
    switch (c) {
    case '{': return js_fail(s, "expected an object");
    case '}': return js_fail(s, "expected ',' or '}'");
    case '[': return js_fail(s, "expected an array");
    case ']': return js_fail(s, "expected ',' or ']'");
    case ':': return js_fail(s, "expected ':'");
    default: return js_fail(s, "unexpected character");
    }
}

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0. */
static int utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || end - p < n)
        return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0; /* overlong, out of range, or a surrogate */
    return n;
}

bool js_string(json_scan *s, const char **raw, size_t *len)
{
    js_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return js_fail(s, "expected a string");
    const char *start = ++s->p;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *raw = start;
            *len = (size_t)(s->p - start);
            s->p++;
            return true;
        }
        if (c < 0x20)
            return js_fail(s, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2)
                break;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6 || hex(s->p[2]) < 0 || hex(s->p[3]) < 0 || hex(s->p[4]) < 0 ||
                    hex(s->p[5]) < 0)
                    return js_fail(s, "bad \\u escape");
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return js_fail(s, "bad escape in a string");
            }
            continue;
        }
        int n = utf8_length((const unsigned char *)s->p, (const unsigned char *)s->end);
        if (!n)
            return js_fail(s, "invalid UTF-8 in a string");
        s->p += n;
    }
    return js_fail(s, "unterminated string");
}

bool js_raw_equals(const char *raw, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(raw, word, len) == 0;
}

/* Exact powers of ten as doubles: an integer mantissa below 2^53 divided or
 * multiplied by one is correctly rounded (Clinger's fast path). */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The number of leading ASCII digits in the 8 bytes of w (first byte lowest). */
static int digit_run(uint64_t w)
{
    /* a byte is a digit when its high nibble is 3 and adding 6 keeps it there */
    uint64_t not_digit = ((w & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u) |
                         (((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u);
    return not_digit ? __builtin_ctzll(not_digit) / 8 : 8;
}

/* The value of the first n (1..8) digits in w: the others are replaced by leading
 * zeros, then the eight are combined pairwise (Lemire's SWAR conversion). */
static uint32_t digits_value(uint64_t w, int n)
{
    w = n < 8 ? (w << (8 * (8 - n))) | (0x3030303030303030u >> (8 * n)) : w;
    w -= 0x3030303030303030u;
    w = w * 10 + (w >> 8);
    w = (((w & 0x000000FF000000FFu) * 0x000F424000000064u) +
         (((w >> 16) & 0x000000FF000000FFu) * 0x0000271000000001u)) >> 32;
    return (uint32_t)w;
}

/* The common case of a tensor's numbers, without a branch per character:
 * -?(0|[1-9][0-9]{0,6})(\.[0-9]{1,7})? followed by neither a digit nor an exponent,
 * with at least 18 bytes of input left to read 8 at a time. The result is the exact
 * quotient of two exactly represented numbers, as in js_number. False leaves the
 * number to js_number's general path. A single digit before the point, as in most
 * normalised pixels (-0.424213), needs no load of its own: one 8-byte load a number
 * instead of two. */
static bool number_fast(const char *p, const char *end, double *out, const char **next)
{
    if (end - p < 18)
        return false;
    const bool neg = *p == '-';
    p += neg;
    uint64_t w, mant;
    const unsigned d0 = (unsigned)(unsigned char)p[0] - '0';
    if (d0 <= 9 && p[1] == '.') { /* d.ddd: the integer part without a load */
        mant = d0;
        p++;
    } else {
        memcpy(&w, p, sizeof w);
        const int n = digit_run(w);
        if (n == 0 || n == 8 || (n > 1 && *p == '0'))
            return false; /* not a number, too long, or a leading zero: the general path says */
        mant = digits_value(w, n);
        p += n;
    }
    int frac = 0;
    if (*p == '.') {
        memcpy(&w, p + 1, sizeof w);
        frac = digit_run(w);
        if (frac == 0 || frac == 8)
            return false;
        static const uint32_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
        mant = mant * scale[frac] + digits_value(w, frac);
        p += 1 + frac;
    }
    if (*p == 'e' || *p == 'E')
        return false;
    const double v = (double)mant / exact_pow10[frac]; /* mant < 10^15: exact, one rounding */
    *out = neg ? -v : v;
    *next = p;
    return true;
}

bool js_number(json_scan *s, double *out)
{
    js_ws(s);
    if (number_fast(s->p, s->end, out, &s->p))
        return true;
    const char *p = s->p, *end = s->end;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return js_fail(s, "expected a number");
    /* digits into a 64-bit mantissa; beyond 19 significant digits, strtod decides */
    uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    bool precise = true;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return js_fail(s, "leading zero in a number");
    } else {
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                digits += mant != 0;
            } else {
                exp10++;
                precise = false;
            }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return js_fail(s, "digits must follow '.'");
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                digits += mant != 0;
                exp10--;
            } else {
                precise = false;
            }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return js_fail(s, "digits must follow the exponent");
        int e = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            e = e < 100000 ? e * 10 + (*p - '0') : e;
        exp10 += eneg ? -e : e;
    }
    double v;
    if (precise && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        /* exact operands, one rounding: the correctly rounded result (Clinger) */
        v = exp10 < 0 ? (double)mant / exact_pow10[-exp10] : (double)mant * exact_pow10[exp10];
    } else {
        char buf[64];
        size_t n = (size_t)(p - s->p);
        if (n >= sizeof buf)
            return js_fail(s, "number too long");
        memcpy(buf, s->p, n);
        buf[n] = '\0';
        v = strtod(buf, NULL);
        neg = false; /* strtod saw the sign */
    }
    if (!isfinite(v))
        return js_fail(s, "number out of range");
    *out = neg ? -v : v;
    s->p = p;
    return true;
}

/* Consumes the literal word if it is next. */
static bool accept_word(json_scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

bool js_skip(json_scan *s, int max_depth)
{
    js_ws(s);
    if (s->p >= s->end)
        return js_fail(s, "unexpected end of input");
    char c = *s->p;
    if (c == '{' || c == '[') {
        if (max_depth <= 0)
            return js_fail(s, "nested too deeply");
        s->p++;
        char close = c == '{' ? '}' : ']';
        if (js_accept(s, close))
            return true;
        do {
            if (c == '{') {
                const char *k;
                size_t kl;
                if (!js_string(s, &k, &kl) || !js_expect(s, ':'))
                    return false;
            }
            if (!js_skip(s, max_depth - 1))
                return false;
        } while (js_accept(s, ','));
        return js_expect(s, close);
    }
    if (c == '"') {
        const char *raw;
        size_t len;
        return js_string(s, &raw, &len);
    }
    if (accept_word(s, "true") || accept_word(s, "false") || accept_word(s, "null"))
        return true;
    double v;
    return js_number(s, &v);
}

bool js_bool(json_scan *s, bool *out)
{
    js_ws(s);
    *out = accept_word(s, "true");
    if (*out || accept_word(s, "false"))
        return true;
    return js_fail(s, "expected true or false");
}

bool js_at_end(json_scan *s)
{
    js_ws(s);
    return s->p == s->end || js_fail(s, "data after the JSON value");
}
