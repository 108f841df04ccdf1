/* Tests for mn_safetensors (and the mn_metadata map it carries): round trips, files
 * from other writers built byte by byte, and a refusal with a precise message for
 * every kind of malformed file. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_metadata.h"
#include "mn_safetensors.h"
#include "test_support.h"

/* ------------------------------------------------------------------ helpers */

/* [u64 LE header length][header][data]; malloc'ed. */
static uint8_t *make_file_n(const char *header, size_t hlen, const void *data, size_t dlen,
                            size_t *out_len)
{
    uint8_t *buf = malloc(8 + hlen + dlen + 1);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (dlen)
        memcpy(buf + 8 + hlen, data, dlen);
    *out_len = 8 + hlen + dlen;
    return buf;
}

static uint8_t *make_file(const char *header, const void *data, size_t dlen, size_t *out_len)
{
    return make_file_n(header, strlen(header), data, dlen, out_len);
}

static void expect_refused(const uint8_t *buf, size_t len, mn_status want, const char *msg_part)
{
    mn_st_file *f = (mn_st_file *)(uintptr_t)1; /* must be reset to NULL */
    mn_error err = { { 0 } };
    mn_status st = mn_st_parse(buf, len, &f, &err);
    if (st != want || !strstr(err.msg, msg_part))
        print_error("got status %d message \"%s\", wanted %d with \"%s\"\n", st, err.msg, want,
                    msg_part);
    assert_int_equal(st, want);
    assert_null(f);
    assert_non_null(strstr(err.msg, msg_part));
    assert_null(strchr(err.msg, '\n'));
}

static void expect_header_refused(const char *header, const void *data, size_t dlen,
                                  mn_status want, const char *msg_part)
{
    size_t len;
    uint8_t *buf = make_file(header, data, dlen, &len);
    expect_refused(buf, len, want, msg_part);
    free(buf);
}

static mn_st_file *parse_ok(const uint8_t *buf, size_t len)
{
    mn_st_file *f = NULL;
    mn_error err = { { 0 } };
    mn_status st = mn_st_parse(buf, len, &f, &err);
    if (st != MN_OK)
        print_error("parse failed: %s\n", err.msg);
    assert_int_equal(st, MN_OK);
    assert_non_null(f);
    return f;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static const float A_DATA[6] = { 1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f };
static const float D_DATA[4] = { 10.0f, 20.0f, 30.0f, 40.0f };
static const float S_DATA[1] = { 42.0f };

/* Three tensors (2-D, scalar, 4-D) and an empty one, with metadata needing escapes. */
static void sample(mn_st_tensor_view v[4], mn_metadata *m)
{
    memset(v, 0, 4 * sizeof *v);
    v[0] = (mn_st_tensor_view){ .name = "layer.a", .ndim = 2, .shape = { 2, 3 }, .data = A_DATA };
    v[1] = (mn_st_tensor_view){ .name = "scalar", .ndim = 0, .data = S_DATA };
    v[2] = (mn_st_tensor_view){ .name = "empty", .ndim = 2, .shape = { 0, 5 }, .data = NULL };
    v[3] = (mn_st_tensor_view){ .name = "d\xc3\xa9", .ndim = 4, .shape = { 1, 2, 1, 2 },
                                .data = D_DATA };
    mn_metadata_init(m);
    assert_int_equal(mn_metadata_set(m, "architecture", "MNISTNet", NULL), MN_OK);
    assert_int_equal(mn_metadata_set(m, "quote\"key", "back\\slash\nnew line / \xc3\xa9", NULL),
                     MN_OK);
    assert_int_equal(mn_metadata_set(m, "", "empty key", NULL), MN_OK);
}

/* The sample as mn_st_serialize writes it: a valid file, malloc'ed; *len its size. */
static uint8_t *sample_file(size_t *len)
{
    mn_st_tensor_view v[4];
    mn_metadata m;
    sample(v, &m);
    uint8_t *buf = NULL;
    mn_error err = { { 0 } };
    assert_int_equal(mn_st_serialize(v, 4, &m, &buf, len, &err), MN_OK);
    return buf;
}

/* The first LEN bytes of BUF in a block of exactly that size, so that ASan sees any
 * read past them. */
static uint8_t *copy_of(const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    return copy;
}

static void check_sample(const mn_st_file *f)
{
    assert_int_equal(mn_st_count(f), 4);
    const mn_st_tensor *a = mn_st_tensor_at(f, 0);
    assert_string_equal(a->name, "layer.a");
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 2);
    assert_int_equal(a->shape[1], 3);
    assert_int_equal(a->count, 6);
    assert_memory_equal(a->data, A_DATA, sizeof A_DATA); /* bitwise, keeps -0.0 */
    assert_int_equal((uintptr_t)a->data % 64, 0);

    const mn_st_tensor *s = mn_st_find(f, "scalar");
    assert_ptr_equal(s, mn_st_tensor_at(f, 1));
    assert_int_equal(s->ndim, 0);
    assert_int_equal(s->count, 1);
    assert_true(s->data[0] == 42.0f);

    const mn_st_tensor *e = mn_st_find(f, "empty");
    assert_non_null(e);
    assert_int_equal(e->count, 0);
    assert_int_equal(e->shape[0], 0);
    assert_int_equal(e->shape[1], 5);

    const mn_st_tensor *d = mn_st_find(f, "d\xc3\xa9");
    assert_non_null(d);
    assert_int_equal(d->ndim, 4);
    assert_int_equal(d->shape[3], 2);
    assert_memory_equal(d->data, D_DATA, sizeof D_DATA);
    assert_int_equal((uintptr_t)d->data % 64, 0);

    assert_null(mn_st_find(f, "missing"));
    assert_null(mn_st_tensor_at(f, 4));

    assert_true(mn_st_has_metadata(f));
    const mn_metadata *m = mn_st_metadata(f);
    assert_int_equal(mn_metadata_count(m), 3);
    assert_string_equal(mn_metadata_key(m, 0), "architecture");
    assert_string_equal(mn_metadata_get(m, "architecture"), "MNISTNet");
    assert_string_equal(mn_metadata_get(m, "quote\"key"), "back\\slash\nnew line / \xc3\xa9");
    assert_string_equal(mn_metadata_get(m, ""), "empty key");
}

/* ------------------------------------------------------------------ mn_metadata */

static void test_metadata_map(void **state)
{
    (void)state;
    mn_metadata m;
    mn_metadata_init(&m);
    mn_error err = { { 0 } };
    assert_int_equal(mn_metadata_count(&m), 0);
    assert_null(mn_metadata_get(&m, "a"));
    assert_int_equal(mn_metadata_set(&m, "a", "1", &err), MN_OK);
    assert_int_equal(mn_metadata_set(&m, "b", "2", &err), MN_OK);
    assert_int_equal(mn_metadata_set(&m, "a", "3", &err), MN_OK); /* replace, keep place */
    assert_int_equal(mn_metadata_count(&m), 2);
    assert_string_equal(mn_metadata_key(&m, 0), "a");
    assert_string_equal(mn_metadata_value(&m, 0), "3");
    assert_string_equal(mn_metadata_key(&m, 1), "b");
    assert_null(mn_metadata_key(&m, 2));
    assert_int_equal(mn_metadata_setf(&m, &err, "epochs", "%d/%.2f", 5, 0.5), MN_OK);
    assert_string_equal(mn_metadata_get(&m, "epochs"), "5/0.50");

    char key[MN_METADATA_MAX_KEY + 2], value[MN_METADATA_MAX_VALUE + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    assert_int_equal(mn_metadata_set(&m, key, "x", &err), MN_ERR_LIMIT);   /* 64 bytes */
    assert_int_equal(mn_metadata_set(&m, "k", value, &err), MN_ERR_LIMIT); /* 1024 bytes */
    assert_non_null(strstr(err.msg, "1024"));
    assert_int_equal(mn_metadata_setf(&m, &err, "k", "%s", value), MN_ERR_LIMIT);
    key[MN_METADATA_MAX_KEY] = '\0';
    value[MN_METADATA_MAX_VALUE] = '\0';
    assert_int_equal(mn_metadata_set(&m, key, value, &err), MN_OK); /* exactly at the limits */
    assert_string_equal(mn_metadata_get(&m, key), value);

    mn_metadata_init(&m);
    assert_int_equal(mn_metadata_set(&m, "fill", "first", &err), MN_OK);
    for (int i = 1; i < MN_METADATA_MAX_ENTRIES; i++)
        assert_int_equal(mn_metadata_setf(&m, &err, (char[8]){ 'k', (char)('a' + i / 26),
                                                               (char)('a' + i % 26), 0 },
                                           "%d", i),
                         MN_OK);
    assert_int_equal(mn_metadata_count(&m), MN_METADATA_MAX_ENTRIES);
    assert_int_equal(mn_metadata_set(&m, "one-too-many", "x", &err), MN_ERR_LIMIT);
    assert_int_equal(mn_metadata_count(&m), MN_METADATA_MAX_ENTRIES);
    assert_null(mn_metadata_get(&m, "one-too-many"));
    assert_int_equal(mn_metadata_set(&m, "fill", "replaced", &err), MN_OK); /* full: replace ok */
    assert_string_equal(mn_metadata_get(&m, "fill"), "replaced");
    assert_int_equal(mn_metadata_set(&m, NULL, "x", &err), MN_ERR_ARG);
}

/* ------------------------------------------------------------------ round trips */

static void test_roundtrip_memory(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = sample_file(&len);

    /* Layout as the reference writer makes it: header padded with spaces to 8 bytes,
     * __metadata__ first, data right after the header. */
    uint64_t n = le64(buf);
    assert_int_equal(n % 8, 0);
    assert_int_equal(len, 8 + n + sizeof A_DATA + sizeof S_DATA + sizeof D_DATA);
    assert_int_equal(memcmp(buf + 8, "{\"__metadata__\":{", 17), 0);
    size_t end = (size_t)n + 8;
    while (buf[end - 1] == ' ')
        end--;
    assert_int_equal(buf[end - 1], '}');
    assert_true(8 + n - end < 8);
    assert_memory_equal(buf + 8 + n, A_DATA, sizeof A_DATA);
    assert_non_null(memmem(buf, (size_t)n + 8,
                           "\"layer.a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}",
                           61));
    assert_non_null(memmem(buf, (size_t)n + 8, "\"scalar\":{\"dtype\":\"F32\",\"shape\":[]", 34));

    mn_st_file *f = parse_ok(buf, len);
    free(buf); /* the parsed file owns copies */
    check_sample(f);
    mn_st_free(f);
}

static int setup(void **state)
{
    *state = scratch_new("mn_st", "t.safetensors");
    return 0;
}

static int teardown(void **state)
{
    scratch_free(*state);
    return 0;
}

static void test_roundtrip_file(void **state)
{
    const char *path = ((scratch *)*state)->path;
    mn_st_tensor_view v[4];
    mn_metadata m;
    sample(v, &m);
    mn_error err = { { 0 } };
    assert_int_equal(mn_st_write(path, v, 4, &m, &err), MN_OK);

    /* The file is byte-identical to the in-memory serialisation. */
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(mn_st_serialize(v, 4, &m, &buf, &len, &err), MN_OK);
    assert_file_is(path, buf, len);
    free(buf);

    mn_st_file *f = NULL;
    assert_int_equal(mn_st_read(path, 1 << 20, &f, &err), MN_OK);
    check_sample(f);
    mn_st_free(f);
}

static void test_no_metadata(void **state)
{
    (void)state;
    mn_st_tensor_view v[4];
    mn_metadata m;
    sample(v, &m);
    mn_metadata empty;
    mn_metadata_init(&empty);
    const mn_metadata *metas[2] = { NULL, &empty };
    for (int i = 0; i < 2; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(mn_st_serialize(v, 1, metas[i], &buf, &len, NULL), MN_OK);
        assert_null(memmem(buf, len, "__metadata__", 12));
        mn_st_file *f = parse_ok(buf, len);
        assert_false(mn_st_has_metadata(f));
        assert_int_equal(mn_metadata_count(mn_st_metadata(f)), 0);
        assert_int_equal(mn_st_count(f), 1);
        mn_st_free(f);
        free(buf);
    }
    /* No tensors at all is a valid (empty) file. */
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(mn_st_serialize(NULL, 0, NULL, &buf, &len, NULL), MN_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(buf + 8, "{}      ", 8);
    mn_st_file *f = parse_ok(buf, len);
    assert_int_equal(mn_st_count(f), 0);
    mn_st_free(f);
    free(buf);
}

/* ------------------------------------------------------------------ other writers */

/* Written by hand the way other writers may: keys in another order, whitespace and
 * newlines, no padding or odd padding (so the data start at every alignment), data in
 * another order than the header, escaped names, __metadata__ last. */
static void test_foreign_writer_layouts(void **state)
{
    (void)state;
    /* data: "b" (2 floats) first, then "a" (3 floats) */
    const float data[5] = { 7.0f, 8.0f, 1.0f, 2.0f, 3.0f };
    const char *json =
        "{\n  \"a\": {\"data_offsets\": [8, 20], \"shape\": [3], \"dtype\": \"F32\"},\n"
        "  \"\\u0062\\/x\": {\"shape\":[1,2],\"dtype\":\"F32\",\"data_offsets\":[0,8]},\n"
        "  \"__metadata__\": {\"format\": \"pt\", \"note\": \"\\u00e9\\ud83d\\ude00\"}\n}";
    for (int pad = 0; pad < 8; pad++) {
        char header[512];
        snprintf(header, sizeof header, "%s%*s", json, pad, "");
        size_t len;
        uint8_t *buf = make_file(header, data, sizeof data, &len);
        mn_st_file *f = parse_ok(buf, len);
        free(buf);
        assert_int_equal(mn_st_count(f), 2);
        const mn_st_tensor *a = mn_st_find(f, "a");
        const mn_st_tensor *b = mn_st_find(f, "b/x");
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a->count, 3);
        assert_memory_equal(a->data, data + 2, 3 * sizeof(float));
        assert_int_equal(b->ndim, 2);
        assert_memory_equal(b->data, data, 2 * sizeof(float));
        assert_string_equal(mn_metadata_get(mn_st_metadata(f), "format"), "pt");
        assert_string_equal(mn_metadata_get(mn_st_metadata(f), "note"),
                            "\xc3\xa9\xf0\x9f\x98\x80");
        mn_st_free(f);
    }
}

/* What Python's safetensors.torch.save_file writes: __metadata__ first, names sorted,
 * compact JSON padded with spaces. */
static void test_foreign_writer_reference_layout(void **state)
{
    (void)state;
    const float data[3] = { 0.5f, 0.25f, 0.125f };
    const char *header = "{\"__metadata__\":{\"format\":\"pt\"},"
                         "\"bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                         "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[4,12]}}"
                         "     ";
    size_t len;
    uint8_t *buf = make_file(header, data, sizeof data, &len);
    mn_st_file *f = parse_ok(buf, len);
    free(buf);
    assert_int_equal(mn_st_tensor_at(f, 0)->count, 1);
    assert_true(mn_st_find(f, "bias")->data[0] == 0.5f);
    assert_true(mn_st_find(f, "weight")->data[1] == 0.125f);
    assert_int_equal(mn_metadata_count(mn_st_metadata(f)), 1);
    mn_st_free(f);
}

/* Zero-sized tensors may share an offset with each other and with a neighbour. */
static void test_zero_sized_tensors_tile(void **state)
{
    (void)state;
    const float data[1] = { 9.0f };
    const char *header = "{\"e1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                         "\"e0\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[0,0]},"
                         "\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                         "\"e2\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}";
    size_t len;
    uint8_t *buf = make_file(header, data, sizeof data, &len);
    mn_st_file *f = parse_ok(buf, len);
    free(buf);
    assert_int_equal(mn_st_count(f), 4);
    assert_null(mn_st_find(f, "e1")->data);
    assert_true(mn_st_find(f, "x")->data[0] == 9.0f);
    mn_st_free(f);
}

/* ------------------------------------------------------------------ refusals */

static void test_truncated_everywhere(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = sample_file(&len);
    size_t data_start = 8 + (size_t)le64(buf);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = copy_of(buf, cut);
        const char *why = cut < 8 ? "too short for the 8-byte header length"
                        : cut < data_start ? "exceeds the"
                                           : "go past the end of the data";
        expect_refused(copy, cut, MN_ERR_FORMAT, why);
        free(copy);
    }
    free(buf);
}

static void test_trailing_bytes_refused(void **state)
{
    (void)state;
    const float data[3] = { 1, 2, 3 };
    expect_header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                          data, 12, MN_ERR_FORMAT,
                          "tensors cover 8 bytes of data but the file has 12");
    expect_header_refused("{}", data, 4, MN_ERR_FORMAT, "cover 0 bytes");
}

static void test_header_length_too_large(void **state)
{
    (void)state;
    const char *h = "{}";
    size_t len;
    uint8_t *buf = make_file_n(h, 2, NULL, 0, &len);
    buf[0] = 3; /* one more than there is */
    expect_refused(buf, len, MN_ERR_FORMAT, "header length 3 exceeds the 2 bytes after it");
    memset(buf, 0xFF, 8); /* 2^64 - 1 */
    expect_refused(buf, len, MN_ERR_FORMAT, "header length 18446744073709551615 exceeds");
    free(buf);

    /* Well-formed but above the limit. */
    size_t big = MN_ST_MAX_HEADER_BYTES + 8;
    char *header = malloc(big + 1);
    assert_non_null(header);
    memset(header, ' ', big);
    header[0] = '{';
    header[1] = '}';
    header[big] = '\0';
    buf = make_file_n(header, big, NULL, 0, &len);
    expect_refused(buf, len, MN_ERR_LIMIT, "exceeds the limit of 1048576 bytes");
    /* exactly at the limit is fine */
    buf[0] = (uint8_t)(MN_ST_MAX_HEADER_BYTES & 0xFF);
    buf[1] = (uint8_t)((MN_ST_MAX_HEADER_BYTES >> 8) & 0xFF);
    buf[2] = (uint8_t)((MN_ST_MAX_HEADER_BYTES >> 16) & 0xFF);
    mn_st_file *f = parse_ok(buf, 8 + MN_ST_MAX_HEADER_BYTES);
    mn_st_free(f);
    free(buf);
    free(header);
}

#define ENT(shape, offs) "{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" offs "}"

typedef struct bad_case {
    const char *header;
    size_t data_len;            /* bytes of BAD_DATA after the header */
    mn_status status;
    const char *msg;
} bad_case;

static const float BAD_DATA[4] = { 1.0f, 2.0f, 3.0f, 4.0f };

static void run_cases(const bad_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        expect_header_refused(c[i].header, BAD_DATA, c[i].data_len, c[i].status, c[i].msg);
    }
}

static void test_header_not_json(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "{not json}", 8, MN_ERR_FORMAT, "header is not valid JSON: expected a string at byte 1" },
        { "{'a':" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "not valid JSON" },
        { "{\"a\":" ENT("[2]", "[0,8]") ",}", 8, MN_ERR_FORMAT, "not valid JSON" },
        { "{\"a\":" ENT("[2]", "[0,8]") "} x", 8, MN_ERR_FORMAT, "data after the JSON value" },
        { "{\"a\":" ENT("[2]", "[0,8]") "}{}", 8, MN_ERR_FORMAT, "data after the JSON value" },
        { "{\"a\":" ENT("[2]", "[0,8]"), 8, MN_ERR_FORMAT, "not valid JSON: expected ',' or '}'" },
        { "{\"a\":NaN}", 0, MN_ERR_FORMAT, "not valid JSON: expected a value at byte 5" },
        { "{\"a\":Infinity}", 0, MN_ERR_FORMAT, "not valid JSON" },
        { "{/*c*/\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "not valid JSON" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "leading zero" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[+2],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "not valid JSON" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "not valid JSON: digits must follow '.'" },
        { "[1,2]", 0, MN_ERR_FORMAT, "header does not start with '{'" },
        { " {}", 0, MN_ERR_FORMAT, "header does not start with '{'" },
        { "{", 0, MN_ERR_FORMAT, "does not start with '{'" }, /* too short to be an object */
        { "{\"a\tb\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "control character" },
        { "{\"a\\u0000b\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "header key at byte 2 holds \\u0000" },
        { "{\"\\ud800\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "unpaired surrogate" },
        { "{\"\\udc00x\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "unpaired surrogate" },
        { "{\"\\x41\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "invalid escape in a string" },
        { "{\"\\u12G4\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "invalid \\u escape" },
        { "{\"\xff\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "header is not valid UTF-8 at byte 2" },
        { "{\"a\xc0\xae\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "not valid UTF-8 at byte 3" }, /* overlong '.' */
        { "{\"__metadata__\":{\"k\":\"\xed\xa0\x80\"}}", 0, MN_ERR_FORMAT,
          "not valid UTF-8 at byte 22" }, /* an encoded surrogate */
        { "{\"__metadata__\":{\"k\":\"\xe2\x82\"}}", 0, MN_ERR_FORMAT,
          "not valid UTF-8" }, /* cut short */
        { "{\"a\":[[[[[[[[[1]]]]]]]]]}", 0, MN_ERR_FORMAT, "tensor a: entry is an array" },
        { "{\"a\":tru}", 0, MN_ERR_FORMAT, "not valid JSON: expected a value" },
        { "{\"a\" " ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT, "expected ':'" },
        { "{\"a\":" ENT("[1 2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "not valid JSON: expected ',' or ']' at byte 31" },
        { "{\"a:1}", 0, MN_ERR_FORMAT, "unterminated string" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);

    /* A NUL byte inside the header. */
    const char h[] = "{\"a\":" ENT("[2]", "[0,8]") "}";
    size_t hlen = sizeof h - 1, len;
    uint8_t *buf = make_file_n(h, hlen, BAD_DATA, 8, &len);
    buf[8 + 3] = '\0';
    expect_refused(buf, len, MN_ERR_FORMAT, "control character");
    buf[8 + 3] = 'a';
    buf[8 + hlen - 1] = '\0'; /* in place of the final brace */
    expect_refused(buf, len, MN_ERR_FORMAT, "not valid JSON");
    free(buf);
}

/* What the one strict reader decides in a header: escapes in names, keys and values
 * are decoded before they are compared or kept; everything RFC 8259 refuses is
 * refused, with the byte it was found at. */
static void test_header_escapes_and_rfc_cases(void **state)
{
    (void)state;
    const char *header = "{\"__metadata__\":{\"k\\u00e9y\":\"v\\\"\\ud83d\\ude00\"},"
                         "\"t\\u0065nsor\":{\"dt\\u0079pe\":\"F\\u0033\\u0032\",\"shape\":[2],"
                         "\"data\\u005foffsets\":[0,8]}}";
    size_t len;
    uint8_t *buf = make_file(header, BAD_DATA, 8, &len);
    mn_st_file *f = parse_ok(buf, len);
    assert_int_equal(mn_st_count(f), 1);
    assert_string_equal(mn_st_tensor_at(f, 0)->name, "tensor");
    assert_string_equal(mn_metadata_get(mn_st_metadata(f), "k\xc3\xa9y"), "v\"\xf0\x9f\x98\x80");
    mn_st_free(f);
    free(buf);

    static const bad_case cases[] = {
        { "{\"a\":" ENT("[2,]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "not valid JSON: expected a value at byte 31" },
        { "{\"a\":" ENT("[2]", "[0,8,]") "}", 8, MN_ERR_FORMAT, "data_offsets is not an array of 2" },
        { "{\"a\":{\"dtype\":\"F32\",}}", 0, MN_ERR_FORMAT, "not valid JSON: expected a string" },
        { "{\"a\":" ENT("[1e400]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0 is not an integer" },
        { "{\"a\":" ENT("[-0]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0 is not an integer" },
        { "{\"__metadata__\":{\"k\":\"a\\u0000\"}}", 0, MN_ERR_FORMAT,
          "__metadata__ k: value holds \\u0000" },
        { "{\"__metadata__\":{\"k\":\"\\uDE00\"}}", 0, MN_ERR_FORMAT,
          "unpaired surrogate in a \\u escape at byte 22" },
        { "{\"__metadata__\":{\"\\u006b\":\"1\",\"k\":\"2\"}}", 0, MN_ERR_FORMAT,
          "__metadata__ has a duplicate key" },
        { "\xef\xbb\xbf{}", 0, MN_ERR_FORMAT, "header does not start with '{'" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_wrong_dtype(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "tensor a: dtype F16 is not supported (only F32)" },
        { "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "tensor a: dtype I64 is not supported" },
        { "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "dtype BF16" },
        { "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "dtype F64" },
        { "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "dtype f32" },
        { "{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT,
          "tensor a: dtype is a number, not a string" },
        /* a good tensor before the bad one does not hide it */
        { "{\"ok\":" ENT("[1]", "[0,4]") ",\"bad\":{\"dtype\":\"U8\",\"shape\":[4],"
          "\"data_offsets\":[4,8]}}", 8, MN_ERR_FORMAT, "tensor bad: dtype U8" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "{\"a\":" ENT("[-2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "tensor a: shape entry 0 is not an integer" },
        { "{\"a\":" ENT("[2.0]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0 is not an integer" },
        { "{\"a\":" ENT("[1,2e0]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 1 is not" },
        { "{\"a\":" ENT("[\"2\"]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0" },
        { "{\"a\":" ENT("[null]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0" },
        { "{\"a\":" ENT("2", "[0,8]") "}", 8, MN_ERR_FORMAT, "tensor a: shape is a number, not an array" },
        { "{\"a\":" ENT("[1,1,1,1,1,1,1,1,2]", "[0,8]") "}", 8, MN_ERR_LIMIT,
          "tensor a: 9 dimensions, at most 8" },
        { "{\"a\":" ENT("[281474976710656,281474976710656]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "element count of its shape overflows" },
        { "{\"a\":" ENT("[281474976710657]", "[0,8]") "}", 8, MN_ERR_FORMAT, "shape entry 0" },
        /* json-c saturates this to 2^64-1; with a zero beside it the count would be 0 */
        { "{\"a\":" ENT("[0,18446744073709551616]", "[0,0]") "}", 0, MN_ERR_FORMAT,
          "shape entry 1" },
        { "{\"a\":" ENT("[3]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "tensor a: data_offsets [0, 8] hold 8 bytes but F32 shape [3] needs 12" },
        { "{\"a\":" ENT("[1]", "[0,8]") "}", 8, MN_ERR_FORMAT, "hold 8 bytes but F32 shape [1] needs 4" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_offsets(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        /* overlap, named with both tensors */
        { "{\"a\":" ENT("[2]", "[0,8]") ",\"b\":" ENT("[2]", "[4,12]") "}", 12, MN_ERR_FORMAT,
          "tensor b: data_offsets [4, 12] overlap tensor a [0, 8]" },
        { "{\"b\":" ENT("[2]", "[0,8]") ",\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "overlap tensor" },
        { "{\"a\":" ENT("[1]", "[0,4]") ",\"b\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "tensor b: data_offsets [0, 8] overlap tensor a [0, 4]" },
        /* gaps */
        { "{\"a\":" ENT("[1]", "[0,4]") ",\"b\":" ENT("[1]", "[8,12]") "}", 12, MN_ERR_FORMAT,
          "tensor b: data_offsets [8, 12] leave a gap of 4 bytes after offset 4" },
        { "{\"a\":" ENT("[1]", "[4,8]") "}", 8, MN_ERR_FORMAT, "gap of 4 bytes after offset 0" },
        /* past the end */
        { "{\"a\":" ENT("[4]", "[0,16]") "}", 8, MN_ERR_FORMAT,
          "tensor a: data_offsets [0, 16] go past the end of the data (8 bytes)" },
        { "{\"a\":" ENT("[1]", "[9223372036854775804,9223372036854775808]") "}", 8,
          MN_ERR_FORMAT, "data_offsets are not non-negative integers" },
        { "{\"a\":" ENT("[0]", "[18446744073709551615,18446744073709551615]") "}", 0,
          MN_ERR_FORMAT, "data_offsets are not non-negative integers" },
        /* malformed */
        { "{\"a\":" ENT("[2]", "[8,0]") "}", 8, MN_ERR_FORMAT, "data_offsets [8, 0] end before they begin" },
        { "{\"a\":" ENT("[2]", "[-8,0]") "}", 8, MN_ERR_FORMAT, "not non-negative integers" },
        { "{\"a\":" ENT("[2]", "[0,\"8\"]") "}", 8, MN_ERR_FORMAT, "not non-negative integers" },
        { "{\"a\":" ENT("[2]", "[0.0,8]") "}", 8, MN_ERR_FORMAT, "not non-negative integers" },
        { "{\"a\":" ENT("[2]", "[0,8,16]") "}", 8, MN_ERR_FORMAT, "data_offsets is not an array of 2" },
        { "{\"a\":" ENT("[2]", "[8]") "}", 8, MN_ERR_FORMAT, "data_offsets is not an array of 2" },
        { "{\"a\":" ENT("[2]", "{\"0\":8}") "}", 8, MN_ERR_FORMAT, "data_offsets is not an array" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_entries(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "{\"a\":[1]}", 0, MN_ERR_FORMAT, "tensor a: entry is an array, not an object" },
        { "{\"a\":\"F32\"}", 0, MN_ERR_FORMAT, "tensor a: entry is a string" },
        { "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT, "tensor a: no dtype" },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, MN_ERR_FORMAT, "tensor a: no shape" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, MN_ERR_FORMAT, "tensor a: no data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8,
          MN_ERR_FORMAT, "tensor a: unexpected key extra" },
        { "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
          MN_ERR_FORMAT, "tensor a: duplicate key in its entry" },
        /* json-c kept only the last of these, hiding the first; now the first decides */
        { "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8],\"dtype\":\"F32\"}}", 8,
          MN_ERR_FORMAT, "tensor a: dtype F16 is not supported" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"d\\u0074ype\":\"F32\"}}",
          8, MN_ERR_FORMAT, "tensor a: duplicate key in its entry" },
        { "{\"a\":" ENT("[2]", "[0,8]") ",\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "tensor a: duplicate name" },
        { "{\"a\":" ENT("[1]", "[0,4]") ",\"\\u0061\":" ENT("[1]", "[4,8]") "}", 8,
          MN_ERR_FORMAT, "tensor a: duplicate name" },
        { "{\"__metadata__\":{},\"a\":" ENT("[2]", "[0,8]") ",\"__metadata__\":{}}", 8,
          MN_ERR_FORMAT, "__metadata__ appears twice" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_metadata(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "{\"__metadata__\":{\"epochs\":5},\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "__metadata__ epochs: value is a number, not a string" },
        { "{\"__metadata__\":{\"acc\":0.99},\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "__metadata__ acc: value is a number, not a string" },
        { "{\"__metadata__\":{\"k\":null},\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "value is null, not a string" },
        { "{\"__metadata__\":{\"k\":true},\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "value is a boolean" },
        { "{\"__metadata__\":{\"k\":{\"x\":\"y\"}},\"a\":" ENT("[2]", "[0,8]") "}", 8,
          MN_ERR_FORMAT, "value is an object, not a string" },
        { "{\"__metadata__\":{\"k\":[\"v\"]},\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "value is an array, not a string" },
        { "{\"__metadata__\":[\"a\"],\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "__metadata__ is not an object" },
        { "{\"__metadata__\":null,\"a\":" ENT("[2]", "[0,8]") "}", 8, MN_ERR_FORMAT,
          "__metadata__ is not an object" },
        { "{\"__metadata__\":\"x\"}", 0, MN_ERR_FORMAT, "__metadata__ is not an object" },
        { "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"a\":" ENT("[2]", "[0,8]") "}", 8,
          MN_ERR_FORMAT, "__metadata__ has a duplicate key" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);

    /* Limits of mn_metadata: 33 entries, and a 1024-byte value. */
    char header[4096];
    size_t pos = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{");
    for (int i = 0; i <= MN_METADATA_MAX_ENTRIES; i++)
        pos += (size_t)snprintf(header + pos, sizeof header - pos, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(header + pos, sizeof header - pos, "}}");
    expect_header_refused(header, NULL, 0, MN_ERR_LIMIT, "__metadata__: more than 32 entries");

    pos = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{\"long\":\"");
    memset(header + pos, 'x', MN_METADATA_MAX_VALUE + 1);
    pos += MN_METADATA_MAX_VALUE + 1;
    snprintf(header + pos, sizeof header - pos, "\"}}");
    expect_header_refused(header, NULL, 0, MN_ERR_LIMIT,
                          "__metadata__ long: value longer than 1023 bytes");
    pos = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{\"");
    memset(header + pos, 'k', MN_METADATA_MAX_KEY + 1);
    pos += MN_METADATA_MAX_KEY + 1;
    snprintf(header + pos, sizeof header - pos, "\":\"v\"}}");
    expect_header_refused(header, NULL, 0, MN_ERR_LIMIT, "longer than 63 bytes");
}

static void test_nan_and_inf_refused(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = sample_file(&len);
    size_t data = 8 + (size_t)le64(buf);
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    const char *what[3] = { "tensor layer.a: element 4 of [2, 3] is NaN",
                            "tensor layer.a: element 4 of [2, 3] is infinite",
                            "is infinite" };
    for (int i = 0; i < 3; i++) {
        uint8_t *copy = copy_of(buf, len);
        memcpy(copy + data + 4 * sizeof(float), &bad[i], sizeof(float));
        expect_refused(copy, len, MN_ERR_FORMAT, what[i]);
        free(copy);
    }
    /* the last element of the last tensor too (4-D "dé" sits after scalar and empty) */
    uint8_t *copy = copy_of(buf, len);
    uint32_t qnan = 0x7FC00001u; /* a NaN with a payload */
    memcpy(copy + len - 4, &qnan, 4);
    expect_refused(copy, len, MN_ERR_FORMAT, "tensor d\xc3\xa9: element 3 of [1, 2, 1, 2] is NaN");
    free(copy);
    free(buf);
}

static void test_writer_refusals(void **state)
{
    scratch *fx = *state;
    const float ok[2] = { 1, 2 }, nan2[2] = { 1, NAN }, inf2[2] = { INFINITY, 1 };
    mn_st_tensor_view v[2] = {
        { .name = "a", .ndim = 1, .shape = { 2 }, .data = ok },
        { .name = "b", .ndim = 1, .shape = { 2 }, .data = ok },
    };
    uint8_t *buf = (uint8_t *)(uintptr_t)1;
    size_t len = 99;
    mn_error err = { { 0 } };

    v[1].data = nan2;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor b: element 1 is NaN"));
    assert_null(buf);
    assert_int_equal(len, 0);
    v[1].data = inf2;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor b: element 0 is infinite"));

    v[1].data = ok;
    v[1].name = "a";
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor a: duplicate name"));
    v[1].name = "__metadata__";
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    v[1].name = "bad\xff";
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "not valid UTF-8"));
    v[1].name = NULL;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    v[1].name = "b";
    v[1].ndim = MN_ST_MAX_NDIM + 1;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    v[1].ndim = -1;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    v[1].ndim = 1;
    v[1].data = NULL;
    assert_int_equal(mn_st_serialize(v, 2, NULL, &buf, &len, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor b: data is NULL"));
    v[1].data = ok;

    mn_metadata m;
    mn_metadata_init(&m);
    assert_int_equal(mn_metadata_set(&m, "k", "\xc3", NULL), MN_OK); /* cut UTF-8 */
    assert_int_equal(mn_st_serialize(v, 2, &m, &buf, &len, &err), MN_ERR_ARG);

    /* mn_st_write refuses the same way, says which file, and writes nothing. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/w.safetensors", fx->dir);
    v[0].data = nan2;
    assert_int_equal(mn_st_write(path, v, 2, NULL, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "tensor a: element 1 is NaN"));
    assert_int_equal(access(path, F_OK), -1);
}

static void test_read_errors(void **state)
{
    scratch *fx = *state;
    char path[PATH_MAX + 32];
    mn_st_file *f = NULL;
    mn_error err = { { 0 } };

    snprintf(path, sizeof path, "%s/missing.safetensors", fx->dir);
    assert_int_equal(mn_st_read(path, 1 << 20, &f, &err), MN_ERR_IO);
    assert_null(f);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    assert_int_equal(mn_st_read(fx->dir, 1 << 20, &f, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, "not a regular file"));
    /* a FIFO with no writer: refused at once instead of blocking in open() */
    snprintf(path, sizeof path, "%s/fifo", fx->dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(mn_st_read(path, 1 << 20, &f, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, "not a regular file"));

    snprintf(path, sizeof path, "%s/t.safetensors", fx->dir);
    const float x[4] = { 1, 2, 3, 4 };
    mn_st_tensor_view v = { .name = "x", .ndim = 1, .shape = { 4 }, .data = x };
    assert_int_equal(mn_st_write(path, &v, 1, NULL, &err), MN_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(mn_st_read(path, (size_t)sb.st_size - 1, &f, &err), MN_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "more than the limit"));
    assert_null(f);
    assert_int_equal(mn_st_read(path, (size_t)sb.st_size, &f, &err), MN_OK);
    assert_memory_equal(mn_st_find(f, "x")->data, x, sizeof x);
    mn_st_free(f);

    /* Format errors from a file start with its path. */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 8, SEEK_SET), 0);
    assert_int_equal(fputc('[', fp), '[');
    fclose(fp);
    assert_int_equal(mn_st_read(path, 1 << 20, &f, &err), MN_ERR_FORMAT);
    assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
    assert_non_null(strstr(err.msg, "does not start with '{'"));
    mn_st_free(NULL);
}

/* Names from a file cannot forge log lines or flood a message. */
static void test_messages_are_sanitised(void **state)
{
    (void)state;
    expect_header_refused("{\"a\\nb\\u001b[31m\":{\"dtype\":\"F16\",\"shape\":[2],"
                          "\"data_offsets\":[0,8]}}", BAD_DATA, 8, MN_ERR_FORMAT,
                          "tensor a?b?[31m: dtype F16");
    char header[1024];
    char name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"\\r\\nX\",\"shape\":[2],"
             "\"data_offsets\":[0,8]}}", name);
    size_t len;
    uint8_t *buf = make_file(header, BAD_DATA, 8, &len);
    mn_st_file *f = NULL;
    mn_error err = { { 0 } };
    assert_int_equal(mn_st_parse(buf, len, &f, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "nnn...: dtype ??X is not supported"));
    assert_true(strlen(err.msg) < 200);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_map),
        cmocka_unit_test(test_roundtrip_memory),
        cmocka_unit_test_setup_teardown(test_roundtrip_file, setup, teardown),
        cmocka_unit_test(test_no_metadata),
        cmocka_unit_test(test_foreign_writer_layouts),
        cmocka_unit_test(test_foreign_writer_reference_layout),
        cmocka_unit_test(test_zero_sized_tensors_tile),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_header_length_too_large),
        cmocka_unit_test(test_header_not_json),
        cmocka_unit_test(test_header_escapes_and_rfc_cases),
        cmocka_unit_test(test_wrong_dtype),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_bad_offsets),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_nan_and_inf_refused),
        cmocka_unit_test_setup_teardown(test_writer_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
        cmocka_unit_test(test_messages_are_sanitised),
    };
    return cmocka_run_group_tests_name("mn_safetensors", tests, NULL, NULL);
}
