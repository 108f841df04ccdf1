/* Scratch files for the unit tests (test_support.h). */
#include "config.h"

#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_support.h"

void scratch_dir_create(char *dir, size_t size, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    assert_true(n > 0 && (size_t)n < size);
    assert_non_null(mkdtemp(dir));
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void scratch_dir_remove(const char *dir)
{
    chmod(dir, 0700);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

scratch *scratch_new(const char *prefix, const char *file_name)
{
    scratch *s = calloc(1, sizeof *s);
    assert_non_null(s);
    scratch_dir_create(s->dir, sizeof s->dir, prefix);
    int n = snprintf(s->path, sizeof s->path, "%s/%s", s->dir, file_name);
    assert_true(n > 0 && (size_t)n < sizeof s->path);
    return s;
}

void scratch_free(scratch *s)
{
    scratch_dir_remove(s->dir);
    free(s);
}

void write_whole_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Reads all of F into a buffer grown as needed; NULL when out of memory. */
static unsigned char *read_stream(FILE *f, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    *len = n;
    return buf;
}

unsigned char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = read_stream(f, len);
    fclose(f);
    return buf;
}

void assert_file_is(const char *path, const void *data, size_t len)
{
    size_t got_len = 0;
    unsigned char *got = read_whole_file(path, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, len);
    if (len > 0)
        assert_memory_equal(got, data, len);
    free(got);
}

int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}
