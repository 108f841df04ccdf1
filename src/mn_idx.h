/* IDX files (the MNIST container format) and the MNIST data set.
 *
 * An IDX file is a big-endian header (magic 0x000008NN, where 08 means unsigned
 * bytes and NN the number of dimensions, then one u32 per dimension) followed by
 * the data. Images are 0x00000803 (count, rows, cols), labels 0x00000801 (count).
 *
 * Input may be raw or gzip-compressed (detected by the gzip magic 1f 8b; several
 * concatenated gzip members are one stream, as gzip(1) treats them). Nothing is
 * trusted: the reader refuses bad magic numbers, zero dimensions, data larger than
 * MN_IDX_MAX_BYTES, truncated files, trailing bytes (after the data or after the
 * gzip stream), corrupt or truncated gzip streams and labels above 9, each with a
 * message that names the file (or the `name` given for a buffer) and the problem.
 *
 * Ownership: on success the out structure owns its arrays; release them with the
 * matching _free function (which also accepts a zeroed structure). On failure the
 * out structure is left zeroed and nothing needs freeing. */
#ifndef MN_IDX_H
#define MN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"
#include "mn_sha256.h"

#define MN_IDX_IMAGES_MAGIC 0x00000803u
#define MN_IDX_LABELS_MAGIC 0x00000801u
/* Largest data section (decompressed) accepted, so that a forged header or a
 * gzip bomb cannot make us allocate without bound. MNIST's largest file is 45 MiB. */
#define MN_IDX_MAX_BYTES ((size_t)256 << 20)

#define MN_MNIST_ROWS 28
#define MN_MNIST_COLS 28
#define MN_MNIST_PIXELS (MN_MNIST_ROWS * MN_MNIST_COLS)
#define MN_MNIST_CLASSES 10

typedef struct mn_idx_images {
    size_t count;
    size_t rows, cols;
    uint8_t *pixels;  /* count*rows*cols bytes, image-major then row-major; owned */
    char sha256[MN_SHA256_HEX_SIZE]; /* of the whole decompressed file, header included */
} mn_idx_images;

typedef struct mn_idx_labels {
    size_t count;
    uint8_t *labels;  /* count bytes, each 0..9; owned */
    char sha256[MN_SHA256_HEX_SIZE]; /* of the whole decompressed file, header included */
} mn_idx_labels;

/* Parse an IDX image or label file held in memory (raw or gzip). `name` is only used
 * in messages (a path, or "<fuzz input>"). The buffer is not kept: the result owns a
 * copy. Images of any non-zero size are accepted here; mn_mnist_load wants 28x28. */
mn_status mn_idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                              mn_idx_images *out, mn_error *err);
mn_status mn_idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                              mn_idx_labels *out, mn_error *err);

/* The same, reading a file (streamed: the compressed file is never held whole). */
mn_status mn_idx_read_images(const char *path, mn_idx_images *out, mn_error *err);
mn_status mn_idx_read_labels(const char *path, mn_idx_labels *out, mn_error *err);

void mn_idx_images_free(mn_idx_images *images);
void mn_idx_labels_free(mn_idx_labels *labels);

/* One split of MNIST: `count` 28x28 images with their labels. */
typedef struct mn_dataset {
    size_t count;
    uint8_t *images;  /* count*MN_MNIST_PIXELS bytes, row-major, 0 = background; owned */
    uint8_t *labels;  /* count bytes, 0..9; owned */
    /* SHA-256 (hex) of the decompressed IDX files, header included: for the real
     * train split images_sha256 is the published sum of train-images-idx3-ubyte,
     * the data set checksum recorded in model metadata. */
    char images_sha256[MN_SHA256_HEX_SIZE];
    char labels_sha256[MN_SHA256_HEX_SIZE];
} mn_dataset;

/* Load DIR/<split>-images-idx3-ubyte and DIR/<split>-labels-idx1-ubyte, each either
 * as named or with ".gz" appended (the uncompressed file wins if both exist).
 * split is "train" or "t10k" (MN_ERR_ARG otherwise). Requires 28x28 images, at least
 * one image, and as many labels as images. A missing directory or file is MN_ERR_IO
 * with a message saying where it looked and that trainer/fetch-mnist.sh fetches
 * the data. On failure *out is zeroed. */
mn_status mn_mnist_load(const char *dir, const char *split, mn_dataset *out, mn_error *err);
void mn_dataset_free(mn_dataset *ds);

#endif
