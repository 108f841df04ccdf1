/* POST /predict: one image in (multipart, raw image body or JSON), one digit out. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mn_clock.h"
#include "mn_deskew.h"
#include "mn_image.h"
#include "mn_loss.h"
#include "model_json.h"
#include "multipart.h"
#include "predict.h"
#include "predict_json.h"

static const char *const raw_image_types[] = {
    "image/png", "image/jpeg", "image/gif", "image/bmp", "application/octet-stream",
};

/* What the request carried, once unwrapped. */
typedef struct payload {
    const uint8_t *image;     /* encoded image bytes, or NULL */
    size_t image_len;
    bool have_pixels;         /* JSON "pixels": already in buf->input as 0..255 values */
} payload;

/* The JSON form (fcgi/predict_json.c). Returns false after sending the error. */
static bool parse_json_body(http_exchange *x, infer_buffers *buf, size_t len, payload *out)
{
    predict_json pj;
    if (!predict_json_parse((const char *)x->body, len, buf->decoded, x->max_body, buf->input,
                            &pj)) {
        http_fail(x, pj.status, pj.code, NULL, "%s", pj.message);
        return false;
    }
    out->have_pixels = pj.have_pixels;
    if (!pj.have_pixels) {
        out->image = buf->decoded;
        out->image_len = pj.image_len;
    }
    return true;
}

/* A multipart/form-data body's field "file". Returns false after sending the error. */
static bool find_multipart_file(http_exchange *x, size_t len, payload *out)
{
    char boundary[80];
    const char *data;
    size_t n;
    multipart_status st = multipart_boundary(x->content_type, boundary, sizeof boundary);
    if (st == MULTIPART_OK)
        st = multipart_find((const char *)x->body, len, boundary, "file", &data, &n);
    if (st != MULTIPART_OK) {
        http_fail(x, 400, st == MULTIPART_NOT_FOUND ? "no_file" : "bad_multipart", NULL, "%s",
                  multipart_status_message(st));
        return false;
    }
    out->image = (const uint8_t *)data;
    out->image_len = n;
    return true;
}

/* Unwraps the body by Content-Type. Returns false after sending the error. */
static bool read_payload(http_exchange *x, infer_buffers *buf, payload *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    if (!http_read_body(x, &len))
        return false;
    const char *ct = x->content_type;
    if (http_media_type_is(ct, "multipart/form-data"))
        return find_multipart_file(x, len, out);
    if (http_media_type_is(ct, "application/json"))
        return parse_json_body(x, buf, len, out);
    for (size_t i = 0; i < sizeof raw_image_types / sizeof raw_image_types[0]; i++)
        if (http_media_type_is(ct, raw_image_types[i])) {
            out->image = x->body;
            out->image_len = len;
            return true;
        }
    http_fail(x, 415, "unsupported_media_type", NULL,
                    "Content-Type %s%s%s is not supported: send multipart/form-data (field \"file\"), "
                    "image/png, image/jpeg, image/gif, image/bmp, application/octet-stream or "
                    "application/json", *ct ? "'" : "", *ct ? ct : "(none)", *ct ? "'" : "");
    return false;
}

/* The network's reading of buf->input into buf->probs. The preview then shows the
 * input as the model read it: deskewed, when the model deskews. */
static void read_input(const live_model *m, infer_buffers *buf, bool low_res)
{
    live_model_predict(m, buf->ws, buf->input, 1, low_res, buf->probs);
    if (m->deskew)
        mn_deskew_preview(buf->input, buf->preview);
}

/* Preprocesses IMG and predicts into buf->probs and buf->preview. An image whose
 * polarity preprocessing finds ambiguous (a clean digit filling its canvas, ink on
 * much of its border and on two of its corners) is also read as dark ink on light paper and as light ink on
 * dark, and the network's more confident reading of those two is kept. */
static mn_status read_digit(const mn_gray_image *img, const live_model *m, infer_buffers *buf,
                            mn_preprocess_info *info, mn_error *err)
{
    mn_status st = mn_preprocess_gray(img, buf->scratch, buf->input, buf->preview, info, err);
    if (st)
        return st;
    read_input(m, buf, info->low_res);
    if (!info->ambiguous)
        return MN_OK;
    float best_probs[MN_NUM_CLASSES], best = -1.0f;  /* the first reading: a fallback */
    uint8_t best_preview[MN_IMAGE_PIXELS];
    memcpy(best_probs, buf->probs, sizeof best_probs);
    memcpy(best_preview, buf->preview, sizeof best_preview);
    const mn_polarity ways[] = {MN_POLARITY_DARK_INK, MN_POLARITY_LIGHT_INK};
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        mn_preprocess_info way;
        if (mn_preprocess_gray_as(img, ways[k], buf->scratch, buf->input, buf->preview, &way,
                                  err) != MN_OK)
            continue;
        read_input(m, buf, way.low_res);
        const float top = buf->probs[mn_argmax(buf->probs, MN_NUM_CLASSES)];
        if (top > best) {
            best = top;
            *info = way;
            memcpy(best_probs, buf->probs, sizeof best_probs);
            memcpy(best_preview, buf->preview, sizeof best_preview);
        }
    }
    memcpy(buf->probs, best_probs, sizeof best_probs);
    memcpy(buf->preview, best_preview, sizeof best_preview);
    return MN_OK;
}

/* The error code of an image that preprocessing refused. */
static const char *refusal_code(const mn_preprocess_info *info)
{
    return info->no_digit ? "no_digit" : info->several_digits ? "several_digits" : "bad_image";
}

/* Decodes and preprocesses the image, and predicts into buf->probs. Returns false
 * after sending the error. */
static bool predict_input(http_exchange *x, const handler_env *env, const payload *p,
                          bool preprocess, const live_model *m)
{
    infer_buffers *buf = env->buf;
    mn_error err;
    if (p->have_pixels) {
        float raw[MN_IMAGE_PIXELS];
        memcpy(raw, buf->input, sizeof raw);
        if (preprocess) {
            /* treat the pixels as a tiny image: the same centring as uploads */
            uint8_t gray[MN_IMAGE_PIXELS];
            for (int i = 0; i < MN_IMAGE_PIXELS; i++)
                gray[i] = (uint8_t)lrintf(raw[i]);
            mn_gray_image img = {MN_IMAGE_SIDE, MN_IMAGE_SIDE, gray};
            mn_preprocess_info info;
            if (read_digit(&img, m, buf, &info, &err)) {
                http_fail(x, 422, refusal_code(&info), NULL, "%s", err.msg);
                return false;
            }
            return true;
        }
        mn_preprocess_pixels(raw, buf->input, buf->preview, &err);
        read_input(m, buf, false);
        return true;
    }
    mn_gray_image img;
    mn_image_info info;
    mn_status st = mn_image_decode_gray(p->image, p->image_len, env->svc->max_pixels, &img,
                                        &info, &err);
    if (st) {
        http_fail(x, 422, st == MN_ERR_LIMIT ? "image_too_large" : "bad_image", NULL,
                        "%s", err.msg);
        return false;
    }
    bool ok = true;
    if (preprocess) {
        mn_preprocess_info pinfo;
        if (read_digit(&img, m, buf, &pinfo, &err)) {
            http_fail(x, 422, refusal_code(&pinfo), NULL, "%s", err.msg);
            ok = false;
        }
    } else if (img.width != MN_IMAGE_SIDE || img.height != MN_IMAGE_SIDE) {
        http_fail(x, 422, "bad_size", NULL,
                        "with preprocess=0 the image must be 28x28 (white digit on black), not %dx%d",
                        img.width, img.height);
        ok = false;
    } else {
        float raw[MN_IMAGE_PIXELS];
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            raw[i] = img.pixels[i];
        mn_preprocess_pixels(raw, buf->input, buf->preview, &err);
        read_input(m, buf, false);
    }
    mn_gray_image_free(&img);
    return ok;
}

/* The answer: the digit, its probability, all ten, the model, the preview if asked. */
static void write_prediction(out_buf *o, const infer_buffers *buf, const live_model *m,
                             bool preview, double started)
{
    const int best = mn_argmax(buf->probs, MN_NUM_CLASSES);
    out_reset(o);
    out_printf(o, "{\"prediction\":%d,\"confidence\":", best);
    out_json_float(o, buf->probs[best]);
    out_puts(o, ",\"probabilities\":");
    out_json_float_array(o, buf->probs, MN_NUM_CLASSES);
    out_puts(o, ",\"model\":");
    write_model_json(o, m, false);
    if (preview) {
        out_puts(o, ",\"preview\":[");
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            out_printf(o, i ? ",%d" : "%d", buf->preview[i]);
        out_puts(o, "]");
    }
    out_printf(o, ",\"elapsed_us\":%.0f}", mn_clock_elapsed(started) * 1e6);
}

void handle_predict(http_exchange *x, const handler_env *env)
{
    const double started = mn_clock_seconds();
    live_model *m = model_store_acquire(env->svc->store);
    if (!m) {
        http_fail(x, 503, "no_model", NULL, "no model is loaded yet (see /health)");
        return;
    }
    const bool preview = http_query_flag(x->query, "preview", false);
    const bool preprocess = http_query_flag(x->query, "preprocess", true);
    infer_buffers *buf = env->buf;
    payload p;
    if (read_payload(x, buf, &p) && predict_input(x, env, &p, preprocess, m)) {
        metrics_inference(env->stats, 1);
        write_prediction(x->out, buf, m, preview, started);
        http_send_json(x, 200, NULL);
    }
    model_release(m);
}
