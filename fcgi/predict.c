/* POST /predict: one image in (multipart, raw image body or JSON), one digit out. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "http.h"
#include "mn_image.h"
#include "multipart.h"
#include "predict_json.h"

static const char *const raw_image_types[] = {
    "image/png", "image/jpeg", "image/gif", "image/bmp", "application/octet-stream",
};

/* What the request carried, once unwrapped. */
typedef struct payload {
    const uint8_t *image;     /* encoded image bytes, or NULL */
    size_t image_len;
    bool have_pixels;         /* JSON "pixels": already in w->input as 0..255 values */
} payload;

static double elapsed_us(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e6 + (double)(now.tv_nsec - t0->tv_nsec) * 1e-3;
}

/* The JSON form (fcgi/predict_json.c). Returns false after sending the error. */
static bool parse_json_body(worker *w, http_request *r, size_t len, payload *out)
{
    predict_json pj;
    if (!predict_json_parse((const char *)w->body, len, w->decoded, w->srv->opts.max_body,
                            w->input, &pj)) {
        http_send_error(w, r, pj.status, pj.code, NULL, "%s", pj.message);
        return false;
    }
    out->have_pixels = pj.have_pixels;
    if (!pj.have_pixels) {
        out->image = w->decoded;
        out->image_len = pj.image_len;
    }
    return true;
}

/* Unwraps the body by Content-Type. Returns false after sending the error. */
static bool read_payload(worker *w, http_request *r, payload *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    switch (http_read_body(w, r, &len)) {
    case BODY_OK: break;
    case BODY_MISSING_LENGTH:
        http_send_error(w, r, 411, "length_required", NULL, "Content-Length is required");
        return false;
    case BODY_TOO_LARGE:
        http_send_error(w, r, 413, "too_large", NULL, "the body is %lld bytes; the limit is %zu",
                        r->content_length, w->srv->opts.max_body);
        return false;
    case BODY_SHORT:
        http_send_error(w, r, 400, "short_body", NULL,
                        "the body ended before Content-Length (%lld) bytes", r->content_length);
        return false;
    case BODY_EMPTY:
        http_send_error(w, r, 400, "empty_body", NULL, "the body is empty: send an image");
        return false;
    }

    const char *ct = r->content_type;
    if (http_media_type_is(ct, "multipart/form-data")) {
        char boundary[80];
        const char *data;
        size_t n;
        multipart_status st = multipart_boundary(ct, boundary, sizeof boundary);
        if (st == MULTIPART_OK)
            st = multipart_find((const char *)w->body, len, boundary, "file", &data, &n);
        if (st != MULTIPART_OK) {
            http_send_error(w, r, 400, st == MULTIPART_NOT_FOUND ? "no_file" : "bad_multipart",
                            NULL, "%s", multipart_status_message(st));
            return false;
        }
        out->image = (const uint8_t *)data;
        out->image_len = n;
        return true;
    }
    if (http_media_type_is(ct, "application/json"))
        return parse_json_body(w, r, len, out);
    for (size_t i = 0; i < sizeof raw_image_types / sizeof raw_image_types[0]; i++)
        if (http_media_type_is(ct, raw_image_types[i])) {
            out->image = w->body;
            out->image_len = len;
            return true;
        }
    http_send_error(w, r, 415, "unsupported_media_type", NULL,
                    "Content-Type %s%s%s is not supported: send multipart/form-data (field \"file\"), "
                    "image/png, image/jpeg, image/gif, image/bmp, application/octet-stream or "
                    "application/json", *ct ? "'" : "", *ct ? ct : "(none)", *ct ? "'" : "");
    return false;
}

/* Decodes and preprocesses the image into w->input. Returns false after sending the
 * error. */
static bool prepare_input(worker *w, http_request *r, const payload *p, bool preprocess)
{
    mn_error err;
    if (p->have_pixels) {
        float raw[MN_IMAGE_PIXELS];
        memcpy(raw, w->input, sizeof raw);
        if (preprocess) {
            /* treat the pixels as a tiny image: the same centring as uploads */
            uint8_t gray[MN_IMAGE_PIXELS];
            for (int i = 0; i < MN_IMAGE_PIXELS; i++)
                gray[i] = (uint8_t)lrintf(raw[i]);
            mn_gray_image img = {MN_IMAGE_SIDE, MN_IMAGE_SIDE, gray};
            mn_preprocess_info info;
            if (mn_preprocess_gray(&img, w->scratch, w->input, w->preview, &info, &err)) {
                http_send_error(w, r, 422, info.no_digit ? "no_digit" : "bad_image", NULL, "%s", err.msg);
                return false;
            }
            return true;
        }
        mn_preprocess_pixels(raw, w->input, w->preview, &err);
        return true;
    }
    mn_gray_image img;
    mn_image_info info;
    mn_status st = mn_image_decode_gray(p->image, p->image_len, w->srv->opts.max_pixels, &img,
                                        &info, &err);
    if (st) {
        http_send_error(w, r, 422, st == MN_ERR_LIMIT ? "image_too_large" : "bad_image", NULL,
                        "%s", err.msg);
        return false;
    }
    bool ok = true;
    if (preprocess) {
        mn_preprocess_info pinfo;
        if (mn_preprocess_gray(&img, w->scratch, w->input, w->preview, &pinfo, &err)) {
            http_send_error(w, r, 422, pinfo.no_digit ? "no_digit" : "bad_image", NULL, "%s", err.msg);
            ok = false;
        }
    } else if (img.width != MN_IMAGE_SIDE || img.height != MN_IMAGE_SIDE) {
        http_send_error(w, r, 422, "bad_size", NULL,
                        "with preprocess=0 the image must be 28x28 (white digit on black), not %dx%d",
                        img.width, img.height);
        ok = false;
    } else {
        float raw[MN_IMAGE_PIXELS];
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            raw[i] = img.pixels[i];
        mn_preprocess_pixels(raw, w->input, w->preview, &err);
    }
    mn_gray_image_free(&img);
    return ok;
}

void handle_predict(worker *w, http_request *r)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    live_model *m = model_store_acquire(w->srv->store);
    if (!m) {
        http_send_error(w, r, 503, "no_model", NULL, "no model is loaded yet (see /health)");
        return;
    }
    const bool preview = http_query_flag(r->query, "preview", false);
    const bool preprocess = http_query_flag(r->query, "preprocess", true);
    payload p;
    if (read_payload(w, r, &p) && prepare_input(w, r, &p, preprocess)) {
        mn_net_predict_packed(&m->params, &m->packed, w->ws, w->input, 1, w->probs);
        metrics_inference(&w->stats, 1);
        int best = 0;
        for (int j = 1; j < MN_NUM_CLASSES; j++)
            if (w->probs[j] > w->probs[best])
                best = j;
        out_buf *o = &w->out;
        out_reset(o);
        out_printf(o, "{\"prediction\":%d,\"confidence\":", best);
        out_json_float(o, w->probs[best]);
        out_puts(o, ",\"probabilities\":");
        out_json_float_array(o, w->probs, MN_NUM_CLASSES);
        out_puts(o, ",\"model\":");
        write_model_json(o, m, false);
        if (preview) {
            out_puts(o, ",\"preview\":[");
            for (int i = 0; i < MN_IMAGE_PIXELS; i++)
                out_printf(o, i ? ",%d" : "%d", w->preview[i]);
            out_puts(o, "]");
        }
        out_printf(o, ",\"elapsed_us\":%.0f}", elapsed_us(&t0));
        http_send_json(w, r, 200, NULL);
    }
    model_release(m);
}
