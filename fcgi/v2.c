/* The Open Inference Protocol (KServe v2) REST API, for the one model "mnist":
 *   GET  /v2                                       server metadata
 *   GET  /v2/health/live, /v2/health/ready         200, or 503 without a model
 *   GET  /v2/models/mnist[/versions/V]             model metadata
 *   GET  /v2/models/mnist[/versions/V]/ready       200, or 503 without a model
 *   POST /v2/models/mnist[/versions/V]/infer       a batch of normalised images
 * Errors are {"error": "..."} as the protocol says. V is the served model's version
 * (the first 12 hex digits of its file's SHA-256). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers.h"
#include "http.h"

static const char MODEL_NAME[] = "mnist";

static void v2_error(worker *w, http_request *r, int status, const char *headers,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void v2_error(worker *w, http_request *r, int status, const char *headers,
                     const char *fmt, ...)
{
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    out_reset(&w->out);
    out_puts(&w->out, "{\"error\":");
    out_json_string(&w->out, message);
    out_puts(&w->out, "}");
    http_send_json(w, r, status, headers);
}

static bool expect_method(worker *w, http_request *r, const char *method)
{
    if (strcmp(r->method, method) == 0 || (!strcmp(method, "GET") && !strcmp(r->method, "HEAD")))
        return true;
    char allow[48];
    snprintf(allow, sizeof allow, "Allow: %s\r\n", strcmp(method, "GET") ? method : "GET, HEAD");
    v2_error(w, r, 405, allow, "%s takes %s, not %s", r->path, method, r->method);
    return false;
}

static void ready_answer(worker *w, http_request *r, bool ready)
{
    out_reset(&w->out);
    out_printf(&w->out, "{\"ready\":%s}", ready ? "true" : "false");
    http_send_json(w, r, ready ? 200 : 503, NULL);
}

static void model_metadata(worker *w, http_request *r, const live_model *m)
{
    out_buf *o = &w->out;
    out_reset(o);
    out_printf(o, "{\"name\":\"%s\",\"versions\":[", MODEL_NAME);
    if (m)
        out_json_string(o, m->version);
    out_puts(o, "],\"platform\":\"mnist-service_c\","
                "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}],"
                "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]");
    if (m) {
        out_puts(o, ",\"parameters\":");
        write_model_json(o, m, true);
    }
    out_puts(o, "}");
    http_send_json(w, r, 200, NULL);
}

/* Flattens the "data" of an input: a flat list, or lists nested to the shape's
 * depth. Returns false (with *why) on a non-number or a count other than want. */
static bool flatten(json_object *v, int depth, size_t want, float *out, size_t *n,
                    const char **why)
{
    if (json_object_is_type(v, json_type_array)) {
        if (depth > 5) {
            *why = "nested deeper than the shape";
            return false;
        }
        size_t len = json_object_array_length(v);
        for (size_t i = 0; i < len; i++)
            if (!flatten(json_object_array_get_idx(v, i), depth + 1, want, out, n, why))
                return false;
        return true;
    }
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
        *why = "holds something other than numbers";
        return false;
    }
    if (*n >= want) {
        *n = want + 1; /* too many: reported by the caller */
        return true;
    }
    out[(*n)++] = (float)json_object_get_double(v);
    return true;
}

static void infer(worker *w, http_request *r, live_model *m)
{
    size_t len;
    switch (http_read_body(w, r, &len)) {
    case BODY_OK: break;
    case BODY_TOO_LARGE:
        v2_error(w, r, 413, NULL, "the body exceeds %zu bytes", w->srv->opts.max_body);
        return;
    case BODY_MISSING_LENGTH:
        v2_error(w, r, 411, NULL, "Content-Length is required");
        return;
    default:
        v2_error(w, r, 400, NULL, "the body is empty or shorter than Content-Length");
        return;
    }
    json_tokener *tok = json_tokener_new_ex(16);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, (const char *)w->body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    json_object *inputs, *input, *name, *datatype, *shape, *data, *id = NULL, *outputs = NULL;
    if (!root || jerr != json_tokener_success || !json_object_is_type(root, json_type_object)) {
        v2_error(w, r, 400, NULL, "the body is not a JSON object: %s",
                 root ? "wrong type" : json_tokener_error_desc(jerr));
        goto done;
    }
    if (!json_object_object_get_ex(root, "inputs", &inputs) ||
        !json_object_is_type(inputs, json_type_array) || json_object_array_length(inputs) != 1) {
        v2_error(w, r, 400, NULL, "\"inputs\" must be an array of one tensor named \"input\"");
        goto done;
    }
    input = json_object_array_get_idx(inputs, 0);
    if (!json_object_object_get_ex(input, "name", &name) ||
        strcmp(json_object_get_string(name), "input") != 0) {
        v2_error(w, r, 400, NULL, "unknown input %s: the model's input is \"input\"",
                 name ? json_object_to_json_string(name) : "(no name)");
        goto done;
    }
    if (!json_object_object_get_ex(input, "datatype", &datatype) ||
        strcmp(json_object_get_string(datatype), "FP32") != 0) {
        v2_error(w, r, 400, NULL, "input datatype must be FP32");
        goto done;
    }
    /* shape [N,1,28,28] or [N,784] */
    long long dims[4] = {0};
    size_t ndim = 0;
    bool shape_ok = json_object_object_get_ex(input, "shape", &shape) &&
                    json_object_is_type(shape, json_type_array) &&
                    (ndim = json_object_array_length(shape)) >= 2 && ndim <= 4;
    for (size_t i = 0; shape_ok && i < ndim; i++) {
        json_object *d = json_object_array_get_idx(shape, i);
        shape_ok = json_object_is_type(d, json_type_int);
        dims[i] = json_object_get_int64(d);
    }
    shape_ok = shape_ok && ((ndim == 4 && dims[1] == 1 && dims[2] == 28 && dims[3] == 28) ||
                            (ndim == 2 && dims[1] == MN_IMAGE_PIXELS));
    if (!shape_ok || dims[0] < 1) {
        v2_error(w, r, 400, NULL, "input shape must be [N,1,28,28] or [N,784] with N >= 1");
        goto done;
    }
    if (dims[0] > w->srv->opts.max_batch) {
        v2_error(w, r, 400, NULL, "batch of %lld exceeds the limit of %d images per request",
                 dims[0], w->srv->opts.max_batch);
        goto done;
    }
    const int batch = (int)dims[0];
    const size_t want = (size_t)batch * MN_IMAGE_PIXELS;
    size_t n = 0;
    const char *why = NULL;
    if (!json_object_object_get_ex(input, "data", &data) ||
        !flatten(data, 0, want, w->batch_input, &n, &why) || n != want) {
        v2_error(w, r, 400, NULL, "input data %s: expected %zu FP32 values for shape [%d,...]",
                 why ? why : n > want ? "has too many values" : "has too few values", want, batch);
        goto done;
    }
    bool want_probs = true;
    if (json_object_object_get_ex(root, "outputs", &outputs)) {
        if (!json_object_is_type(outputs, json_type_array)) {
            v2_error(w, r, 400, NULL, "\"outputs\" must be an array");
            goto done;
        }
        size_t k = json_object_array_length(outputs);
        want_probs = k == 0;
        for (size_t i = 0; i < k; i++) {
            json_object *on;
            if (!json_object_object_get_ex(json_object_array_get_idx(outputs, i), "name", &on) ||
                strcmp(json_object_get_string(on), "probabilities") != 0) {
                v2_error(w, r, 400, NULL, "unknown output %s: the model's output is \"probabilities\"",
                         on ? json_object_to_json_string(on) : "(no name)");
                goto done;
            }
            want_probs = true;
        }
    }
    json_object_object_get_ex(root, "id", &id);

    /* one batched forward pass: the same GEMM kernels as training */
    mn_net_predict_packed(&m->params, &m->packed, w->ws, w->batch_input, batch, w->batch_probs);
    metrics_inference(&w->stats, (unsigned long)batch);

    out_buf *o = &w->out;
    out_reset(o);
    out_printf(o, "{\"model_name\":\"%s\",\"model_version\":\"%s\"", MODEL_NAME, m->version);
    if (id) {
        out_puts(o, ",\"id\":");
        out_json_string(o, json_object_get_string(id));
    }
    out_puts(o, ",\"outputs\":[");
    if (want_probs) {
        out_printf(o, "{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[%d,10],\"data\":[",
                   batch);
        for (size_t i = 0; i < (size_t)batch * MN_NUM_CLASSES; i++) {
            if (i)
                out_puts(o, ",");
            out_json_float(o, w->batch_probs[i]);
        }
        out_puts(o, "]}");
    }
    out_puts(o, "]}");
    http_send_json(w, r, 200, NULL);
done:
    json_object_put(root);
}

route_id handle_v2(worker *w, http_request *r)
{
    const char *p = r->path + 3; /* after "/v2" */
    if (!*p || !strcmp(p, "/")) {
        if (expect_method(w, r, "GET")) {
            out_reset(&w->out);
            out_printf(&w->out, "{\"name\":\"%s\",\"version\":\"%s\",\"extensions\":[]}",
                       PACKAGE_NAME, PACKAGE_VERSION);
            http_send_json(w, r, 200, NULL);
        }
        return ROUTE_V2_META;
    }
    if (!strcmp(p, "/health/live")) {
        if (expect_method(w, r, "GET"))
            ready_answer(w, r, true);
        return ROUTE_V2_META;
    }
    live_model *m = model_store_acquire(w->srv->store);
    route_id route = ROUTE_V2_META;
    if (!strcmp(p, "/health/ready")) {
        if (expect_method(w, r, "GET"))
            ready_answer(w, r, m != NULL);
        goto out;
    }
    static const char models[] = "/models/";
    if (strncmp(p, models, sizeof models - 1) != 0) {
        v2_error(w, r, 404, NULL, "no route %s", r->path);
        goto out;
    }
    p += sizeof models - 1;
    size_t nlen = strcspn(p, "/");
    if (nlen != sizeof MODEL_NAME - 1 || strncmp(p, MODEL_NAME, nlen) != 0) {
        v2_error(w, r, 404, NULL, "unknown model '%.*s': this server serves \"%s\"", (int)(nlen > 64 ? 64 : nlen),
                 p, MODEL_NAME);
        goto out;
    }
    p += nlen;
    static const char versions[] = "/versions/";
    if (!strncmp(p, versions, sizeof versions - 1)) {
        p += sizeof versions - 1;
        size_t vlen = strcspn(p, "/");
        if (!m || vlen != strlen(m->version) || strncmp(p, m->version, vlen) != 0) {
            v2_error(w, r, 404, NULL, "unknown version '%.*s' of model \"%s\"%s%s",
                     (int)(vlen > 64 ? 64 : vlen), p, MODEL_NAME, m ? ": serving " : "",
                     m ? m->version : "");
            goto out;
        }
        p += vlen;
    }
    if (!*p) {
        if (expect_method(w, r, "GET"))
            model_metadata(w, r, m);
    } else if (!strcmp(p, "/ready")) {
        if (expect_method(w, r, "GET"))
            ready_answer(w, r, m != NULL);
    } else if (!strcmp(p, "/infer")) {
        route = ROUTE_V2_INFER;
        if (!expect_method(w, r, "POST"))
            goto out;
        if (!m)
            v2_error(w, r, 503, NULL, "no model is loaded yet");
        else
            infer(w, r, m);
    } else {
        v2_error(w, r, 404, NULL, "no route %s", r->path);
    }
out:
    model_release(m);
    return route;
}
