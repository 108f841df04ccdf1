/* Writes the seed files of the safetensors fuzz target into DIR, with the project's
 * own writers: a whole MNISTNet model (random initial weights and metadata, as
 * mnist-train publishes it), its header alone (for the target's header mode), and
 * small generic safetensors files (a scalar, an empty tensor, several tensors with
 * and without metadata).
 *
 *   seed_model DIR */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_model.h"
#include "mn_safetensors.h"

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

static void must(mn_status st, const mn_error *err)
{
    if (st != MN_OK) {
        fprintf(stderr, "seed_model: %s\n", err->msg);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seed_model DIR\n");
        return 64;
    }
    const char *dir = argv[1];
    mn_error err;
    mn_params p;
    must(mn_params_alloc(&p, &err), &err);
    mn_params_init(&p, 1);
    mn_metadata meta;
    mn_metadata_init(&meta);
    must(mn_metadata_set(&meta, "architecture", "MNISTNet", &err), &err);
    must(mn_metadata_set(&meta, "epochs", "5", &err), &err);
    must(mn_metadata_set(&meta, "test_accuracy", "99.33", &err), &err);
    must(mn_metadata_set(&meta, "created", "2026-11-28T15:39:49Z", &err), &err);
    uint8_t *buf;
    size_t len;
    must(mn_model_serialize(&p, &meta, &buf, &len, &err), &err);
    write_file(dir, "model.safetensors", buf, len);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)buf[i] << (8 * i);
    write_file(dir, "model-header.json", buf + 8, (size_t)hlen);
    free(buf);
    must(mn_model_serialize(&p, NULL, &buf, &len, &err), &err);
    uint64_t hlen2 = 0;
    for (int i = 0; i < 8; i++)
        hlen2 |= (uint64_t)buf[i] << (8 * i);
    write_file(dir, "model-header-nometa.json", buf + 8, (size_t)hlen2);
    free(buf);
    mn_params_free(&p);

    static const float v[12] = {0, 1, -1, 0.5f, 3.25f, -7, 1e-3f, 1e30f, -0.0f, 2, 4, 8};
    mn_st_tensor_view scalar = {.name = "s", .ndim = 0, .data = v};
    mn_st_tensor_view empty = {.name = "empty", .ndim = 1, .shape = {0}, .data = v};
    mn_st_tensor_view a = {.name = "a.weight", .ndim = 2, .shape = {3, 2}, .data = v};
    mn_st_tensor_view b = {.name = "b", .ndim = 3, .shape = {1, 2, 3}, .data = v + 6};
    mn_st_tensor_view all[] = {a, b, scalar, empty};
    mn_metadata small;
    mn_metadata_init(&small);
    must(mn_metadata_set(&small, "format", "pt", &err), &err);
    must(mn_metadata_set(&small, "note", "caf\xc3\xa9 \"quoted\" \\ \xe2\x82\xac", &err), &err);
    struct { const char *name; const mn_st_tensor_view *t; size_t n; const mn_metadata *m; } files[] = {
        {"scalar.safetensors", &scalar, 1, NULL},
        {"empty.safetensors", &empty, 1, NULL},
        {"two.safetensors", all, 2, &small},
        {"all.safetensors", all, 4, &small},
        {"none.safetensors", all, 0, &small},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        must(mn_st_serialize(files[i].t, files[i].n, files[i].m, &buf, &len, &err), &err);
        write_file(dir, files[i].name, buf, len);
        free(buf);
    }
    return 0;
}
