/* libFuzzer target: the JSON body of POST /predict, {"image": "<base64 or data: URL>"}
 * or {"pixels": [784 numbers]}, through fcgi/predict_json.c, the code the worker runs,
 * with the responder's default --max-body as the decode buffer's size; a decoded
 * image then goes to the image sniffer, as the worker's next step does. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mn_image.h"
#include "predict_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the responder's default --max-body */
#define MAX_BODY ((size_t)8 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *decoded;
    if (!decoded) {
        decoded = malloc(MAX_BODY);
        FUZZ_CHECK(decoded != NULL);
    }
    if (size > MAX_BODY)
        return 0;
    float pixels[MN_IMAGE_PIXELS];
    predict_json pj;
    if (!predict_json_parse((const char *)data, size, decoded, MAX_BODY, pixels, &pj)) {
        /* a refusal names its status, code and reason */
        FUZZ_CHECK(pj.status == 400 || pj.status == 500);
        FUZZ_CHECK(pj.code != NULL && pj.code[0]);
        FUZZ_CHECK(memchr(pj.message, '\0', sizeof pj.message) && pj.message[0]);
        return 0;
    }
    if (pj.have_pixels) {
        for (size_t i = 0; i < MN_IMAGE_PIXELS; i++)
            FUZZ_CHECK(pixels[i] >= 0.0f && pixels[i] <= 255.0f);
    } else {
        FUZZ_CHECK(pj.image_len <= MAX_BODY && pj.image_len <= size);
        (void)mn_image_sniff(decoded, pj.image_len);
    }
    return 0;
}
