/* Generic safetensors files (the format of huggingface/safetensors), F32 only.
 *
 * Layout: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON, an
 * object mapping tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (byte offsets into the data buffer) plus an optional "__metadata__" object of string
 * values; then the data buffer, raw little-endian values, which the tensors tile
 * exactly.
 *
 * Writing puts "__metadata__" first (when there is any), then the tensors in the
 * order given, their data contiguous in the same order, and pads the header with
 * spaces to a multiple of 8 bytes, as the reference (Rust) writer does.
 *
 * Reading trusts nothing and refuses, with a message naming the tensor or field:
 * a header length beyond the file or above MN_ST_MAX_HEADER_BYTES; a header that is
 * not valid UTF-8, or not strict JSON as mn_json.h reads it (RFC 8259 exactly), that
 * does not start with '{', or that has anything but whitespace after the object;
 * \u0000 in a key or a metadata value; duplicate keys at any level (compared decoded:
 * "\u0061" and "a" are the same key);
 * an entry that is not exactly {dtype, shape, data_offsets} with the right JSON types;
 * a dtype other than "F32"; more than MN_ST_MAX_NDIM dimensions, a dimension above
 * MN_ST_MAX_DIM or an element count that overflows; data_offsets whose length differs
 * from 4 x elements, that go past the data, or that leave a gap or an overlap or do not
 * end exactly at the end of the file; a "__metadata__" that is not an object of
 * strings or exceeds the mn_metadata limits; any NaN or infinite value.
 *
 * The header is read once, front to back; a message names the first problem met,
 * which for a malformed header may be a wrong member before the syntax error.
 *
 * Tensor data are copied into 64-byte-aligned float arrays, so offsets in the file
 * need not be aligned. No global state; parsed files are independent values. */
#ifndef MN_SAFETENSORS_H
#define MN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"
#include "mn_metadata.h"

#define MN_ST_MAX_NDIM 8
/* Largest header accepted by the reader, in bytes (the model's is under 1 KiB). */
#define MN_ST_MAX_HEADER_BYTES ((size_t)1 << 20)
/* Largest single dimension accepted by the reader (also rejects values that the JSON
 * parser saturated, which are >= 2^63). */
#define MN_ST_MAX_DIM ((uint64_t)1 << 48)

/* A tensor to write: borrowed pointers, nothing is freed. */
typedef struct mn_st_tensor_view {
    const char *name;               /* not "__metadata__", unique within a file */
    int ndim;                       /* 0 (a scalar) .. MN_ST_MAX_NDIM */
    size_t shape[MN_ST_MAX_NDIM];
    const float *data;              /* product(shape) floats, row-major; all finite */
} mn_st_tensor_view;

/* Serialises N tensors and META (may be NULL or empty: no "__metadata__" is written)
 * into one malloc'ed buffer *OUT of *OUT_LEN bytes, which the caller frees with free().
 * Refuses (MN_ERR_ARG) empty, duplicate or invalid UTF-8 names, bad ndim, NULL data,
 * and NaN/infinite values (a file this library could not read back). */
mn_status mn_st_serialize(const mn_st_tensor_view *tensors, size_t n, const mn_metadata *meta,
                          uint8_t **out, size_t *out_len, mn_error *err);

/* Same content, written atomically to PATH (see mn_atomic.h) without assembling the
 * whole file in memory. */
mn_status mn_st_write(const char *path, const mn_st_tensor_view *tensors, size_t n,
                      const mn_metadata *meta, mn_error *err);

/* A tensor read from a file; owned by its mn_st_file. */
typedef struct mn_st_tensor {
    const char *name;
    int ndim;
    size_t shape[MN_ST_MAX_NDIM];
    size_t count;                   /* number of floats, product(shape) */
    const float *data;              /* count floats, 64-byte aligned; NULL when count is 0 */
} mn_st_tensor;

typedef struct mn_st_file mn_st_file;

/* Parses and checks LEN bytes at BUF (not retained: the result owns copies). On
 * success *OUT is a new file to release with mn_st_free; on failure *OUT is NULL and
 * ERR says why (MN_ERR_FORMAT, MN_ERR_LIMIT or MN_ERR_NOMEM). */
mn_status mn_st_parse(const uint8_t *buf, size_t len, mn_st_file **out, mn_error *err);

/* Reads the regular file PATH, at most MAX_FILE_BYTES long (else MN_ERR_LIMIT), and
 * parses it; errors start with PATH. MN_ERR_IO when it cannot be opened or read. */
mn_status mn_st_read(const char *path, size_t max_file_bytes, mn_st_file **out, mn_error *err);

void mn_st_free(mn_st_file *f);   /* NULL is allowed */

/* Tensors in header order; I < mn_st_count(F). */
size_t mn_st_count(const mn_st_file *f);
const mn_st_tensor *mn_st_tensor_at(const mn_st_file *f, size_t i);
/* The tensor called NAME, or NULL. */
const mn_st_tensor *mn_st_find(const mn_st_file *f, const char *name);

/* The file's "__metadata__" (empty if it had none); borrowed from F. */
const mn_metadata *mn_st_metadata(const mn_st_file *f);
bool mn_st_has_metadata(const mn_st_file *f);

#endif
