/* POST /predict: one image in (multipart, raw image body or JSON), one digit out. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base64.h"
#include "handlers.h"
#include "http.h"
#include "mn_image.h"
#include "multipart.h"

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

/* Parses {"image": "<base64 or data: URL>"} or {"pixels": [784 numbers 0..255]}.
 * Returns false after sending the error. */
static bool parse_json_body(worker *w, http_request *r, size_t len, payload *out)
{
    json_tokener *tok = json_tokener_new_ex(8);
    if (!tok) {
        http_send_error(w, r, 500, "internal", NULL, "out of memory");
        return false;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, (const char *)w->body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    bool ok = false;
    json_object *image = NULL, *pixels = NULL;
    if (!root || jerr != json_tokener_success) {
        http_send_error(w, r, 400, "bad_json", NULL, "malformed JSON: %s",
                        root ? "trailing data" : json_tokener_error_desc(jerr));
        goto done;
    }
    while (used < len && strchr(" \t\r\n", w->body[used]))
        used++;
    if (used != len) {
        http_send_error(w, r, 400, "bad_json", NULL, "malformed JSON: data after the object");
        goto done;
    }
    if (!json_object_is_type(root, json_type_object)) {
        http_send_error(w, r, 400, "bad_json", NULL, "the body must be a JSON object");
        goto done;
    }
    bool has_image = json_object_object_get_ex(root, "image", &image);
    bool has_pixels = json_object_object_get_ex(root, "pixels", &pixels);
    if (has_image == has_pixels) {
        http_send_error(w, r, 400, "bad_request", NULL,
                        "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers)");
        goto done;
    }
    if (has_pixels) {
        if (!json_object_is_type(pixels, json_type_array) ||
            json_object_array_length(pixels) != MN_IMAGE_PIXELS) {
            http_send_error(w, r, 400, "bad_pixels", NULL,
                            "\"pixels\" must be an array of %d numbers (28x28, row-major), got %zu",
                            MN_IMAGE_PIXELS, json_object_is_type(pixels, json_type_array)
                                ? json_object_array_length(pixels) : (size_t)0);
            goto done;
        }
        for (size_t i = 0; i < MN_IMAGE_PIXELS; i++) {
            json_object *v = json_object_array_get_idx(pixels, i);
            double d = json_object_get_double(v);
            if (!(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) ||
                !(d >= 0.0 && d <= 255.0)) {
                http_send_error(w, r, 400, "bad_pixels", NULL,
                                "\"pixels\"[%zu] must be a number from 0 to 255", i);
                goto done;
            }
            w->input[i] = (float)d;
        }
        out->have_pixels = true;
        ok = true;
        goto done;
    }
    if (!json_object_is_type(image, json_type_string)) {
        http_send_error(w, r, 400, "bad_image_field", NULL, "\"image\" must be a string");
        goto done;
    }
    const char *text = json_object_get_string(image);
    size_t text_len = (size_t)json_object_get_string_len(image);
    const char *b64 = text;
    size_t b64_len = text_len;
    bool is_base64 = true;
    char media[64];
    if (data_url_split(text, text_len, &b64, &b64_len, &is_base64, media, sizeof media) &&
        !is_base64) {
        http_send_error(w, r, 400, "bad_base64", NULL, "data: URLs must be base64-encoded");
        goto done;
    }
    size_t n;
    if (base64_decoded_max(b64_len) > w->srv->opts.max_body ||
        !base64_decode(b64, b64_len, w->decoded, &n)) {
        http_send_error(w, r, 400, "bad_base64", NULL, "\"image\" is not valid base64");
        goto done;
    }
    out->image = w->decoded;
    out->image_len = n;
    ok = true;
done:
    json_object_put(root);
    return ok;
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
    if (mn_image_sniff(p->image, p->image_len) == MN_IMAGE_FORMAT_UNKNOWN) {
        http_send_error(w, r, 422, "bad_image", NULL,
                        "not a PNG, JPEG, GIF or BMP image (%zu bytes)", p->image_len);
        return false;
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
        out_puts(o, ",\"probabilities\":[");
        for (int j = 0; j < MN_NUM_CLASSES; j++) {
            if (j)
                out_puts(o, ",");
            out_json_float(o, w->probs[j]);
        }
        out_puts(o, "],\"model\":");
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
