/* IDX reader and MNIST loader: valid raw and gzip files, and each kind of broken file,
 * built here in a temporary directory (the real data set is never needed, but when
 * MNIST_DATA names a directory holding it, its published checksums are checked). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "mn_idx.h"
#include "mn_sha256.h"
#include "test_support.h"

static char tmp_root[4096];

/* ------------------------------------------------------------------ helpers */

#define assert_msg_has(err, needle) assert_msg_has_((err).msg, (needle), __FILE__, __LINE__)
static void assert_msg_has_(const char *msg, const char *needle, const char *file, int line)
{
    if (!strstr(msg, needle)) {
        print_error("%s:%d: message \"%s\" lacks \"%s\"\n", file, line, msg, needle);
        fail();
    }
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t pixel_at(size_t i)
{
    return (uint8_t)(i * 31 + i / 7);
}

/* An IDX image file: header announcing count x rows x cols, then `data` bytes of
 * pattern (normally count*rows*cols). Caller frees. */
static uint8_t *make_images_n(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                              size_t data, size_t *len)
{
    uint8_t *b = malloc(16 + data + 1);
    assert_non_null(b);
    put_be32(b, magic);
    put_be32(b + 4, count);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < data; i++)
        b[16 + i] = pixel_at(i);
    *len = 16 + data;
    return b;
}

static uint8_t *make_images(uint32_t count, uint32_t rows, uint32_t cols, size_t *len)
{
    return make_images_n(MN_IDX_IMAGES_MAGIC, count, rows, cols, (size_t)count * rows * cols, len);
}

/* An IDX label file with labels i % 10 (all digits appear once count >= 10). */
static uint8_t *make_labels(uint32_t count, size_t *len)
{
    uint8_t *b = malloc(8 + (size_t)count + 1);
    assert_non_null(b);
    put_be32(b, MN_IDX_LABELS_MAGIC);
    put_be32(b + 4, count);
    for (size_t i = 0; i < count; i++)
        b[8 + i] = (uint8_t)(i % 10);
    *len = 8 + (size_t)count;
    return b;
}

/* gzip-compress in memory (deflate with the gzip wrapper). Caller frees. */
static uint8_t *gzip_mem(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* gzip file written by zlib's own gzopen, as a user's `gzip -k` would make. */
static void write_gz_file(const char *path, const void *buf, size_t len)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, buf, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* A fresh directory per test, under the group's temporary root. */
static void test_dir(const char *name, char out[4096])
{
    int n = snprintf(out, 4096, "%s/%s", tmp_root, name);
    assert_true(n > 0 && n < 4096);
    assert_int_equal(mkdir(out, 0700), 0);
}

static void path_in(char out[4096], const char *dir, const char *file)
{
    int n = snprintf(out, 4096, "%s/%s", dir, file);
    assert_true(n > 0 && n < 4096);
}

static int group_setup(void **state)
{
    (void)state;
    scratch_dir_create(tmp_root, sizeof tmp_root, "test_idx");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    scratch_dir_remove(tmp_root);
    return 0;
}

/* ------------------------------------------------------- parsing from memory */

static void test_parse_images_raw(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_images(3, 28, 28, &len);
    mn_idx_images img;
    mn_error err = {{0}};
    char hex[MN_SHA256_HEX_SIZE];

    assert_int_equal(mn_idx_parse_images(buf, len, "mem", &img, &err), MN_OK);
    assert_int_equal(img.count, 3);
    assert_int_equal(img.rows, 28);
    assert_int_equal(img.cols, 28);
    assert_memory_equal(img.pixels, buf + 16, 3 * 784);
    mn_sha256_buffer_hex(buf, len, hex);
    assert_string_equal(img.sha256, hex);
    mn_idx_images_free(&img);
    assert_null(img.pixels);
    mn_idx_images_free(&img); /* a zeroed structure is fine to free again */
    free(buf);
}

/* The generic parser takes any non-zero size; only the MNIST loader insists on 28x28. */
static void test_parse_images_other_size(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_images(2, 5, 7, &len);
    mn_idx_images img;
    assert_int_equal(mn_idx_parse_images(buf, len, "mem", &img, NULL), MN_OK);
    assert_int_equal(img.count, 2);
    assert_int_equal(img.rows, 5);
    assert_int_equal(img.cols, 7);
    assert_memory_equal(img.pixels, buf + 16, 70);
    mn_idx_images_free(&img);
    free(buf);
}

static void test_parse_labels_raw(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_labels(25, &len);
    mn_idx_labels lab;
    mn_error err = {{0}};
    char hex[MN_SHA256_HEX_SIZE];

    assert_int_equal(mn_idx_parse_labels(buf, len, "mem", &lab, &err), MN_OK);
    assert_int_equal(lab.count, 25);
    for (size_t i = 0; i < 25; i++)
        assert_int_equal(lab.labels[i], i % 10);
    mn_sha256_buffer_hex(buf, len, hex);
    assert_string_equal(lab.sha256, hex);
    mn_idx_labels_free(&lab);
    free(buf);
}

static void test_parse_empty_label_file(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_labels(0, &len);
    mn_idx_labels lab;
    assert_int_equal(mn_idx_parse_labels(buf, len, "mem", &lab, NULL), MN_OK);
    assert_int_equal(lab.count, 0);
    mn_idx_labels_free(&lab);
    free(buf);
}

/* gzip in memory decodes to the same bytes, and the checksum is of the decompressed
 * file (so a .gz and a raw copy of the data set have the same fingerprint). */
static void test_parse_gzip(void **state)
{
    (void)state;
    size_t len, gz_len;
    uint8_t *buf = make_images(200, 28, 28, &len); /* larger than one 64 KiB chunk */
    uint8_t *gz = gzip_mem(buf, len, &gz_len);
    mn_idx_images img;
    char hex[MN_SHA256_HEX_SIZE];

    assert_true(gz_len < len);
    assert_int_equal(mn_idx_parse_images(gz, gz_len, "mem.gz", &img, NULL), MN_OK);
    assert_int_equal(img.count, 200);
    assert_memory_equal(img.pixels, buf + 16, 200 * 784);
    mn_sha256_buffer_hex(buf, len, hex);
    assert_string_equal(img.sha256, hex);
    mn_idx_images_free(&img);
    free(gz);
    free(buf);
}

/* Concatenated gzip members are one stream, as gzip(1) reads them. */
static void test_parse_gzip_two_members(void **state)
{
    (void)state;
    size_t len, gz1_len, gz2_len;
    uint8_t *buf = make_labels(1000, &len);
    uint8_t *gz1 = gzip_mem(buf, 300, &gz1_len);
    uint8_t *gz2 = gzip_mem(buf + 300, len - 300, &gz2_len);
    uint8_t *both = malloc(gz1_len + gz2_len);
    assert_non_null(both);
    memcpy(both, gz1, gz1_len);
    memcpy(both + gz1_len, gz2, gz2_len);
    mn_idx_labels lab;
    assert_int_equal(mn_idx_parse_labels(both, gz1_len + gz2_len, "two.gz", &lab, NULL), MN_OK);
    assert_int_equal(lab.count, 1000);
    assert_memory_equal(lab.labels, buf + 8, 1000);
    mn_idx_labels_free(&lab);
    free(both);
    free(gz2);
    free(gz1);
    free(buf);
}

static void test_bad_magic(void **state)
{
    (void)state;
    size_t len;
    mn_idx_images img;
    mn_idx_labels lab;
    mn_error err = {{0}};
    uint8_t *buf;

    /* A label file handed to the image parser, and the other way round. */
    buf = make_labels(10, &len);
    assert_int_equal(mn_idx_parse_images(buf, len, "labels-as-images", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "labels-as-images: bad magic number 0x00000801, expected 0x00000803");
    assert_msg_has(err, "label file");
    assert_null(img.pixels);
    free(buf);

    buf = make_images(1, 28, 28, &len);
    assert_int_equal(mn_idx_parse_labels(buf, len, "images-as-labels", &lab, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "images-as-labels: bad magic number 0x00000803, expected 0x00000801");
    assert_msg_has(err, "image file");
    free(buf);

    /* Wrong element type (0x09: signed byte) and wrong number of dimensions. */
    static const uint32_t wrong[] = {0x00000903u, 0x00000802u, 0x00000804u, 0x01000803u, 0x08030000u};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        char expect[64];
        buf = make_images_n(wrong[i], 1, 28, 28, 784, &len);
        assert_int_equal(mn_idx_parse_images(buf, len, "odd", &img, &err), MN_ERR_FORMAT);
        snprintf(expect, sizeof expect, "odd: bad magic number 0x%08x", (unsigned)wrong[i]);
        assert_msg_has(err, expect);
        free(buf);
    }
}

static void test_zero_dimensions(void **state)
{
    (void)state;
    size_t len;
    mn_idx_images img;
    mn_error err = {{0}};
    uint8_t *buf = make_images_n(MN_IDX_IMAGES_MAGIC, 5, 0, 28, 0, &len);
    assert_int_equal(mn_idx_parse_images(buf, len, "flat", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "flat: bad dimensions: images of 0x28");
    free(buf);
}

static void test_truncated_header(void **state)
{
    (void)state;
    size_t len;
    mn_idx_images img;
    mn_idx_labels lab;
    mn_error err = {{0}};
    uint8_t *buf = make_images(1, 28, 28, &len);

    assert_int_equal(mn_idx_parse_images(buf, 10, "short", &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "short: truncated: the IDX images header needs 16 bytes, file holds 10");
    assert_int_equal(mn_idx_parse_images(buf, 2, "short", &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "short: truncated: the IDX images header needs 16 bytes, file holds 2");
    assert_int_equal(mn_idx_parse_images(buf, 0, "empty", &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "empty: truncated: the IDX images header needs 16 bytes, file holds 0");
    free(buf);

    buf = make_labels(3, &len);
    assert_int_equal(mn_idx_parse_labels(buf, 7, "short", &lab, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "short: truncated: the IDX labels header needs 8 bytes, file holds 7");
    free(buf);
}

static void test_truncated_data(void **state)
{
    (void)state;
    size_t len;
    mn_idx_images img;
    mn_idx_labels lab;
    mn_error err = {{0}};
    uint8_t *buf = make_images(3, 28, 28, &len);

    assert_int_equal(mn_idx_parse_images(buf, len - 1, "cut", &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "cut: truncated: header announces 3 images of 28x28 "
                                 "(2352 bytes after the 16-byte header), file holds 2351");
    assert_null(img.pixels);
    assert_int_equal(img.count, 0);
    assert_int_equal(mn_idx_parse_images(buf, 16, "cut", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "file holds 0");
    free(buf);

    buf = make_labels(60000, &len);
    assert_int_equal(mn_idx_parse_labels(buf, len - 1, "cut", &lab, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "cut: truncated: header announces 60000 labels "
                                 "(60000 bytes after the 8-byte header), file holds 59999");
    free(buf);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    size_t len;
    mn_idx_images img;
    mn_idx_labels lab;
    mn_error err = {{0}};
    uint8_t *buf = make_images_n(MN_IDX_IMAGES_MAGIC, 2, 28, 28, 2 * 784 + 5, &len);

    assert_int_equal(mn_idx_parse_images(buf, len, "long", &img, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "long: trailing garbage: 5 bytes after the 16-byte header "
                                 "and the 1568 bytes of data it announces");
    assert_null(img.pixels);
    free(buf);

    buf = make_labels(10, &len);
    assert_int_equal(mn_idx_parse_labels(buf, len + 1, "long", &lab, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "long: trailing garbage: 1 bytes");
    free(buf);
}

/* Headers that would make us allocate more than MN_IDX_MAX_BYTES are refused before
 * any allocation; the limit itself is allowed (and then fails as truncated). */
static void test_absurd_counts(void **state)
{
    (void)state;
    uint8_t hdr[16];
    mn_idx_images img;
    mn_idx_labels lab;
    mn_error err = {{0}};

    put_be32(hdr, MN_IDX_IMAGES_MAGIC);
    put_be32(hdr + 4, 0xffffffffu);
    put_be32(hdr + 8, 28);
    put_be32(hdr + 12, 28);
    assert_int_equal(mn_idx_parse_images(hdr, 16, "huge", &img, &err), MN_ERR_LIMIT);
    assert_msg_has(err, "huge: header announces 4294967295 images of 28x28, more than the 256 MiB limit");

    put_be32(hdr + 4, 1);
    put_be32(hdr + 8, 0xffffffffu);
    put_be32(hdr + 12, 0xffffffffu);
    assert_int_equal(mn_idx_parse_images(hdr, 16, "wide", &img, &err), MN_ERR_LIMIT);
    assert_msg_has(err, "wide: header announces images of 4294967295x4294967295");

    put_be32(hdr, MN_IDX_LABELS_MAGIC);
    put_be32(hdr + 4, (uint32_t)(MN_IDX_MAX_BYTES + 1));
    assert_int_equal(mn_idx_parse_labels(hdr, 8, "many", &lab, &err), MN_ERR_LIMIT);
    assert_msg_has(err, "many: header announces 268435457 labels, more than the 256 MiB limit");

    put_be32(hdr + 4, (uint32_t)MN_IDX_MAX_BYTES);
    assert_int_equal(mn_idx_parse_labels(hdr, 8, "max", &lab, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "max: truncated: header announces 268435456 labels");
}

static void test_label_out_of_range(void **state)
{
    (void)state;
    size_t len;
    mn_idx_labels lab;
    mn_error err = {{0}};
    uint8_t *buf = make_labels(20, &len);
    buf[8 + 13] = 10;
    assert_int_equal(mn_idx_parse_labels(buf, len, "ten", &lab, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "ten: label 10 at index 13 is out of range 0..9");
    assert_null(lab.labels);
    assert_int_equal(lab.count, 0);
    buf[8 + 13] = 255;
    assert_int_equal(mn_idx_parse_labels(buf, len, "ten", &lab, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "label 255 at index 13");
    free(buf);
}

/* Every proper prefix of a gzip file is refused, never read as a short file. */
static void test_gzip_truncated_everywhere(void **state)
{
    (void)state;
    size_t len, gz_len;
    uint8_t *buf = make_images(4, 28, 28, &len);
    uint8_t *gz = gzip_mem(buf, len, &gz_len);
    mn_idx_images img;
    mn_error err;

    for (size_t cut = 0; cut < gz_len; cut++) {
        memset(&err, 0, sizeof err);
        mn_status st = mn_idx_parse_images(gz, cut, "cut.gz", &img, &err);
        assert_int_equal(st, MN_ERR_FORMAT);
        assert_msg_has(err, "cut.gz: ");
        assert_msg_has(err, "truncated");
        assert_null(img.pixels);
        /* Once past the gzip magic, the problem is named as a gzip truncation. */
        if (cut >= 2)
            assert_msg_has(err, "truncated gzip stream");
    }
    /* Cut inside the 8-byte trailer: all data decompresses, the stream is still short. */
    assert_int_equal(mn_idx_parse_images(gz, gz_len - 3, "tail.gz", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "tail.gz: truncated gzip stream: the compressed data ends after 3152 decompressed bytes");
    free(gz);
    free(buf);
}

static void test_gzip_corrupt(void **state)
{
    (void)state;
    size_t len, gz_len;
    uint8_t *buf = make_images(4, 28, 28, &len);
    uint8_t *gz = gzip_mem(buf, len, &gz_len);
    mn_idx_images img;
    mn_error err = {{0}};

    gz[gz_len - 6] ^= 0x40; /* inside the CRC-32 of the trailer */
    assert_int_equal(mn_idx_parse_images(gz, gz_len, "crc.gz", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "crc.gz: corrupt gzip stream");
    assert_msg_has(err, "incorrect data check");
    gz[gz_len - 6] ^= 0x40;

    gz[3] = 0xe0; /* reserved flag bits in the gzip header */
    assert_int_equal(mn_idx_parse_images(gz, gz_len, "flags.gz", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "flags.gz: corrupt gzip stream");
    free(gz);
    free(buf);
}

/* Bytes after the gzip stream (not another member) are garbage, although gzread
 * would ignore them. */
static void test_gzip_trailing_garbage(void **state)
{
    (void)state;
    size_t len, gz_len;
    uint8_t *buf = make_labels(30, &len);
    uint8_t *gz = gzip_mem(buf, len, &gz_len);
    uint8_t *longer = malloc(gz_len + 4);
    mn_idx_labels lab;
    mn_error err = {{0}};

    assert_non_null(longer);
    memcpy(longer, gz, gz_len);
    memcpy(longer + gz_len, "junk", 4);
    assert_int_equal(mn_idx_parse_labels(longer, gz_len + 4, "junk.gz", &lab, &err), MN_ERR_FORMAT);
    assert_string_equal(err.msg, "junk.gz: trailing garbage after the end of the gzip stream");
    longer[gz_len] = 0; /* zero padding is garbage too */
    assert_int_equal(mn_idx_parse_labels(longer, gz_len + 1, "pad.gz", &lab, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "pad.gz: trailing garbage");
    free(longer);
    free(gz);
    free(buf);
}

/* Trailing bytes inside the compressed data, and a bomb: a small header announcing one
 * image followed by 8 MiB of zeros is refused after at most about 1 MiB of probing. */
static void test_gzip_trailing_data(void **state)
{
    (void)state;
    size_t len, gz_len;
    mn_idx_images img;
    mn_error err = {{0}};
    uint8_t *buf = make_images_n(MN_IDX_IMAGES_MAGIC, 1, 28, 28, 784 + 3, &len);
    uint8_t *gz = gzip_mem(buf, len, &gz_len);
    assert_int_equal(mn_idx_parse_images(gz, gz_len, "extra.gz", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "extra.gz: trailing garbage: 3 bytes after the 16-byte header");
    free(gz);
    free(buf);

    size_t bomb_len = 16 + 784 + ((size_t)8 << 20);
    uint8_t *bomb = calloc(1, bomb_len);
    assert_non_null(bomb);
    put_be32(bomb, MN_IDX_IMAGES_MAGIC);
    put_be32(bomb + 4, 1);
    put_be32(bomb + 8, 28);
    put_be32(bomb + 12, 28);
    gz = gzip_mem(bomb, bomb_len, &gz_len);
    assert_true(gz_len < 64 << 10);
    assert_int_equal(mn_idx_parse_images(gz, gz_len, "bomb.gz", &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "bomb.gz: trailing garbage: at least 1048576 bytes");
    free(gz);
    free(bomb);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    mn_idx_images img;
    mn_error err = {{0}};
    assert_int_equal(mn_idx_parse_images(NULL, 16, "null", &img, &err), MN_ERR_ARG);
    assert_msg_has(err, "null: no buffer");
    assert_int_equal(mn_idx_parse_images(NULL, 0, NULL, &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "<buffer>: truncated");
    assert_int_equal(mn_idx_parse_images(NULL, 0, "x", NULL, &err), MN_ERR_ARG);
}

/* --------------------------------------------------------------- files on disk */

static void test_read_raw_and_gzip_files(void **state)
{
    (void)state;
    char dir[4096], raw[4096], gz[4096];
    size_t len;
    uint8_t *buf = make_images(300, 28, 28, &len); /* spans several 64 KiB chunks */
    mn_idx_images a, b;
    mn_error err = {{0}};

    test_dir("files", dir);
    path_in(raw, dir, "imgs");
    path_in(gz, dir, "imgs.gz");
    write_whole_file(raw, buf, len);
    write_gz_file(gz, buf, len);
    assert_true(file_size(gz) < (long)len);

    assert_int_equal(mn_idx_read_images(raw, &a, &err), MN_OK);
    assert_int_equal(mn_idx_read_images(gz, &b, &err), MN_OK);
    assert_int_equal(a.count, 300);
    assert_int_equal(b.count, 300);
    assert_memory_equal(a.pixels, buf + 16, 300 * 784);
    assert_memory_equal(b.pixels, buf + 16, 300 * 784);
    assert_string_equal(a.sha256, b.sha256);
    mn_idx_images_free(&a);
    mn_idx_images_free(&b);
    free(buf);

    /* Labels larger than a chunk, through the file path. */
    buf = make_labels(70000, &len);
    path_in(raw, dir, "labs");
    write_whole_file(raw, buf, len);
    mn_idx_labels lab;
    assert_int_equal(mn_idx_read_labels(raw, &lab, &err), MN_OK);
    assert_int_equal(lab.count, 70000);
    assert_memory_equal(lab.labels, buf + 8, 70000);
    mn_idx_labels_free(&lab);
    free(buf);
}

static void test_read_truncated_files(void **state)
{
    (void)state;
    char dir[4096], raw[4096], gz[4096], expect[4096 + 200];
    size_t len;
    uint8_t *buf = make_images(100, 28, 28, &len);
    mn_idx_images img;
    mn_error err = {{0}};

    test_dir("truncated", dir);
    path_in(raw, dir, "train-images-idx3-ubyte");
    write_whole_file(raw, buf, 16 + 1234);
    assert_int_equal(mn_idx_read_images(raw, &img, &err), MN_ERR_FORMAT);
    snprintf(expect, sizeof expect,
             "%s: truncated: header announces 100 images of 28x28 (78400 bytes after the "
             "16-byte header), file holds 1234", raw);
    assert_string_equal(err.msg, expect);
    assert_null(img.pixels);

    /* A gzip file cut short, as an interrupted download leaves it. */
    path_in(gz, dir, "train-images-idx3-ubyte.gz");
    write_gz_file(gz, buf, len);
    assert_int_equal(truncate(gz, file_size(gz) * 2 / 3), 0);
    assert_int_equal(mn_idx_read_images(gz, &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, gz);
    assert_msg_has(err, ": truncated gzip stream");
    free(buf);
}

static void test_read_trailing_bytes_file(void **state)
{
    (void)state;
    char dir[4096], raw[4096];
    size_t len;
    uint8_t *buf = make_images_n(MN_IDX_IMAGES_MAGIC, 100, 28, 28, 100 * 784 + 70000, &len);
    mn_idx_images img;
    mn_error err = {{0}};

    test_dir("trailing", dir);
    path_in(raw, dir, "imgs");
    write_whole_file(raw, buf, len);
    assert_int_equal(mn_idx_read_images(raw, &img, &err), MN_ERR_FORMAT);
    assert_msg_has(err, raw);
    assert_msg_has(err, ": trailing garbage: 70000 bytes after the 16-byte header and the 78400 bytes");
    free(buf);
}

static void test_read_missing_file(void **state)
{
    (void)state;
    char dir[4096], path[4096];
    mn_idx_labels lab;
    mn_error err = {{0}};
    test_dir("missing", dir);
    path_in(path, dir, "nothing-here");
    assert_int_equal(mn_idx_read_labels(path, &lab, &err), MN_ERR_IO);
    assert_msg_has(err, path);
    assert_msg_has(err, "cannot open: No such file or directory");
    /* A directory is not a file. */
    assert_int_equal(mn_idx_read_labels(dir, &lab, &err), MN_ERR_IO);
    assert_msg_has(err, dir);
}

/* ---------------------------------------------------------------- MNIST loader */

static void write_split(const char *dir, const char *split, uint32_t n_images, uint32_t n_labels,
                        uint32_t rows, int gz)
{
    char path[4096], name[128];
    size_t len;
    uint8_t *buf = make_images(n_images, rows, 28, &len);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", split, gz ? ".gz" : "");
    path_in(path, dir, name);
    (gz ? write_gz_file : write_whole_file)(path, buf, len);
    free(buf);
    buf = make_labels(n_labels, &len);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", split, gz ? ".gz" : "");
    path_in(path, dir, name);
    (gz ? write_gz_file : write_whole_file)(path, buf, len);
    free(buf);
}

static void test_mnist_load_raw(void **state)
{
    (void)state;
    char dir[4096];
    size_t len;
    uint8_t *expect_img = make_images(100, 28, 28, &len);
    char img_hex[MN_SHA256_HEX_SIZE], lab_hex[MN_SHA256_HEX_SIZE];
    mn_sha256_buffer_hex(expect_img, len, img_hex);
    uint8_t *expect_lab = make_labels(100, &len);
    mn_sha256_buffer_hex(expect_lab, len, lab_hex);
    mn_dataset ds;
    mn_error err = {{0}};

    test_dir("load_raw", dir);
    write_split(dir, "train", 100, 100, 28, 0);
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_OK);
    assert_int_equal(ds.count, 100);
    assert_memory_equal(ds.images, expect_img + 16, 100 * MN_MNIST_PIXELS);
    assert_memory_equal(ds.labels, expect_lab + 8, 100);
    assert_string_equal(ds.images_sha256, img_hex);
    assert_string_equal(ds.labels_sha256, lab_hex);
    mn_dataset_free(&ds);
    assert_null(ds.images);
    assert_int_equal(ds.count, 0);

    /* Only train was written: asking for t10k names the t10k files it looked for. */
    assert_int_equal(mn_mnist_load(dir, "t10k", &ds, &err), MN_ERR_IO);
    assert_msg_has(err, "t10k-images-idx3-ubyte");
    free(expect_lab);
    free(expect_img);
}

static void test_mnist_load_gzip_and_preference(void **state)
{
    (void)state;
    char dir[4096], path[4096];
    mn_dataset ds;
    mn_error err = {{0}};

    test_dir("load_gz", dir);
    write_split(dir, "t10k", 50, 50, 28, 1);
    assert_int_equal(mn_mnist_load(dir, "t10k", &ds, &err), MN_OK);
    assert_int_equal(ds.count, 50);
    assert_int_equal(ds.labels[49], 9);
    assert_int_equal(ds.images[5], pixel_at(5));
    mn_dataset_free(&ds);

    /* With both present the uncompressed file wins: a broken .gz beside a good raw
     * file does not matter, and a broken raw file beside a good .gz does. */
    write_split(dir, "t10k", 20, 20, 28, 0);
    path_in(path, dir, "t10k-images-idx3-ubyte.gz");
    write_whole_file(path, "\x1f\x8b garbage", 10);
    assert_int_equal(mn_mnist_load(dir, "t10k", &ds, &err), MN_OK);
    assert_int_equal(ds.count, 20);
    mn_dataset_free(&ds);
    path_in(path, dir, "t10k-labels-idx1-ubyte");
    write_whole_file(path, "nonsense", 8);
    assert_int_equal(mn_mnist_load(dir, "t10k", &ds, &err), MN_ERR_FORMAT);
    assert_msg_has(err, path);
    assert_msg_has(err, "bad magic number");
}

static void test_mnist_count_mismatch(void **state)
{
    (void)state;
    char dir[4096], expect[13000];
    mn_dataset ds;
    mn_error err = {{0}};
    test_dir("mismatch", dir);
    write_split(dir, "train", 100, 99, 28, 0);
    memset(&ds, 0x5a, sizeof ds); /* garbage in, zeroed out on failure */
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_FORMAT);
    snprintf(expect, sizeof expect,
             "%s/train-images-idx3-ubyte holds 100 images but %s/train-labels-idx1-ubyte holds 99 labels",
             dir, dir);
    assert_string_equal(err.msg, expect);
    assert_null(ds.images);
    assert_null(ds.labels);
    assert_int_equal(ds.count, 0);
    mn_dataset_free(&ds);
}

static void test_mnist_wrong_dims(void **state)
{
    (void)state;
    char dir[4096];
    mn_dataset ds;
    mn_error err = {{0}};
    test_dir("dims", dir);
    write_split(dir, "train", 10, 10, 27, 0);
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "/dims/train-images-idx3-ubyte: images are 27x28, MNIST needs 28x28");
    assert_null(ds.images);
}

static void test_mnist_no_images(void **state)
{
    (void)state;
    char dir[4096];
    mn_dataset ds;
    mn_error err = {{0}};
    test_dir("empty", dir);
    write_split(dir, "train", 0, 0, 28, 0);
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_FORMAT);
    assert_msg_has(err, "/empty/train-images-idx3-ubyte: holds no images");
}

static void test_mnist_bad_label(void **state)
{
    (void)state;
    char dir[4096], path[4096];
    size_t len;
    mn_dataset ds;
    mn_error err = {{0}};
    test_dir("badlabel", dir);
    write_split(dir, "train", 30, 30, 28, 0);
    uint8_t *buf = make_labels(30, &len);
    buf[8 + 29] = 10;
    path_in(path, dir, "train-labels-idx1-ubyte");
    write_whole_file(path, buf, len);
    free(buf);
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_FORMAT);
    assert_msg_has(err, path);
    assert_msg_has(err, ": label 10 at index 29 is out of range 0..9");
    assert_null(ds.images);
}

static void test_mnist_missing(void **state)
{
    (void)state;
    char dir[4096], nodir[4096], path[4096], expect[13000];
    mn_dataset ds;
    mn_error err = {{0}};

    test_dir("nodata", dir);
    path_in(nodir, dir, "not-there");
    assert_int_equal(mn_mnist_load(nodir, "train", &ds, &err), MN_ERR_IO);
    assert_msg_has(err, nodir);
    assert_msg_has(err, "No such file or directory");
    assert_msg_has(err, "trainer/fetch-mnist.sh");

    /* A file where the directory should be. */
    path_in(path, dir, "plain-file");
    write_whole_file(path, "x", 1);
    assert_int_equal(mn_mnist_load(path, "train", &ds, &err), MN_ERR_IO);
    assert_msg_has(err, "not a directory");

    /* An empty directory: the message says both names it tried. */
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_IO);
    snprintf(expect, sizeof expect,
             "no MNIST train images in %s: looked for %s/train-images-idx3-ubyte and "
             "%s/train-images-idx3-ubyte.gz; fetch the data set with trainer/fetch-mnist.sh",
             dir, dir, dir);
    assert_string_equal(err.msg, expect);

    /* Images but no labels. */
    size_t len;
    uint8_t *buf = make_images(3, 28, 28, &len);
    path_in(path, dir, "train-images-idx3-ubyte");
    write_whole_file(path, buf, len);
    free(buf);
    assert_int_equal(mn_mnist_load(dir, "train", &ds, &err), MN_ERR_IO);
    assert_msg_has(err, "no MNIST train labels in");
    assert_msg_has(err, "/train-labels-idx1-ubyte.gz");
}

static void test_mnist_bad_split(void **state)
{
    (void)state;
    mn_dataset ds;
    mn_error err = {{0}};
    memset(&ds, 0x5a, sizeof ds);
    assert_int_equal(mn_mnist_load("/tmp", "test", &ds, &err), MN_ERR_ARG);
    assert_string_equal(err.msg, "MNIST split must be \"train\" or \"t10k\", not \"test\"");
    assert_null(ds.images);
    assert_int_equal(mn_mnist_load("/tmp", NULL, &ds, &err), MN_ERR_ARG);
    assert_int_equal(mn_mnist_load("/tmp", "train", NULL, &err), MN_ERR_ARG);
}

/* The real data set, when MNIST_DATA points at it (trainer/fetch-mnist.sh prints the
 * directory): the published checksums are what the trainer records as the data set's. */
static void test_real_mnist(void **state)
{
    (void)state;
    const char *dir = getenv("MNIST_DATA");
    mn_dataset ds;
    mn_error err = {{0}};
    if (!dir || !*dir)
        skip();
    if (mn_mnist_load(dir, "train", &ds, &err) != MN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(ds.count, 60000);
    assert_string_equal(ds.images_sha256, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db");
    assert_string_equal(ds.labels_sha256, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5");
    assert_int_equal(ds.labels[0], 5); /* the famous first training digit */
    mn_dataset_free(&ds);
    if (mn_mnist_load(dir, "t10k", &ds, &err) != MN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(ds.count, 10000);
    assert_string_equal(ds.images_sha256, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7");
    assert_string_equal(ds.labels_sha256, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
    assert_int_equal(ds.labels[0], 7);
    mn_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_images_raw),
        cmocka_unit_test(test_parse_images_other_size),
        cmocka_unit_test(test_parse_labels_raw),
        cmocka_unit_test(test_parse_empty_label_file),
        cmocka_unit_test(test_parse_gzip),
        cmocka_unit_test(test_parse_gzip_two_members),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_zero_dimensions),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_absurd_counts),
        cmocka_unit_test(test_label_out_of_range),
        cmocka_unit_test(test_gzip_truncated_everywhere),
        cmocka_unit_test(test_gzip_corrupt),
        cmocka_unit_test(test_gzip_trailing_garbage),
        cmocka_unit_test(test_gzip_trailing_data),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_read_raw_and_gzip_files),
        cmocka_unit_test(test_read_truncated_files),
        cmocka_unit_test(test_read_trailing_bytes_file),
        cmocka_unit_test(test_read_missing_file),
        cmocka_unit_test(test_mnist_load_raw),
        cmocka_unit_test(test_mnist_load_gzip_and_preference),
        cmocka_unit_test(test_mnist_count_mismatch),
        cmocka_unit_test(test_mnist_wrong_dims),
        cmocka_unit_test(test_mnist_no_images),
        cmocka_unit_test(test_mnist_bad_label),
        cmocka_unit_test(test_mnist_missing),
        cmocka_unit_test(test_mnist_bad_split),
        cmocka_unit_test(test_real_mnist),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
