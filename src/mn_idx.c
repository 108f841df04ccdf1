#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ZLIB_CONST /* lets next_in point at const input */
#include <zlib.h>

#include "mn_idx.h"

#define CHUNK_SIZE ((size_t)64 << 10)
/* How far past the announced data we look to report the amount of trailing garbage;
 * bounded so that a gzip bomb appended to a valid file costs nothing. */
#define TRAILING_PROBE_MAX ((size_t)1 << 20)
#define PATH_BUF 4096

/* A source of decompressed IDX bytes: a memory buffer or a FILE, raw or gzip.
 * We inflate ourselves rather than use gzread because gzread silently ignores
 * garbage after the gzip stream and reports truncation only at gzclose. */
typedef struct idx_src {
    const char *name;      /* for messages */
    FILE *fp;              /* NULL when reading from memory */
    uint8_t *chunk;        /* input buffer when reading from fp */
    const uint8_t *in;     /* input not yet consumed */
    size_t in_avail;
    int in_eof;            /* no input beyond in[0..in_avail) */
    int gz;
    int z_live;            /* zs needs inflateEnd */
    int member_done;       /* a gzip member just ended: more input must be another member */
    z_stream zs;
    size_t out_pos;        /* decompressed bytes delivered so far */
} idx_src;

/* Make at least `need` (1 or 2) input bytes available, unless the input ends first. */
static mn_status src_fill(idx_src *s, size_t need, mn_error *err)
{
    if (s->in_avail >= need || s->in_eof)
        return MN_OK;
    if (s->in_avail > 0 && s->in != s->chunk)
        memmove(s->chunk, s->in, s->in_avail);
    s->in = s->chunk;
    size_t room = CHUNK_SIZE - s->in_avail;
    size_t n = fread(s->chunk + s->in_avail, 1, room, s->fp);
    s->in_avail += n;
    if (n < room) {
        if (ferror(s->fp))
            return mn_fail(err, MN_ERR_IO, "%s: read error: %s", s->name, strerror(errno));
        s->in_eof = 1;
    }
    return MN_OK;
}

static mn_status src_start(idx_src *s, mn_error *err)
{
    mn_status st = src_fill(s, 2, err);
    if (st != MN_OK)
        return st;
    s->gz = s->in_avail >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
    if (s->gz) {
        memset(&s->zs, 0, sizeof s->zs);
        if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
            return mn_fail(err, MN_ERR_NOMEM, "%s: cannot initialise zlib", s->name);
        s->z_live = 1;
    }
    return MN_OK;
}

static void src_open_mem(idx_src *s, const uint8_t *buf, size_t len, const char *name)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->in = buf;
    s->in_avail = len;
    s->in_eof = 1;
}

static mn_status src_open_file(idx_src *s, const char *path, mn_error *err)
{
    memset(s, 0, sizeof *s);
    s->name = path;
    s->fp = fopen(path, "rb");
    if (!s->fp)
        return mn_fail(err, MN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    s->chunk = malloc(CHUNK_SIZE);
    if (!s->chunk)
        return mn_fail(err, MN_ERR_NOMEM, "%s: cannot allocate a read buffer", path);
    s->in = s->chunk;
    return MN_OK;
}

static void src_close(idx_src *s)
{
    if (s->z_live)
        inflateEnd(&s->zs);
    if (s->fp)
        fclose(s->fp); /* read-only: nothing to lose */
    free(s->chunk);
    memset(s, 0, sizeof *s);
}

/* One step of reading a raw file into dst[*got..want): from the buffer, or straight
 * from the file for large reads; *end at the end of the file. */
static mn_status raw_step(idx_src *s, uint8_t *dst, size_t want, size_t *got, bool *end,
                          mn_error *err)
{
    if (s->in_avail > 0) {
        size_t take = s->in_avail < want - *got ? s->in_avail : want - *got;
        memcpy(dst + *got, s->in, take);
        s->in += take;
        s->in_avail -= take;
        *got += take;
        return MN_OK;
    }
    if (s->in_eof) {
        *end = true;
        return MN_OK;
    }
    if (want - *got < CHUNK_SIZE)
        return src_fill(s, 1, err);
    size_t ask = want - *got;
    size_t n = fread(dst + *got, 1, ask, s->fp);
    *got += n;
    if (n < ask) {
        if (ferror(s->fp))
            return mn_fail(err, MN_ERR_IO, "%s: read error: %s", s->name, strerror(errno));
        s->in_eof = 1;
    }
    return MN_OK;
}

/* After a gzip member: the end of the input, or another member (as gzip(1) allows). */
static mn_status gz_next_member(idx_src *s, bool *end, mn_error *err)
{
    mn_status st = src_fill(s, 2, err);
    if (st != MN_OK)
        return st;
    if (s->in_avail == 0) {
        *end = true; /* the gzip stream ended exactly at the end of the input */
        return MN_OK;
    }
    if (s->in_avail < 2 || s->in[0] != 0x1f || s->in[1] != 0x8b)
        return mn_fail(err, MN_ERR_FORMAT,
                       "%s: trailing garbage after the end of the gzip stream", s->name);
    inflateReset(&s->zs);
    s->member_done = 0;
    return MN_OK;
}

/* One step of inflating into dst[*got..want); *end at the clean end of the input. */
static mn_status gz_step(idx_src *s, uint8_t *dst, size_t want, size_t *got, bool *end,
                         mn_error *err)
{
    mn_status st = s->member_done ? gz_next_member(s, end, err) : MN_OK;
    if (st != MN_OK || *end)
        return st;
    if ((st = src_fill(s, 1, err)) != MN_OK)
        return st;
    if (s->in_avail == 0)
        return mn_fail(err, MN_ERR_FORMAT,
                       "%s: truncated gzip stream: the compressed data ends after %zu "
                       "decompressed bytes, before the end of the stream",
                       s->name, s->out_pos + *got);
    uInt in_before = s->in_avail < UINT_MAX ? (uInt)s->in_avail : UINT_MAX;
    uInt out_before = want - *got < UINT_MAX ? (uInt)(want - *got) : UINT_MAX;
    s->zs.next_in = s->in;
    s->zs.avail_in = in_before;
    s->zs.next_out = dst + *got;
    s->zs.avail_out = out_before;
    int zr = inflate(&s->zs, Z_NO_FLUSH);
    s->in += in_before - s->zs.avail_in;
    s->in_avail -= in_before - s->zs.avail_in;
    *got += out_before - s->zs.avail_out;
    if (zr == Z_STREAM_END)
        s->member_done = 1;
    else if (zr == Z_MEM_ERROR)
        return mn_fail(err, MN_ERR_NOMEM, "%s: out of memory while decompressing", s->name);
    else if (zr != Z_OK)
        return mn_fail(err, MN_ERR_FORMAT, "%s: corrupt gzip stream after %zu decompressed bytes: %s",
                       s->name, s->out_pos + *got, s->zs.msg ? s->zs.msg : zError(zr));
    return MN_OK;
}

/* Read up to `want` decompressed bytes; *got < want only at the clean end of the
 * input (for gzip: after a complete final member and no further input). */
static mn_status src_read(idx_src *s, uint8_t *dst, size_t want, size_t *got_out, mn_error *err)
{
    size_t got = 0;
    bool end = false;
    mn_status st = MN_OK;
    *got_out = 0;
    while (st == MN_OK && got < want && !end)
        st = s->gz ? gz_step(s, dst, want, &got, &end, err)
                   : raw_step(s, dst, want, &got, &end, err);
    if (st != MN_OK)
        return st;
    s->out_pos += got;
    *got_out = got;
    return MN_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

typedef struct idx_header {
    uint8_t bytes[16]; /* as read, for the checksum */
    size_t size;       /* 8 for labels, 16 for images */
    size_t count, rows, cols;
    size_t data_size;
} idx_header;

/* ndims is 3 for images, 1 for labels. */
static mn_status read_header(idx_src *s, int ndims, idx_header *h, mn_error *err)
{
    const uint32_t want_magic = ndims == 3 ? MN_IDX_IMAGES_MAGIC : MN_IDX_LABELS_MAGIC;
    const uint32_t other_magic = ndims == 3 ? MN_IDX_LABELS_MAGIC : MN_IDX_IMAGES_MAGIC;
    const char *what = ndims == 3 ? "images" : "labels";
    const char *zip = s->gz ? " (decompressed)" : "";
    size_t got;
    mn_status st;

    memset(h, 0, sizeof *h);
    h->size = 4 + 4 * (size_t)ndims;
    if ((st = src_read(s, h->bytes, 4, &got, err)) != MN_OK)
        return st;
    if (got < 4)
        return mn_fail(err, MN_ERR_FORMAT,
                       "%s: truncated: the IDX %s header needs %zu bytes, file%s holds %zu",
                       s->name, what, h->size, zip, got);
    uint32_t magic = be32(h->bytes);
    if (magic != want_magic)
        return mn_fail(err, MN_ERR_FORMAT, "%s: bad magic number 0x%08x, expected 0x%08x for IDX %s%s",
                       s->name, (unsigned)magic, (unsigned)want_magic, what,
                       magic == other_magic ? (ndims == 3 ? " (this is a label file)"
                                                          : " (this is an image file)")
                                            : "");
    if ((st = src_read(s, h->bytes + 4, h->size - 4, &got, err)) != MN_OK)
        return st;
    if (got < h->size - 4)
        return mn_fail(err, MN_ERR_FORMAT,
                       "%s: truncated: the IDX %s header needs %zu bytes, file%s holds %zu",
                       s->name, what, h->size, zip, 4 + got);
    h->count = be32(h->bytes + 4);
    size_t per_item = 1;
    if (ndims == 3) {
        h->rows = be32(h->bytes + 8);
        h->cols = be32(h->bytes + 12);
        if (h->rows == 0 || h->cols == 0)
            return mn_fail(err, MN_ERR_FORMAT, "%s: bad dimensions: images of %zux%zu",
                           s->name, h->rows, h->cols);
        /* Both are below 2^32, so the product fits in 64 bits. */
        uint64_t pixels = (uint64_t)h->rows * h->cols;
        if (pixels > MN_IDX_MAX_BYTES)
            return mn_fail(err, MN_ERR_LIMIT,
                           "%s: header announces images of %zux%zu, more than the %zu MiB limit",
                           s->name, h->rows, h->cols, MN_IDX_MAX_BYTES >> 20);
        per_item = (size_t)pixels;
    }
    if (h->count > MN_IDX_MAX_BYTES / per_item) {
        if (ndims == 3)
            return mn_fail(err, MN_ERR_LIMIT,
                           "%s: header announces %zu images of %zux%zu, more than the %zu MiB limit",
                           s->name, h->count, h->rows, h->cols, MN_IDX_MAX_BYTES >> 20);
        return mn_fail(err, MN_ERR_LIMIT, "%s: header announces %zu labels, more than the %zu MiB limit",
                       s->name, h->count, MN_IDX_MAX_BYTES >> 20);
    }
    h->data_size = h->count * per_item;
    return MN_OK;
}

static mn_status fail_truncated(const idx_src *s, const idx_header *h, size_t held, mn_error *err)
{
    const char *zip = s->gz ? " (decompressed)" : "";
    if (h->rows > 0)
        return mn_fail(err, MN_ERR_FORMAT,
                       "%s: truncated: header announces %zu images of %zux%zu (%zu bytes after the "
                       "%zu-byte header), file%s holds %zu",
                       s->name, h->count, h->rows, h->cols, h->data_size, h->size, zip, held);
    return mn_fail(err, MN_ERR_FORMAT,
                   "%s: truncated: header announces %zu labels (%zu bytes after the %zu-byte "
                   "header), file%s holds %zu",
                   s->name, h->count, h->data_size, h->size, zip, held);
}

/* Reads a whole IDX file: header, exactly data_size bytes of data (returned in
 * *data, owned by the caller), then proves that nothing follows. */
static mn_status idx_load(idx_src *s, int ndims, idx_header *h, uint8_t **data,
                          char sha[MN_SHA256_HEX_SIZE], mn_error *err)
{
    mn_status st;
    size_t got;

    *data = NULL;
    if ((st = src_start(s, err)) != MN_OK)
        return st;
    if ((st = read_header(s, ndims, h, err)) != MN_OK)
        return st;
    /* A raw buffer's length is known: refuse truncation before allocating. */
    if (!s->gz && !s->fp && s->in_avail < h->data_size)
        return fail_truncated(s, h, s->in_avail, err);

    uint8_t *buf = malloc(h->data_size > 0 ? h->data_size : 1);
    if (!buf)
        return mn_fail(err, MN_ERR_NOMEM, "%s: cannot allocate %zu bytes", s->name, h->data_size);
    if ((st = src_read(s, buf, h->data_size, &got, err)) != MN_OK)
        goto fail;
    if (got < h->data_size) {
        st = fail_truncated(s, h, got, err);
        goto fail;
    }

    size_t extra = 0;
    uint8_t probe[4096];
    do {
        if ((st = src_read(s, probe, sizeof probe, &got, err)) != MN_OK)
            goto fail;
        extra += got;
    } while (got == sizeof probe && extra < TRAILING_PROBE_MAX);
    if (extra > 0) {
        st = mn_fail(err, MN_ERR_FORMAT,
                     "%s: trailing garbage: %s%zu bytes after the %zu-byte header and the %zu "
                     "bytes of data it announces",
                     s->name, got == sizeof probe ? "at least " : "", extra, h->size, h->data_size);
        goto fail;
    }

    mn_sha256 ctx;
    uint8_t digest[MN_SHA256_DIGEST_SIZE];
    mn_sha256_init(&ctx);
    mn_sha256_update(&ctx, h->bytes, h->size);
    mn_sha256_update(&ctx, buf, h->data_size);
    mn_sha256_final(&ctx, digest);
    mn_sha256_hex(digest, sha);
    *data = buf;
    return MN_OK;

fail:
    free(buf);
    return st;
}

/* The two readers, shaped alike so that one function opens a buffer or a file for
 * either (out is an mn_idx_images or an mn_idx_labels, zeroed on failure). */
static mn_status images_from(idx_src *s, void *dest, mn_error *err)
{
    mn_idx_images *out = dest;
    idx_header h;
    uint8_t *data;
    mn_status st = idx_load(s, 3, &h, &data, out->sha256, err);
    if (st != MN_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    out->count = h.count;
    out->rows = h.rows;
    out->cols = h.cols;
    out->pixels = data;
    return MN_OK;
}

static mn_status labels_from(idx_src *s, void *dest, mn_error *err)
{
    mn_idx_labels *out = dest;
    idx_header h;
    uint8_t *data;
    mn_status st = idx_load(s, 1, &h, &data, out->sha256, err);
    if (st != MN_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    for (size_t i = 0; i < h.count; i++) {
        if (data[i] >= MN_MNIST_CLASSES) {
            st = mn_fail(err, MN_ERR_FORMAT, "%s: label %u at index %zu is out of range 0..%d",
                         s->name, (unsigned)data[i], i, MN_MNIST_CLASSES - 1);
            free(data);
            memset(out, 0, sizeof *out);
            return st;
        }
    }
    out->count = h.count;
    out->labels = data;
    return MN_OK;
}

typedef mn_status (*idx_reader)(idx_src *s, void *out, mn_error *err);

static mn_status parse_buffer(const uint8_t *buf, size_t len, const char *name,
                              idx_reader read, void *out, mn_error *err)
{
    idx_src s;
    if (!name)
        name = "<buffer>";
    if (!buf && len > 0)
        return mn_fail(err, MN_ERR_ARG, "%s: no buffer", name);
    src_open_mem(&s, buf, len, name);
    mn_status st = read(&s, out, err);
    src_close(&s);
    return st;
}

static mn_status read_path(const char *path, idx_reader read, void *out, mn_error *err)
{
    idx_src s;
    mn_status st = src_open_file(&s, path, err);
    if (st == MN_OK)
        st = read(&s, out, err);
    src_close(&s);
    return st;
}

mn_status mn_idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                              mn_idx_images *out, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "mn_idx_parse_images: no output");
    memset(out, 0, sizeof *out);
    return parse_buffer(buf, len, name, images_from, out, err);
}

mn_status mn_idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                              mn_idx_labels *out, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "mn_idx_parse_labels: no output");
    memset(out, 0, sizeof *out);
    return parse_buffer(buf, len, name, labels_from, out, err);
}

mn_status mn_idx_read_images(const char *path, mn_idx_images *out, mn_error *err)
{
    if (!out || !path)
        return mn_fail(err, MN_ERR_ARG, "mn_idx_read_images: no path or output");
    memset(out, 0, sizeof *out);
    return read_path(path, images_from, out, err);
}

mn_status mn_idx_read_labels(const char *path, mn_idx_labels *out, mn_error *err)
{
    if (!out || !path)
        return mn_fail(err, MN_ERR_ARG, "mn_idx_read_labels: no path or output");
    memset(out, 0, sizeof *out);
    return read_path(path, labels_from, out, err);
}

void mn_idx_images_free(mn_idx_images *images)
{
    if (!images)
        return;
    free(images->pixels);
    memset(images, 0, sizeof *images);
}

void mn_idx_labels_free(mn_idx_labels *labels)
{
    if (!labels)
        return;
    free(labels->labels);
    memset(labels, 0, sizeof *labels);
}

/* Finds DIR/SPLIT-BASE, else DIR/SPLIT-BASE.gz. Anything that exists (or that we may
 * not stat) is returned, so that the reader reports the real error. */
static mn_status find_file(const char *dir, const char *split, const char *base, const char *what,
                           char path[PATH_BUF], mn_error *err)
{
    struct stat st;
    int n = snprintf(path, PATH_BUF, "%s/%s-%s", dir, split, base);
    if (n < 0 || (size_t)n + sizeof ".gz" > PATH_BUF)
        return mn_fail(err, MN_ERR_ARG, "MNIST data directory name too long: %s", dir);
    if (stat(path, &st) == 0 || errno != ENOENT)
        return MN_OK;
    memcpy(path + n, ".gz", sizeof ".gz");
    if (stat(path, &st) == 0 || errno != ENOENT)
        return MN_OK;
    path[n] = '\0';
    return mn_fail(err, MN_ERR_IO,
                   "no MNIST %s %s in %s: looked for %s and %s.gz; "
                   "fetch the data set with trainer/fetch-mnist.sh",
                   split, what, dir, path, path);
}

mn_status mn_mnist_load(const char *dir, const char *split, mn_dataset *out, mn_error *err)
{
    char images_path[PATH_BUF], labels_path[PATH_BUF];
    mn_idx_images images;
    mn_idx_labels labels;
    struct stat st;
    mn_status status;

    if (!out)
        return mn_fail(err, MN_ERR_ARG, "mn_mnist_load: no output");
    memset(out, 0, sizeof *out);
    if (!dir || !split || (strcmp(split, "train") != 0 && strcmp(split, "t10k") != 0))
        return mn_fail(err, MN_ERR_ARG, "MNIST split must be \"train\" or \"t10k\", not \"%s\"",
                       split ? split : "(null)");
    if (stat(dir, &st) != 0)
        return mn_fail(err, MN_ERR_IO,
                       "MNIST data directory %s: %s; fetch the data set with trainer/fetch-mnist.sh",
                       dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return mn_fail(err, MN_ERR_IO,
                       "MNIST data directory %s: not a directory; "
                       "fetch the data set with trainer/fetch-mnist.sh",
                       dir);
    if ((status = find_file(dir, split, "images-idx3-ubyte", "images", images_path, err)) != MN_OK ||
        (status = find_file(dir, split, "labels-idx1-ubyte", "labels", labels_path, err)) != MN_OK)
        return status;

    if ((status = mn_idx_read_images(images_path, &images, err)) != MN_OK)
        return status;
    if (images.rows != MN_MNIST_ROWS || images.cols != MN_MNIST_COLS) {
        status = mn_fail(err, MN_ERR_FORMAT, "%s: images are %zux%zu, MNIST needs %dx%d", images_path,
                         images.rows, images.cols, MN_MNIST_ROWS, MN_MNIST_COLS);
        mn_idx_images_free(&images);
        return status;
    }
    if (images.count == 0) {
        mn_idx_images_free(&images);
        return mn_fail(err, MN_ERR_FORMAT, "%s: holds no images", images_path);
    }
    if ((status = mn_idx_read_labels(labels_path, &labels, err)) != MN_OK) {
        mn_idx_images_free(&images);
        return status;
    }
    if (labels.count != images.count) {
        status = mn_fail(err, MN_ERR_FORMAT, "%s holds %zu images but %s holds %zu labels",
                         images_path, images.count, labels_path, labels.count);
        mn_idx_images_free(&images);
        mn_idx_labels_free(&labels);
        return status;
    }

    out->count = images.count;
    out->images = images.pixels;
    out->labels = labels.labels;
    memcpy(out->images_sha256, images.sha256, sizeof out->images_sha256);
    memcpy(out->labels_sha256, labels.sha256, sizeof out->labels_sha256);
    return MN_OK;
}

void mn_dataset_free(mn_dataset *ds)
{
    if (!ds)
        return;
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}
