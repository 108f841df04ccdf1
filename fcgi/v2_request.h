/* Parsing of a v2 infer request body (Open Inference Protocol):
 *   {"id": "...", "parameters": {...}, "inputs": [{"name": "input", "datatype": "FP32",
 *    "shape": [N,1,28,28] or [N,784], "data": [flat or nested numbers]}],
 *    "outputs": [{"name": "probabilities"}]}
 * Numbers go straight into the caller's float buffer. Unknown members are skipped
 * (the protocol's extensions), duplicates of known ones refused. */
#ifndef FCGI_V2_REQUEST_H
#define FCGI_V2_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct v2_request {
    const char *id;          /* the id's escaped JSON contents, inside the body; or NULL */
    size_t id_len;
    int batch;               /* N */
    bool want_probabilities; /* no "outputs", or "probabilities" among them */
} v2_request;

/* Parses body[0..len). data has room for max_batch * 784 floats. Returns true, or
 * false with a one-line reason in msg (every failure is the client's: 400). */
bool v2_parse_infer(const char *body, size_t len, int max_batch, float *data, v2_request *req,
                    char *msg, size_t msg_size);

#endif
