/* libFuzzer target: the v2 (Open Inference Protocol) infer request parser,
 * fcgi/v2_request.c on top of the strict scanner fcgi/json_scan.c.
 *
 * The body is the input, exactly as the responder hands it over (not NUL-terminated);
 * the float buffer has room for max_batch images, as in the worker. */
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
    memset(msg, 0x5a, sizeof msg);
    bool ok = v2_parse_infer(body, size, MAX_BATCH, input, &req, msg, sizeof msg);
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
    /* the accepted values are finite numbers (the scanner refuses anything else) */
    for (size_t i = 0; i < (size_t)req.batch * MN_IMAGE_PIXELS; i++)
        FUZZ_CHECK(!isnan(input[i]));
    return 0;
}
