/* Tests for mn_model: MNISTNet model files. Round trips through files and memory,
 * files laid out by other writers (PyTorch's order, padding, metadata position), and
 * refusal of every way a file can fail to be an MNISTNet model, with the caller's
 * parameters and metadata left untouched. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_model.h"
#include "mn_net.h"
#include "test_support.h"

/* ------------------------------------------------------------------ fixture */

typedef struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 32];     /* dir/mnist_model.safetensors */
    mn_params p;                  /* a recognisable pattern */
    mn_params q;                  /* where loads go */
    mn_metadata meta;
} fixture;

static float pattern(int id, size_t j)
{
    return (float)(id + 1) * 0.001f * (float)((int)(j % 97) - 48) + (float)j * 1e-7f;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    scratch_dir_create(fx->dir, sizeof fx->dir, "mn_model");
    if (mn_params_alloc(&fx->p, NULL) != MN_OK || mn_params_alloc(&fx->q, NULL) != MN_OK) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/mnist_model.safetensors", fx->dir);
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        for (size_t j = 0; j < mn_net_tensors[i].count; j++)
            fx->p.t[i][j] = pattern(i, j);
    mn_metadata_init(&fx->meta);
    if (mn_metadata_set(&fx->meta, "architecture", "MNISTNet", NULL) != MN_OK ||
        mn_metadata_set(&fx->meta, "epochs", "5", NULL) != MN_OK ||
        mn_metadata_set(&fx->meta, "test_accuracy", "0.9912", NULL) != MN_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    scratch_dir_remove(fx->dir);
    mn_params_free(&fx->p);
    mn_params_free(&fx->q);
    free(fx);
    return 0;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void assert_params_equal(const mn_params *a, const mn_params *b)
{
    assert_memory_equal(a->memory, b->memory, MN_NUM_PARAMS * sizeof(float));
}

static uint8_t *serialize(const fixture *fx, size_t *len)
{
    uint8_t *buf = NULL;
    mn_error err = { { 0 } };
    assert_int_equal(mn_model_serialize(&fx->p, &fx->meta, &buf, len, &err), MN_OK);
    return buf;
}

/* Loading BUF must fail with WANT and a message containing MSG_PART, leaving the
 * destination parameters and metadata exactly as they were. */
static void expect_load_refused(fixture *fx, const uint8_t *buf, size_t len, mn_status want,
                                const char *msg_part)
{
    for (size_t j = 0; j < MN_NUM_PARAMS; j++)
        fx->q.memory[j] = 7.0f;
    mn_metadata meta;
    mn_metadata_init(&meta);
    assert_int_equal(mn_metadata_set(&meta, "sentinel", "kept", NULL), MN_OK);
    mn_error err = { { 0 } };
    mn_status st = mn_model_load_memory(buf, len, &fx->q, &meta, &err);
    if (st != want || !strstr(err.msg, msg_part))
        print_error("got status %d \"%s\", wanted %d with \"%s\"\n", st, err.msg, want, msg_part);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.msg, msg_part));
    for (size_t j = 0; j < MN_NUM_PARAMS; j++)
        if (fx->q.memory[j] != 7.0f)
            fail_msg("parameter %zu changed by a refused load", j);
    assert_int_equal(mn_metadata_count(&meta), 1);
    assert_string_equal(mn_metadata_get(&meta, "sentinel"), "kept");
}

/* Replaces the first FROM in the header of BUF with TO, fixes the header length and
 * appends EXTRA zero bytes of data. Returns a new malloc'ed file. */
static uint8_t *edit_header(const uint8_t *buf, size_t len, const char *from, const char *to,
                            size_t extra, size_t *out_len)
{
    size_t hlen = (size_t)le64(buf);
    const uint8_t *hit = memmem(buf + 8, hlen, from, strlen(from));
    assert_non_null(hit);
    size_t at = (size_t)(hit - buf), fl = strlen(from), tl = strlen(to);
    size_t n = len - fl + tl + extra;
    uint8_t *out = calloc(1, n);
    assert_non_null(out);
    memcpy(out, buf, at);
    memcpy(out + at, to, tl);
    memcpy(out + at + tl, buf + at + fl, len - at - fl);
    put_le64(out, hlen - fl + tl);
    *out_len = n;
    return out;
}

/* ------------------------------------------------------------------ a hand-made writer */

typedef struct hand_tensor {
    const char *name;
    int ndim;
    size_t shape[5];
    size_t count;
    const float *data;
} hand_tensor;

static hand_tensor model_tensor(const mn_params *p, int id)
{
    const mn_tensor_spec *s = &mn_net_tensors[id];
    hand_tensor t = { .name = s->name, .ndim = s->ndim, .count = s->count, .data = p->t[id] };
    for (int d = 0; d < s->ndim; d++)
        t.shape[d] = (size_t)s->shape[d];
    return t;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const hand_tensor *)a)->name, ((const hand_tensor *)b)->name);
}

/* Builds a safetensors file without our writer: entries in the order given, with the
 * keys in "shape, data_offsets, dtype" order and spaces after separators; the data in
 * the reverse order of the entries; META_JSON (an object's text, or NULL for none)
 * first or last; PAD spaces after the JSON (0 gives a header of odd length, so the data
 * start unaligned). */
static uint8_t *hand_build(const hand_tensor *t, int n, const char *meta_json, bool meta_last,
                           int pad, size_t *out_len)
{
    size_t cap = 4096 + (meta_json ? strlen(meta_json) : 0);
    char *h = malloc(cap);
    assert_non_null(h);
    size_t pos = 0;
#define EMIT(...) (pos += (size_t)snprintf(h + pos, cap - pos, __VA_ARGS__), assert_true(pos < cap))
    EMIT("{");
    if (meta_json && !meta_last)
        EMIT("\"__metadata__\": %s", meta_json);
    size_t *begin = calloc(n > 0 ? (size_t)n : 1, sizeof *begin);
    assert_non_null(begin);
    size_t data_len = 0;
    for (int i = n - 1; i >= 0; i--) {
        begin[i] = data_len;
        data_len += t[i].count * sizeof(float);
    }
    for (int i = 0; i < n; i++) {
        EMIT("%s\"%s\": {\"shape\": [", i || (meta_json && !meta_last) ? ", " : "", t[i].name);
        for (int d = 0; d < t[i].ndim; d++)
            EMIT("%s%zu", d ? ", " : "", t[i].shape[d]);
        EMIT("], \"data_offsets\": [%zu, %zu], \"dtype\": \"F32\"}", begin[i],
             begin[i] + t[i].count * sizeof(float));
    }
    if (meta_json && meta_last)
        EMIT("%s\"__metadata__\": %s", n ? ", " : "", meta_json);
    EMIT("}%*s", pad, "");
#undef EMIT
    uint8_t *buf = malloc(8 + pos + data_len);
    assert_non_null(buf);
    put_le64(buf, pos);
    memcpy(buf + 8, h, pos);
    for (int i = 0; i < n; i++)
        memcpy(buf + 8 + pos + begin[i], t[i].data, t[i].count * sizeof(float));
    *out_len = 8 + pos + data_len;
    free(begin);
    free(h);
    return buf;
}

/* ------------------------------------------------------------------ round trips */

static void test_save_load_roundtrip(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);

    struct stat sb;
    assert_int_equal(stat(fx->path, &sb), 0);
    FILE *f = fopen(fx->path, "rb");
    assert_non_null(f);
    uint8_t head[8];
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    assert_int_equal((uint64_t)sb.st_size, 8 + le64(head) + MN_NUM_PARAMS * sizeof(float));

    for (size_t j = 0; j < MN_NUM_PARAMS; j++)
        fx->q.memory[j] = -1.0f;
    mn_metadata got;
    mn_metadata_init(&got);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_OK);
    assert_params_equal(&fx->p, &fx->q);
    assert_int_equal(mn_metadata_count(&got), 3);
    assert_string_equal(mn_metadata_key(&got, 0), "architecture");
    assert_string_equal(mn_metadata_get(&got, "test_accuracy"), "0.9912");

    /* Saving again replaces the model; metadata may be omitted. */
    fx->p.t[MN_FC2_B][9] = 123.0f;
    assert_int_equal(mn_model_save(fx->path, &fx->p, NULL, &err), MN_OK);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_OK);
    assert_true(fx->q.t[MN_FC2_B][9] == 123.0f);
    assert_params_equal(&fx->p, &fx->q);
    assert_int_equal(mn_metadata_count(&got), 0);
    assert_int_equal(mn_model_load(fx->path, &fx->q, NULL, &err), MN_OK); /* meta optional */
    assert_int_equal(count_temp_files(fx->dir), 0);
}

/* "temperature": read back as saved, 1 when absent, and a model whose temperature is
 * not a number in the calibration's range is refused whole, leaving P untouched. */
static void test_temperature(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    mn_metadata got;
    assert_true(mn_model_temperature(&fx->meta) == 1.0);
    assert_int_equal(mn_metadata_set(&fx->meta, "temperature", "1.1250", NULL), MN_OK);
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_OK);
    assert_true(mn_model_temperature(&got) == 1.125);

    static const char *const refused[] = {"0", "0.04", "20.5", "abc", "1.5x", "", "nan",
                                          "inf", "-1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(mn_metadata_set(&fx->meta, "temperature", refused[i], NULL), MN_OK);
        assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
        fx->q.memory[0] = -7.0f;
        assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_ERR_FORMAT);
        assert_non_null(strstr(err.msg, "metadata temperature"));
        assert_true(fx->q.memory[0] == -7.0f);
    }
}

/* "temperature_low_res": the model's temperature when absent, read back as saved, and
 * refused whole alike when out of range. */
static void test_temperature_low_res(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    mn_metadata got;
    assert_true(mn_model_temperature_low_res(&fx->meta) == 1.0);
    assert_int_equal(mn_metadata_set(&fx->meta, "temperature", "1.5", NULL), MN_OK);
    assert_true(mn_model_temperature_low_res(&fx->meta) == 1.5);
    assert_int_equal(mn_metadata_set(&fx->meta, "temperature_low_res", "1.25", NULL), MN_OK);
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_OK);
    assert_true(mn_model_temperature(&got) == 1.5);
    assert_true(mn_model_temperature_low_res(&got) == 1.25);

    assert_int_equal(mn_metadata_set(&fx->meta, "temperature_low_res", "21", NULL), MN_OK);
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "metadata temperature_low_res"));
    assert_non_null(strstr(err.msg, "21"));
}

/* "deskew": absent means the input as it is; "moments" is read back; any other step
 * is refused whole, since the service would feed such a model the wrong input. */
static void test_deskew(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    mn_metadata got;
    assert_false(mn_model_deskews(&fx->meta));
    assert_false(mn_model_deskews(NULL));
    assert_int_equal(mn_metadata_set(&fx->meta, "deskew", "moments", NULL), MN_OK);
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
    assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_OK);
    assert_true(mn_model_deskews(&got));

    static const char *const refused[] = {"", "Moments", "moments ", "hough", "1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(mn_metadata_set(&fx->meta, "deskew", refused[i], NULL), MN_OK);
        assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
        fx->q.memory[0] = -7.0f;
        assert_int_equal(mn_model_load(fx->path, &fx->q, &got, &err), MN_ERR_FORMAT);
        assert_non_null(strstr(err.msg, "metadata deskew"));
        assert_true(fx->q.memory[0] == -7.0f);
    }
}

static void test_serialize_matches_file(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    size_t len;
    uint8_t *buf = serialize(fx, &len);
    assert_int_equal(mn_model_save(fx->path, &fx->p, &fx->meta, &err), MN_OK);
    assert_file_is(fx->path, buf, len);

    /* Tensors appear in the network's order with PyTorch's names and shapes. */
    const char *h = (const char *)buf + 8;
    size_t hlen = (size_t)le64(buf);
    const char *prev = h;
    for (int i = 0; i < MN_NUM_TENSORS; i++) {
        char needle[96];
        snprintf(needle, sizeof needle, "\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                 mn_net_tensors[i].name);
        const char *at = memmem(h, hlen, needle, strlen(needle));
        assert_non_null(at);
        assert_true(at > prev);
        prev = at;
    }
    assert_non_null(memmem(h, hlen, "\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[128,3136]", 45));

    assert_int_equal(mn_model_load_memory(buf, len, &fx->q, NULL, &err), MN_OK);
    assert_params_equal(&fx->p, &fx->q);
    free(buf);
}

/* What PyTorch's safetensors.torch.save_file produces: names sorted, so "conv1.bias"
 * before "conv1.weight"; __metadata__ {"format": "pt"} first. Also other layouts:
 * metadata last or absent, every padding, data in another order than the entries. */
static void test_foreign_writer_files_load(void **state)
{
    fixture *fx = *state;
    hand_tensor t[MN_NUM_TENSORS];
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        t[i] = model_tensor(&fx->p, i);
    qsort(t, MN_NUM_TENSORS, sizeof t[0], cmp_name);
    assert_string_equal(t[0].name, "conv1.bias");

    for (int variant = 0; variant < 3; variant++) {
        for (int pad = 0; pad < 8; pad++) {
            size_t len;
            const char *meta = variant == 2 ? NULL : "{\"format\": \"pt\"}";
            uint8_t *buf = hand_build(t, MN_NUM_TENSORS, meta, variant == 1, pad, &len);
            memset(fx->q.memory, 0, MN_NUM_PARAMS * sizeof(float));
            mn_metadata got;
            mn_metadata_init(&got);
            assert_int_equal(mn_metadata_set(&got, "stale", "x", NULL), MN_OK);
            mn_error err = { { 0 } };
            mn_status st = mn_model_load_memory(buf, len, &fx->q, &got, &err);
            if (st != MN_OK)
                print_error("variant %d pad %d: %s\n", variant, pad, err.msg);
            assert_int_equal(st, MN_OK);
            assert_params_equal(&fx->p, &fx->q);
            assert_null(mn_metadata_get(&got, "stale"));
            if (variant == 2) {
                assert_int_equal(mn_metadata_count(&got), 0);
            } else {
                assert_int_equal(mn_metadata_count(&got), 1);
                assert_string_equal(mn_metadata_get(&got, "format"), "pt");
            }
            free(buf);
        }
    }
}

/* ------------------------------------------------------------------ refusals */

static void test_wrong_shapes(void **state)
{
    fixture *fx = *state;
    struct {
        int id;
        int ndim;
        size_t shape[5];
        size_t count;
        const char *msg;
    } cases[] = {
        /* same element count, wrong layout: would load garbage if only counts were checked */
        { MN_FC1_W, 2, { 3136, 128 }, 401408,
          "tensor fc1.weight: shape [3136, 128], MNISTNet needs [128, 3136]" },
        { MN_CONV1_W, 2, { 32, 9 }, 288, "tensor conv1.weight: shape [32, 9], MNISTNet needs [32, 1, 3, 3]" },
        { MN_CONV2_W, 5, { 64, 32, 3, 3, 1 }, 18432, "tensor conv2.weight: shape [64, 32, 3, 3, 1]" },
        { MN_FC2_B, 2, { 1, 10 }, 10, "tensor fc2.bias: shape [1, 10], MNISTNet needs [10]" },
        /* different sizes */
        { MN_FC2_B, 1, { 11 }, 11, "tensor fc2.bias: shape [11], MNISTNet needs [10]" },
        { MN_FC1_W, 2, { 128, 3135 }, 128 * 3135, "tensor fc1.weight: shape [128, 3135]" },
        { MN_CONV1_B, 0, { 0 }, 1, "tensor conv1.bias: shape [], MNISTNet needs [32]" },
    };
    float *big = calloc(401408 + 16, sizeof(float));
    assert_non_null(big);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hand_tensor t[MN_NUM_TENSORS];
        for (int i = 0; i < MN_NUM_TENSORS; i++)
            t[i] = model_tensor(&fx->p, i);
        hand_tensor *x = &t[cases[c].id];
        x->ndim = cases[c].ndim;
        memcpy(x->shape, cases[c].shape, sizeof x->shape);
        x->count = cases[c].count;
        x->data = big;
        size_t len;
        uint8_t *buf = hand_build(t, MN_NUM_TENSORS, NULL, false, 0, &len);
        expect_load_refused(fx, buf, len, MN_ERR_FORMAT, cases[c].msg);
        free(buf);
    }
    free(big);
}

static void test_missing_tensor(void **state)
{
    fixture *fx = *state;
    for (int skip_id = 0; skip_id < MN_NUM_TENSORS; skip_id++) {
        hand_tensor t[MN_NUM_TENSORS];
        int n = 0;
        for (int i = 0; i < MN_NUM_TENSORS; i++)
            if (i != skip_id)
                t[n++] = model_tensor(&fx->p, i);
        size_t len;
        uint8_t *buf = hand_build(t, n, NULL, false, 0, &len);
        char msg[64];
        snprintf(msg, sizeof msg, "tensor %s is missing", mn_net_tensors[skip_id].name);
        expect_load_refused(fx, buf, len, MN_ERR_FORMAT, msg);
        free(buf);
    }
    /* An empty file is a valid safetensors file but not a model. */
    size_t len;
    uint8_t *buf = hand_build(NULL, 0, "{\"format\": \"pt\"}", false, 0, &len);
    expect_load_refused(fx, buf, len, MN_ERR_FORMAT, "tensor conv1.weight is missing");
    free(buf);
}

static void test_extra_tensor(void **state)
{
    fixture *fx = *state;
    static const float one[3] = { 1, 2, 3 };
    const char *names[] = { "fc3.weight", "conv1.weight.orig", "num_batches_tracked", "" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        hand_tensor t[MN_NUM_TENSORS + 1];
        for (int i = 0; i < MN_NUM_TENSORS; i++)
            t[i] = model_tensor(&fx->p, i);
        t[MN_NUM_TENSORS] = (hand_tensor){ .name = names[k], .ndim = 1, .shape = { 3 },
                                           .count = 3, .data = one };
        size_t len;
        uint8_t *buf = hand_build(t, MN_NUM_TENSORS + 1, NULL, true, 3, &len);
        char msg[96];
        snprintf(msg, sizeof msg, "unexpected tensor %s (not in MNISTNet)", names[k]);
        expect_load_refused(fx, buf, len, MN_ERR_FORMAT, msg);
        free(buf);
    }
}

static void test_wrong_dtype(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = serialize(fx, &len);
    const char *dtypes[] = { "F16", "I64", "BF16", "F64", "U8" };
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++) {
        char to[64], msg[96];
        snprintf(to, sizeof to, "\"fc1.bias\":{\"dtype\":\"%s\"", dtypes[k]);
        size_t n;
        uint8_t *bad = edit_header(buf, len, "\"fc1.bias\":{\"dtype\":\"F32\"", to, 0, &n);
        snprintf(msg, sizeof msg, "tensor fc1.bias: dtype %s is not supported (only F32)",
                 dtypes[k]);
        expect_load_refused(fx, bad, n, MN_ERR_FORMAT, msg);
        free(bad);
    }
    free(buf);
}

/* Offsets of fc2.bias in our layout: the last 40 bytes of the data. */
static void fc2_bias_offsets(const uint8_t *buf, size_t len, size_t *b, size_t *e)
{
    size_t hlen = (size_t)le64(buf);
    *e = len - 8 - hlen;
    *b = *e - 40;
    char text[96];
    snprintf(text, sizeof text, "\"fc2.bias\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[%zu,%zu]}",
             *b, *e);
    assert_non_null(memmem(buf + 8, hlen, text, strlen(text)));
}

static void test_bad_offsets(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = serialize(fx, &len);
    size_t b, e;
    fc2_bias_offsets(buf, len, &b, &e);
    char from[64], to[64], msg[160];
    snprintf(from, sizeof from, "\"data_offsets\":[%zu,%zu]", b, e);
    struct {
        long long db, de;     /* change to fc2.bias' offsets */
        size_t extra;         /* data bytes appended */
        const char *what;     /* message after "tensor fc2.bias: data_offsets [b, e] " */
    } cases[] = {
        { -40, -40, 40, "overlap tensor fc2.weight" },
        { -4, 0, 0, "hold 44 bytes but F32 shape [10] needs 40" },
        { 0, -4, 0, "hold 36 bytes" },
        { 40, 40, 40, "leave a gap of 40 bytes" },
        { 4, 4, 0, "go past the end of the data" },
        { 0, 0, 4, NULL }, /* trailing bytes */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t nb = (size_t)((long long)b + cases[k].db), ne = (size_t)((long long)e + cases[k].de);
        snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", nb, ne);
        if (cases[k].what)
            snprintf(msg, sizeof msg, "tensor fc2.bias: data_offsets [%zu, %zu] %s", nb, ne,
                     cases[k].what);
        else
            snprintf(msg, sizeof msg, "tensors cover %zu bytes of data but the file has %zu", e,
                     e + 4);
        size_t n;
        uint8_t *bad = edit_header(buf, len, from, to, cases[k].extra, &n);
        expect_load_refused(fx, bad, n, MN_ERR_FORMAT, msg);
        free(bad);
    }
    free(buf);
}

static void test_non_finite_values(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = serialize(fx, &len);
    size_t data = 8 + (size_t)le64(buf);
    struct {
        int id;
        size_t j;
        float v;
        const char *msg;
    } cases[] = {
        { MN_FC2_W, 5, NAN, "tensor fc2.weight: element 5 of [10, 128] is NaN" },
        { MN_CONV1_B, 0, INFINITY, "tensor conv1.bias: element 0 of [32] is infinite" },
        { MN_FC1_W, 401407, -INFINITY, "tensor fc1.weight: element 401407 of [128, 3136] is infinite" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, buf, len);
        size_t at = data + (mn_net_tensors[cases[k].id].offset + cases[k].j) * sizeof(float);
        memcpy(bad + at, &cases[k].v, sizeof(float));
        expect_load_refused(fx, bad, len, MN_ERR_FORMAT, cases[k].msg);
        free(bad);
    }
    free(buf);

    /* Saving non-finite parameters is refused and leaves the published model alone. */
    mn_error err = { { 0 } };
    assert_int_equal(mn_model_save(fx->path, &fx->p, NULL, &err), MN_OK);
    fx->p.t[MN_CONV2_W][17] = NAN;
    assert_int_equal(mn_model_save(fx->path, &fx->p, NULL, &err), MN_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor conv2.weight: element 17 is NaN"));
    fx->p.t[MN_CONV2_W][17] = pattern(MN_CONV2_W, 17);
    assert_int_equal(mn_model_load(fx->path, &fx->q, NULL, &err), MN_OK);
    assert_params_equal(&fx->p, &fx->q);
    assert_int_equal(count_temp_files(fx->dir), 0);
}

static void test_truncated_files(void **state)
{
    fixture *fx = *state;
    size_t len;
    uint8_t *buf = serialize(fx, &len);
    size_t data = 8 + (size_t)le64(buf);
    const size_t cuts[] = { 0, 1, 7, 8, 9, 20, data / 2, data - 1, data, data + 1, data + 4,
                            data + 1152, len / 2, len - 40, len - 4, len - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        uint8_t *copy = malloc(cuts[k] + 1);
        assert_non_null(copy);
        memcpy(copy, buf, cuts[k]);
        const char *why = cuts[k] < 8 ? "too short" : cuts[k] < data ? "exceeds the"
                                                                       : "go past the end";
        expect_load_refused(fx, copy, cuts[k], MN_ERR_FORMAT, why);
        free(copy);
    }

    /* The same from a file: the message starts with the path. */
    write_whole_file(fx->path, buf, len - 1);
    mn_error err = { { 0 } };
    memset(fx->q.memory, 0, MN_NUM_PARAMS * sizeof(float));
    assert_int_equal(mn_model_load(fx->path, &fx->q, NULL, &err), MN_ERR_FORMAT);
    assert_int_equal(strncmp(err.msg, fx->path, strlen(fx->path)), 0);
    assert_non_null(strstr(err.msg, "tensor fc2.bias: data_offsets"));
    for (size_t j = 0; j < MN_NUM_PARAMS; j++)
        if (fx->q.memory[j] != 0.0f)
            fail_msg("parameter %zu changed", j);
    free(buf);
}

static void test_file_errors(void **state)
{
    fixture *fx = *state;
    mn_error err = { { 0 } };
    assert_int_equal(mn_model_load(fx->path, &fx->q, NULL, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, fx->path));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    /* Larger than any model: refused before reading (a sparse file costs nothing). */
    int fd = open(fx->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)MN_MODEL_MAX_FILE_BYTES + 1), 0);
    close(fd);
    assert_int_equal(mn_model_load(fx->path, &fx->q, NULL, &err), MN_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "more than the limit of 67108864"));

    /* Saving into a directory that does not exist fails with the step and the reason. */
    char bad[PATH_MAX + 64];
    snprintf(bad, sizeof bad, "%s/missing/model.safetensors", fx->dir);
    assert_int_equal(mn_model_save(bad, &fx->p, &fx->meta, &err), MN_ERR_IO);
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    /* Unallocated parameters are an argument error, not a crash. */
    mn_params empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(mn_model_save(fx->path, &empty, NULL, &err), MN_ERR_ARG);
    assert_int_equal(mn_model_load_memory("", 0, &empty, NULL, &err), MN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_load_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_temperature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_temperature_low_res, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deskew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serialize_matches_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_writer_files_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_tensor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_tensor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_finite_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
    };
    return cmocka_run_group_tests_name("mn_model", tests, NULL, NULL);
}
