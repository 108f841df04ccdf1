/* The Open Inference Protocol (KServe v2) REST API, for the one model "mnist":
 *   GET  /v2                                       server metadata
 *   GET  /v2/health/live, /v2/health/ready         200, or 503 without a model or draining
 *   GET  /v2/models/mnist[/versions/V]             model metadata
 *   GET  /v2/models/mnist[/versions/V]/ready       200, or 503 without a model
 *   POST /v2/models/mnist[/versions/V]/infer       a batch of normalised images
 * Errors are {"error": "..."} as the protocol says. V is the served model's version
 * (the first 12 hex digits of its file's SHA-256). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "v2_request.h"

static const char MODEL_NAME[] = "mnist";

/* The protocol's error form: {"error": "..."}. */
#define v2_error(w, r, status, headers, ...) \
    http_send_error(w, r, status, NULL, headers, __VA_ARGS__)

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
    /* an extension of the protocol's metadata: what a rollback could serve; "versions"
     * stays what may be requested, the served version only */
    out_puts(o, "],\"available_versions\":");
    write_versions_json(o, w->srv->store);
    out_puts(o, ",\"platform\":\"mnist-service_c\","
                "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}],"
                "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]");
    if (m) {
        out_puts(o, ",\"parameters\":");
        write_model_json(o, m, true);
    }
    out_puts(o, "}");
    http_send_json(w, r, 200, NULL);
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
    /* the binary tensor data extension: the JSON is the body's first part */
    long long header_len = -1;
    const char *h = FCGX_GetParam("HTTP_INFERENCE_HEADER_CONTENT_LENGTH", w->req.envp);
    if (h) {
        char *end;
        header_len = *h >= '0' && *h <= '9' ? strtoll(h, &end, 10) : -1;
        if (header_len < 0 || *end || header_len == LLONG_MAX) {
            v2_error(w, r, 400, NULL, "Inference-Header-Content-Length must be a byte count");
            return;
        }
    }
    v2_request req;
    char msg[400];
    if (!v2_parse_infer((const char *)w->body, len, header_len, w->srv->opts.max_batch,
                        w->batch_input, &req, msg, sizeof msg)) {
        v2_error(w, r, 400, NULL, "%s", msg);
        return;
    }

    /* one batched forward pass: the same GEMM kernels as training */
    mn_net_predict_packed(&m->params, &m->packed, w->ws, w->batch_input, req.batch,
                          w->batch_probs);
    metrics_inference(&w->stats, (unsigned long)req.batch);

    out_buf *o = &w->out;
    out_reset(o);
    out_printf(o, "{\"model_name\":\"%s\",\"model_version\":\"%s\"", MODEL_NAME, m->version);
    if (req.id) /* echoed as received: it was checked to be a valid JSON string */
        out_printf(o, ",\"id\":\"%.*s\"", (int)req.id_len, req.id);
    out_puts(o, ",\"outputs\":[");
    const size_t nprobs = (size_t)req.batch * MN_NUM_CLASSES;
    if (req.want_probabilities) {
        out_printf(o, "{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[%d,10],",
                   req.batch);
        if (req.binary_output) {
            out_printf(o, "\"parameters\":{\"binary_data_size\":%zu}}", nprobs * sizeof(float));
        } else {
            out_puts(o, "\"data\":");
            out_json_float_array(o, w->batch_probs, nprobs);
            out_puts(o, "}");
        }
    }
    out_puts(o, "]}");
    if (!req.want_probabilities || !req.binary_output) {
        http_send_json(w, r, 200, NULL);
        return;
    }
    /* the extension's byte order is little-endian, the host's (configure refuses others) */
    char header[64];
    snprintf(header, sizeof header, "Inference-Header-Content-Length: %zu\r\n", o->len);
    http_send_with_tail(w, r, 200, "application/octet-stream", header, w->batch_probs,
                        nprobs * sizeof(float));
}

route_id handle_v2(worker *w, http_request *r)
{
    const char *p = r->path + 3; /* after "/v2" */
    if (!*p || !strcmp(p, "/")) {
        if (expect_method(w, r, "GET")) {
            out_reset(&w->out);
            out_printf(&w->out, "{\"name\":\"%s\",\"version\":\"%s\","
                                "\"extensions\":[\"binary_tensor_data\"]}",
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
            ready_answer(w, r, m != NULL && !atomic_load(&w->srv->draining));
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
            ready_answer(w, r, m != NULL && !atomic_load(&w->srv->draining));
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
