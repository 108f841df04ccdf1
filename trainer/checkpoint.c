#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "mn_safetensors.h"

enum { NT = MN_NUM_TENSORS, HISTORY_COLS = 6 };
static const char FORMAT[] = "mnist-train checkpoint 1";

static void tensor_name(char *buf, size_t size, const char *prefix, int t)
{
    snprintf(buf, size, "%s%s", prefix, mn_net_tensors[t].name);
}

mn_status checkpoint_save(const char *path, const run_settings *settings,
                          const train_state *state, const mn_params *params,
                          const mn_adam *adam, mn_error *err)
{
    static const char *const prefixes[3] = {"param.", "adam.m.", "adam.v."};
    char names[3 * NT][64];
    mn_st_tensor_view views[3 * NT + 1];
    const float *sources[3] = {params->memory, adam->m, adam->v};
    size_t n = 0;
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < NT; t++, n++) {
            const mn_tensor_spec *spec = &mn_net_tensors[t];
            tensor_name(names[n], sizeof names[n], prefixes[k], t);
            views[n] = (mn_st_tensor_view){.name = names[n], .ndim = spec->ndim,
                                           .data = sources[k] + spec->offset};
            for (int d = 0; d < spec->ndim; d++)
                views[n].shape[d] = (size_t)spec->shape[d];
        }
    float history[MAX_EPOCHS][HISTORY_COLS];
    for (int e = 0; e < state->history_len; e++) {
        const epoch_record *r = &state->history[e];
        const float row[HISTORY_COLS] = {r->train_loss, r->train_accuracy, r->test_loss,
                                         r->test_accuracy, r->seconds, r->images_per_second};
        memcpy(history[e], row, sizeof row);
    }
    views[n++] = (mn_st_tensor_view){.name = "history", .ndim = 2,
                                     .shape = {(size_t)state->history_len, HISTORY_COLS},
                                     .data = &history[0][0]};

    mn_metadata meta;
    mn_metadata_init(&meta);
    const mn_rng *r = &state->epoch_rng;
    mn_status st = MN_OK;
    if (!st) st = mn_metadata_set(&meta, "format", FORMAT, err);
    if (!st) st = mn_metadata_setf(&meta, err, "seed", "%" PRIu64, settings->seed);
    if (!st) st = mn_metadata_setf(&meta, err, "batch_size", "%d", settings->batch_size);
    if (!st) st = mn_metadata_setf(&meta, err, "lr", "%.9g", (double)settings->lr);
    if (!st) st = mn_metadata_setf(&meta, err, "dropout", "%.9g", (double)settings->dropout);
    if (!st) st = mn_metadata_set(&meta, "deskew", settings->deskew ? "1" : "0", err);
    if (!st) st = mn_metadata_setf(&meta, err, "train_count", "%ld", settings->train_count);
    if (!st) st = mn_metadata_set(&meta, "data_sha256", settings->data_sha256, err);
    if (!st) st = mn_metadata_setf(&meta, err, "epochs", "%d", settings->epochs);
    if (!st) st = mn_metadata_set(&meta, "schedule", settings->cosine ? "cosine" : "constant", err);
    if (!st) st = mn_metadata_set(&meta, "augment", settings->augment, err);
    if (!st) st = mn_metadata_setf(&meta, err, "epoch", "%d", state->epoch);
    if (!st) st = mn_metadata_setf(&meta, err, "batch", "%d", state->batch);
    if (!st) st = mn_metadata_setf(&meta, err, "adam_step", "%" PRIu64, adam->step);
    if (!st) st = mn_metadata_setf(&meta, err, "rng", "%016" PRIx64 " %016" PRIx64 " %016" PRIx64
                                   " %016" PRIx64, r->s[0], r->s[1], r->s[2], r->s[3]);
    if (!st) st = mn_metadata_setf(&meta, err, "loss_sum", "%.17g", state->loss_sum);
    if (!st) st = mn_metadata_setf(&meta, err, "correct", "%ld", state->correct);
    if (!st) st = mn_metadata_setf(&meta, err, "seen", "%ld", state->seen);
    if (!st) st = mn_metadata_setf(&meta, err, "shapes", "%ld", state->shapes);
    if (!st) st = mn_metadata_setf(&meta, err, "seconds", "%.6f", state->seconds);
    if (st)
        return st;
    return mn_st_write(path, views, n, &meta, err);
}

/* Parses a whole-string number from metadata. */
static bool meta_number(const mn_metadata *meta, const char *key, double *out)
{
    const char *v = mn_metadata_get(meta, key);
    if (!v || !*v)
        return false;
    char *end;
    *out = strtod(v, &end);
    return *end == '\0';
}

static bool meta_u64(const mn_metadata *meta, const char *key, uint64_t *out)
{
    const char *v = mn_metadata_get(meta, key);
    if (!v || !*v || *v == '-')
        return false;
    char *end;
    *out = strtoull(v, &end, 10);
    return *end == '\0';
}

/* The settings first: a checkpoint of another run is not an error, just not ours. */
static mn_status check_settings(const mn_metadata *meta, const char *path,
                                const run_settings *settings, mn_error *err)
{
    const char *format = mn_metadata_get(meta, "format");
    if (!format || strcmp(format, FORMAT) != 0)
        return mn_fail(err, MN_ERR_FORMAT, "%s: not a checkpoint of this trainer", path);
    uint64_t seed;
    double batch_size, lr, dropout = MN_FC_DROPOUT, train_count, epochs;
    const char *sha = mn_metadata_get(meta, "data_sha256");
    const char *schedule = mn_metadata_get(meta, "schedule");
    const char *augment = mn_metadata_get(meta, "augment");
    if (!augment)
        augment = "none"; /* a trainer before --augment trained on plain images */
    const char *deskew = mn_metadata_get(meta, "deskew");
    if (!deskew)
        deskew = "0"; /* nor did one before --deskew deskew */
    if (!meta_u64(meta, "seed", &seed) || !meta_number(meta, "batch_size", &batch_size) ||
        !meta_number(meta, "lr", &lr) || !meta_number(meta, "train_count", &train_count) ||
        !meta_number(meta, "epochs", &epochs) || !sha || !schedule)
        return mn_fail(err, MN_ERR_FORMAT, "%s: settings missing from the metadata", path);
    /* a trainer before --dropout trained with MNISTNet's */
    if (mn_metadata_get(meta, "dropout") && !meta_number(meta, "dropout", &dropout))
        return mn_fail(err, MN_ERR_FORMAT, "%s: bad dropout in the metadata", path);
    const char *differs = seed != settings->seed ? "seed"
                        : (int)batch_size != settings->batch_size ? "batch size"
                        : (float)lr != settings->lr ? "learning rate"
                        : (float)dropout != settings->dropout ? "dropout"
                        : strcmp(deskew, settings->deskew ? "1" : "0") ? "deskew setting"
                        : (long)train_count != settings->train_count ? "number of training images"
                        : strcmp(sha, settings->data_sha256) ? "data set"
                        : (int)epochs != settings->epochs ? "number of epochs"
                        : strcmp(schedule, settings->cosine ? "cosine" : "constant") ? "schedule"
                        : strcmp(augment, settings->augment) ? "augmentation"
                        : NULL;
    if (differs)
        return mn_fail(err, MN_ERR_ARG, "%s was made with a different %s", path, differs);
    return MN_OK;
}

/* Every tensor of the parameters and of Adam's moments, each of its exact size. */
static mn_status find_tensors(const mn_st_file *f, const char *path,
                              const mn_st_tensor *found[3][NT], mn_error *err)
{
    static const char *const prefixes[3] = {"param.", "adam.m.", "adam.v."};
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < NT; t++) {
            char name[64];
            tensor_name(name, sizeof name, prefixes[k], t);
            found[k][t] = mn_st_find(f, name);
            if (!found[k][t] || found[k][t]->count != mn_net_tensors[t].count)
                return mn_fail(err, MN_ERR_FORMAT, "%s: tensor %s %s", path, name,
                               found[k][t] ? "has the wrong size" : "is missing");
        }
    return MN_OK;
}

/* The position in the run, read into *out (the caller's state is not touched). */
static mn_status read_position(const mn_st_file *f, const char *path, train_state *out,
                               uint64_t *adam_step, mn_error *err)
{
    const mn_metadata *meta = mn_st_metadata(f);
    const mn_st_tensor *history = mn_st_find(f, "history");
    double epoch, batch, loss_sum, correct, seen, seconds, shapes = 0.0;
    uint64_t rng[4];
    const char *rng_text = mn_metadata_get(meta, "rng");
    if (!history || history->ndim != 2 || history->shape[1] != HISTORY_COLS ||
        history->shape[0] > MAX_EPOCHS || !meta_number(meta, "epoch", &epoch) ||
        !meta_number(meta, "batch", &batch) || !meta_u64(meta, "adam_step", adam_step) ||
        !meta_number(meta, "loss_sum", &loss_sum) || !meta_number(meta, "correct", &correct) ||
        !meta_number(meta, "seen", &seen) || !meta_number(meta, "seconds", &seconds) || !rng_text ||
        sscanf(rng_text, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &rng[0], &rng[1],
               &rng[2], &rng[3]) != 4 || epoch < 0 || batch < 0 ||
        (size_t)epoch != history->shape[0])
        return mn_fail(err, MN_ERR_FORMAT, "%s: incomplete training state", path);
    memset(out, 0, sizeof *out);
    out->epoch = (int)epoch;
    out->batch = (int)batch;
    memcpy(out->epoch_rng.s, rng, sizeof rng);
    out->loss_sum = loss_sum;
    out->correct = (long)correct;
    out->seen = (long)seen;
    /* absent from the checkpoints of trainers before --shapes, which trained on none */
    if (mn_metadata_get(meta, "shapes") && !meta_number(meta, "shapes", &shapes))
        return mn_fail(err, MN_ERR_FORMAT, "%s: incomplete training state", path);
    out->shapes = (long)shapes;
    out->seconds = seconds;
    out->history_len = (int)history->shape[0];
    for (int e = 0; e < out->history_len; e++) {
        const float *row = history->data + (size_t)e * HISTORY_COLS;
        out->history[e] = (epoch_record){row[0], row[1], row[2], row[3], row[4], row[5]};
    }
    return MN_OK;
}

static void copy_tensors(const mn_st_tensor *found[3][NT], mn_params *params, mn_adam *adam)
{
    float *dst[3] = {params->memory, adam->m, adam->v};
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < NT; t++)
            memcpy(dst[k] + mn_net_tensors[t].offset, found[k][t]->data,
                   mn_net_tensors[t].count * sizeof(float));
}

mn_status checkpoint_load(const char *path, const run_settings *settings,
                          train_state *state, mn_params *params, mn_adam *adam,
                          mn_error *err)
{
    mn_st_file *f;
    mn_status st = mn_st_read(path, (size_t)64 << 20, &f, err);
    if (st)
        return st;
    /* everything is checked before anything is copied */
    const mn_st_tensor *found[3][NT];
    train_state loaded;
    uint64_t adam_step = 0;
    st = check_settings(mn_st_metadata(f), path, settings, err);
    if (!st)
        st = find_tensors(f, path, found, err);
    if (!st)
        st = read_position(f, path, &loaded, &adam_step, err);
    if (!st) {
        copy_tensors(found, params, adam);
        adam->step = adam_step;
        *state = loaded;
    }
    mn_st_free(f);
    return st;
}
