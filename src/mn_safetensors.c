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

#ifdef WORDS_BIGENDIAN
#error "safetensors data are little-endian; big-endian hosts are not supported"
#endif

/* Nesting allowed in a header: the object, an entry, its shape array. A little slack
 * so that the error for deeper input comes from our scanner with a clear message. */
#define ST_MAX_DEPTH 8
/* Tensor data blocks start on this boundary (bytes), for SIMD loads. */
#define ST_ALIGN 64
/* Longest tensor name or field quoted in an error message, in bytes. */
#define ST_QUOTE_MAX 64

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

/* Copies S (N bytes) into BUF for an error message: control characters become '?'
 * (a file must not be able to forge log lines), long strings are cut at a character
 * boundary and marked with "...". */
static const char *quote(const char *s, size_t n, char buf[static ST_QUOTE_MAX + 4])
{
    size_t k = n;
    if (k > ST_QUOTE_MAX) {
        k = ST_QUOTE_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
    }
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (k < n) {
        memcpy(buf + k, "...", 4);
    } else {
        buf[k] = '\0';
    }
    return buf;
}

#define QUOTE(s, qbuf) quote((s), strlen(s), (qbuf))

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

static void format_shape(const size_t *shape, int ndim, char *buf, size_t cap)
{
    size_t used = 0;
    int w = snprintf(buf, cap, "[");
    used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < ndim && used < cap; i++) {
        w = snprintf(buf + used, cap - used, "%s%zu", i ? ", " : "", shape[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* Length of the longest valid UTF-8 prefix of S (N bytes). */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return i;
        i += len;
    }
    return n;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    return utf8_valid_prefix(s, n) == n;
}

/* ------------------------------------------------------------------ writing */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static mn_status check_views(const mn_st_tensor_view *t, size_t n, const mn_metadata *meta,
                             size_t *counts, mn_error *err)
{
    char q[ST_QUOTE_MAX + 4];
    if (n > 0 && !t)
        return mn_fail(err, MN_ERR_ARG, "safetensors: no tensors given");
    for (size_t i = 0; i < n; i++) {
        const char *name = t[i].name;
        if (!name)
            return mn_fail(err, MN_ERR_ARG, "safetensors: tensor %zu has no name", i);
        if (strcmp(name, "__metadata__") == 0)
            return mn_fail(err, MN_ERR_ARG, "safetensors: a tensor cannot be called __metadata__");
        if (!valid_utf8((const unsigned char *)name, strlen(name)))
            return mn_fail(err, MN_ERR_ARG, "tensor %s: name is not valid UTF-8", QUOTE(name, q));
        if (t[i].ndim < 0 || t[i].ndim > MN_ST_MAX_NDIM)
            return mn_fail(err, MN_ERR_ARG, "tensor %s: %d dimensions (0..%d allowed)",
                           QUOTE(name, q), t[i].ndim, MN_ST_MAX_NDIM);
        for (int d = 0; d < t[i].ndim; d++)
            if ((uint64_t)t[i].shape[d] > MN_ST_MAX_DIM)
                return mn_fail(err, MN_ERR_ARG, "tensor %s: dimension %d is %zu, too large",
                               QUOTE(name, q), d, t[i].shape[d]);
        if (!element_count(t[i].shape, t[i].ndim, &counts[i]))
            return mn_fail(err, MN_ERR_ARG, "tensor %s: element count overflows", QUOTE(name, q));
        if (counts[i] > 0 && !t[i].data)
            return mn_fail(err, MN_ERR_ARG, "tensor %s: data is NULL", QUOTE(name, q));
        for (size_t k = 0; k < counts[i]; k++)
            if (!isfinite(t[i].data[k]))
                return mn_fail(err, MN_ERR_ARG,
                               "tensor %s: element %zu is %s; refusing to write a file that "
                               "cannot be loaded", QUOTE(name, q), k,
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
                                       QUOTE(names[i], q));
                free(names);
                return st;
            }
        free(names);
    }
    for (size_t i = 0; meta && i < mn_metadata_count(meta); i++) {
        const char *k = mn_metadata_key(meta, i), *v = mn_metadata_value(meta, i);
        if (!valid_utf8((const unsigned char *)k, strlen(k)) ||
            !valid_utf8((const unsigned char *)v, strlen(v)))
            return mn_fail(err, MN_ERR_ARG, "metadata %s: key or value is not valid UTF-8",
                           QUOTE(k, q));
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

/* ------------------------------------------------------------------ strict JSON scan */

/* json-c, even with JSON_TOKENER_STRICT, accepts single-quoted strings, NaN and
 * Infinity, raw control characters in strings, silently keeps the last of duplicate
 * keys and truncates keys at \u0000. This scanner checks the RFC 8259 grammar first and
 * records each top-level key with the number of keys nested under it, so duplicates
 * anywhere can be found. json-c then builds the tree (and validates UTF-8). */

typedef struct top_key {
    size_t start, len;       /* the key's raw bytes between the quotes */
    size_t entry_keys;       /* keys of its value when that is an object (deeper
                              * objects are never valid, so are not counted) */
    char *name;              /* decoded, filled after the scan */
} top_key;

typedef struct scanner {
    const char *s;
    size_t len, pos;
    const char *what;        /* first syntax error */
    top_key *keys;
    size_t nkeys, cap;
    bool nomem;
} scanner;

static void skip_ws(scanner *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

static bool fail_at(scanner *sc, const char *what)
{
    if (!sc->what)
        sc->what = what;
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at S (caller checked the length). */
static long hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static bool scan_string(scanner *sc)
{
    if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
        return fail_at(sc, "expected a string");
    sc->pos++;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return true;
        }
        if (c < 0x20)
            return fail_at(sc, "control character in a string");
        if (c != '\\') {
            sc->pos++;
            continue;
        }
        if (sc->pos + 1 >= sc->len)
            break;
        char e = sc->s[sc->pos + 1];
        if (strchr("\"\\/bfnrt", e) && e != '\0') {
            sc->pos += 2;
            continue;
        }
        if (e != 'u')
            return fail_at(sc, "invalid escape in a string");
        if (sc->len - sc->pos < 6)
            break;
        long cp = hex4(sc->s + sc->pos + 2);
        if (cp < 0)
            return fail_at(sc, "invalid \\u escape");
        if (cp == 0)
            return fail_at(sc, "\\u0000 in a string");
        sc->pos += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail_at(sc, "unpaired surrogate in a \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* a high surrogate must be followed by an escaped low one */
            if (sc->len - sc->pos < 6 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
                return fail_at(sc, "unpaired surrogate in a \\u escape");
            long lo = hex4(sc->s + sc->pos + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail_at(sc, "unpaired surrogate in a \\u escape");
            sc->pos += 6;
        }
    }
    return fail_at(sc, "unterminated string");
}

static bool is_digit(scanner *sc)
{
    return sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9';
}

static bool scan_number(scanner *sc)
{
    if (sc->pos < sc->len && sc->s[sc->pos] == '-')
        sc->pos++;
    if (!is_digit(sc))
        return fail_at(sc, "invalid value");
    if (sc->s[sc->pos] == '0') {
        sc->pos++;
        if (is_digit(sc))
            return fail_at(sc, "number with a leading zero");
    } else {
        while (is_digit(sc))
            sc->pos++;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!is_digit(sc))
            return fail_at(sc, "invalid number");
        while (is_digit(sc))
            sc->pos++;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!is_digit(sc))
            return fail_at(sc, "invalid number");
        while (is_digit(sc))
            sc->pos++;
    }
    return true;
}

static bool scan_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail_at(sc, "invalid value");
    sc->pos += n;
    return true;
}

static bool scan_value(scanner *sc, int depth);

static bool add_top_key(scanner *sc, size_t start, size_t len)
{
    if (sc->nkeys == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        top_key *k = realloc(sc->keys, cap * sizeof *k);
        if (!k) {
            sc->nomem = true;
            return fail_at(sc, "out of memory");
        }
        sc->keys = k;
        sc->cap = cap;
    }
    sc->keys[sc->nkeys++] = (top_key){ .start = start, .len = len };
    return true;
}

/* DEPTH is the depth of this object (the header itself is 1). */
static bool scan_object(scanner *sc, int depth)
{
    sc->pos++; /* '{' */
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
        sc->pos++;
        return true;
    }
    for (;;) {
        skip_ws(sc);
        size_t start = sc->pos + 1;
        if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
            return fail_at(sc, "expected a quoted key");
        if (!scan_string(sc))
            return false;
        if (depth == 1) {
            if (!add_top_key(sc, start, sc->pos - 1 - start))
                return false;
        } else if (depth == 2) {
            sc->keys[sc->nkeys - 1].entry_keys++;
        }
        skip_ws(sc);
        if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
            return fail_at(sc, "expected ':'");
        sc->pos++;
        if (!scan_value(sc, depth))
            return false;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_at(sc, "unterminated object");
        char c = sc->s[sc->pos++];
        if (c == '}')
            return true;
        if (c != ',')
            return fail_at(sc, "expected ',' or '}'");
    }
}

static bool scan_array(scanner *sc, int depth)
{
    sc->pos++; /* '[' */
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
        sc->pos++;
        return true;
    }
    for (;;) {
        if (!scan_value(sc, depth))
            return false;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return fail_at(sc, "unterminated array");
        char c = sc->s[sc->pos++];
        if (c == ']')
            return true;
        if (c != ',')
            return fail_at(sc, "expected ',' or ']'");
    }
}

/* A value inside a container at depth DEPTH. */
static bool scan_value(scanner *sc, int depth)
{
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail_at(sc, "unexpected end");
    char c = sc->s[sc->pos];
    if (c == '{' || c == '[') {
        if (depth + 1 > ST_MAX_DEPTH)
            return fail_at(sc, "nested too deeply");
        return c == '{' ? scan_object(sc, depth + 1) : scan_array(sc, depth + 1);
    }
    if (c == '"')
        return scan_string(sc);
    if (c == 't')
        return scan_literal(sc, "true");
    if (c == 'f')
        return scan_literal(sc, "false");
    if (c == 'n')
        return scan_literal(sc, "null");
    return scan_number(sc);
}

static int cmp_top_key(const void *a, const void *b)
{
    return strcmp(((const top_key *)a)->name, ((const top_key *)b)->name);
}

static void free_keys(top_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i].name);
    free(keys);
}

/* Decodes the raw key bytes as json-c does, so that names compare equal to the tree's. */
static char *decode_key(const char *raw, size_t len, json_tokener *tok)
{
    if (!memchr(raw, '\\', len))
        return strndup(raw, len);
    char *quoted = malloc(len + 2);
    if (!quoted)
        return NULL;
    quoted[0] = '"';
    memcpy(quoted + 1, raw, len);
    quoted[len + 1] = '"';
    json_tokener_reset(tok);
    json_object *s = json_tokener_parse_ex(tok, quoted, (int)(len + 2));
    free(quoted);
    char *name = NULL;
    if (s && json_object_is_type(s, json_type_string))
        name = strdup(json_object_get_string(s));
    json_object_put(s);
    return name;
}

/* ------------------------------------------------------------------ reading */

typedef struct tinfo {
    size_t index;            /* position in header order */
    const char *name;        /* borrowed from the json tree */
    uint64_t begin, end;
} tinfo;

static int cmp_tinfo(const void *a, const void *b)
{
    const tinfo *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
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

static mn_status parse_metadata(json_object *v, size_t raw_keys, mn_st_file *f, mn_error *err)
{
    char q[ST_QUOTE_MAX + 4];
    if (!json_object_is_type(v, json_type_object))
        return mn_fail(err, MN_ERR_FORMAT, "__metadata__ is not an object");
    if (raw_keys != (size_t)json_object_object_length(v))
        return mn_fail(err, MN_ERR_FORMAT, "__metadata__ has a duplicate key");
    struct json_object_iterator it = json_object_iter_begin(v), end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        json_object *val = json_object_iter_peek_value(&it);
        if (!json_object_is_type(val, json_type_string))
            return mn_fail(err, MN_ERR_FORMAT, "__metadata__ %s: value is a %s, not a string",
                           QUOTE(key, q), json_type_to_name(json_object_get_type(val)));
        mn_error inner;
        mn_status st = mn_metadata_set(&f->meta, key, json_object_get_string(val), &inner);
        if (st != MN_OK) {
            if (strlen(key) > MN_METADATA_MAX_KEY)
                return mn_fail(err, st, "__metadata__ key %s: longer than %d bytes",
                               QUOTE(key, q), MN_METADATA_MAX_KEY);
            if ((size_t)json_object_get_string_len(val) > MN_METADATA_MAX_VALUE)
                return mn_fail(err, st, "__metadata__ %s: value longer than %d bytes",
                               QUOTE(key, q), MN_METADATA_MAX_VALUE);
            return mn_fail(err, st, "__metadata__: more than %d entries",
                           MN_METADATA_MAX_ENTRIES);
        }
    }
    f->has_meta = true;
    return MN_OK;
}

/* Reads a JSON integer in [0, max] into *out; false otherwise. json-c saturates out of
 * range literals to INT64_MIN/INT64_MAX/UINT64_MAX, which every caller's max excludes. */
static bool get_uint(json_object *v, uint64_t max, uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return false;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || (uint64_t)x > max)
        return false;
    *out = (uint64_t)x;
    return true;
}

static mn_status parse_entry(const char *name, json_object *v, size_t raw_keys,
                             uint64_t data_len, mn_st_tensor *t, tinfo *ti, mn_error *err)
{
    char q[ST_QUOTE_MAX + 4], q2[ST_QUOTE_MAX + 4];
    const char *qn = QUOTE(name, q);
    if (!json_object_is_type(v, json_type_object))
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: entry is a %s, not an object", qn,
                       json_type_to_name(json_object_get_type(v)));
    json_object *dtype = NULL, *shape = NULL, *offs = NULL;
    struct json_object_iterator it = json_object_iter_begin(v), end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        json_object *val = json_object_iter_peek_value(&it);
        if (strcmp(key, "dtype") == 0)
            dtype = val;
        else if (strcmp(key, "shape") == 0)
            shape = val;
        else if (strcmp(key, "data_offsets") == 0)
            offs = val;
        else
            return mn_fail(err, MN_ERR_FORMAT, "tensor %s: unexpected key %s", qn,
                           QUOTE(key, q2));
    }
    if (raw_keys != (size_t)json_object_object_length(v))
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: duplicate key in its entry", qn);
    if (!dtype)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: no dtype", qn);
    if (!shape)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: no shape", qn);
    if (!offs)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: no data_offsets", qn);

    if (!json_object_is_type(dtype, json_type_string))
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: dtype is a %s, not a string", qn,
                       json_type_to_name(json_object_get_type(dtype)));
    if (strcmp(json_object_get_string(dtype), "F32") != 0)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: dtype %s is not supported (only F32)",
                       qn, QUOTE(json_object_get_string(dtype), q2));

    if (!json_object_is_type(shape, json_type_array))
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: shape is a %s, not an array", qn,
                       json_type_to_name(json_object_get_type(shape)));
    size_t ndim = json_object_array_length(shape);
    if (ndim > MN_ST_MAX_NDIM)
        return mn_fail(err, MN_ERR_LIMIT, "tensor %s: %zu dimensions, at most %d supported", qn,
                       ndim, MN_ST_MAX_NDIM);
    t->ndim = (int)ndim;
    for (size_t d = 0; d < ndim; d++) {
        uint64_t dim;
        if (!get_uint(json_object_array_get_idx(shape, d), MN_ST_MAX_DIM, &dim))
            return mn_fail(err, MN_ERR_FORMAT,
                           "tensor %s: shape entry %zu is not an integer in [0, 2^48]", qn, d);
        t->shape[d] = (size_t)dim;
    }
    if (!element_count(t->shape, t->ndim, &t->count))
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: element count of its shape overflows", qn);

    if (!json_object_is_type(offs, json_type_array) || json_object_array_length(offs) != 2)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: data_offsets is not an array of 2 integers",
                       qn);
    uint64_t b, e;
    if (!get_uint(json_object_array_get_idx(offs, 0), INT64_MAX - 1, &b) ||
        !get_uint(json_object_array_get_idx(offs, 1), INT64_MAX - 1, &e))
        return mn_fail(err, MN_ERR_FORMAT,
                       "tensor %s: data_offsets are not non-negative integers", qn);
    if (b > e)
        return mn_fail(err, MN_ERR_FORMAT, "tensor %s: data_offsets [%llu, %llu] end before they begin",
                       qn, (unsigned long long)b, (unsigned long long)e);
    if (e > data_len)
        return mn_fail(err, MN_ERR_FORMAT,
                       "tensor %s: data_offsets [%llu, %llu] go past the end of the data (%llu bytes)",
                       qn, (unsigned long long)b, (unsigned long long)e,
                       (unsigned long long)data_len);
    if (e - b != (uint64_t)t->count * sizeof(float)) {
        char sh[128];
        format_shape(t->shape, t->ndim, sh, sizeof sh);
        return mn_fail(err, MN_ERR_FORMAT,
                       "tensor %s: data_offsets [%llu, %llu] hold %llu bytes but F32 shape %s needs %llu",
                       qn, (unsigned long long)b, (unsigned long long)e,
                       (unsigned long long)(e - b), sh,
                       (unsigned long long)t->count * sizeof(float));
    }
    ti->name = name;
    ti->begin = b;
    ti->end = e;
    return MN_OK;
}

/* Checks that the sorted ranges tile [0, data_len) exactly. */
static mn_status check_tiling(const tinfo *ti, size_t n, uint64_t data_len, mn_error *err)
{
    char q[ST_QUOTE_MAX + 4], q2[ST_QUOTE_MAX + 4];
    uint64_t expect = 0;
    for (size_t i = 0; i < n; i++) {
        if (ti[i].begin > expect)
            return mn_fail(err, MN_ERR_FORMAT,
                           "tensor %s: data_offsets [%llu, %llu] leave a gap of %llu bytes "
                           "after offset %llu", QUOTE(ti[i].name, q),
                           (unsigned long long)ti[i].begin, (unsigned long long)ti[i].end,
                           (unsigned long long)(ti[i].begin - expect),
                           (unsigned long long)expect);
        if (ti[i].begin < expect)
            return mn_fail(err, MN_ERR_FORMAT,
                           "tensor %s: data_offsets [%llu, %llu] overlap tensor %s [%llu, %llu]",
                           QUOTE(ti[i].name, q), (unsigned long long)ti[i].begin,
                           (unsigned long long)ti[i].end, QUOTE(ti[i - 1].name, q2),
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

static mn_status parse_tree(json_object *root, top_key *keys, size_t nkeys,
                            const uint8_t *data, uint64_t data_len, mn_st_file *f, mn_error *err)
{
    char q[ST_QUOTE_MAX + 4];
    /* Keys sorted by decoded name: duplicates are adjacent, entries found by bsearch. */
    if (nkeys > 1)
        qsort(keys, nkeys, sizeof *keys, cmp_top_key);
    for (size_t i = 1; i < nkeys; i++)
        if (strcmp(keys[i - 1].name, keys[i].name) == 0)
            return strcmp(keys[i].name, "__metadata__") == 0
                       ? mn_fail(err, MN_ERR_FORMAT, "__metadata__ appears twice")
                       : mn_fail(err, MN_ERR_FORMAT, "tensor %s: duplicate name",
                                 QUOTE(keys[i].name, q));
    if ((size_t)json_object_object_length(root) != nkeys)
        return mn_fail(err, MN_ERR_FORMAT, "header: key count mismatch");

    size_t ntensors = 0;
    struct json_object_iterator it, end = json_object_iter_end(root);
    for (it = json_object_iter_begin(root); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it))
        if (strcmp(json_object_iter_peek_name(&it), "__metadata__") != 0)
            ntensors++;
    f->tensors = calloc(ntensors ? ntensors : 1, sizeof *f->tensors);
    tinfo *ti = calloc(ntensors ? ntensors : 1, sizeof *ti);
    if (!f->tensors || !ti) {
        free(ti);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for %zu tensors", ntensors);
    }

    mn_status st = MN_OK;
    for (it = json_object_iter_begin(root); st == MN_OK && !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it)) {
        const char *name = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        top_key probe = { .name = (char *)(uintptr_t)name };
        const top_key *k = bsearch(&probe, keys, nkeys, sizeof *keys, cmp_top_key);
        if (!k) {
            st = mn_fail(err, MN_ERR_FORMAT, "header: key %s not found", QUOTE(name, q));
            break;
        }
        if (strcmp(name, "__metadata__") == 0) {
            st = parse_metadata(v, k->entry_keys, f, err);
            continue;
        }
        mn_st_tensor *t = &f->tensors[f->n];
        t->name = strdup(name);
        if (!t->name) {
            st = mn_fail(err, MN_ERR_NOMEM, "out of memory");
            break;
        }
        f->n++;
        ti[f->n - 1].index = f->n - 1;
        st = parse_entry(name, v, k->entry_keys, data_len, t, &ti[f->n - 1], err);
    }
    if (st == MN_OK) {
        if (f->n > 1)
            qsort(ti, f->n, sizeof *ti, cmp_tinfo);
        st = check_tiling(ti, f->n, data_len, err);
    }
    if (st == MN_OK && data_len > 0) {
        /* data_len <= the input size, so the padded total cannot overflow */
        size_t total = 0;
        for (size_t i = 0; i < f->n; i++)
            total += (f->tensors[i].count * sizeof(float) + ST_ALIGN - 1) / ST_ALIGN * ST_ALIGN;
        f->data = aligned_alloc(ST_ALIGN, total);
        if (!f->data)
            st = mn_fail(err, MN_ERR_NOMEM, "out of memory for %zu bytes of tensor data", total);
        size_t pos = 0;
        for (size_t i = 0; st == MN_OK && i < f->n; i++) {
            const tinfo *x = &ti[i];
            mn_st_tensor *t = &f->tensors[x->index];
            if (t->count == 0)
                continue;
            float *dst = f->data + pos / sizeof(float);
            memcpy(dst, data + x->begin, t->count * sizeof(float));
            for (size_t j = 0; j < t->count; j++)
                if (!isfinite(dst[j])) {
                    char sh[128];
                    format_shape(t->shape, t->ndim, sh, sizeof sh);
                    st = mn_fail(err, MN_ERR_FORMAT, "tensor %s: element %zu of %s is %s",
                                 QUOTE(t->name, q), j, sh, isnan(dst[j]) ? "NaN" : "infinite");
                    break;
                }
            t->data = dst;
            pos += (t->count * sizeof(float) + ST_ALIGN - 1) / ST_ALIGN * ST_ALIGN;
        }
    }
    free(ti);
    return st;
}

mn_status mn_st_parse(const uint8_t *buf, size_t len, mn_st_file **out, mn_error *err)
{
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL output");
    *out = NULL;
    if (!buf && len > 0)
        return mn_fail(err, MN_ERR_ARG, "safetensors: NULL buffer");
    if (len < 8)
        return mn_fail(err, MN_ERR_FORMAT,
                       "file is %zu bytes, too short for the 8-byte header length", len);
    uint64_t hlen = get_le64(buf);
    if (hlen > len - 8)
        return mn_fail(err, MN_ERR_FORMAT,
                       "header length %llu exceeds the %zu bytes after it (truncated file?)",
                       (unsigned long long)hlen, len - 8);
    if (hlen > MN_ST_MAX_HEADER_BYTES)
        return mn_fail(err, MN_ERR_LIMIT, "header length %llu exceeds the limit of %zu bytes",
                       (unsigned long long)hlen, MN_ST_MAX_HEADER_BYTES);
    const char *hdr = (const char *)buf + 8;
    if (hlen < 2 || hdr[0] != '{')
        return mn_fail(err, MN_ERR_FORMAT, "header does not start with '{'");

    /* json-c's own UTF-8 check misses some cases (e.g. in keys): do it for all bytes. */
    size_t valid = utf8_valid_prefix((const unsigned char *)hdr, (size_t)hlen);
    if (valid != hlen)
        return mn_fail(err, MN_ERR_FORMAT, "header is not valid UTF-8 at byte %zu", valid);

    scanner sc = { .s = hdr, .len = (size_t)hlen };
    bool ok = scan_value(&sc, 0);
    if (ok) {
        skip_ws(&sc);
        if (sc.pos != sc.len)
            ok = fail_at(&sc, "unexpected bytes after the JSON object");
    }
    if (!ok) {
        mn_status st = sc.nomem ? mn_fail(err, MN_ERR_NOMEM, "out of memory reading the header")
                                : mn_fail(err, MN_ERR_FORMAT,
                                          "header is not valid JSON: %s at byte %zu", sc.what,
                                          sc.pos);
        free_keys(sc.keys, sc.nkeys);
        return st;
    }

    json_tokener *tok = json_tokener_new_ex(ST_MAX_DEPTH + 1);
    if (!tok) {
        free_keys(sc.keys, sc.nkeys);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory reading the header");
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, hdr, (int)hlen);
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        mn_status st = mn_fail(err, MN_ERR_FORMAT, "header is not valid JSON: %s",
                               json_tokener_error_desc(json_tokener_get_error(tok)));
        json_object_put(root);
        json_tokener_free(tok);
        free_keys(sc.keys, sc.nkeys);
        return st;
    }
    for (size_t i = 0; i < sc.nkeys; i++) {
        sc.keys[i].name = decode_key(hdr + sc.keys[i].start, sc.keys[i].len, tok);
        if (!sc.keys[i].name) {
            json_object_put(root);
            json_tokener_free(tok);
            free_keys(sc.keys, sc.nkeys);
            return mn_fail(err, MN_ERR_NOMEM, "out of memory reading the header");
        }
    }
    json_tokener_free(tok);

    mn_st_file *f = calloc(1, sizeof *f);
    mn_status st;
    if (!f) {
        st = mn_fail(err, MN_ERR_NOMEM, "out of memory");
    } else {
        mn_metadata_init(&f->meta);
        const uint8_t *data = buf + 8 + hlen;
        st = parse_tree(root, sc.keys, sc.nkeys, data, (uint64_t)(len - 8 - hlen), f, err);
    }
    json_object_put(root);
    free_keys(sc.keys, sc.nkeys);
    if (st != MN_OK) {
        mn_st_free(f);
        return st;
    }
    *out = f;
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
