/* Scratch files for the unit tests that work on disk: a fresh directory under $TMPDIR
 * (or /tmp) per test and its removal with everything in it, whole files written and
 * read back, and the temporaries an atomic writer (mn_atomic) may have left behind.
 * Failures are cmocka test failures, except where a comment says otherwise. */
#ifndef TESTS_UNIT_TEST_SUPPORT_H
#define TESTS_UNIT_TEST_SUPPORT_H

#include <limits.h>
#include <stddef.h>

/* Creates a new directory $TMPDIR/PREFIX.XXXXXX and writes its path into DIR (SIZE
 * bytes). */
void scratch_dir_create(char *dir, size_t size, const char *prefix);

/* Removes DIR and all below it; DIR is made writable first, since a test may have
 * taken that away. Does not fail the test: a teardown must go on freeing. */
void scratch_dir_remove(const char *dir);

/* A scratch directory and the path of the one file a test works on in it: the whole
 * fixture of the tests that need nothing else. */
typedef struct scratch {
    char dir[PATH_MAX];
    char path[PATH_MAX + 64];
} scratch;

/* A new scratch (malloc'ed): a directory from scratch_dir_create, and PATH =
 * DIR/FILE_NAME, which is not created. */
scratch *scratch_new(const char *prefix, const char *file_name);

/* Removes S's directory with all in it (scratch_dir_remove) and frees S. */
void scratch_free(scratch *s);

/* Makes PATH a file holding exactly the LEN bytes at DATA. */
void write_whole_file(const char *path, const void *data, size_t len);

/* PATH's content in a malloc'ed buffer (*LEN its size), or NULL when it cannot be
 * read. Does not fail the test, so that a reader racing a writer can count misses. */
unsigned char *read_whole_file(const char *path, size_t *len);

/* Fails unless PATH holds exactly the LEN bytes at DATA. */
void assert_file_is(const char *path, const void *data, size_t len);

/* How many entries of DIR are an atomic writer's temporaries (names holding ".tmp."). */
int count_temp_files(const char *dir);

#endif
