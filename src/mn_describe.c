#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mn_describe.h"

const char *mn_quote(const char *s, char buf[static MN_QUOTE_SIZE])
{
    const size_t n = strlen(s);
    size_t k = n;
    if (k > MN_QUOTE_MAX) {
        k = MN_QUOTE_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--; /* do not cut a UTF-8 sequence */
    }
    for (size_t i = 0; i < k; i++) {
        const unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (k < n)
        memcpy(buf + k, "...", 4);
    else
        buf[k] = '\0';
    return buf;
}

void mn_format_shape(const size_t *shape, int ndim, char *buf, size_t cap)
{
    int w = snprintf(buf, cap, "[");
    size_t used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < ndim && used < cap; i++) {
        w = snprintf(buf + used, cap - used, "%s%zu", i ? ", " : "", shape[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}
