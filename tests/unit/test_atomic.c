/* Tests for mn_atomic: complete replacement, no temporary files left behind, old file
 * intact on every failure we can provoke as root (missing directory, rename onto a
 * directory, a short write forced with RLIMIT_FSIZE), and a concurrent reader never
 * seeing a partial file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_atomic.h"
#include "test_support.h"

static int setup(void **state)
{
    *state = scratch_new("mn_atomic", "model.bin");
    umask(022);
    return 0;
}

static int teardown(void **state)
{
    scratch_free(*state);
    return 0;
}

static void test_creates_new_file(void **state)
{
    scratch *fx = *state;
    const char msg[] = "hello, model";
    mn_error err = { { 0 } };
    assert_int_equal(mn_atomic_write(fx->path, msg, sizeof msg, &err), MN_OK);
    assert_file_is(fx->path, msg, sizeof msg);
    struct stat sb;
    assert_int_equal(stat(fx->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

static void test_replaces_completely(void **state)
{
    scratch *fx = *state;
    size_t old_len = 100000;
    unsigned char *old = malloc(old_len);
    assert_non_null(old);
    memset(old, 'A', old_len);
    write_whole_file(fx->path, old, old_len);

    /* A reader that opened the old file keeps the old content whole: the new file is
     * a different inode, not an in-place rewrite. */
    int reader = open(fx->path, O_RDONLY);
    assert_true(reader >= 0);
    struct stat before, after;
    assert_int_equal(fstat(reader, &before), 0);

    const char small[] = "short";
    mn_error err;
    assert_int_equal(mn_atomic_write(fx->path, small, 5, &err), MN_OK);
    assert_file_is(fx->path, small, 5);
    assert_int_equal(stat(fx->path, &after), 0);
    assert_true(before.st_ino != after.st_ino);

    unsigned char *seen = malloc(old_len);
    assert_non_null(seen);
    assert_int_equal(pread(reader, seen, old_len, 0), (ssize_t)old_len);
    assert_memory_equal(seen, old, old_len);
    close(reader);
    assert_int_equal(count_temp_files(fx->dir), 0);
    free(seen);
    free(old);
}

static void test_writev_concatenates(void **state)
{
    scratch *fx = *state;
    struct iovec iov[4] = {
        { .iov_base = (void *)"abc", .iov_len = 3 },
        { .iov_base = NULL, .iov_len = 0 },
        { .iov_base = (void *)"", .iov_len = 0 },
        { .iov_base = (void *)"defgh", .iov_len = 5 },
    };
    mn_error err;
    assert_int_equal(mn_atomic_writev(fx->path, iov, 4, &err), MN_OK);
    assert_file_is(fx->path, "abcdefgh", 8);
}

static void test_empty_content(void **state)
{
    scratch *fx = *state;
    write_whole_file(fx->path, "old", 3);
    mn_error err;
    assert_int_equal(mn_atomic_write(fx->path, NULL, 0, &err), MN_OK);
    assert_file_is(fx->path, "", 0);
}

static void test_relative_path(void **state)
{
    scratch *fx = *state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    mn_error err;
    mn_status st = mn_atomic_write("rel.bin", "xyz", 3, &err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, MN_OK);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/rel.bin", fx->dir);
    assert_file_is(p, "xyz", 3);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

static void test_missing_directory_fails(void **state)
{
    scratch *fx = *state;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/no-such-dir/model.bin", fx->dir);
    mn_error err = { { 0 } };
    assert_int_equal(mn_atomic_write(p, "x", 1, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, "create "));
    assert_non_null(strstr(err.msg, "no-such-dir/model.bin.tmp."));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
    assert_int_equal(access(p, F_OK), -1);
}

static void test_rename_onto_directory_fails(void **state)
{
    scratch *fx = *state;
    /* The target is a non-empty directory: the temp file is written, the rename fails. */
    assert_int_equal(mkdir(fx->path, 0755), 0);
    char inner[sizeof fx->path + 8];
    snprintf(inner, sizeof inner, "%s/keep", fx->path);
    write_whole_file(inner, "keep", 4);

    mn_error err = { { 0 } };
    assert_int_equal(mn_atomic_write(fx->path, "new", 3, &err), MN_ERR_IO);
    assert_int_equal(strncmp(err.msg, "rename ", 7), 0);
    assert_non_null(strstr(err.msg, fx->path));
    struct stat sb;
    assert_int_equal(stat(fx->path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_file_is(inner, "keep", 4);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

/* A short write (the file size limit is hit mid-file, then EFBIG) leaves the old
 * target intact and no temp file. The limit is lowered only around the call, during
 * which nothing else writes (the test log may itself be a regular file). */
static void test_short_write_keeps_old_file(void **state)
{
    scratch *fx = *state;
    const char old[] = "the old model, complete";
    write_whole_file(fx->path, old, sizeof old);

    static unsigned char big[8192];
    memset(big, 'N', sizeof big);
    struct rlimit saved, low;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    low = saved;
    low.rlim_cur = 1000;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_true(prev != SIG_ERR);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
    mn_error err = { { 0 } };
    mn_status st = mn_atomic_write(fx->path, big, sizeof big, &err);
    int restored = setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, prev);
    assert_int_equal(restored, 0);

    assert_int_equal(st, MN_ERR_IO);
    assert_int_equal(strncmp(err.msg, "write ", 6), 0);
    assert_non_null(strstr(err.msg, "model.bin.tmp."));
    assert_non_null(strstr(err.msg, strerror(EFBIG)));
    assert_file_is(fx->path, old, sizeof old);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

/* A stale PATH.tmp.PID (a crashed writer with our PID) is neither reused nor removed. */
static void test_stale_temp_file_is_left_alone(void **state)
{
    scratch *fx = *state;
    char stale[sizeof fx->path + 32];
    snprintf(stale, sizeof stale, "%s.tmp.%ld", fx->path, (long)getpid());
    write_whole_file(stale, "stale", 5);
    mn_error err;
    assert_int_equal(mn_atomic_write(fx->path, "fresh", 5, &err), MN_OK);
    assert_file_is(fx->path, "fresh", 5);
    assert_file_is(stale, "stale", 5);
    assert_int_equal(count_temp_files(fx->dir), 1);
}

static void test_readonly_directory_fails(void **state)
{
    scratch *fx = *state;
    if (geteuid() == 0)
        skip(); /* root ignores permission bits; the other failure tests cover the path */
    write_whole_file(fx->path, "old", 3);
    assert_int_equal(chmod(fx->dir, 0555), 0);
    mn_error err = { { 0 } };
    assert_int_equal(mn_atomic_write(fx->path, "new", 3, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, strerror(EACCES)));
    assert_int_equal(chmod(fx->dir, 0700), 0);
    assert_file_is(fx->path, "old", 3);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

static void test_bad_arguments(void **state)
{
    scratch *fx = *state;
    mn_error err;
    assert_int_equal(mn_atomic_write(NULL, "x", 1, &err), MN_ERR_ARG);
    assert_int_equal(mn_atomic_write("", "x", 1, &err), MN_ERR_ARG);
    assert_int_equal(mn_atomic_write(fx->path, NULL, 1, &err), MN_ERR_ARG);
    struct iovec iov = { .iov_base = NULL, .iov_len = 4 };
    assert_int_equal(mn_atomic_writev(fx->path, &iov, 1, &err), MN_ERR_ARG);
    assert_int_equal(mn_atomic_write(fx->path, "x", 1, NULL), MN_OK); /* err may be NULL */
    assert_int_equal(access(fx->path, F_OK), 0);
}

typedef struct writer_job {
    const char *path;
    const unsigned char *a, *b;
    size_t size;
    int rounds;
    atomic_int done;
    int failures;
} writer_job;

static void *writer_thread(void *arg)
{
    writer_job *job = arg;
    for (int i = 0; i < job->rounds; i++)
        if (mn_atomic_write(job->path, (i & 1) ? job->a : job->b, job->size, NULL) != MN_OK)
            job->failures++;
    atomic_store(&job->done, 1);
    return NULL;
}

/* A reader polling the file while another thread replaces it again and again only ever
 * sees one complete version. */
static void test_reader_never_sees_partial_file(void **state)
{
    scratch *fx = *state;
    enum { SIZE = 256 * 1024 };
    static unsigned char a[SIZE], b[SIZE];
    memset(a, 'a', SIZE);
    memset(b, 'b', SIZE);
    mn_error err;
    assert_int_equal(mn_atomic_write(fx->path, a, SIZE, &err), MN_OK);

    writer_job job = { .path = fx->path, .a = a, .b = b, .size = SIZE, .rounds = 40 };
    atomic_init(&job.done, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_thread, &job), 0);
    int bad = 0, reads = 0;
    for (;;) {
        int finished = atomic_load(&job.done);
        size_t len = 0;
        unsigned char *buf = read_whole_file(fx->path, &len);
        if (buf) {
            reads++;
            if (len != SIZE || (memcmp(buf, a, SIZE) != 0 && memcmp(buf, b, SIZE) != 0))
                bad++;
            free(buf);
        } else {
            bad++; /* the target must always exist */
        }
        if (finished)
            break;
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(job.failures, 0);
    assert_true(reads > 0);
    assert_int_equal(bad, 0);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaces_completely, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writev_concatenates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_onto_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_write_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temp_file_is_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_never_sees_partial_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("mn_atomic", tests, NULL, NULL);
}
