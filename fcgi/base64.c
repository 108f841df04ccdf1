#include "config.h"

#include <string.h>
#include <strings.h>

#include "base64.h"

size_t base64_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}

static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool base64_decode(const char *src, size_t len, uint8_t *out, size_t *out_len)
{
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0, chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = sextet(c);
        if (v < 0 || pad)
            return false; /* a stray character, or data after padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        chars++;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* a lone sextet cannot encode a byte; padding must complete the last quantum;
     * the unused low bits must be zero (canonical encoding) */
    if (chars % 4 == 1 || pad > 2 || (pad && (chars + (size_t)pad) % 4 != 0))
        return false;
    if (bits && (acc & ((1u << bits) - 1)))
        return false;
    *out_len = n;
    return true;
}

bool data_url_split(const char *s, size_t len, const char **payload, size_t *payload_len,
                    bool *is_base64)
{
    if (len < 5 || strncasecmp(s, "data:", 5) != 0)
        return false;
    const char *comma = memchr(s + 5, ',', len - 5);
    if (!comma)
        return false;
    const char *meta = s + 5;
    size_t meta_len = (size_t)(comma - meta);
    *is_base64 = meta_len >= 7 && strncasecmp(comma - 7, ";base64", 7) == 0;
    *payload = comma + 1;
    *payload_len = len - (size_t)(comma + 1 - s);
    return true;
}
