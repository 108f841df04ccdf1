/* Tests for the trainer's checkpoints (trainer/checkpoint.c): a saved run loads back
 * bit for bit; a truncated, corrupted, foreign or mismatched checkpoint is refused with
 * its reason, and the caller's state, parameters and Adam moments stay as they were. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "test_support.h"

typedef struct run {
    run_settings settings;
    train_state state;
    mn_params params;
    mn_adam adam;
} run;

typedef struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 32];
    run saved;      /* what was written to path */
    run target;     /* what the load writes into; starts as a recognisable other run */
    run before;     /* a copy of target, to prove a refused load changed nothing */
} fixture;

static void run_alloc(run *r)
{
    assert_int_equal(mn_params_alloc(&r->params, NULL), MN_OK);
    assert_int_equal(mn_adam_init(&r->adam, MN_NUM_PARAMS, 1e-3f, NULL), MN_OK);
}

static void run_free(run *r)
{
    mn_params_free(&r->params);
    mn_adam_free(&r->adam);
}

/* A run in the middle of its third epoch, every field derived from seed. */
static void run_fill(run *r, uint64_t seed)
{
    r->settings = (run_settings){.seed = seed, .batch_size = 64, .lr = 2e-3f, .dropout = 0.5f,
                                 .train_count = 60000, .epochs = 5, .cosine = true};
    snprintf(r->settings.data_sha256, sizeof r->settings.data_sha256, "%064x", 0xabc);
    snprintf(r->settings.augment, sizeof r->settings.augment, "stroke=1");
    mn_params_init(&r->params, seed);
    mn_rng rng;
    mn_rng_seed(&rng, seed + 1);
    for (size_t i = 0; i < MN_NUM_PARAMS; i++) {
        r->adam.m[i] = mn_rng_uniform(&rng) - 0.5f;
        r->adam.v[i] = mn_rng_uniform(&rng);
    }
    r->adam.step = 2 * 938 + 17 + seed;
    memset(&r->state, 0, sizeof r->state);
    r->state.epoch = 2;
    r->state.batch = 17;
    mn_rng_seed(&r->state.epoch_rng, seed + 2);
    r->state.loss_sum = 0.1234567890123 * (double)(seed + 1);
    r->state.correct = 1000 + (long)seed;
    r->state.seen = 1088;
    r->state.shapes = 31 + (long)seed;
    r->state.seconds = 12.5;
    r->state.history_len = 2;
    for (int e = 0; e < 2; e++)
        r->state.history[e] = (epoch_record){0.5f / (float)(e + 1), 0.9f, 0.1f, 0.98f,
                                             6.25f, 9800.5f + (float)seed};
}

static void run_copy(run *dst, const run *src)
{
    dst->settings = src->settings;
    dst->state = src->state;
    memcpy(dst->params.memory, src->params.memory, MN_NUM_PARAMS * sizeof(float));
    memcpy(dst->adam.m, src->adam.m, MN_NUM_PARAMS * sizeof(float));
    memcpy(dst->adam.v, src->adam.v, MN_NUM_PARAMS * sizeof(float));
    dst->adam.step = src->adam.step;
}

/* Everything a load may write: the state, the parameters, Adam's moments and step. */
static void assert_same_run(const run *a, const run *b)
{
    assert_memory_equal(&a->state, &b->state, sizeof a->state);
    assert_memory_equal(a->params.memory, b->params.memory, MN_NUM_PARAMS * sizeof(float));
    assert_memory_equal(a->adam.m, b->adam.m, MN_NUM_PARAMS * sizeof(float));
    assert_memory_equal(a->adam.v, b->adam.v, MN_NUM_PARAMS * sizeof(float));
    assert_true(a->adam.step == b->adam.step);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    scratch_dir_create(f->dir, sizeof f->dir, "test_checkpoint");
    snprintf(f->path, sizeof f->path, "%s/model.safetensors.ckpt", f->dir);
    run_alloc(&f->saved);
    run_alloc(&f->target);
    run_alloc(&f->before);
    run_fill(&f->saved, 7);
    mn_error err = {{0}};
    assert_int_equal(checkpoint_save(f->path, &f->saved.settings, &f->saved.state,
                                     &f->saved.params, &f->saved.adam, &err), MN_OK);
    /* the run that will try to resume: the saved one's settings, another state */
    run_fill(&f->target, 99);
    f->target.settings = f->saved.settings;
    run_copy(&f->before, &f->target);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    scratch_dir_remove(f->dir);
    run_free(&f->saved);
    run_free(&f->target);
    run_free(&f->before);
    free(f);
    return 0;
}

static mn_status load(fixture *f, const run_settings *settings, mn_error *err)
{
    return checkpoint_load(f->path, settings, &f->target.state, &f->target.params,
                           &f->target.adam, err);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    mn_error err = {{0}};
    assert_int_equal(load(f, &f->saved.settings, &err), MN_OK);
    assert_same_run(&f->target, &f->saved);
}

/* The checkpoint's bytes as saved; *size gets their count. */
static unsigned char *read_checkpoint(const fixture *f, size_t *size)
{
    unsigned char *data = read_whole_file(f->path, size);
    assert_non_null(data);
    return data;
}

/* Rewrites the checkpoint with the first `from` in its header replaced by `to` (the
 * same length, so that every offset stays right). */
static void patch_header(fixture *f, const char *from, const char *to)
{
    assert_int_equal(strlen(from), strlen(to));
    size_t size;
    unsigned char *data = read_checkpoint(f, &size);
    unsigned char *at = memmem(data, size, from, strlen(from));
    assert_non_null(at);
    memcpy(at, to, strlen(to));
    write_whole_file(f->path, data, size);
    free(data);
}

/* A refused load: its status, a message naming the checkpoint and saying `reason`,
 * the target untouched. */
static void assert_refused(fixture *f, const run_settings *settings, mn_status status,
                           const char *reason)
{
    mn_error err = {{0}};
    mn_status got = load(f, settings, &err);
    if (got != status || !strstr(err.msg, f->path) || !strstr(err.msg, reason))
        fail_msg("status %d, message '%s': wanted %d, the path and '%s'", got, err.msg, status,
                 reason);
    assert_same_run(&f->target, &f->before);
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    size_t size;
    unsigned char *data = read_checkpoint(f, &size);
    const size_t keep[] = {0, 7, 200, size - 1};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        write_whole_file(f->path, data, keep[i]);
        mn_error err = {{0}};
        assert_int_not_equal(load(f, &f->saved.settings, &err), MN_OK);
        assert_true(err.msg[0] != '\0');
        assert_same_run(&f->target, &f->before);
    }
    free(data);
}

/* An edit of the checkpoint's header (FROM to TO, the same length) and what the
 * refusal of the edited file must say. */
typedef struct header_edit {
    const char *from, *to, *reason;
} header_edit;

/* Each damage to the header, made alone to the saved checkpoint, is refused as a
 * format error with its reason. */
static void test_damaged_header(void **state)
{
    fixture *f = *state;
    static const header_edit edits[] = {
        {"\"format\":", "\"format\"?", "header is not valid JSON"},
        {"mnist-train checkpoint 1", "mnist-train checkpoint 2",
         "not a checkpoint of this trainer"},
        {"\"seed\"", "\"sEed\"", "settings missing"},
        {"\"adam.v.fc2.bias\"", "\"adam.v.fc2.bIas\"", "tensor adam.v.fc2.bias is missing"},
        {"\"adam_step\"", "\"adam_stop\"", "incomplete training state"},
    };
    size_t size;
    unsigned char *saved = read_checkpoint(f, &size);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        write_whole_file(f->path, saved, size);
        patch_header(f, edits[i].from, edits[i].to);
        assert_refused(f, &f->saved.settings, MN_ERR_FORMAT, edits[i].reason);
    }
    free(saved);
}

/* A checkpoint of a trainer before --shapes has no shapes count: it loads, with none
 * seen; a count that is not a number is refused. */
static void test_shapes_count(void **state)
{
    fixture *f = *state;
    mn_error err = {{0}};
    size_t size;
    unsigned char *saved = read_checkpoint(f, &size);
    patch_header(f, "\"shapes\"", "\"sHapes\"");
    assert_int_equal(load(f, &f->saved.settings, &err), MN_OK);
    assert_int_equal(f->target.state.shapes, 0);
    f->target.state.shapes = f->saved.state.shapes;
    assert_same_run(&f->target, &f->saved);

    write_whole_file(f->path, saved, size);
    run_copy(&f->target, &f->before);
    patch_header(f, "\"shapes\":\"38\"", "\"shapes\":\"3x\"");
    assert_refused(f, &f->saved.settings, MN_ERR_FORMAT, "incomplete training state");
    free(saved);
}

/* Each setting that must match, changed alone, is named in the refusal. */
static void test_mismatched_settings(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {"seed", "batch size", "learning rate",
                                          "number of training images", "data set",
                                          "number of epochs", "schedule", "augmentation",
                                          "dropout", "deskew setting"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        run_settings other = f->saved.settings;
        switch (i) {
        case 0: other.seed++; break;
        case 1: other.batch_size = 128; break;
        case 2: other.lr = 1e-3f; break;
        case 3: other.train_count = 1000; break;
        case 4: other.data_sha256[0] = '1'; break;
        case 5: other.epochs = 6; break;
        case 6: other.cosine = false; break;
        case 7: snprintf(other.augment, sizeof other.augment, "stroke=1,as-served"); break;
        case 8: other.dropout = 0.3f; break;
        default: other.deskew = !other.deskew; break;
        }
        char reason[96];
        snprintf(reason, sizeof reason, "was made with a different %s", reasons[i]);
        assert_refused(f, &other, MN_ERR_ARG, reason);
    }
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    mn_error err = {{0}};
    assert_int_equal(load(f, &f->saved.settings, &err), MN_ERR_IO);
    assert_same_run(&f->target, &f->before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shapes_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
