/* libFuzzer target: base64 decoding and data: URLs (fcgi/base64.c).
 *
 * Beyond memory safety it checks what the header promises:
 *  - the output never exceeds base64_decoded_max() (the worker's buffer is sized by it);
 *  - accepted input is canonical: re-encoding the output gives the input back, minus
 *    whitespace and padding;
 *  - encoding arbitrary bytes and decoding the result gives the bytes back (padded,
 *    unpadded and with MIME line breaks);
 *  - data_url_split's payload is the tail of its input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes; pad adds '='; every `wrap` characters (0: never) a CRLF. Returns length. */
static size_t encode(const uint8_t *in, size_t n, char *out, bool pad, size_t wrap)
{
    size_t o = 0, col = 0;
#define PUT(c)                                   \
    do {                                         \
        if (wrap && col == wrap) {               \
            out[o++] = '\r';                     \
            out[o++] = '\n';                     \
            col = 0;                             \
        }                                        \
        out[o++] = (c);                          \
        col++;                                   \
    } while (0)
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        PUT(alphabet[v >> 18]);
        PUT(alphabet[(v >> 12) & 63]);
        PUT(alphabet[(v >> 6) & 63]);
        PUT(alphabet[v & 63]);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        PUT(alphabet[v >> 18]);
        PUT(alphabet[(v >> 12) & 63]);
        if (pad) {
            PUT('=');
            PUT('=');
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        PUT(alphabet[v >> 18]);
        PUT(alphabet[(v >> 12) & 63]);
        PUT(alphabet[(v >> 6) & 63]);
        if (pad)
            PUT('=');
    }
#undef PUT
    return o;
}

static void check_decode(const char *src, size_t len)
{
    size_t cap = base64_decoded_max(len);
    uint8_t *out = malloc(cap ? cap : 1);
    FUZZ_CHECK(out != NULL);
    size_t n = (size_t)-1;
    if (base64_decode(src, len, out, &n)) {
        FUZZ_CHECK(n <= cap);
        /* canonical: the input without whitespace and '=' is the unpadded encoding */
        char *stripped = malloc(len + 1);
        char *again = malloc(n / 3 * 4 + 8);
        FUZZ_CHECK(stripped && again);
        size_t s = 0;
        for (size_t i = 0; i < len; i++)
            if (!strchr(" \t\r\n=", src[i]) || src[i] == '\0')
                stripped[s++] = src[i];
        size_t e = encode(out, n, again, false, 0);
        FUZZ_CHECK(e == s && memcmp(again, stripped, s) == 0);
        free(stripped);
        free(again);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_decode(s, size);

    /* round trip of arbitrary bytes, three encodings */
    char *enc = malloc(size / 3 * 4 + 8 + (size / 3 * 4 + 8) / 76 * 2 + 2);
    FUZZ_CHECK(enc != NULL);
    for (int mode = 0; mode < 3; mode++) {
        size_t e = encode(data, size, enc, mode != 1, mode == 2 ? 76 : 0);
        size_t n = 0;
        uint8_t *dec = malloc(base64_decoded_max(e));
        FUZZ_CHECK(dec != NULL);
        FUZZ_CHECK(base64_decode(enc, e, dec, &n));
        FUZZ_CHECK(n == size && memcmp(dec, data, size) == 0);
        free(dec);
    }
    free(enc);

    /* data: URLs */
    const char *payload = NULL;
    size_t payload_len = 0;
    bool is_base64 = false;
    if (data_url_split(s, size, &payload, &payload_len, &is_base64)) {
        FUZZ_CHECK(payload > s && payload + payload_len == s + size);
        if (is_base64)
            check_decode(payload, payload_len);
    }
    return 0;
}
