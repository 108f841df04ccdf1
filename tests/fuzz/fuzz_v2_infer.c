/* libFuzzer target: the v2 (Open Inference Protocol) infer request parser,
 * fcgi/v2_request.c on top of the strict reader src/mn_json.c.
 *
 * The body is the input, exactly as the responder hands it over (not NUL-terminated);
 * the float buffer has room for max_batch images, as in the worker. An input that
 * starts with byte 0x01 carries the binary tensor data extension: the next two bytes
 * (little-endian) are the Inference-Header-Content-Length, the rest is the body. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "mn_net.h"
#include "v2_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_BATCH = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float input[MAX_BATCH * MN_IMAGE_PIXELS];
    char msg[256];
    v2_request req;
    const char *body = (const char *)data;
    long long header_len = -1;
    if (size >= 3 && data[0] == 0x01) {
        header_len = data[1] | data[2] << 8;
        body += 3;
        size -= 3;
    }
    memset(msg, 0x5a, sizeof msg);
    bool ok = v2_parse_infer(body, size, header_len, MAX_BATCH, input, &req, msg, sizeof msg);
    FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    if (!ok) {
        FUZZ_CHECK(msg[0] != '\0'); /* every refusal says why */
        return 0;
    }
    FUZZ_CHECK(req.batch >= 1 && req.batch <= MAX_BATCH);
    if (req.id) {
        FUZZ_CHECK(req.id >= body && req.id + req.id_len <= body + size);
        FUZZ_CHECK(req.id_len <= 256);
    }
    FUZZ_CHECK(header_len <= (long long)size);
    /* the accepted values are finite numbers, from text or binary */
    for (size_t i = 0; i < (size_t)req.batch * MN_IMAGE_PIXELS; i++)
        FUZZ_CHECK(isfinite(input[i]));
    return 0;
}
