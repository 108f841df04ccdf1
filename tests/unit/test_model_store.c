/* fcgi/model_store.c: a good new file is swapped in, a bad one is refused while the
 * old model keeps serving, and a reference keeps a replaced model alive. */
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

#include "mn_calibrate.h"
#include "mn_loss.h"
#include "mn_model.h"
#include "model_store.h"
#include "test_support.h"

static int setup(void **state)
{
    *state = scratch_new("mn_store", "mnist_model.safetensors");
    return 0;
}

static int teardown(void **state)
{
    scratch_free(*state);
    return 0;
}

/* Saves a model with weights from seed and the given temperatures (NULL: none) at path
 * (a new file, through a rename). */
static void save_tempered_model(const char *path, uint64_t seed, const char *temperature,
                                const char *temperature_low_res)
{
    mn_params p;
    mn_metadata meta;
    assert_int_equal(mn_params_alloc(&p, NULL), MN_OK);
    mn_params_init(&p, seed);
    mn_metadata_init(&meta);
    assert_int_equal(mn_metadata_set(&meta, "architecture", "MNISTNet", NULL), MN_OK);
    assert_int_equal(mn_metadata_set(&meta, "test_accuracy", "0.99", NULL), MN_OK);
    if (temperature)
        assert_int_equal(mn_metadata_set(&meta, "temperature", temperature, NULL), MN_OK);
    if (temperature_low_res)
        assert_int_equal(mn_metadata_set(&meta, "temperature_low_res", temperature_low_res, NULL),
                         MN_OK);
    mn_error err;
    assert_int_equal(mn_model_save(path, &p, &meta, &err), MN_OK);
    mn_params_free(&p);
}

static void save_model(const char *path, uint64_t seed)
{
    save_tempered_model(path, seed, NULL, NULL);
}

/* Replaces path with bytes that are no model, through a rename like a publisher. */
static void save_garbage(const char *path)
{
    static const char garbage[] = "this is not a safetensors file";
    char tmp[PATH_MAX + 128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    write_whole_file(tmp, garbage, sizeof garbage - 1);
    assert_int_equal(rename(tmp, path), 0);
}

/* What a store says of its loads: the last refusal's message, and the counts. */
typedef struct store_status {
    char error[600];
    unsigned long loads, refused;
} store_status;

static store_status status_of(model_store *s)
{
    store_status st;
    time_t at;
    model_store_status(s, st.error, sizeof st.error, &at, &st.loads, &st.refused);
    return st;
}

/* A store on PATH, where a model from SEED is saved first, and that model as the store
 * serves it from the start (the caller releases it). */
static model_store *store_serving(const char *path, uint64_t seed, live_model **m)
{
    save_model(path, seed);
    model_store *s = model_store_create(path, 0);
    assert_non_null(s);
    *m = model_store_acquire(s);
    assert_non_null(*m);
    return s;
}

static void test_missing_file_serves_nothing(void **state)
{
    scratch *fx = *state;
    model_store *s = model_store_create(fx->path, 0);
    assert_non_null(s);
    assert_null(model_store_acquire(s));
    store_status st = status_of(s);
    assert_true(st.error[0] != '\0');
    assert_int_equal(st.loads, 0);
    save_model(fx->path, 1); /* appears later: loaded at the next poll */
    assert_true(model_store_poll(s));
    live_model *m = model_store_acquire(s);
    assert_non_null(m);
    model_release(m);
    model_store_destroy(s);
}

static void test_bad_file_keeps_old_model(void **state)
{
    scratch *fx = *state;
    live_model *m;
    model_store *s = store_serving(fx->path, 1, &m);
    char version[sizeof m->version];
    memcpy(version, m->version, sizeof version);
    model_release(m);

    save_garbage(fx->path);
    assert_false(model_store_poll(s));
    m = model_store_acquire(s);
    assert_non_null(m);
    assert_string_equal(m->version, version);
    model_release(m);
    store_status st = status_of(s);
    assert_int_equal(st.loads, 1);
    assert_int_equal(st.refused, 1);
    assert_true(st.error[0] != '\0');
    assert_false(model_store_poll(s)); /* the same refused file is not tried again */
    assert_int_equal(status_of(s).refused, 1);
    model_store_destroy(s);
}

static void test_good_file_swapped_in_old_reference_lives(void **state)
{
    scratch *fx = *state;
    live_model *old;
    model_store *s = store_serving(fx->path, 1, &old);
    assert_false(model_store_poll(s)); /* unchanged: nothing to do */

    save_model(fx->path, 2);
    assert_true(model_store_poll(s));
    live_model *now = model_store_acquire(s);
    assert_non_null(now);
    assert_ptr_not_equal(now, old);
    assert_string_not_equal(now->version, old->version);
    /* the store let go of the old model: ours is the last reference, and it is whole */
    assert_int_equal(atomic_load(&old->refs), 1);
    assert_int_equal(strlen(old->version), 12);
    float first = old->params.t[0][0];
    assert_true(first == first);
    model_release(old); /* frees it (ASan and valgrind see a leak or a double free) */
    model_release(now);
    store_status st = status_of(s);
    assert_int_equal(st.loads, 2);
    assert_int_equal(st.refused, 0);
    model_store_destroy(s);
}

/* got's rows are plain's with temperature t applied: the same digit, less sure */
static void assert_tempered(const float *plain, const float *got, int n, double t)
{
    for (int r = 0; r < n; r++) {
        float expect[MN_NUM_CLASSES];
        memcpy(expect, plain + r * MN_NUM_CLASSES, sizeof expect);
        mn_calibrate_apply(expect, MN_NUM_CLASSES, t);
        assert_memory_equal(got + r * MN_NUM_CLASSES, expect, sizeof expect);
        const int best = mn_argmax(plain + r * MN_NUM_CLASSES, MN_NUM_CLASSES);
        assert_int_equal(mn_argmax(got + r * MN_NUM_CLASSES, MN_NUM_CLASSES), best);
        assert_true(got[r * MN_NUM_CLASSES + best] < plain[r * MN_NUM_CLASSES + best]);
    }
}

/* live_model_predict: the network's probabilities with the model's temperature applied
 * to each row of a batch, its low-resolution one for a batch read at low resolution
 * (a model without one answers the plain softmax). */
static void test_predict_applies_temperature(void **state)
{
    scratch *fx = *state;
    enum { N = 3 };
    float input[N * MN_IMAGE_PIXELS], plain[N * MN_NUM_CLASSES], got[N * MN_NUM_CLASSES];
    for (size_t i = 0; i < sizeof input / sizeof input[0]; i++)
        input[i] = (float)((i * 7919) % 255) / 64.0f - 1.0f;
    mn_workspace *ws;
    assert_int_equal(mn_workspace_create(&ws, N, 1, NULL), MN_OK);

    live_model *m;
    model_store *s = store_serving(fx->path, 3, &m);
    assert_true(m->temperature == 1.0);
    live_model_predict(m, ws, input, N, false, plain);
    mn_net_predict_packed(&m->params, &m->packed, ws, input, N, got);
    assert_memory_equal(plain, got, sizeof plain);
    model_release(m);

    save_tempered_model(fx->path, 3, "2.5", "1.25");
    assert_true(model_store_poll(s));
    m = model_store_acquire(s);
    assert_true(m->temperature == 2.5);
    for (int low_res = 0; low_res <= 1; low_res++) {
        live_model_predict(m, ws, input, N, low_res, got);
        assert_tempered(plain, got, N, low_res ? 1.25 : 2.5);
    }
    model_release(m);
    model_store_destroy(s);
    mn_workspace_destroy(ws);
}

static void test_reference_outlives_store(void **state)
{
    scratch *fx = *state;
    live_model *m;
    model_store *s = store_serving(fx->path, 3, &m);
    model_store_destroy(s);
    assert_int_equal(atomic_load(&m->refs), 1);
    assert_int_equal(strlen(m->sha256), 64);
    model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_file_serves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_keeps_old_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_file_swapped_in_old_reference_lives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_predict_applies_temperature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_outlives_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
