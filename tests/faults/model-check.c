/* Loads model files as mnist-fcgi does (mn_model_load: every check of the format) and
 * prints, for each, "OK <SHA-256 of the parameters> <created>" or "BAD <reason>". The
 * parameters' hash identifies the weights whatever the metadata (creation time,
 * training seconds), so a fault test can tell "the old model" from "the new one".
 *
 *   model-check FILE...     exit status: 0 if every file loaded, 1 otherwise
 *   model-check --copy IN OUT NOTE
 *                           loads IN and publishes it as OUT (atomically, as the trainer
 *                           does) with the metadata "note" set to NOTE: the same weights
 *                           in a file of its own, for model replacement tests */
#include <stdio.h>
#include <string.h>

#include "mn_model.h"
#include "mn_sha256.h"

int main(int argc, char **argv)
{
    int bad = 0;
    mn_params p;
    mn_error err;
    if (mn_params_alloc(&p, &err) != MN_OK) {
        fprintf(stderr, "model-check: %s\n", err.msg);
        return 2;
    }
    if (argc == 5 && strcmp(argv[1], "--copy") == 0) {
        mn_metadata meta;
        if (mn_model_load(argv[2], &p, &meta, &err) != MN_OK ||
            mn_metadata_set(&meta, "note", argv[4], &err) != MN_OK ||
            mn_model_save(argv[3], &p, &meta, &err) != MN_OK) {
            fprintf(stderr, "model-check: %s\n", err.msg);
            bad = 1;
        }
        mn_params_free(&p);
        return bad;
    }
    for (int i = 1; i < argc; i++) {
        mn_metadata meta;
        if (mn_model_load(argv[i], &p, &meta, &err) != MN_OK) {
            printf("BAD %s\n", err.msg);
            bad = 1;
            continue;
        }
        char hex[MN_SHA256_HEX_SIZE];
        mn_sha256_buffer_hex(p.memory, MN_NUM_PARAMS * sizeof(float), hex);
        const char *created = mn_metadata_get(&meta, "created");
        printf("OK %s %s\n", hex, created ? created : "-");
    }
    mn_params_free(&p);
    return bad;
}
