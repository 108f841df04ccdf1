/* mn_json's numbers: the strict grammar, then the value strtod or strtof would give.
 * Most numbers take an exact shortcut (Clinger's fast path; an 8-bytes-at-a-time path
 * for a tensor's short decimals); the rest go to strtod/strtof on a copy of their
 * text, which the grammar check has made safe to hand over. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mn_json.h"

/* A number's text, checked, with its decimal mantissa when that is exact. */
typedef struct number_text {
    const char *begin, *end;
    uint64_t mant;           /* the first 19 significant digits */
    int digits;              /* how many mant holds */
    int exp10;               /* value = mant * 10^exp10 when precise */
    bool precise;            /* no significant digit was dropped */
    bool neg, integer;       /* a '-'; neither fraction nor exponent */
} number_text;

/* Exact powers of ten as doubles: an integer mantissa below 2^53 divided or
 * multiplied by one is correctly rounded (Clinger's fast path). */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

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

static const uint64_t pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

/* Digits at *p into n's mantissa; fraction digits lower the exponent. Once a digit
 * is significant, 8 are taken at a time while 19 still fit (a long number's digits
 * are most of its time). In locals: through the pointers, every char read could
 * alias n and force a reload. */
static inline __attribute__((always_inline)) void take_digits(const char **at, const char *end,
                                                              number_text *n, bool fraction)
{
    const char *p = *at;
    uint64_t mant = n->mant;
    int digits = n->digits, exp10 = n->exp10;
    bool precise = n->precise;
    for (;;) {
        if (mant != 0 && digits <= 11 && end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            const int k = digit_run(w);
            if (k > 0) {
                mant = mant * pow10_u64[k] + digits_value(w, k);
                digits += k;
                exp10 -= fraction ? k : 0;
                p += k;
                if (k == 8)
                    continue;
            }
        }
        if (p >= end || *p < '0' || *p > '9')
            break;
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            digits += mant != 0; /* leading zeros are not significant */
            exp10 -= fraction;
        } else {
            exp10 += !fraction;
            precise &= *p == '0'; /* a dropped zero changes nothing */
        }
        p++;
    }
    *at = p;
    n->mant = mant;
    n->digits = digits;
    n->exp10 = exp10;
    n->precise = precise;
}

/* The RFC 8259 grammar at j->p: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Inlined, so that n lives in registers: this is most of a long number's time. */
static inline __attribute__((always_inline)) bool scan_number(mn_json *j, number_text *n)
{
    const char *p = j->p, *end = j->end;
    *n = (number_text){.begin = p, .precise = true, .integer = true};
    n->neg = p < end && *p == '-';
    p += n->neg;
    if (!is_digit(p, end))
        return mn_json_fail(j, "expected a value");
    if (*p == '0' && is_digit(p + 1, end))
        return mn_json_fail(j, "leading zero in a number");
    take_digits(&p, end, n, false);
    if (p < end && *p == '.') {
        n->integer = false;
        if (!is_digit(++p, end))
            return mn_json_fail(j, "digits must follow '.'");
        take_digits(&p, end, n, true);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        n->integer = false;
        p++;
        const bool eneg = p < end && *p == '-';
        p += p < end && (*p == '+' || *p == '-');
        if (!is_digit(p, end))
            return mn_json_fail(j, "digits must follow the exponent");
        int e = 0;
        for (; is_digit(p, end); p++)
            e = e < 100000 ? e * 10 + (*p - '0') : e; /* beyond any double: saturate */
        n->exp10 += eneg ? -e : e;
    }
    n->end = p;
    if (p - n->begin > MN_JSON_MAX_NUMBER)
        return mn_json_fail(j, "number too long");
    return true;
}

/* The value by Clinger's fast path, when it applies (then exact: one rounding). */
static bool exact_value(const number_text *n, double *out)
{
    if (!n->precise || n->mant >= (1ull << 53) || n->exp10 < -22 || n->exp10 > 22)
        return false;
    const double v = n->exp10 < 0 ? (double)n->mant / exact_pow10[-n->exp10]
                                  : (double)n->mant * exact_pow10[n->exp10];
    *out = n->neg ? -v : v;
    return true;
}

/* The number's text NUL-terminated in buf (scan_number bounded its length). */
static const char *text_copy(const number_text *n, char buf[MN_JSON_MAX_NUMBER + 1])
{
    const size_t len = (size_t)(n->end - n->begin);
    memcpy(buf, n->begin, len);
    buf[len] = '\0';
    return buf;
}

/* Whether a correctly rounded double lies exactly halfway between two floats (or in
 * the float subnormal range): there, converting it again could round differently
 * from strtof on the text (double rounding). Anywhere else it cannot: a float
 * midpoint between the text's value and its double would be a closer double. */
static bool float_ambiguous(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    const unsigned exponent = (unsigned)(bits >> 52) & 0x7ff;
    if (exponent < 1023 - 126) /* below FLT_MIN: zero, or a float subnormal */
        return (bits << 1) != 0;
    /* exactly halfway: the 29 bits a float drops are 1000...0 */
    return (bits & ((1ull << 29) - 1)) == (1ull << 28);
}

/* The common case of a tensor's numbers, without a branch per character:
 * -?(0|[1-9][0-9]{0,6})(\.[0-9]{1,7})? followed by neither a digit nor an exponent,
 * with at least 18 bytes of input left to read 8 at a time. The result is the exact
 * quotient of two exactly represented numbers, as in exact_value. False leaves the
 * number to the general path. A single digit before the point, as in most
 * normalised pixels (-0.424213), needs no load of its own. */
static inline __attribute__((always_inline)) bool number_fast(const char *p, const char *end, double *out, const char **next)
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

/* The general paths, out of line: the fast paths' callers then need no stack frame
 * for a number's copy, nor registers saved for the grammar check. */
static __attribute__((noinline)) bool number_general(mn_json *j, double *out)
{
    number_text n;
    if (!scan_number(j, &n))
        return false;
    double v;
    if (!exact_value(&n, &v)) {
        char buf[MN_JSON_MAX_NUMBER + 1];
        v = strtod(text_copy(&n, buf), NULL);
    }
    if (!isfinite(v))
        return mn_json_fail(j, "number out of range");
    *out = v;
    j->p = n.end;
    return true;
}

static __attribute__((noinline)) bool float_general(mn_json *j, float *out)
{
    number_text n;
    if (!scan_number(j, &n))
        return false;
    double d;
    float f;
    if (exact_value(&n, &d) && !float_ambiguous(d)) {
        f = (float)d;
    } else {
        char buf[MN_JSON_MAX_NUMBER + 1];
        f = strtof(text_copy(&n, buf), NULL);
    }
    if (!isfinite(f))
        return mn_json_fail(j, "number out of FP32 range");
    *out = f;
    j->p = n.end;
    return true;
}

bool mn_json_number(mn_json *j, double *out)
{
    mn_json_ws(j);
    return number_fast(j->p, j->end, out, &j->p) || number_general(j, out);
}

bool mn_json_float(mn_json *j, float *out)
{
    mn_json_ws(j);
    double d;
    /* No double rounding on this path: a float midpoint m = K 2^e (K odd, < 2^25) and a
     * number x = mant / 10^f (f <= 7) that differ differ by at least 10^-f 2^e, far
     * more than half a double's ulp at m (below 2^(e - 28)); so the double is never
     * a midpoint that x is not. And x is 0 or at least 10^-7: never a float subnormal. */
    if (number_fast(j->p, j->end, &d, &j->p)) {
        *out = (float)d; /* below 10^7: always finite */
        return true;
    }
    return float_general(j, out);
}

bool mn_json_uint(mn_json *j, unsigned long long max, unsigned long long *out, bool *in_range)
{
    mn_json_ws(j);
    number_text n;
    if (!scan_number(j, &n))
        return false;
    *in_range = n.integer && !n.neg && n.precise && n.exp10 == 0 && n.mant <= max;
    *out = *in_range ? n.mant : 0;
    j->p = n.end;
    return true;
}
