/* libFuzzer target: the safetensors reader and the model loader
 * (mn_st_parse in src/mn_safetensors.c, mn_model_load_memory in src/mn_model.c).
 *
 * Every input goes to both functions as a whole file. An input that starts with '{'
 * is, in addition, taken as a header alone: it is wrapped into a file with its length
 * in front and the data of a whole MNISTNet model (zeros) after it, so that the fuzzer
 * reaches the model checks (tensor set, shapes, metadata) from inputs of a few hundred
 * bytes instead of 1.7 MB. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mn_model.h"
#include "mn_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static mn_params params;
static uint8_t *wrapped;
#define MODEL_DATA_BYTES (MN_NUM_PARAMS * sizeof(float))
#define MAX_WRAPPED_HEADER ((size_t)1 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mn_error err;
    FUZZ_CHECK(mn_params_alloc(&params, &err) == MN_OK);
    wrapped = calloc(1, 8 + MAX_WRAPPED_HEADER + MODEL_DATA_BYTES);
    FUZZ_CHECK(wrapped != NULL);
    return 0;
}

static void check_file(const uint8_t *buf, size_t len)
{
    mn_error err;
    mn_st_file *f = (mn_st_file *)1;
    mn_status st = mn_st_parse(buf, len, &f, &err);
    if (st != MN_OK) {
        FUZZ_CHECK(f == NULL && err.msg[0]);
    } else {
        FUZZ_CHECK(f != NULL);
        size_t n = mn_st_count(f);
        for (size_t i = 0; i < n; i++) {
            const mn_st_tensor *t = mn_st_tensor_at(f, i);
            FUZZ_CHECK(t && t->name && t->ndim >= 0 && t->ndim <= MN_ST_MAX_NDIM);
            FUZZ_CHECK(mn_st_find(f, t->name) == t);
            size_t count = 1;
            for (int d = 0; d < t->ndim; d++)
                count *= t->shape[d];
            FUZZ_CHECK(count == t->count);
            FUZZ_CHECK(t->count == 0 || ((uintptr_t)t->data % 64 == 0));
            FUZZ_CHECK(4 * t->count <= len);
            for (size_t k = 0; k < t->count; k++)
                FUZZ_CHECK(isfinite(t->data[k]));
        }
        FUZZ_CHECK(mn_st_tensor_at(f, n) == NULL);
        const mn_metadata *m = mn_st_metadata(f);
        for (size_t i = 0; i < mn_metadata_count(m); i++)
            FUZZ_CHECK(strlen(mn_metadata_key(m, i)) + strlen(mn_metadata_value(m, i)) < 2048);
        mn_st_free(f);
    }

    mn_metadata meta;
    st = mn_model_load_memory(buf, len, &params, &meta, &err);
    if (st != MN_OK)
        FUZZ_CHECK(err.msg[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_file(data, size);
    if (size > 0 && data[0] == '{' && size <= MAX_WRAPPED_HEADER) {
        static size_t last;
        uint64_t h = size;
        for (int i = 0; i < 8; i++)
            wrapped[i] = (uint8_t)(h >> (8 * i));
        memcpy(wrapped + 8, data, size);
        if (last > size) /* zero what the previous, longer header left */
            memset(wrapped + 8 + size, 0, last - size);
        last = size;
        check_file(wrapped, 8 + size + MODEL_DATA_BYTES);
    }
    return 0;
}
