/* libFuzzer target: the IDX reader (mn_idx_parse_images, mn_idx_parse_labels in
 * src/mn_idx.c), raw and gzip-compressed, for the trainer's input files. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "common.h"
#include "mn_idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_error err;
    mn_idx_images im;
    if (mn_idx_parse_images(data, size, "<fuzz input>", &im, &err) == MN_OK) {
        FUZZ_CHECK(im.rows > 0 && im.cols > 0 && im.pixels != NULL);
        FUZZ_CHECK(im.count * im.rows * im.cols <= MN_IDX_MAX_BYTES);
        FUZZ_CHECK(strlen(im.sha256) == MN_SHA256_HEX_SIZE - 1);
        volatile unsigned sum = 0;
        for (size_t i = 0; i < im.count * im.rows * im.cols; i++)
            sum += im.pixels[i];
        (void)sum;
        mn_idx_images_free(&im);
    } else {
        FUZZ_CHECK(im.pixels == NULL && im.count == 0 && err.msg[0]);
    }
    mn_idx_images_free(&im); /* on a zeroed structure: allowed */

    mn_idx_labels lb;
    if (mn_idx_parse_labels(data, size, "<fuzz input>", &lb, &err) == MN_OK) {
        for (size_t i = 0; i < lb.count; i++)
            FUZZ_CHECK(lb.labels[i] <= 9);
        mn_idx_labels_free(&lb);
    } else {
        FUZZ_CHECK(lb.labels == NULL && lb.count == 0 && err.msg[0]);
    }
    return 0;
}
