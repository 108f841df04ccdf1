/* multipart/form-data (RFC 7578) parsing, strict and allocation-free: finds one named
 * part in a body held in memory and points into it. */
#ifndef FCGI_MULTIPART_H
#define FCGI_MULTIPART_H

#include <stddef.h>

typedef enum {
    MULTIPART_OK = 0,
    MULTIPART_NO_BOUNDARY,   /* the Content-Type has no usable boundary parameter */
    MULTIPART_MALFORMED,     /* delimiters, headers or the closing delimiter are wrong */
    MULTIPART_NOT_FOUND      /* well-formed, but no part of that name */
} multipart_status;

/* Extracts the boundary from a Content-Type value such as
 * `multipart/form-data; boundary="abc"` into out (1..70 characters, RFC 2046). */
multipart_status multipart_boundary(const char *content_type, char *out, size_t out_size);

/* Finds the part whose Content-Disposition is `form-data; name="<name>"` and points
 * data and len at its content. Checks the whole body's structure, including the
 * closing delimiter, so a truncated upload is refused rather than half-used. */
multipart_status multipart_find(const char *body, size_t body_len, const char *boundary,
                                const char *name, const char **data, size_t *len);

const char *multipart_status_message(multipart_status status);

#endif
