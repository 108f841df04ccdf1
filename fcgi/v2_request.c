#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json_scan.h"
#include "mn_net.h"
#include "v2_request.h"

typedef struct parser {
    json_scan s;
    float *data;
    size_t cap, count;       /* room, and values seen (may exceed cap: then refused) */
    const char *bin;         /* binary tensor data after the JSON, or NULL without the header */
    size_t bin_len;
    bool bin_used;           /* an input took it */
    char *msg;
    size_t msg_size;
} parser;

static bool fail(parser *ps, const char *why)
{
    snprintf(ps->msg, ps->msg_size, "%s", why);
    return false;
}

/* Numbers, flat or nested, into ps->data. */
static bool parse_data(parser *ps, int depth)
{
    if (!js_expect(&ps->s, '['))
        return false;
    if (js_accept(&ps->s, ']'))
        return true;
    do {
        js_ws(&ps->s);
        if (ps->s.p < ps->s.end && *ps->s.p == '[') {
            if (depth >= 4)
                return js_fail(&ps->s, "data nested deeper than the shape");
            if (!parse_data(ps, depth + 1))
                return false;
            continue;
        }
        double v;
        if (!js_number(&ps->s, &v))
            return js_fail(&ps->s, "data must hold numbers only");
        const float f = (float)v;
        if (!isfinite(f))
            return js_fail(&ps->s, "data values must be finite FP32 numbers");
        if (ps->count < ps->cap)
            ps->data[ps->count] = f;
        ps->count++;
    } while (js_accept(&ps->s, ','));
    return js_expect(&ps->s, ']');
}

/* A "parameters" object: the one boolean or integer member named `name` into *flag
 * or *size (whichever is not NULL), others skipped. *seen tells whether it was there. */
static bool parse_parameters(parser *ps, const char *name, bool *flag, long long *size,
                             bool *seen)
{
    *seen = false;
    if (!js_expect(&ps->s, '{'))
        return false;
    if (js_accept(&ps->s, '}'))
        return true;
    do {
        const char *key;
        size_t klen;
        if (!js_string(&ps->s, &key, &klen) || !js_expect(&ps->s, ':'))
            return false;
        if (!js_raw_equals(key, klen, name)) {
            if (!js_skip(&ps->s, 16))
                return false;
            continue;
        }
        if (*seen) {
            snprintf(ps->msg, ps->msg_size, "parameter \"%s\" appears twice", name);
            return false;
        }
        *seen = true;
        double d;
        if (flag ? !js_bool(&ps->s, flag)
                 : !js_number(&ps->s, &d) || !(d >= 0 && d < 1e15) || d != (double)(long long)d) {
            snprintf(ps->msg, ps->msg_size, "parameter \"%s\" must be %s", name,
                     flag ? "true or false" : "a byte count");
            return false;
        }
        if (size)
            *size = (long long)d;
    } while (js_accept(&ps->s, ','));
    return js_expect(&ps->s, '}');
}

/* The input's values from the binary part of the body (little-endian FP32, row
 * major), which must hold exactly this tensor. */
static bool take_binary(parser *ps, long long size, size_t want)
{
    if (!ps->bin) {
        snprintf(ps->msg, ps->msg_size,
                 "binary_data_size needs the Inference-Header-Content-Length header");
        return false;
    }
    if ((unsigned long long)size != want * sizeof(float) || ps->bin_len != want * sizeof(float)) {
        snprintf(ps->msg, ps->msg_size,
                 "binary_data_size is %lld and %zu bytes follow the JSON; the shape needs %zu",
                 size, ps->bin_len, want * sizeof(float));
        return false;
    }
    for (size_t i = 0; i < want; i++) {
        float f; /* little-endian, as the host is (configure refuses big-endian ones) */
        memcpy(&f, ps->bin + 4 * i, sizeof f);
        if (!isfinite(f)) {
            snprintf(ps->msg, ps->msg_size, "binary input value %zu is not a finite number", i);
            return false;
        }
        ps->data[i] = f;
    }
    ps->count = want;
    ps->bin_used = true;
    return true;
}

static bool parse_input(parser *ps, v2_request *req, int max_batch)
{
    bool has_name = false, has_type = false, has_shape = false, has_data = false;
    bool has_params = false, binary = false;
    long long dims[4] = {0}, binary_size = 0;
    int ndim = 0;
    if (!js_expect(&ps->s, '{'))
        return false;
    if (!js_accept(&ps->s, '}'))
        do {
            const char *key, *v;
            size_t klen, vlen;
            if (!js_string(&ps->s, &key, &klen) || !js_expect(&ps->s, ':'))
                return false;
            bool *seen = js_raw_equals(key, klen, "name") ? &has_name
                       : js_raw_equals(key, klen, "datatype") ? &has_type
                       : js_raw_equals(key, klen, "shape") ? &has_shape
                       : js_raw_equals(key, klen, "data") ? &has_data
                       : js_raw_equals(key, klen, "parameters") ? &has_params : NULL;
            if (seen && *seen)
                return fail(ps, "an input member (name, datatype, shape, data or parameters) "
                                "appears twice");
            if (seen)
                *seen = true;
            if (seen == &has_name) {
                if (!js_string(&ps->s, &v, &vlen))
                    return false;
                if (!js_raw_equals(v, vlen, "input")) {
                    snprintf(ps->msg, ps->msg_size,
                             "unknown input \"%.*s\": the model's input is \"input\"",
                             (int)(vlen < 64 ? vlen : 64), v);
                    return false;
                }
            } else if (seen == &has_type) {
                if (!js_string(&ps->s, &v, &vlen))
                    return false;
                if (!js_raw_equals(v, vlen, "FP32")) {
                    snprintf(ps->msg, ps->msg_size, "input datatype must be FP32, not \"%.*s\"",
                             (int)(vlen < 32 ? vlen : 32), v);
                    return false;
                }
            } else if (seen == &has_shape) {
                if (!js_expect(&ps->s, '['))
                    return false;
                if (!js_accept(&ps->s, ']'))
                    do {
                        double d;
                        if (!js_number(&ps->s, &d))
                            return false;
                        if (ndim >= 4 || !(d > -1e15 && d < 1e15) || d != (double)(long long)d)
                            return fail(ps, "input shape must be [N,1,28,28] or [N,784]");
                        dims[ndim++] = (long long)d;
                    } while (js_accept(&ps->s, ','));
                if (!js_expect(&ps->s, ']'))
                    return false;
            } else if (seen == &has_data) {
                if (!parse_data(ps, 0))
                    return false;
            } else if (seen == &has_params) {
                if (!parse_parameters(ps, "binary_data_size", NULL, &binary_size, &binary))
                    return false;
            } else if (!js_skip(&ps->s, 16)) { /* extensions */
                return false;
            }
        } while (js_accept(&ps->s, ','));
    if (!js_expect(&ps->s, '}'))
        return false;
    if (!has_name || !has_type || !has_shape || has_data == binary)
        return fail(ps, !has_name ? "the input needs \"name\"" : !has_type ? "the input needs \"datatype\""
                        : !has_shape ? "the input needs \"shape\""
                        : binary ? "the input has both \"data\" and binary_data_size"
                                 : "the input needs \"data\" (or binary_data_size)");
    bool shape_ok = (ndim == 4 && dims[1] == 1 && dims[2] == 28 && dims[3] == 28) ||
                    (ndim == 2 && dims[1] == MN_IMAGE_PIXELS);
    if (!shape_ok || dims[0] < 1)
        return fail(ps, "input shape must be [N,1,28,28] or [N,784] with N >= 1");
    if (dims[0] > max_batch) {
        snprintf(ps->msg, ps->msg_size, "a batch of %lld exceeds the limit of %d images per request",
                 dims[0], max_batch);
        return false;
    }
    req->batch = (int)dims[0];
    size_t want = (size_t)req->batch * MN_IMAGE_PIXELS;
    if (binary)
        return take_binary(ps, binary_size, want);
    if (ps->count != want) {
        snprintf(ps->msg, ps->msg_size, "input data holds %zu values; shape [%d,...] needs %zu",
                 ps->count, req->batch, want);
        return false;
    }
    return true;
}

/* binary_output: set to an output's "binary_data" parameter when it has one, else
 * left as it is (-1: the request's default decides). */
static bool parse_outputs(parser *ps, v2_request *req, int *binary_output)
{
    if (!js_expect(&ps->s, '['))
        return false;
    req->want_probabilities = false;
    if (js_accept(&ps->s, ']')) {
        req->want_probabilities = true; /* an empty list asks for the default: all */
        return true;
    }
    do {
        bool named = false;
        if (!js_expect(&ps->s, '{'))
            return false;
        if (!js_accept(&ps->s, '}'))
            do {
                const char *key, *v;
                size_t klen, vlen;
                if (!js_string(&ps->s, &key, &klen) || !js_expect(&ps->s, ':'))
                    return false;
                if (js_raw_equals(key, klen, "name")) {
                    if (named || !js_string(&ps->s, &v, &vlen))
                        return named ? fail(ps, "an output's \"name\" appears twice") : false;
                    named = true;
                    if (!js_raw_equals(v, vlen, "probabilities")) {
                        snprintf(ps->msg, ps->msg_size,
                                 "unknown output \"%.*s\": the model's output is \"probabilities\"",
                                 (int)(vlen < 64 ? vlen : 64), v);
                        return false;
                    }
                    req->want_probabilities = true;
                } else if (js_raw_equals(key, klen, "parameters")) {
                    bool flag = false, seen;
                    if (!parse_parameters(ps, "binary_data", &flag, NULL, &seen))
                        return false;
                    if (seen)
                        *binary_output = flag;
                } else if (!js_skip(&ps->s, 16)) {
                    return false;
                }
            } while (js_accept(&ps->s, ','));
        if (!js_expect(&ps->s, '}'))
            return false;
        if (!named)
            return fail(ps, "each requested output needs a \"name\"");
    } while (js_accept(&ps->s, ','));
    return js_expect(&ps->s, ']');
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
        if ((unsigned long long)header_len > len) {
            snprintf(msg, msg_size, "Inference-Header-Content-Length %lld exceeds the body's %zu bytes",
                     header_len, len);
            return false;
        }
        ps.bin = body + header_len;
        ps.bin_len = len - (size_t)header_len;
        len = (size_t)header_len;
    }
    js_init(&ps.s, body, len);
    int binary_output = -1;
    bool has_params = false, binary_default = false;
    bool has_inputs = false, has_outputs = false, ok = js_expect(&ps.s, '{');
    bool closed = ok && js_accept(&ps.s, '}');
    if (ok && !closed)
        do {
            const char *key;
            size_t klen;
            ok = js_string(&ps.s, &key, &klen) && js_expect(&ps.s, ':');
            if (!ok)
                break;
            if (js_raw_equals(key, klen, "inputs")) {
                if (has_inputs) {
                    ok = fail(&ps, "\"inputs\" appears twice");
                    break;
                }
                has_inputs = true;
                ok = js_expect(&ps.s, '[');
                if (ok && js_accept(&ps.s, ']'))
                    ok = fail(&ps, "\"inputs\" must hold exactly one tensor, \"input\"");
                ok = ok && parse_input(&ps, req, max_batch);
                if (ok && js_accept(&ps.s, ','))
                    ok = fail(&ps, "\"inputs\" must hold exactly one tensor, \"input\"");
                ok = ok && js_expect(&ps.s, ']');
            } else if (js_raw_equals(key, klen, "outputs")) {
                if (has_outputs) {
                    ok = fail(&ps, "\"outputs\" appears twice");
                    break;
                }
                has_outputs = true;
                ok = parse_outputs(&ps, req, &binary_output);
            } else if (js_raw_equals(key, klen, "id")) {
                if (req->id) {
                    ok = fail(&ps, "\"id\" appears twice");
                    break;
                }
                ok = js_string(&ps.s, &req->id, &req->id_len);
                if (ok && req->id_len > 256)
                    ok = fail(&ps, "\"id\" is longer than 256 bytes");
            } else if (js_raw_equals(key, klen, "parameters")) {
                if (has_params) {
                    ok = fail(&ps, "\"parameters\" appears twice");
                    break;
                }
                has_params = true;
                bool seen;
                ok = parse_parameters(&ps, "binary_data_output", &binary_default, NULL, &seen);
            } else {
                ok = js_skip(&ps.s, 16); /* extensions */
            }
        } while (ok && js_accept(&ps.s, ','));
    ok = ok && (closed || js_expect(&ps.s, '}')) && js_at_end(&ps.s);
    if (ok && !has_inputs)
        ok = fail(&ps, "the request needs \"inputs\"");
    if (ok && ps.bin_len && !ps.bin_used)
        ok = fail(&ps, "binary data follows the JSON, but no input has binary_data_size");
    req->binary_output = binary_output >= 0 ? binary_output : binary_default;
    if (!ok && !msg[0])
        snprintf(msg, msg_size, "malformed JSON at byte %td: %s", ps.s.p - body,
                 ps.s.error ? ps.s.error : "unexpected input");
    return ok;
}
