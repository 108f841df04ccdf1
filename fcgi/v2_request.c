#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mn_json.h"
#include "mn_net.h"
#include "v2_request.h"

/* How deep an extension's value (an unknown member) may nest. */
#define V2_SKIP_DEPTH 16

typedef struct parser {
    mn_json j;
    float *data;
    size_t cap, count;       /* room, and values seen (may exceed cap: then refused) */
    const char *bin;         /* binary tensor data after the JSON, or NULL without the header */
    size_t bin_len;
    bool bin_used;           /* an input took it */
    char *msg;
    size_t msg_size;
} parser;

/* The one way a request is refused for what it says; JSON that is malformed is
 * mn_json's to describe, and v2_parse_infer reports that when msg is still empty. */
static bool refuse(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(parser *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->msg, ps->msg_size, fmt, ap);
    va_end(ap);
    return false;
}

/* A key and its ':'. */
static bool member_key(parser *ps, mn_json_str *key)
{
    return mn_json_string(&ps->j, key) && mn_json_expect(&ps->j, ':');
}

/* An object, each member handed to `member` after its key and ':'. */
static bool parse_object(parser *ps, bool (*member)(parser *, const mn_json_str *, void *),
                         void *ctx)
{
    if (!mn_json_expect(&ps->j, '{'))
        return false;
    if (mn_json_accept(&ps->j, '}'))
        return true;
    do {
        mn_json_str key;
        if (!member_key(ps, &key) || !member(ps, &key, ctx))
            return false;
    } while (mn_json_accept(&ps->j, ','));
    return mn_json_expect(&ps->j, '}');
}

/* Numbers, flat or nested, into ps->data. */
static bool parse_data(parser *ps, int depth)
{
    if (!mn_json_expect(&ps->j, '['))
        return false;
    if (mn_json_accept(&ps->j, ']'))
        return true;
    do {
        if (mn_json_peek(&ps->j, '[')) {
            if (depth >= 4)
                return refuse(ps, "data nested deeper than the shape");
            if (!parse_data(ps, depth + 1))
                return false;
            continue;
        }
        float f;
        if (!mn_json_float(&ps->j, &f)) { /* malformed, beyond FP32, or another value */
            const mn_json_kind kind = mn_json_next(&ps->j);
            return kind != MN_JSON_NUMBER && kind != MN_JSON_NONE &&
                   refuse(ps, "data must hold numbers only");
        }
        if (ps->count < ps->cap)
            ps->data[ps->count] = f;
        ps->count++;
    } while (mn_json_accept(&ps->j, ','));
    return mn_json_expect(&ps->j, ']');
}

/* The one parameter a "parameters" object is read for: a boolean into *flag or a
 * byte count into *size (whichever is not NULL); other members are skipped. */
typedef struct parameter {
    const char *name;
    bool *flag;
    long long *size;
    bool seen;
} parameter;

static bool parameter_member(parser *ps, const mn_json_str *key, void *ctx)
{
    parameter *p = ctx;
    if (!mn_json_str_is(key, p->name))
        return mn_json_skip(&ps->j, V2_SKIP_DEPTH);
    if (p->seen)
        return refuse(ps, "parameter \"%s\" appears twice", p->name);
    p->seen = true;
    if (p->flag)
        return mn_json_bool(&ps->j, p->flag) ||
               refuse(ps, "parameter \"%s\" must be true or false", p->name);
    double d = 0;
    if (!mn_json_number(&ps->j, &d) || !(d >= 0 && d < 1e15) || d != (double)(long long)d)
        return refuse(ps, "parameter \"%s\" must be a byte count", p->name);
    *p->size = (long long)d;
    return true;
}

/* A "parameters" object; *seen tells whether it held `name`. */
static bool parse_parameters(parser *ps, const char *name, bool *flag, long long *size,
                             bool *seen)
{
    parameter p = {name, flag, size, false};
    bool ok = parse_object(ps, parameter_member, &p);
    *seen = p.seen;
    return ok;
}

/* The input's values from the binary part of the body (little-endian FP32, row
 * major), which must hold exactly this tensor. */
static bool take_binary(parser *ps, long long size, size_t want)
{
    if (!ps->bin)
        return refuse(ps, "binary_data_size needs the Inference-Header-Content-Length header");
    if ((unsigned long long)size != want * sizeof(float) || ps->bin_len != want * sizeof(float))
        return refuse(ps, "binary_data_size is %lld and %zu bytes follow the JSON; the shape needs %zu",
                      size, ps->bin_len, want * sizeof(float));
    for (size_t i = 0; i < want; i++) {
        float f; /* little-endian, as the host is (configure refuses big-endian ones) */
        memcpy(&f, ps->bin + 4 * i, sizeof f);
        if (!isfinite(f))
            return refuse(ps, "binary input value %zu is not a finite number", i);
        ps->data[i] = f;
    }
    ps->count = want;
    ps->bin_used = true;
    return true;
}

/* What one input object said. */
typedef struct input_fields {
    bool name, type, shape, data, params; /* seen */
    bool binary;                          /* parameters held binary_data_size */
    long long dims[4], binary_size;
    int ndim;
} input_fields;

/* How much of a refused string value a message quotes, in bytes. */
static int quoted_length(const mn_json_str *v)
{
    return (int)(v->len < 64 ? v->len : 64);
}

static bool parse_shape(parser *ps, input_fields *in)
{
    if (!mn_json_expect(&ps->j, '['))
        return false;
    if (!mn_json_accept(&ps->j, ']'))
        do {
            double d;
            if (!mn_json_number(&ps->j, &d))
                return false;
            if (in->ndim >= 4 || !(d > -1e15 && d < 1e15) || d != (double)(long long)d)
                return refuse(ps, "input shape must be [N,1,28,28] or [N,784]");
            in->dims[in->ndim++] = (long long)d;
        } while (mn_json_accept(&ps->j, ','));
    return mn_json_expect(&ps->j, ']');
}

/* One member of the input object. */
static bool parse_input_member(parser *ps, const mn_json_str *key, input_fields *in)
{
    bool *seen = mn_json_str_is(key, "name") ? &in->name
               : mn_json_str_is(key, "datatype") ? &in->type
               : mn_json_str_is(key, "shape") ? &in->shape
               : mn_json_str_is(key, "data") ? &in->data
               : mn_json_str_is(key, "parameters") ? &in->params : NULL;
    if (!seen)
        return mn_json_skip(&ps->j, V2_SKIP_DEPTH); /* extensions */
    if (*seen)
        return refuse(ps, "an input member (name, datatype, shape, data or parameters) "
                          "appears twice");
    *seen = true;
    mn_json_str v;
    if (seen == &in->name || seen == &in->type) {
        if (!mn_json_string(&ps->j, &v))
            return false;
        if (seen == &in->name && !mn_json_str_is(&v, "input"))
            return refuse(ps, "unknown input \"%.*s\": the model's input is \"input\"",
                          quoted_length(&v), v.raw);
        if (seen == &in->type && !mn_json_str_is(&v, "FP32"))
            return refuse(ps, "input datatype must be FP32, not \"%.*s\"", quoted_length(&v),
                          v.raw);
        return true;
    }
    if (seen == &in->shape)
        return parse_shape(ps, in);
    if (seen == &in->data)
        return parse_data(ps, 0);
    return parse_parameters(ps, "binary_data_size", NULL, &in->binary_size, &in->binary);
}

/* The input's members agree with each other and the model; the values are taken. */
static bool check_input(parser *ps, const input_fields *in, v2_request *req, int max_batch)
{
    if (!in->name || !in->type || !in->shape || in->data == in->binary)
        return refuse(ps, "%s", !in->name ? "the input needs \"name\""
                                : !in->type ? "the input needs \"datatype\""
                                : !in->shape ? "the input needs \"shape\""
                                : in->binary ? "the input has both \"data\" and binary_data_size"
                                             : "the input needs \"data\" (or binary_data_size)");
    const long long *dims = in->dims;
    bool shape_ok = (in->ndim == 4 && dims[1] == 1 && dims[2] == 28 && dims[3] == 28) ||
                    (in->ndim == 2 && dims[1] == MN_IMAGE_PIXELS);
    if (!shape_ok || dims[0] < 1)
        return refuse(ps, "input shape must be [N,1,28,28] or [N,784] with N >= 1");
    if (dims[0] > max_batch)
        return refuse(ps, "a batch of %lld exceeds the limit of %d images per request", dims[0],
                      max_batch);
    req->batch = (int)dims[0];
    size_t want = (size_t)req->batch * MN_IMAGE_PIXELS;
    if (in->binary)
        return take_binary(ps, in->binary_size, want);
    if (ps->count != want)
        return refuse(ps, "input data holds %zu values; shape [%d,...] needs %zu", ps->count,
                      req->batch, want);
    return true;
}

static bool input_member(parser *ps, const mn_json_str *key, void *in)
{
    return parse_input_member(ps, key, in);
}

static bool parse_input(parser *ps, v2_request *req, int max_batch)
{
    input_fields in = {0};
    return parse_object(ps, input_member, &in) && check_input(ps, &in, req, max_batch);
}

/* "inputs": exactly one tensor. */
static bool parse_inputs(parser *ps, v2_request *req, int max_batch)
{
    if (!mn_json_expect(&ps->j, '['))
        return false;
    if (mn_json_accept(&ps->j, ']'))
        return refuse(ps, "\"inputs\" must hold exactly one tensor, \"input\"");
    if (!parse_input(ps, req, max_batch))
        return false;
    if (mn_json_accept(&ps->j, ','))
        return refuse(ps, "\"inputs\" must hold exactly one tensor, \"input\"");
    return mn_json_expect(&ps->j, ']');
}

/* One requested output's state while its members are read. */
typedef struct output_fields {
    v2_request *req;
    int *binary_output;
    bool named;
} output_fields;

static bool output_member(parser *ps, const mn_json_str *key, void *ctx)
{
    output_fields *out = ctx;
    if (mn_json_str_is(key, "name")) {
        if (out->named)
            return refuse(ps, "an output's \"name\" appears twice");
        out->named = true;
        mn_json_str v;
        if (!mn_json_string(&ps->j, &v))
            return false;
        if (!mn_json_str_is(&v, "probabilities"))
            return refuse(ps, "unknown output \"%.*s\": the model's output is \"probabilities\"",
                          quoted_length(&v), v.raw);
        out->req->want_probabilities = true;
        return true;
    }
    if (mn_json_str_is(key, "parameters")) {
        bool flag = false, seen;
        if (!parse_parameters(ps, "binary_data", &flag, NULL, &seen))
            return false;
        if (seen)
            *out->binary_output = flag;
        return true;
    }
    return mn_json_skip(&ps->j, V2_SKIP_DEPTH);
}

/* One requested output. binary_output: set to its "binary_data" parameter when it
 * has one, else left as it is (-1: the request's default decides). */
static bool parse_output(parser *ps, v2_request *req, int *binary_output)
{
    output_fields out = {req, binary_output, false};
    if (!parse_object(ps, output_member, &out))
        return false;
    return out.named || refuse(ps, "each requested output needs a \"name\"");
}

static bool parse_outputs(parser *ps, v2_request *req, int *binary_output)
{
    if (!mn_json_expect(&ps->j, '['))
        return false;
    if (mn_json_accept(&ps->j, ']'))
        return true; /* an empty list asks for the default: all */
    req->want_probabilities = false;
    do {
        if (!parse_output(ps, req, binary_output))
            return false;
    } while (mn_json_accept(&ps->j, ','));
    return mn_json_expect(&ps->j, ']');
}

/* What the request object said at its top level. */
typedef struct top_fields {
    v2_request *req;
    int max_batch;
    bool inputs, outputs, params; /* seen */
    bool binary_default;          /* parameters' binary_data_output */
    int binary_output;            /* the outputs' binary_data, or -1 */
} top_fields;

/* a literal, so that the compiler checks the format at every optimisation level */
#define TWICE "\"%s\" appears twice"

static bool top_member(parser *ps, const mn_json_str *key, void *ctx)
{
    top_fields *top = ctx;
    v2_request *req = top->req;
    if (mn_json_str_is(key, "inputs")) {
        if (top->inputs)
            return refuse(ps, TWICE, "inputs");
        top->inputs = true;
        return parse_inputs(ps, req, top->max_batch);
    }
    if (mn_json_str_is(key, "outputs")) {
        if (top->outputs)
            return refuse(ps, TWICE, "outputs");
        top->outputs = true;
        return parse_outputs(ps, req, &top->binary_output);
    }
    if (mn_json_str_is(key, "id")) {
        if (req->id)
            return refuse(ps, TWICE, "id");
        mn_json_str id;
        if (!mn_json_string(&ps->j, &id))
            return false;
        req->id = id.raw;
        req->id_len = id.len;
        return id.len <= 256 || refuse(ps, "\"id\" is longer than 256 bytes");
    }
    if (mn_json_str_is(key, "parameters")) {
        if (top->params)
            return refuse(ps, TWICE, "parameters");
        top->params = true;
        bool seen;
        return parse_parameters(ps, "binary_data_output", &top->binary_default, NULL, &seen);
    }
    return mn_json_skip(&ps->j, V2_SKIP_DEPTH); /* extensions */
}

/* The request object, then nothing but whitespace. */
static bool parse_request(parser *ps, top_fields *top)
{
    if (!parse_object(ps, top_member, top) || !mn_json_at_end(&ps->j))
        return false;
    if (!top->inputs)
        return refuse(ps, "the request needs \"inputs\"");
    if (ps->bin_len && !ps->bin_used)
        return refuse(ps, "binary data follows the JSON, but no input has binary_data_size");
    return true;
}

bool v2_parse_infer(const char *body, size_t len, long long header_len, int max_batch,
                    float *data, v2_request *req, char *msg, size_t msg_size)
{
    parser ps = {.data = data, .cap = (size_t)max_batch * MN_IMAGE_PIXELS, .msg = msg,
                 .msg_size = msg_size};
    memset(req, 0, sizeof *req);
    req->want_probabilities = true;
    msg[0] = '\0';
    if (header_len >= 0) {
        if ((unsigned long long)header_len > len)
            return refuse(&ps, "Inference-Header-Content-Length %lld exceeds the body's %zu bytes",
                          header_len, len);
        ps.bin = body + header_len;
        ps.bin_len = len - (size_t)header_len;
        len = (size_t)header_len;
    }
    mn_json_init(&ps.j, body, len);
    top_fields top = {.req = req, .max_batch = max_batch, .binary_output = -1};
    bool ok = parse_request(&ps, &top);
    req->binary_output = top.binary_output >= 0 ? top.binary_output : top.binary_default;
    if (!ok && !msg[0])
        refuse(&ps, "malformed JSON at byte %zu: %s", ps.j.error_at,
               ps.j.error ? ps.j.error : "unexpected input");
    return ok;
}
