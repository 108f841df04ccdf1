/* Parsing of a v2 infer request body (Open Inference Protocol):
 *   {"id": "...", "parameters": {...}, "inputs": [{"name": "input", "datatype": "FP32",
 *    "shape": [N,1,28,28] or [N,784], "data": [flat or nested numbers]}],
 *    "outputs": [{"name": "probabilities"}]}
 * Numbers go straight into the caller's float buffer. Unknown members are skipped
 * (the protocol's extensions), duplicates of known ones refused.
 *
 * The binary tensor data extension (KServe's and Triton's, which tritonclient uses by
 * default): with the Inference-Header-Content-Length header the JSON is only the
 * body's first part; an input with "parameters": {"binary_data_size": B} has no
 * "data" and its B bytes of little-endian FP32 follow the JSON. "binary_data": true
 * on an output, or "binary_data_output": true in the request's parameters, asks for
 * the probabilities the same way. */
#ifndef FCGI_V2_REQUEST_H
#define FCGI_V2_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct v2_request {
    const char *id;          /* the id's escaped JSON contents, inside the body; or NULL */
    size_t id_len;
    int batch;               /* N */
    bool want_probabilities; /* no "outputs", or "probabilities" among them */
    bool binary_output;      /* the probabilities go as binary data after the JSON */
} v2_request;

/* Parses body[0..len), whose JSON part is its first header_len bytes (the
 * Inference-Header-Content-Length header), or all of it when header_len is -1. data
 * has room for max_batch * 784 floats. Returns true, or false with a one-line reason
 * in msg (every failure is the client's: 400). */
bool v2_parse_infer(const char *body, size_t len, long long header_len, int max_batch,
                    float *data, v2_request *req, char *msg, size_t msg_size);

#endif
