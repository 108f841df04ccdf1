/* The JSON form of POST /predict: {"image": "<base64 or data: URL>"} or
 * {"pixels": [784 numbers 0..255]}. A pure function of the body, apart from the
 * FastCGI worker, so that the fuzz target runs exactly this code. */
#ifndef FCGI_PREDICT_JSON_H
#define FCGI_PREDICT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn_net.h"

typedef struct predict_json {
    /* on success: either the decoded image bytes (in the caller's buffer) ... */
    size_t image_len;
    bool have_pixels; /* ... or the 784 pixel values (0..255) in pixels[] */
    /* on failure: the HTTP status (400, or 500 when out of memory), an error code
     * for the JSON answer and a message naming the problem */
    int status;
    const char *code;
    char message[160];
} predict_json;

/* Parses body[0..len) strictly (src/mn_json.h: RFC 8259 exactly, depth 8, nothing
 * but whitespace after the object; malformed JSON is always bad_json, before any
 * member is looked at). A base64 image is decoded into decoded, which holds
 * max_decoded bytes; an image that could decode to more is refused. Pixels go to
 * pixels[0..MN_IMAGE_PIXELS). Returns false with out->status, code and message set. */
bool predict_json_parse(const char *body, size_t len, uint8_t *decoded, size_t max_decoded,
                        float pixels[MN_IMAGE_PIXELS], predict_json *out);

#endif
