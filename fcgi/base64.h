/* Base64 (RFC 4648, standard alphabet) and data: URLs, for images sent inside JSON. */
#ifndef FCGI_BASE64_H
#define FCGI_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bound of the decoded size of len base64 characters. */
size_t base64_decoded_max(size_t len);

/* Decodes src[0..len) into out (capacity at least base64_decoded_max(len)). Accepts
 * padded or unpadded input and ignores ASCII whitespace (line breaks of MIME
 * encoders); refuses any other character, misplaced padding and non-zero trailing
 * bits. Returns false on malformed input; *out_len is the decoded length. */
bool base64_decode(const char *src, size_t len, uint8_t *out, size_t *out_len);

/* If s[0..len) is a data: URL ("data:[<mediatype>][;base64],<data>"), points
 * *payload at its data part, sets *is_base64 and returns true. The media type is not
 * looked at: the image decoder sniffs the format from the bytes. */
bool data_url_split(const char *s, size_t len, const char **payload, size_t *payload_len,
                    bool *is_base64);

#endif
