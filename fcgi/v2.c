/* The Open Inference Protocol (KServe v2) REST API, for the one model "mnist":
 *   GET  /v2                                       server metadata
 *   GET  /v2/health/live, /v2/health/ready         200, or 503 without a model or draining
 *   GET  /v2/models/mnist[/versions/V]             model metadata
 *   GET  /v2/models/mnist[/versions/V]/ready       200, or 503 without a model
 *   POST /v2/models/mnist[/versions/V]/infer       a batch of normalised images
 * The route table (fcgi/routes.c) matches these paths and methods and gives errors
 * the protocol's form, {"error": "..."}; the handlers here check the version. V is
 * the served model's version (the first 12 hex digits of its file's SHA-256). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_json.h"
#include "v2.h"
#include "v2_request.h"

static const char MODEL_NAME[] = "mnist";
static const char MODEL_PREFIX[] = "/v2/models/mnist";

static void ready_answer(http_exchange *x, bool ready)
{
    out_reset(x->out);
    out_printf(x->out, "{\"ready\":%s}", ready ? "true" : "false");
    http_send_json(x, ready ? 200 : 503, NULL);
}

/* Sends the 404 for a version of the path (after /v2/models/mnist/versions/) that is
 * not the served one. Returns whether the path names no version or the served one. */
static bool version_served(http_exchange *x, const live_model *m)
{
    static const char versions[] = "/versions/";
    const char *p = x->path + sizeof MODEL_PREFIX - 1;
    if (strncmp(x->path, MODEL_PREFIX, sizeof MODEL_PREFIX - 1) != 0 ||
        strncmp(p, versions, sizeof versions - 1) != 0)
        return true;
    p += sizeof versions - 1;
    size_t vlen = strcspn(p, "/");
    if (m && vlen == strlen(m->version) && strncmp(p, m->version, vlen) == 0)
        return true;
    http_fail(x, 404, "unknown_version", NULL, "unknown version '%.*s' of model \"%s\"%s%s",
              (int)(vlen > 64 ? 64 : vlen), p, MODEL_NAME, m ? ": serving " : "",
              m ? m->version : "");
    return false;
}

static bool ready(const service *svc, const live_model *m)
{
    return m != NULL && !atomic_load(svc->draining);
}

static void write_model_metadata(out_buf *o, model_store *store, const live_model *m)
{
    out_reset(o);
    out_printf(o, "{\"name\":\"%s\",\"versions\":[", MODEL_NAME);
    if (m)
        out_json_string(o, m->version);
    /* an extension of the protocol's metadata: what a rollback could serve; "versions"
     * stays what may be requested, the served version only */
    out_puts(o, "],\"available_versions\":");
    write_versions_json(o, store);
    out_puts(o, ",\"platform\":\"mnist-service_c\","
                "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,28,28]}],"
                "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]");
    if (m) {
        out_puts(o, ",\"parameters\":");
        write_model_json(o, m, true);
    }
    out_puts(o, "}");
}

/* The binary tensor data extension's Inference-Header-Content-Length: the JSON is
 * the body's first part. -1 when absent; false after sending the error. */
static bool json_header_length(http_exchange *x, long long *header_len)
{
    *header_len = -1;
    const char *h = http_param(x, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH");
    if (!h)
        return true;
    char *end = NULL;
    *header_len = *h >= '0' && *h <= '9' ? strtoll(h, &end, 10) : -1;
    if (*header_len < 0 || *end || *header_len == LLONG_MAX) {
        http_fail(x, 400, "bad_header", NULL,
                  "Inference-Header-Content-Length must be a byte count");
        return false;
    }
    return true;
}

/* Sends the outputs of a batch already run into buf->batch_probs. */
static void send_outputs(http_exchange *x, infer_buffers *buf, const live_model *m,
                         const v2_request *req_in)
{
    const v2_request req = *req_in;
    out_buf *o = x->out;
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
            out_json_float_array(o, buf->batch_probs, nprobs);
            out_puts(o, "}");
        }
    }
    out_puts(o, "]}");
    if (!req.want_probabilities || !req.binary_output) {
        http_send_json(x, 200, NULL);
        return;
    }
    /* the extension's byte order is little-endian, the host's (configure refuses others) */
    char header[64];
    snprintf(header, sizeof header, "Inference-Header-Content-Length: %zu\r\n", o->len);
    http_send_with_tail(x, 200, "application/octet-stream", header, buf->batch_probs,
                        nprobs * sizeof(float));
}

static void infer(http_exchange *x, const handler_env *env, const live_model *m)
{
    size_t len;
    long long header_len;
    if (!http_read_body(x, &len) || !json_header_length(x, &header_len))
        return;
    infer_buffers *buf = env->buf;
    v2_request req;
    char msg[400];
    if (!v2_parse_infer((const char *)x->body, len, header_len, env->svc->max_batch,
                        buf->batch_input, &req, msg, sizeof msg)) {
        http_fail(x, 400, "bad_request", NULL, "%s", msg);
        return;
    }
    /* one batched forward pass: fc1 is one GEMM over the batch */
    live_model_predict(m, buf->ws, buf->batch_input, req.batch, false, buf->batch_probs);
    metrics_inference(env->stats, (unsigned long)req.batch);
    send_outputs(x, buf, m, &req);
}

void v2_server_metadata(http_exchange *x, const handler_env *env)
{
    (void)env;
    out_reset(x->out);
    out_printf(x->out, "{\"name\":\"%s\",\"version\":\"%s\","
                       "\"extensions\":[\"binary_tensor_data\"]}",
               PACKAGE_NAME, PACKAGE_VERSION);
    http_send_json(x, 200, NULL);
}

void v2_live(http_exchange *x, const handler_env *env)
{
    (void)env;
    ready_answer(x, true);
}

void v2_ready(http_exchange *x, const handler_env *env)
{
    live_model *m = model_store_acquire(env->svc->store);
    ready_answer(x, ready(env->svc, m));
    model_release(m);
}

void v2_model_metadata(http_exchange *x, const handler_env *env)
{
    live_model *m = model_store_acquire(env->svc->store);
    if (version_served(x, m)) {
        out_reset(x->out);
        write_model_metadata(x->out, env->svc->store, m);
        http_send_json(x, 200, NULL);
    }
    model_release(m);
}

void v2_model_ready(http_exchange *x, const handler_env *env)
{
    live_model *m = model_store_acquire(env->svc->store);
    if (version_served(x, m))
        ready_answer(x, ready(env->svc, m));
    model_release(m);
}

void v2_infer(http_exchange *x, const handler_env *env)
{
    live_model *m = model_store_acquire(env->svc->store);
    if (version_served(x, m)) {
        if (m)
            infer(x, env, m);
        else
            http_fail(x, 503, "no_model", NULL, "no model is loaded yet");
    }
    model_release(m);
}

/* Any other path under /v2: says whether the model, the version or the route is
 * unknown. */
void v2_not_found(http_exchange *x, const handler_env *env)
{
    static const char models[] = "/v2/models/";
    const char *p = x->path + sizeof models - 1;
    size_t nlen = strcspn(p, "/");
    if (strncmp(x->path, models, sizeof models - 1) == 0 &&
        (nlen != sizeof MODEL_NAME - 1 || strncmp(p, MODEL_NAME, nlen) != 0)) {
        http_fail(x, 404, "unknown_model", NULL, "unknown model '%.*s': this server serves \"%s\"",
                  (int)(nlen > 64 ? 64 : nlen), p, MODEL_NAME);
        return;
    }
    live_model *m = model_store_acquire(env->svc->store);
    if (version_served(x, m))
        http_fail(x, 404, "not_found", NULL, "no route %s", x->path);
    model_release(m);
}
