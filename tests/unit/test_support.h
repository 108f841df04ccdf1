/* Scratch files for the unit tests that work on disk: a fresh directory under $TMPDIR
 * (or /tmp) per test and its removal with everything in it, whole files written and
 * read back, and the temporaries an atomic writer (mn_atomic) may have left behind.
 * Failures are cmocka test failures, except where a comment says otherwise. */
#ifndef TESTS_UNIT_TEST_SUPPORT_H
#define TESTS_UNIT_TEST_SUPPORT_H

#include <stddef.h>

/* Creates a new directory $TMPDIR/PREFIX.XXXXXX and writes its path into DIR (SIZE
 * bytes). */
void scratch_dir_create(char *dir, size_t size, const char *prefix);

/* Removes DIR and all below it; DIR is made writable first, since a test may have
 * taken that away. Does not fail the test: a teardown must go on freeing. */
void scratch_dir_remove(const char *dir);

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
