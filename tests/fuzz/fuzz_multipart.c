/* libFuzzer target: multipart/form-data parsing (fcgi/multipart.c), as /predict uses it.
 *
 * Input: "<Content-Type>\n<body>". Without a newline in the first 256 bytes the whole
 * input is the body and the Content-Type is a fixed valid one, so that the fuzzer can
 * work on bodies and on Content-Type headers alike. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "common.h"
#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ct[257];
    const char *body = (const char *)data;
    size_t body_len = size;
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (nl) {
        size_t n = (size_t)(nl - data);
        memcpy(ct, data, n);
        ct[n] = '\0';
        body = (const char *)nl + 1;
        body_len = size - n - 1;
    } else {
        strcpy(ct, "multipart/form-data; boundary=----fuzzBoundary");
    }

    char boundary[80];
    memset(boundary, 0x5a, sizeof boundary);
    multipart_status st = multipart_boundary(ct, boundary, sizeof boundary);
    FUZZ_CHECK(multipart_status_message(st) != NULL);
    if (st != MULTIPART_OK)
        return 0;
    size_t blen = strnlen(boundary, sizeof boundary);
    FUZZ_CHECK(blen >= 1 && blen <= 70);

    /* the same as predict.c: the part named "file"; also another name, so that the
     * not-found path and the skipping of other parts run too */
    static const char *const names[] = {"file", "other"};
    for (size_t k = 0; k < 2; k++) {
        const char *part = NULL;
        size_t part_len = 0;
        st = multipart_find(body, body_len, boundary, names[k], &part, &part_len);
        FUZZ_CHECK(multipart_status_message(st) != NULL);
        if (st == MULTIPART_OK) {
            FUZZ_CHECK(part >= body && part <= body + body_len);
            FUZZ_CHECK(part_len <= (size_t)(body + body_len - part));
            /* touch every byte of the part: ASan reports any pointer outside the body */
            volatile unsigned sum = 0;
            for (size_t i = 0; i < part_len; i++)
                sum += (unsigned char)part[i];
            (void)sum;
        }
    }
    return 0;
}
