#include "config.h"

#include <stdio.h>
#include <string.h>

#include "json_scan.h"
#include "mn_net.h"
#include "v2_request.h"

typedef struct parser {
    json_scan s;
    float *data;
    size_t cap, count;       /* room, and values seen (may exceed cap: then refused) */
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
        if (ps->count < ps->cap)
            ps->data[ps->count] = (float)v;
        ps->count++;
    } while (js_accept(&ps->s, ','));
    return js_expect(&ps->s, ']');
}

static bool parse_input(parser *ps, v2_request *req, int max_batch)
{
    bool has_name = false, has_type = false, has_shape = false, has_data = false;
    long long dims[4] = {0};
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
                       : js_raw_equals(key, klen, "data") ? &has_data : NULL;
            if (seen && *seen)
                return fail(ps, "an input member (name, datatype, shape or data) appears twice");
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
            } else if (!js_skip(&ps->s, 16)) { /* "parameters" and extensions */
                return false;
            }
        } while (js_accept(&ps->s, ','));
    if (!js_expect(&ps->s, '}'))
        return false;
    if (!has_name || !has_type || !has_shape || !has_data)
        return fail(ps, !has_name ? "the input needs \"name\"" : !has_type ? "the input needs \"datatype\""
                        : !has_shape ? "the input needs \"shape\"" : "the input needs \"data\"");
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
    if (ps->count != want) {
        snprintf(ps->msg, ps->msg_size, "input data holds %zu values; shape [%d,...] needs %zu",
                 ps->count, req->batch, want);
        return false;
    }
    return true;
}

static bool parse_outputs(parser *ps, v2_request *req)
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

bool v2_parse_infer(const char *body, size_t len, int max_batch, float *data, v2_request *req,
                    char *msg, size_t msg_size)
{
    parser ps = {.data = data, .cap = (size_t)max_batch * MN_IMAGE_PIXELS, .msg = msg,
                 .msg_size = msg_size};
    js_init(&ps.s, body, len);
    memset(req, 0, sizeof *req);
    req->want_probabilities = true;
    msg[0] = '\0';
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
                ok = parse_outputs(&ps, req);
            } else if (js_raw_equals(key, klen, "id")) {
                if (req->id) {
                    ok = fail(&ps, "\"id\" appears twice");
                    break;
                }
                ok = js_string(&ps.s, &req->id, &req->id_len);
                if (ok && req->id_len > 256)
                    ok = fail(&ps, "\"id\" is longer than 256 bytes");
            } else {
                ok = js_skip(&ps.s, 16); /* "parameters" and extensions */
            }
        } while (ok && js_accept(&ps.s, ','));
    ok = ok && (closed || js_expect(&ps.s, '}')) && js_at_end(&ps.s);
    if (ok && !has_inputs)
        ok = fail(&ps, "the request needs \"inputs\"");
    if (!ok && !msg[0])
        snprintf(msg, msg_size, "malformed JSON at byte %td: %s", ps.s.p - body,
                 ps.s.error ? ps.s.error : "unexpected input");
    return ok;
}
