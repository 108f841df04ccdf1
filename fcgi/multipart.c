#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <stdbool.h>

#include "multipart.h"

enum { MAX_BOUNDARY = 70, MAX_HEADER_LINE = 1024, MAX_HEADERS = 16 };

/* Finds the parameter `key=` in a header value such as `form-data; name="file"`,
 * copying its (unquoted) value into out. */
static bool header_param(const char *value, size_t len, const char *key, char *out,
                         size_t out_size)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        /* start of a parameter: after a ';' and optional whitespace */
        while (i < len && value[i] != ';')
            i++;
        if (i >= len)
            return false;
        i++;
        while (i < len && (value[i] == ' ' || value[i] == '\t'))
            i++;
        if (len - i > klen && strncasecmp(value + i, key, klen) == 0 && value[i + klen] == '=') {
            i += klen + 1;
            size_t n = 0;
            if (i < len && value[i] == '"') {
                for (i++; i < len && value[i] != '"'; i++) {
                    if (value[i] == '\\' && i + 1 < len)
                        i++;
                    if (n + 1 >= out_size)
                        return false;
                    out[n++] = value[i];
                }
                if (i >= len)
                    return false; /* unterminated quoted string */
            } else {
                for (; i < len && value[i] != ';' && value[i] != ' ' && value[i] != '\t'; i++) {
                    if (n + 1 >= out_size)
                        return false;
                    out[n++] = value[i];
                }
            }
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

multipart_status multipart_boundary(const char *content_type, char *out, size_t out_size)
{
    if (!content_type)
        return MULTIPART_NO_BOUNDARY;
    size_t len = strlen(content_type);
    char value[MAX_BOUNDARY + 2];
    if (!header_param(content_type, len, "boundary", value, sizeof value))
        return MULTIPART_NO_BOUNDARY;
    size_t n = strlen(value);
    if (n < 1 || n > MAX_BOUNDARY || n + 1 > out_size || value[n - 1] == ' ')
        return MULTIPART_NO_BOUNDARY;
    for (size_t i = 0; i < n; i++) {
        /* RFC 2046 bchars */
        unsigned char c = (unsigned char)value[i];
        if (!(isalnum(c) || strchr("'()+_,-./:=? ", c)))
            return MULTIPART_NO_BOUNDARY;
    }
    memcpy(out, value, n + 1);
    return MULTIPART_OK;
}

static const char *find(const char *hay, size_t hay_len, const char *needle, size_t nlen)
{
    return nlen <= hay_len ? memmem(hay, hay_len, needle, nlen) : NULL;
}

multipart_status multipart_find(const char *body, size_t body_len, const char *boundary,
                                const char *name, const char **data, size_t *len)
{
    char delim[MAX_BOUNDARY + 5]; /* "\r\n--" + boundary */
    size_t blen = strlen(boundary);
    if (blen < 1 || blen > MAX_BOUNDARY)
        return MULTIPART_NO_BOUNDARY;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    const size_t dlen = blen + 4;

    /* the first delimiter may open the body (no preceding CRLF) or follow a preamble */
    const char *p;
    if (body_len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((p = find(body, body_len, delim, dlen)) != NULL)
        p += dlen;
    else
        return MULTIPART_MALFORMED;

    const char *end = body + body_len;
    const char *found = NULL;
    size_t found_len = 0;
    for (;;) {
        /* after a delimiter: "--" closes the body, else transport padding and CRLF */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return MULTIPART_MALFORMED;
        p += 2;

        /* headers, up to an empty line */
        char part_name[256] = "";
        bool has_disposition = false;
        for (int h = 0;; h++) {
            const char *eol = find(p, (size_t)(end - p), "\r\n", 2);
            if (!eol || h > MAX_HEADERS || eol - p > MAX_HEADER_LINE)
                return MULTIPART_MALFORMED;
            if (eol == p) {
                p += 2;
                break;
            }
            const char *colon = memchr(p, ':', (size_t)(eol - p));
            if (!colon || colon == p)
                return MULTIPART_MALFORMED;
            static const char cd[] = "Content-Disposition";
            if ((size_t)(colon - p) == sizeof cd - 1 && strncasecmp(p, cd, sizeof cd - 1) == 0) {
                const char *v = colon + 1;
                size_t vlen = (size_t)(eol - v);
                while (vlen && (*v == ' ' || *v == '\t'))
                    v++, vlen--;
                if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0 || has_disposition)
                    return MULTIPART_MALFORMED;
                has_disposition = true;
                if (!header_param(v, vlen, "name", part_name, sizeof part_name))
                    return MULTIPART_MALFORMED;
            }
            p = eol + 2;
        }
        if (!has_disposition)
            return MULTIPART_MALFORMED;

        /* content, up to the next delimiter */
        const char *next = find(p, (size_t)(end - p), delim, dlen);
        if (!next)
            return MULTIPART_MALFORMED; /* truncated: no closing delimiter */
        if (!found && strcmp(part_name, name) == 0) {
            found = p;
            found_len = (size_t)(next - p);
        }
        p = next + dlen;
    }
    if (!found)
        return MULTIPART_NOT_FOUND;
    *data = found;
    *len = found_len;
    return MULTIPART_OK;
}

const char *multipart_status_message(multipart_status status)
{
    switch (status) {
    case MULTIPART_OK: return "ok";
    case MULTIPART_NO_BOUNDARY: return "multipart/form-data without a valid boundary parameter";
    case MULTIPART_MALFORMED: return "malformed multipart body (delimiters or part headers)";
    case MULTIPART_NOT_FOUND: return "no part named \"file\" in the multipart body";
    }
    return "multipart error";
}
