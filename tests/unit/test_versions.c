/* Tests for mn_versions: publishing a version and pointing the stable path at it, the
 * same bytes published twice, retention that never removes the current version, the
 * migration of a stable regular file into a version, the rollback target by default,
 * version prefixes, refusal of a damaged version file, and a failed switch leaving the
 * old model served with no temporary file behind. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_atomic.h"
#include "mn_model.h"
#include "mn_net.h"
#include "mn_versions.h"
#include "test_support.h"

typedef struct fixture {
    char dir[PATH_MAX];
    char stable[PATH_MAX + 32];
    mn_version_layout l;
    mn_params p;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    scratch_dir_create(fx->dir, sizeof fx->dir, "mn_versions");
    if (mn_params_alloc(&fx->p, NULL) != MN_OK) {
        free(fx);
        return -1;
    }
    snprintf(fx->stable, sizeof fx->stable, "%s/mnist_model.safetensors", fx->dir);
    if (mn_versions_layout(fx->stable, &fx->l, NULL) != MN_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    scratch_dir_remove(fx->dir);
    mn_params_free(&fx->p);
    free(fx);
    return 0;
}

/* The bytes of a valid model that differs for each seed. */
static uint8_t *model_bytes(fixture *fx, uint64_t seed, size_t *len)
{
    uint8_t *buf = NULL;
    mn_error err;
    mn_params_init(&fx->p, seed);
    assert_int_equal(mn_model_serialize(&fx->p, NULL, &buf, len, &err), MN_OK);
    return buf;
}

/* Sets the mtime of VERSION's model file to SECONDS since the epoch. */
static void set_age(fixture *fx, const char *version, time_t seconds)
{
    char path[PATH_MAX + 64];
    assert_int_equal(mn_versions_file(&fx->l, version, MN_VERSION_MODEL, path, sizeof path, NULL),
                     MN_OK);
    struct timespec t[2] = {{seconds, 0}, {seconds, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Publishes the model of SEED with a report as the trainer does, file time SECONDS. */
static void publish(fixture *fx, uint64_t seed, time_t seconds, char version[13])
{
    size_t len;
    uint8_t *buf = model_bytes(fx, seed, &len);
    mn_error err;
    assert_int_equal(mn_versions_write(&fx->l, buf, len, version, &err), MN_OK);
    free(buf);
    char report[PATH_MAX + 64], text[64];
    assert_int_equal(mn_versions_file(&fx->l, version, MN_VERSION_REPORT, report, sizeof report,
                                      NULL), MN_OK);
    int n = snprintf(text, sizeof text, "{\"seed\":%llu}", (unsigned long long)seed);
    assert_int_equal(mn_atomic_write(report, text, (size_t)n, &err), MN_OK);
    set_age(fx, version, seconds);
    if (mn_versions_switch(&fx->l, version, &err) != MN_OK)
        fail_msg("switch: %s", err.msg);
}

static void read_link(const char *path, char *out, size_t size)
{
    ssize_t n = readlink(path, out, size - 1);
    assert_true(n > 0);
    out[n] = '\0';
}

static void expect_list(fixture *fx, size_t count, size_t current, mn_versions *v)
{
    mn_error err;
    assert_int_equal(mn_versions_list(&fx->l, v, &err), MN_OK);
    assert_int_equal(v->count, count);
    assert_int_equal(v->current, current);
}

static void test_layout(void **state)
{
    (void)state;
    mn_version_layout l;
    assert_int_equal(mn_versions_layout("/m/mnist_model.safetensors", &l, NULL), MN_OK);
    assert_string_equal(l.dir, "/m");
    assert_string_equal(l.versions, "/m/versions");
    assert_string_equal(l.stem, "mnist_model");
    assert_string_equal(l.stable_report, "/m/mnist_model.report.json");
    char path[256];
    assert_int_equal(mn_versions_file(&l, "0123456789ab", MN_VERSION_REPORT, path, sizeof path,
                                      NULL), MN_OK);
    assert_string_equal(path, "/m/versions/mnist_model.0123456789ab.report.json");
    assert_int_equal(mn_versions_layout("model.bin", &l, NULL), MN_OK);
    assert_string_equal(l.dir, ".");
    assert_string_equal(l.stem, "model.bin");
    assert_string_equal(l.stable_report, "model.bin.report.json");
    assert_int_equal(mn_versions_layout("/name", &l, NULL), MN_OK);
    assert_string_equal(l.versions, "/versions");
    assert_int_equal(mn_versions_layout("/m/", &l, NULL), MN_ERR_ARG);
}

static void test_publish_and_switch(void **state)
{
    fixture *fx = *state;
    char a[13], b[13], target[PATH_MAX];
    publish(fx, 1, 1000, a);
    read_link(fx->stable, target, sizeof target);
    char want[128];
    snprintf(want, sizeof want, "versions/mnist_model.%s.safetensors", a);
    assert_string_equal(target, want);

    publish(fx, 2, 2000, b);
    assert_string_not_equal(a, b);
    read_link(fx->stable, target, sizeof target);
    snprintf(want, sizeof want, "versions/mnist_model.%s.safetensors", b);
    assert_string_equal(target, want);
    /* the stable names open the new version's files */
    mn_params q;
    mn_error err;
    assert_int_equal(mn_params_alloc(&q, NULL), MN_OK);
    assert_int_equal(mn_model_load(fx->stable, &q, NULL, &err), MN_OK);
    assert_memory_equal(q.memory, fx->p.memory, MN_NUM_PARAMS * sizeof(float));
    mn_params_free(&q);
    assert_file_is(fx->l.stable_report, "{\"seed\":2}", 10);

    mn_versions v;
    expect_list(fx, 2, 0, &v);
    assert_string_equal(v.items[0].version, b);
    assert_string_equal(v.items[1].version, a);
    assert_string_equal(v.current_version, b);
    mn_versions_free(&v);
    assert_int_equal(count_temp_files(fx->dir), 0);
    assert_int_equal(count_temp_files(fx->l.versions), 0);
}

static void test_same_bytes_twice(void **state)
{
    fixture *fx = *state;
    char a[13], again[13];
    publish(fx, 1, 1000, a);
    publish(fx, 1, 3000, again);
    assert_string_equal(a, again);
    mn_versions v;
    expect_list(fx, 1, 0, &v);
    assert_int_equal(v.items[0].mtime.tv_sec, 3000);
    mn_versions_free(&v);
    assert_int_equal(mn_versions_check(&fx->l, a, NULL), MN_OK);
}

static void test_prune_keeps_current(void **state)
{
    fixture *fx = *state;
    char v[6][13];
    for (int i = 0; i < 6; i++)
        publish(fx, (uint64_t)i + 1, 1000 + i, v[i]);
    size_t removed = 0;
    mn_error err;
    assert_int_equal(mn_versions_prune(&fx->l, 2, &removed, &err), MN_OK);
    assert_int_equal(removed, 3);
    mn_versions list;
    expect_list(fx, 3, 0, &list);
    assert_string_equal(list.items[0].version, v[5]);
    assert_string_equal(list.items[1].version, v[4]);
    assert_string_equal(list.items[2].version, v[3]);
    mn_versions_free(&list);
    char report[PATH_MAX + 64];
    mn_versions_file(&fx->l, v[0], MN_VERSION_REPORT, report, sizeof report, NULL);
    assert_int_equal(access(report, F_OK), -1); /* a removed version's report goes too */

    /* rolled back to the oldest: keeping none still keeps the one served */
    assert_int_equal(mn_versions_switch(&fx->l, v[3], &err), MN_OK);
    assert_int_equal(mn_versions_prune(&fx->l, 0, &removed, &err), MN_OK);
    assert_int_equal(removed, 2);
    expect_list(fx, 1, 0, &list);
    assert_string_equal(list.items[0].version, v[3]);
    mn_versions_free(&list);
    mn_params q;
    assert_int_equal(mn_params_alloc(&q, NULL), MN_OK);
    assert_int_equal(mn_model_load(fx->stable, &q, NULL, &err), MN_OK);
    mn_params_free(&q);
}

static void test_migrates_regular_file(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = model_bytes(fx, 7, &len);
    mn_error err;
    assert_int_equal(mn_atomic_write(fx->stable, buf, len, &err), MN_OK);
    assert_int_equal(mn_atomic_write(fx->l.stable_report, "{\"old\":1}", 9, &err), MN_OK);
    struct timespec t[2] = {{500, 0}, {500, 0}};
    assert_int_equal(utimensat(AT_FDCWD, fx->stable, t, 0), 0);
    char old[13], fresh[13];
    mn_versions_of_buffer(buf, len, old);
    free(buf);

    publish(fx, 8, 2000, fresh);
    mn_versions v;
    expect_list(fx, 2, 0, &v);
    assert_string_equal(v.items[0].version, fresh);
    assert_string_equal(v.items[1].version, old);
    assert_int_equal(v.items[1].mtime.tv_sec, 500); /* as old as it was */
    size_t prev;
    assert_int_equal(mn_versions_previous(&v, &prev, &err), MN_OK);
    assert_int_equal(prev, 1);
    mn_versions_free(&v);
    assert_int_equal(mn_versions_check(&fx->l, old, &err), MN_OK);

    /* back to the migrated version: its report comes back with it */
    assert_int_equal(mn_versions_switch(&fx->l, old, &err), MN_OK);
    assert_file_is(fx->l.stable_report, "{\"old\":1}", 9);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

static void test_current_file_listed_before_migration(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = model_bytes(fx, 3, &len);
    char want[13];
    mn_versions_of_buffer(buf, len, want);
    assert_int_equal(mn_atomic_write(fx->stable, buf, len, NULL), MN_OK);
    free(buf);
    mn_versions v;
    expect_list(fx, 0, 0, &v);
    assert_string_equal(v.current_version, want); /* a regular file: its own hash */
    size_t prev;
    mn_error err;
    assert_int_equal(mn_versions_previous(&v, &prev, &err), MN_ERR_FORMAT);
    mn_versions_free(&v);
}

static void test_rollback_default_target(void **state)
{
    fixture *fx = *state;
    char v[3][13];
    for (int i = 0; i < 3; i++)
        publish(fx, (uint64_t)i + 11, 1000 * (i + 1), v[i]);
    mn_error err;
    for (int expect = 1; expect >= 0; expect--) {
        mn_versions list;
        size_t prev;
        assert_int_equal(mn_versions_list(&fx->l, &list, &err), MN_OK);
        assert_int_equal(mn_versions_previous(&list, &prev, &err), MN_OK);
        assert_string_equal(list.items[prev].version, v[expect]);
        assert_int_equal(mn_versions_switch(&fx->l, list.items[prev].version, &err), MN_OK);
        mn_versions_free(&list);
    }
    mn_versions list;
    size_t prev;
    expect_list(fx, 3, 2, &list);
    assert_int_equal(mn_versions_previous(&list, &prev, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "oldest"));
    mn_versions_free(&list);
}

static void touch(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mn_atomic_write(path, "x", 1, NULL), MN_OK);
}

static void test_resolve_prefix(void **state)
{
    fixture *fx = *state;
    assert_int_equal(mkdir(fx->l.versions, 0755), 0);
    touch(fx->l.versions, "mnist_model.abcd11111111.safetensors");
    touch(fx->l.versions, "mnist_model.abcd22222222.safetensors");
    touch(fx->l.versions, "mnist_model.abcd33333333.safetensors.tmp.1");  /* not a version */
    touch(fx->l.versions, "other.abcd44444444.safetensors");              /* another model */
    mn_versions v;
    mn_error err;
    size_t i;
    expect_list(fx, 2, 2, &v);
    assert_int_equal(mn_versions_resolve(&v, "abcd1", &i, &err), MN_OK);
    assert_string_equal(v.items[i].version, "abcd11111111");
    assert_int_equal(mn_versions_resolve(&v, "ABCD2222", &i, &err), MN_OK);
    assert_string_equal(v.items[i].version, "abcd22222222");
    assert_int_equal(mn_versions_resolve(&v, "abcd22222222", &i, &err), MN_OK);
    assert_int_equal(mn_versions_resolve(&v, "abcd", &i, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "ambiguous"));
    assert_int_equal(mn_versions_resolve(&v, "abc", &i, &err), MN_ERR_ARG);
    assert_int_equal(mn_versions_resolve(&v, "abcdx", &i, &err), MN_ERR_ARG);
    assert_int_equal(mn_versions_resolve(&v, "abcd222222223", &i, &err), MN_ERR_ARG);
    assert_int_equal(mn_versions_resolve(&v, "abcd3", &i, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no version abcd3"));
    mn_versions_free(&v);
}

static void test_check_refuses_damage(void **state)
{
    fixture *fx = *state;
    char a[13], b[13], path[PATH_MAX + 64];
    mn_error err;
    publish(fx, 1, 1000, a);
    publish(fx, 2, 2000, b);
    assert_int_equal(mn_versions_check(&fx->l, a, &err), MN_OK);
    /* truncated in place: its content no longer matches its name */
    mn_versions_file(&fx->l, a, MN_VERSION_MODEL, path, sizeof path, NULL);
    assert_int_equal(truncate(path, 1000), 0);
    assert_int_equal(mn_versions_check(&fx->l, a, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "damaged"));
    /* named after its content, but not a model: the loader's reason */
    char junk[13];
    assert_int_equal(mn_versions_write(&fx->l, "not a model at all", 18, junk, &err), MN_OK);
    assert_int_equal(mn_versions_check(&fx->l, junk, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, junk));
    /* missing */
    assert_int_equal(mn_versions_check(&fx->l, "0123456789ab", &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
}

static void test_failed_switch_keeps_old(void **state)
{
    fixture *fx = *state;
    char a[13], b[13], before[PATH_MAX], after[PATH_MAX];
    mn_error err;
    publish(fx, 1, 1000, a);
    size_t len;
    uint8_t *buf = model_bytes(fx, 2, &len);
    assert_int_equal(mn_versions_write(&fx->l, buf, len, b, &err), MN_OK);
    free(buf);
    char report[PATH_MAX + 64];
    mn_versions_file(&fx->l, b, MN_VERSION_REPORT, report, sizeof report, NULL);
    assert_int_equal(mn_atomic_write(report, "{}", 2, &err), MN_OK);
    read_link(fx->stable, before, sizeof before);
    /* the report link cannot be replaced (a directory took its name): nothing switches */
    assert_int_equal(unlink(fx->l.stable_report), 0);
    assert_int_equal(mkdir(fx->l.stable_report, 0755), 0);
    assert_int_equal(mn_versions_switch(&fx->l, b, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, "rename"));
    read_link(fx->stable, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(count_temp_files(fx->dir), 0);
    /* and a version that does not exist is refused before anything changes */
    assert_int_equal(mn_versions_switch(&fx->l, "0123456789ab", &err), MN_ERR_IO);
    read_link(fx->stable, after, sizeof after);
    assert_string_equal(before, after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test_setup_teardown(test_publish_and_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_bytes_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_current_file_listed_before_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_default_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_switch_keeps_old, setup, teardown),
    };
    return cmocka_run_group_tests_name("mn_versions", tests, NULL, NULL);
}
