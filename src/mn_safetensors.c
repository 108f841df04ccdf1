#include "config.h"

#include "mn_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mn_atomic.h"
#include "mn_describe.h"
#include "mn_json.h"

#ifdef WORDS_BIGENDIAN
#error "safetensors data are little-endian; big-endian hosts are not supported"
#endif

/* Tensor data blocks start on this boundary (bytes), for SIMD loads. */
#define ST_ALIGN 64

struct mn_st_file {
    size_t n;
    mn_st_tensor *tensors;   /* n entries, header order; names malloc'ed */
    float *data;             /* one aligned block holding every tensor */
    bool has_meta;
    mn_metadata meta;
};

/* ------------------------------------------------------------------ helpers */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Number of elements of SHAPE, false if it or 4x it overflows size_t. */
static bool element_count(const size_t *shape, int ndim, size_t *count)
{
    size_t c = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] != 0 && c > SIZE_MAX / shape[i])
            return false;
        c *= shape[i];
    }
    if (c > SIZE_MAX / sizeof(float))
        return false;
    *count = c;
    return true;
}

static bool valid_utf8(const char *s)
{
    const size_t n = strlen(s);
    return mn_utf8_valid_prefix((const unsigned char *)s, n) == n;
}

/* ------------------------------------------------------------------ writing */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static mn_status check_views(const mn_st_tensor_view *t, size_t n, const mn_metadata *meta,
                             size_t *counts, mn_error *err)
{
    char q[MN_QUOTE_SIZE];
    if (n > 0 && !t)
        return mn_fail(err, MN_ERR_ARG, "safetensors: no tensors given");
    for (size_t i = 0; i < n; i++) {
        const char *name = t[i].name;
        if (!name)
            return mn_fail(err, MN_ERR_ARG, "safetensors: tensor %zu has no name", i);
        if (strcmp(name, "__metadata__") == 0)
            return mn_fail(err, MN_ERR_ARG, "safetensors: a tensor cannot be called __metadata__");
        if (!valid_utf8(name))
            return mn_fail(err, MN_ERR_ARG, "tensor %s: name is not valid UTF-8", mn_quote(name, q));
        if (t[i].ndim < 0 || t[i].ndim > MN_ST_MAX_NDIM)
            return mn_fail(err, MN_ERR_ARG, "tensor %s: %d dimensions (0..%d allowed)",
                           mn_quote(name, q), t[i].ndim, MN_ST_MAX_NDIM);
        for (int d = 0; d < t[i].ndim; d++)
            if ((uint64_t)t[i].shape[d] > MN_ST_MAX_DIM)
                return mn_fail(err, MN_ERR_ARG, "tensor %s: dimension %d is %zu, too large",
                               mn_quote(name, q), d, t[i].shape[d]);
        if (!element_count(t[i].shape, t[i].ndim, &counts[i]))
            return mn_fail(err, MN_ERR_ARG, "tensor %s: element count overflows", mn_quote(name, q));
        if (counts[i] > 0 && !t[i].data)
            return mn_fail(err, MN_ERR_ARG, "tensor %s: data is NULL", mn_quote(name, q));
        for (size_t k = 0; k < counts[i]; k++)
            if (!isfinite(t[i].data[k]))
                return mn_fail(err, MN_ERR_ARG,
                               "tensor %s: element %zu is %s; refusing to write a file that "
                               "cannot be loaded", mn_quote(name, q), k,
                               isnan(t[i].data[k]) ? "NaN" : "infinite");
    }
    if (n > 1) {
        const char **names = malloc(n * sizeof *names);
        if (!names)
            return mn_fail(err, MN_ERR_NOMEM, "safetensors: out of memory");
        for (size_t i = 0; i < n; i++)
            names[i] = t[i].name;
        qsort(names, n, sizeof *names, cmp_str_ptr);
        for (size_t i = 1; i < n; i++)
            if (strcmp(names[i - 1], names[i]) == 0) {
                mn_status st = mn_fail(err, MN_ERR_ARG, "tensor %s: duplicate name",
                                       mn_quote(names[i], q));
                free(names);
                return st;
            }
        free(names);
    }
    for (size_t i = 0; meta && i < mn_metadata_count(meta); i++) {
        const char *k = mn_metadata_key(meta, i), *v = mn_metadata_value(meta, i);
        if (!valid_utf8(k) || !valid_utf8(v))
            return mn_fail(err, MN_ERR_ARG, "metadata %s: key or value is not valid UTF-8",
                           mn_quote(k, q));
    }
    return MN_OK;
}

static bool add_int_array(json_object *obj, const char *key, const size_t *v, int n)
{
    json_object *arr = json_object_new_array_ext(n > 0 ? n : 1);
    if (!arr)
        return false;
    for (int i = 0; i < n; i++) {
        json_object *num = json_object_new_int64((int64_t)v[i]);
        if (!num || json_object_array_add(arr, num) != 0) {
            json_object_put(num);
            json_object_put(arr);
            return false;
        }
    }
    if (json_object_object_add(obj, key, arr) != 0) {
        json_object_put(arr);
        return false;
    }
    return true;
}

/* Builds the 8-byte length and the padded JSON header into *OUT (malloc'ed). */
static mn_status build_header(const mn_st_tensor_view *t, size_t n, const mn_metadata *meta,
                              const size_t *counts, uint8_t **out, size_t *out_len,
                              size_t *data_len, mn_error *err)
{
    json_object *root = json_object_new_object();
    bool ok = root != NULL;
    size_t meta_n = meta ? mn_metadata_count(meta) : 0;
    if (ok && meta_n > 0) {
        json_object *m = json_object_new_object();
        ok = m != NULL;
        for (size_t i = 0; ok && i < meta_n; i++) {
            json_object *s = json_object_new_string(mn_metadata_value(meta, i));
            ok = s && json_object_object_add(m, mn_metadata_key(meta, i), s) == 0;
            if (!ok)
                json_object_put(s);
        }
        if (ok)
            ok = json_object_object_add(root, "__metadata__", m) == 0;
        if (!ok)
            json_object_put(m);
    }
    size_t offset = 0;
    for (size_t i = 0; ok && i < n; i++) {
        size_t bytes = counts[i] * sizeof(float);
        if (offset > SIZE_MAX - bytes) {
            json_object_put(root);
            return mn_fail(err, MN_ERR_ARG, "safetensors: total data size overflows");
        }
        size_t offs[2] = { offset, offset + bytes };
        offset += bytes;
        json_object *e = json_object_new_object();
        json_object *dtype = json_object_new_string("F32");
        ok = e && dtype && json_object_object_add(e, "dtype", dtype) == 0;
        if (!ok)
            json_object_put(dtype);
        ok = ok && add_int_array(e, "shape", t[i].shape, t[i].ndim) &&
             add_int_array(e, "data_offsets", offs, 2) &&
             json_object_object_add(root, t[i].name, e) == 0;
        if (!ok)
            json_object_put(e);
    }
    size_t json_len = 0;
    const char *json = ok ? json_object_to_json_string_length(
                                root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                &json_len)
                          : NULL;
    if (!json) {
        json_object_put(root);
        return mn_fail(err, MN_ERR_NOMEM, "safetensors: out of memory building the header");
    }
    size_t padded = (json_len + 7) / 8 * 8;
    uint8_t *buf = malloc(8 + padded);
    if (!buf) {
        json_object_put(root);
        return mn_fail(err, MN_ERR_NOMEM, "safetensors: out of memory building the header");
    }
    put_le64(buf, (uint64_t)padded);
    memcpy(buf + 8, json, json_len);
    memset(buf + 8 + json_len, ' ', padded - json_len);
    json_object_put(root);
    *out = buf;
    *out_len = 8 + padded;
    *data_len = offset;
    return MN_OK;
}

mn_status mn_st_serialize(const mn_st_tensor_view *tensors, size_t n, const mn_metadata *meta,
                          uint8_t **out, size_t *out_len, mn_error *err)
{
    if (!out || !out_len)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL output");
    *out = NULL;
    *out_len = 0;
    size_t *counts = calloc(n ? n : 1, sizeof *counts);
    if (!counts)
        return mn_fail(err, MN_ERR_NOMEM, "safetensors: out of memory");
    uint8_t *hdr = NULL;
    size_t hdr_len = 0, data_len = 0;
    mn_status st = check_views(tensors, n, meta, counts, err);
    if (st == MN_OK)
        st = build_header(tensors, n, meta, counts, &hdr, &hdr_len, &data_len, err);
    if (st != MN_OK) {
        free(counts);
        return st;
    }
    if (data_len > SIZE_MAX - hdr_len) {
        free(hdr);
        free(counts);
        return mn_fail(err, MN_ERR_ARG, "safetensors: file size overflows");
    }
    uint8_t *buf = realloc(hdr, hdr_len + data_len);
    if (!buf) {
        free(hdr);
        free(counts);
        return mn_fail(err, MN_ERR_NOMEM, "safetensors: out of memory for %zu bytes",
                       hdr_len + data_len);
    }
    size_t pos = hdr_len;
    for (size_t i = 0; i < n; i++) {
        if (counts[i] > 0)
            memcpy(buf + pos, tensors[i].data, counts[i] * sizeof(float));
        pos += counts[i] * sizeof(float);
    }
    free(counts);
    *out = buf;
    *out_len = pos;
    return MN_OK;
}

mn_status mn_st_write(const char *path, const mn_st_tensor_view *tensors, size_t n,
                      const mn_metadata *meta, mn_error *err)
{
    if (!path)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL path");
    size_t *counts = calloc(n ? n : 1, sizeof *counts);
    struct iovec *iov = calloc(n + 1, sizeof *iov);
    if (!counts || !iov) {
        free(counts);
        free(iov);
        return mn_fail(err, MN_ERR_NOMEM, "%s: out of memory", path);
    }
    uint8_t *hdr = NULL;
    size_t hdr_len = 0, data_len = 0;
    mn_error inner;
    mn_status st = check_views(tensors, n, meta, counts, &inner);
    if (st == MN_OK)
        st = build_header(tensors, n, meta, counts, &hdr, &hdr_len, &data_len, &inner);
    if (st == MN_OK) {
        iov[0].iov_base = hdr;
        iov[0].iov_len = hdr_len;
        for (size_t i = 0; i < n; i++) {
            iov[i + 1].iov_base = (void *)(uintptr_t)tensors[i].data;
            iov[i + 1].iov_len = counts[i] * sizeof(float);
        }
        st = mn_atomic_writev(path, iov, n + 1, err);
    } else {
        st = mn_fail(err, st, "%s: %s", path, inner.msg);
    }
    free(hdr);
    free(iov);
    free(counts);
    return st;
}

/* ------------------------------------------------------------------ reading */

/* Where a tensor's bytes are, while the header is read. */
typedef struct tinfo {
    size_t index;            /* position in header order */
    const char *name;        /* the tensor's (owned by f->tensors) */
    uint64_t begin, end;
} tinfo;

/* The header being read: once, front to back, by the strict reader. */
typedef struct reader {
    mn_json j;
    uint64_t data_len;
    mn_st_file *f;
    tinfo *ti;               /* f->n entries */
    size_t cap;              /* room in f->tensors and ti */
    bool has_meta;
    mn_error *err;
} reader;

static int cmp_tinfo(const void *a, const void *b)
{
    const tinfo *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static int cmp_tinfo_name(const void *a, const void *b)
{
    return strcmp(((const tinfo *)a)->name, ((const tinfo *)b)->name);
}

void mn_st_free(mn_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free((char *)(uintptr_t)f->tensors[i].name);
    free(f->tensors);
    free(f->data);
    free(f);
}

/* A malformed header: what the strict reader found, and where. */
static mn_status not_json(reader *r)
{
    if (!r->j.error)
        mn_json_fail(&r->j, "expected a value");
    return mn_fail(r->err, MN_ERR_FORMAT, "header is not valid JSON: %s at byte %zu", r->j.error,
                   r->j.error_at);
}

/* The kind of the next value, or MN_JSON_NONE after recording a syntax error. */
static mn_json_kind next_kind(reader *r)
{
    mn_json_kind k = mn_json_next(&r->j);
    if (k == MN_JSON_NONE)
        mn_json_fail(&r->j, "expected a value");
    return k;
}

/* A key into a new C string (*name, malloc'ed; U+0000 refused). */
static mn_status read_key(reader *r, char **name)
{
    mn_json_str key;
    if (!mn_json_string(&r->j, &key) || !mn_json_expect(&r->j, ':'))
        return not_json(r);
    *name = malloc(key.len + 1); /* escapes only shorten */
    if (!*name)
        return mn_fail(r->err, MN_ERR_NOMEM, "out of memory reading the header");
    if (!mn_json_str_decode(&key, *name, key.len + 1, NULL)) {
        free(*name);
        *name = NULL;
        return mn_fail(r->err, MN_ERR_FORMAT, "header key at byte %zu holds \\u0000",
                       (size_t)(key.raw - r->j.start));
    }
    return MN_OK;
}

/* One "__metadata__" member: a string value, its key not seen before. */
static mn_status metadata_member(reader *r, const char *key)
{
    char q[MN_QUOTE_SIZE], value[MN_METADATA_MAX_VALUE + 1];
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_STRING)
        return mn_fail(r->err, MN_ERR_FORMAT, "__metadata__ %s: value is %s, not a string",
                       mn_quote(key, q), mn_json_kind_name(kind));
    mn_json_str s;
    size_t len;
    if (!mn_json_string(&r->j, &s))
        return not_json(r);
    if (!mn_json_str_decode(&s, value, sizeof value, &len))
        return len == SIZE_MAX
                   ? mn_fail(r->err, MN_ERR_FORMAT, "__metadata__ %s: value holds \\u0000",
                             mn_quote(key, q))
                   : mn_fail(r->err, MN_ERR_LIMIT, "__metadata__ %s: value longer than %d bytes",
                             mn_quote(key, q), MN_METADATA_MAX_VALUE);
    if (mn_metadata_get(&r->f->meta, key))
        return mn_fail(r->err, MN_ERR_FORMAT, "__metadata__ has a duplicate key");
    if (strlen(key) > MN_METADATA_MAX_KEY)
        return mn_fail(r->err, MN_ERR_LIMIT, "__metadata__ key %s: longer than %d bytes",
                       mn_quote(key, q), MN_METADATA_MAX_KEY);
    mn_error inner;
    if (mn_metadata_set(&r->f->meta, key, value, &inner) != MN_OK)
        return mn_fail(r->err, MN_ERR_LIMIT, "__metadata__: more than %d entries",
                       MN_METADATA_MAX_ENTRIES);
    return MN_OK;
}

static mn_status parse_metadata(reader *r)
{
    if (r->has_meta)
        return mn_fail(r->err, MN_ERR_FORMAT, "__metadata__ appears twice");
    r->has_meta = true;
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_OBJECT)
        return mn_fail(r->err, MN_ERR_FORMAT, "__metadata__ is not an object");
    mn_json_accept(&r->j, '{');
    if (mn_json_accept(&r->j, '}'))
        return MN_OK;
    mn_status st;
    do {
        char *key;
        if ((st = read_key(r, &key)) != MN_OK)
            return st;
        st = metadata_member(r, key);
        free(key);
        if (st != MN_OK)
            return st;
    } while (mn_json_accept(&r->j, ','));
    return mn_json_expect(&r->j, '}') ? MN_OK : not_json(r);
}

/* An entry's "shape": at most MN_ST_MAX_NDIM integers in [0, MN_ST_MAX_DIM]. */
static mn_status parse_shape(reader *r, const char *qn, mn_st_tensor *t)
{
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_ARRAY)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: shape is %s, not an array", qn,
                       mn_json_kind_name(kind));
    mn_json_accept(&r->j, '[');
    size_t ndim = 0;
    if (!mn_json_accept(&r->j, ']')) {
        do {
            unsigned long long dim;
            bool ok = false;
            if ((kind = next_kind(r)) == MN_JSON_NONE ||
                (kind == MN_JSON_NUMBER && !mn_json_uint(&r->j, MN_ST_MAX_DIM, &dim, &ok)))
                return not_json(r);
            if (!ok)
                return mn_fail(r->err, MN_ERR_FORMAT,
                               "tensor %s: shape entry %zu is not an integer in [0, 2^48]", qn, ndim);
            if (ndim < MN_ST_MAX_NDIM)
                t->shape[ndim] = (size_t)dim;
            ndim++;
        } while (mn_json_accept(&r->j, ','));
        if (!mn_json_expect(&r->j, ']'))
            return not_json(r);
    }
    if (ndim > MN_ST_MAX_NDIM)
        return mn_fail(r->err, MN_ERR_LIMIT, "tensor %s: %zu dimensions, at most %d supported", qn,
                       ndim, MN_ST_MAX_NDIM);
    t->ndim = (int)ndim;
    if (!element_count(t->shape, t->ndim, &t->count))
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: element count of its shape overflows", qn);
    return MN_OK;
}

/* An entry's "data_offsets": [begin, end], integers in [0, 2^63 - 2]. */
static mn_status parse_offsets(reader *r, const char *qn, tinfo *ti)
{
    static const char not_pair[] = "tensor %s: data_offsets is not an array of 2 integers";
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_ARRAY)
        return mn_fail(r->err, MN_ERR_FORMAT, not_pair, qn);
    mn_json_accept(&r->j, '[');
    unsigned long long v[2];
    for (size_t n = 0; n < 2; n++) {
        if (n && !mn_json_accept(&r->j, ','))
            return mn_json_peek(&r->j, ']') ? mn_fail(r->err, MN_ERR_FORMAT, not_pair, qn)
                                            : not_json(r);
        bool ok = false;
        if ((kind = next_kind(r)) == MN_JSON_NONE ||
            (kind == MN_JSON_NUMBER && !mn_json_uint(&r->j, INT64_MAX - 1, &v[n], &ok)))
            return n == 0 && mn_json_peek(&r->j, ']') ? mn_fail(r->err, MN_ERR_FORMAT, not_pair, qn)
                                                      : not_json(r);
        if (!ok)
            return mn_fail(r->err, MN_ERR_FORMAT,
                           "tensor %s: data_offsets are not non-negative integers", qn);
    }
    if (mn_json_peek(&r->j, ','))
        return mn_fail(r->err, MN_ERR_FORMAT, not_pair, qn);
    if (!mn_json_expect(&r->j, ']'))
        return not_json(r);
    ti->begin = v[0];
    ti->end = v[1];
    return MN_OK;
}

/* An entry's "dtype": "F32". */
static mn_status parse_dtype(reader *r, const char *qn)
{
    char q[MN_QUOTE_SIZE], dtype[16];
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_STRING)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: dtype is %s, not a string", qn,
                       mn_json_kind_name(kind));
    mn_json_str s;
    if (!mn_json_string(&r->j, &s))
        return not_json(r);
    if (mn_json_str_is(&s, "F32"))
        return MN_OK;
    if (!mn_json_str_decode(&s, dtype, sizeof dtype, NULL))
        snprintf(dtype, sizeof dtype, "(long)");
    return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: dtype %s is not supported (only F32)", qn,
                   mn_quote(dtype, q));
}

/* One member of a tensor's entry: dtype, shape or data_offsets, each once. */
static mn_status entry_member(reader *r, const char *qn, const char *key, unsigned *seen,
                              mn_st_tensor *t, tinfo *ti)
{
    char q[MN_QUOTE_SIZE];
    static const char *const names[] = {"dtype", "shape", "data_offsets"};
    unsigned which = 0;
    while (which < 3 && strcmp(key, names[which]) != 0)
        which++;
    if (which == 3)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: unexpected key %s", qn, mn_quote(key, q));
    if (*seen & (1u << which))
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: duplicate key in its entry", qn);
    *seen |= 1u << which;
    return which == 0 ? parse_dtype(r, qn) : which == 1 ? parse_shape(r, qn, t)
                                                        : parse_offsets(r, qn, ti);
}

/* The offsets agree with the shape and stay inside the data. */
static mn_status check_offsets(reader *r, const char *qn, const mn_st_tensor *t, const tinfo *ti)
{
    const unsigned long long b = ti->begin, e = ti->end;
    if (b > e)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: data_offsets [%llu, %llu] end before they begin",
                       qn, b, e);
    if (e > r->data_len)
        return mn_fail(r->err, MN_ERR_FORMAT,
                       "tensor %s: data_offsets [%llu, %llu] go past the end of the data (%llu bytes)",
                       qn, b, e, (unsigned long long)r->data_len);
    if (e - b != (uint64_t)t->count * sizeof(float)) {
        char sh[128];
        mn_format_shape(t->shape, t->ndim, sh, sizeof sh);
        return mn_fail(r->err, MN_ERR_FORMAT,
                       "tensor %s: data_offsets [%llu, %llu] hold %llu bytes but F32 shape %s needs %llu",
                       qn, b, e, e - b, sh, (unsigned long long)t->count * sizeof(float));
    }
    return MN_OK;
}

/* A tensor's entry: exactly {dtype, shape, data_offsets}, in any order. */
static mn_status parse_entry(reader *r, mn_st_tensor *t, tinfo *ti)
{
    char q[MN_QUOTE_SIZE];
    const char *qn = mn_quote(t->name, q);
    mn_json_kind kind = next_kind(r);
    if (kind == MN_JSON_NONE)
        return not_json(r);
    if (kind != MN_JSON_OBJECT)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: entry is %s, not an object", qn,
                       mn_json_kind_name(kind));
    mn_json_accept(&r->j, '{');
    unsigned seen = 0;
    mn_status st = MN_OK;
    if (!mn_json_accept(&r->j, '}')) {
        do {
            char *key;
            if ((st = read_key(r, &key)) != MN_OK)
                return st;
            st = entry_member(r, qn, key, &seen, t, ti);
            free(key);
            if (st != MN_OK)
                return st;
        } while (mn_json_accept(&r->j, ','));
        if (!mn_json_expect(&r->j, '}'))
            return not_json(r);
    }
    if (seen != 7)
        return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: no %s", qn,
                       !(seen & 1) ? "dtype" : !(seen & 2) ? "shape" : "data_offsets");
    return check_offsets(r, qn, t, ti);
}

/* Room for one more tensor. */
static mn_status grow(reader *r)
{
    if (r->f->n < r->cap)
        return MN_OK;
    size_t cap = r->cap ? 2 * r->cap : 16;
    mn_st_tensor *t = realloc(r->f->tensors, cap * sizeof *t);
    if (t)
        r->f->tensors = t;
    tinfo *ti = t ? realloc(r->ti, cap * sizeof *ti) : NULL;
    if (!ti)
        return mn_fail(r->err, MN_ERR_NOMEM, "out of memory for %zu tensors", cap);
    r->ti = ti;
    r->cap = cap;
    return MN_OK;
}

/* One top-level member: "__metadata__" or a tensor named by the key (taken). */
static mn_status top_member(reader *r, char *name)
{
    if (strcmp(name, "__metadata__") == 0) {
        free(name);
        return parse_metadata(r);
    }
    mn_status st = grow(r);
    if (st != MN_OK) {
        free(name);
        return st;
    }
    mn_st_tensor *t = &r->f->tensors[r->f->n];
    tinfo *ti = &r->ti[r->f->n];
    memset(t, 0, sizeof *t);
    *ti = (tinfo){.index = r->f->n, .name = name};
    t->name = name;
    r->f->n++;
    return parse_entry(r, t, ti);
}

/* Every tensor's name differs from the others'. */
static mn_status check_unique_names(reader *r)
{
    char q[MN_QUOTE_SIZE];
    if (r->f->n > 1)
        qsort(r->ti, r->f->n, sizeof *r->ti, cmp_tinfo_name);
    for (size_t i = 1; i < r->f->n; i++)
        if (strcmp(r->ti[i - 1].name, r->ti[i].name) == 0)
            return mn_fail(r->err, MN_ERR_FORMAT, "tensor %s: duplicate name",
                           mn_quote(r->ti[i].name, q));
    return MN_OK;
}

/* The header object, read once; then nothing but whitespace. */
static mn_status parse_header(reader *r)
{
    mn_status st = MN_OK;
    if (!mn_json_expect(&r->j, '{'))
        return not_json(r);
    if (!mn_json_accept(&r->j, '}')) {
        do {
            char *name;
            if ((st = read_key(r, &name)) != MN_OK || (st = top_member(r, name)) != MN_OK)
                return st;
        } while (mn_json_accept(&r->j, ','));
        if (!mn_json_expect(&r->j, '}'))
            return not_json(r);
    }
    if (!mn_json_at_end(&r->j))
        return not_json(r);
    r->f->has_meta = r->has_meta;
    return check_unique_names(r);
}

/* Checks that the sorted ranges tile [0, data_len) exactly. */
static mn_status check_tiling(const tinfo *ti, size_t n, uint64_t data_len, mn_error *err)
{
    char q[MN_QUOTE_SIZE], q2[MN_QUOTE_SIZE];
    uint64_t expect = 0;
    for (size_t i = 0; i < n; i++) {
        if (ti[i].begin > expect)
            return mn_fail(err, MN_ERR_FORMAT,
                           "tensor %s: data_offsets [%llu, %llu] leave a gap of %llu bytes "
                           "after offset %llu", mn_quote(ti[i].name, q),
                           (unsigned long long)ti[i].begin, (unsigned long long)ti[i].end,
                           (unsigned long long)(ti[i].begin - expect),
                           (unsigned long long)expect);
        if (ti[i].begin < expect)
            return mn_fail(err, MN_ERR_FORMAT,
                           "tensor %s: data_offsets [%llu, %llu] overlap tensor %s [%llu, %llu]",
                           mn_quote(ti[i].name, q), (unsigned long long)ti[i].begin,
                           (unsigned long long)ti[i].end, mn_quote(ti[i - 1].name, q2),
                           (unsigned long long)ti[i - 1].begin,
                           (unsigned long long)ti[i - 1].end);
        expect = ti[i].end;
    }
    if (expect != data_len)
        return mn_fail(err, MN_ERR_FORMAT,
                       "tensors cover %llu bytes of data but the file has %llu after the header",
                       (unsigned long long)expect, (unsigned long long)data_len);
    return MN_OK;
}

/* Copies each tensor's data (ti sorted by offset) into one aligned block, refusing
 * NaN and infinities. */
static mn_status copy_data(mn_st_file *f, const tinfo *ti, const uint8_t *data, mn_error *err)
{
    /* the data fit in the input, so the padded total cannot overflow */
    size_t total = 0;
    for (size_t i = 0; i < f->n; i++)
        total += (f->tensors[i].count * sizeof(float) + ST_ALIGN - 1) / ST_ALIGN * ST_ALIGN;
    if (total == 0)
        return MN_OK;
    f->data = aligned_alloc(ST_ALIGN, total);
    if (!f->data)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for %zu bytes of tensor data", total);
    size_t pos = 0;
    for (size_t i = 0; i < f->n; i++) {
        mn_st_tensor *t = &f->tensors[ti[i].index];
        if (t->count == 0)
            continue;
        float *dst = f->data + pos / sizeof(float);
        memcpy(dst, data + ti[i].begin, t->count * sizeof(float));
        for (size_t j = 0; j < t->count; j++)
            if (!isfinite(dst[j])) {
                char q[MN_QUOTE_SIZE], sh[128];
                mn_format_shape(t->shape, t->ndim, sh, sizeof sh);
                return mn_fail(err, MN_ERR_FORMAT, "tensor %s: element %zu of %s is %s",
                               mn_quote(t->name, q), j, sh, isnan(dst[j]) ? "NaN" : "infinite");
            }
        t->data = dst;
        pos += (t->count * sizeof(float) + ST_ALIGN - 1) / ST_ALIGN * ST_ALIGN;
    }
    return MN_OK;
}

/* The 8-byte length and the header's first checks; *hlen is the header's length. */
static mn_status check_prefix(const uint8_t *buf, size_t len, uint64_t *hlen, mn_error *err)
{
    if (len < 8)
        return mn_fail(err, MN_ERR_FORMAT,
                       "file is %zu bytes, too short for the 8-byte header length", len);
    *hlen = get_le64(buf);
    if (*hlen > len - 8)
        return mn_fail(err, MN_ERR_FORMAT,
                       "header length %llu exceeds the %zu bytes after it (truncated file?)",
                       (unsigned long long)*hlen, len - 8);
    if (*hlen > MN_ST_MAX_HEADER_BYTES)
        return mn_fail(err, MN_ERR_LIMIT, "header length %llu exceeds the limit of %zu bytes",
                       (unsigned long long)*hlen, MN_ST_MAX_HEADER_BYTES);
    if (*hlen < 2 || buf[8] != '{')
        return mn_fail(err, MN_ERR_FORMAT, "header does not start with '{'");
    /* all of it, keys and whitespace too, so the message names the first bad byte */
    size_t valid = mn_utf8_valid_prefix(buf + 8, (size_t)*hlen);
    if (valid != *hlen)
        return mn_fail(err, MN_ERR_FORMAT, "header is not valid UTF-8 at byte %zu", valid);
    return MN_OK;
}

mn_status mn_st_parse(const uint8_t *buf, size_t len, mn_st_file **out, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL output");
    *out = NULL;
    if (!buf && len > 0)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL buffer");
    uint64_t hlen = 0;
    mn_status st = check_prefix(buf, len, &hlen, err);
    if (st != MN_OK)
        return st;
    reader r = {.data_len = (uint64_t)(len - 8 - hlen), .err = err};
    mn_json_init(&r.j, (const char *)buf + 8, (size_t)hlen);
    r.f = calloc(1, sizeof *r.f);
    if (!r.f)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory");
    mn_metadata_init(&r.f->meta);
    st = parse_header(&r);
    if (st == MN_OK) {
        if (r.f->n > 1)
            qsort(r.ti, r.f->n, sizeof *r.ti, cmp_tinfo);
        st = check_tiling(r.ti, r.f->n, r.data_len, err);
    }
    if (st == MN_OK)
        st = copy_data(r.f, r.ti, buf + 8 + hlen, err);
    free(r.ti);
    if (st != MN_OK) {
        mn_st_free(r.f);
        return st;
    }
    *out = r.f;
    return MN_OK;
}

mn_status mn_st_read(const char *path, size_t max_file_bytes, mn_st_file **out, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL output");
    *out = NULL;
    if (!path)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL path");
    int fd;
    /* O_NONBLOCK: a FIFO planted at PATH must not hang the caller in open(); it has
     * no effect on the regular files we go on to read. */
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return mn_fail(err, MN_ERR_IO, "open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mn_fail(err, MN_ERR_IO, "stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mn_fail(err, MN_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > max_file_bytes) {
        close(fd);
        return mn_fail(err, MN_ERR_LIMIT, "%s: %jd bytes, more than the limit of %zu", path,
                       (intmax_t)sb.st_size, max_file_bytes);
    }
    size_t size = (size_t)sb.st_size;
    /* One spare byte shows whether the file grew while we read it. */
    uint8_t *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return mn_fail(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, size + 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return mn_fail(err, MN_ERR_IO, "read %s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > size)
            break;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return mn_fail(err, MN_ERR_IO, "%s: changed size while being read (%zu bytes, then %s)",
                       path, size, got > size ? "more" : "fewer");
    }
    mn_error inner;
    mn_status st = mn_st_parse(buf, size, out, &inner);
    free(buf);
    if (st != MN_OK)
        return mn_fail(err, st, "%s: %s", path, inner.msg);
    return MN_OK;
}

size_t mn_st_count(const mn_st_file *f)
{
    return f ? f->n : 0;
}

const mn_st_tensor *mn_st_tensor_at(const mn_st_file *f, size_t i)
{
    return f && i < f->n ? &f->tensors[i] : NULL;
}

const mn_st_tensor *mn_st_find(const mn_st_file *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const mn_metadata *mn_st_metadata(const mn_st_file *f)
{
    return f ? &f->meta : NULL;
}

bool mn_st_has_metadata(const mn_st_file *f)
{
    return f && f->has_meta;
}
