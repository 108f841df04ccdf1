#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "predict_json.h"

static bool fail(predict_json *out, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    out->status = status;
    out->code = code;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return false;
}

static bool parse_pixels(json_object *pixels, float out_pixels[MN_IMAGE_PIXELS],
                         predict_json *out)
{
    if (!json_object_is_type(pixels, json_type_array) ||
        json_object_array_length(pixels) != MN_IMAGE_PIXELS)
        return fail(out, 400, "bad_pixels",
                    "\"pixels\" must be an array of %d numbers (28x28, row-major), got %zu",
                    MN_IMAGE_PIXELS,
                    json_object_is_type(pixels, json_type_array) ? json_object_array_length(pixels)
                                                                 : (size_t)0);
    for (size_t i = 0; i < MN_IMAGE_PIXELS; i++) {
        json_object *v = json_object_array_get_idx(pixels, i);
        double d = json_object_get_double(v);
        if (!(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) ||
            !(d >= 0.0 && d <= 255.0))
            return fail(out, 400, "bad_pixels", "\"pixels\"[%zu] must be a number from 0 to 255", i);
        out_pixels[i] = (float)d;
    }
    out->have_pixels = true;
    return true;
}

static bool parse_image(json_object *image, uint8_t *decoded, size_t max_decoded,
                        predict_json *out)
{
    if (!json_object_is_type(image, json_type_string))
        return fail(out, 400, "bad_image_field", "\"image\" must be a string");
    const char *text = json_object_get_string(image);
    size_t text_len = (size_t)json_object_get_string_len(image);
    const char *b64 = text;
    size_t b64_len = text_len;
    bool is_base64 = true;
    if (data_url_split(text, text_len, &b64, &b64_len, &is_base64) &&
        !is_base64)
        return fail(out, 400, "bad_base64", "data: URLs must be base64-encoded");
    /* the bound is checked before decoding: decoded never receives more */
    if (base64_decoded_max(b64_len) > max_decoded ||
        !base64_decode(b64, b64_len, decoded, &out->image_len))
        return fail(out, 400, "bad_base64", "\"image\" is not valid base64");
    return true;
}

bool predict_json_parse(const char *body, size_t len, uint8_t *decoded, size_t max_decoded,
                        float pixels[MN_IMAGE_PIXELS], predict_json *out)
{
    memset(out, 0, sizeof *out);
    if (len > (size_t)INT32_MAX)
        return fail(out, 400, "bad_json", "malformed JSON: the body is too long");
    json_tokener *tok = json_tokener_new_ex(8);
    if (!tok)
        return fail(out, 500, "internal", "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    bool ok = false;
    json_object *image_field = NULL, *pixels_field = NULL;
    if (!root || jerr != json_tokener_success) {
        fail(out, 400, "bad_json", "malformed JSON: %s",
             root ? "trailing data" : json_tokener_error_desc(jerr));
        goto done;
    }
    while (used < len && body[used] && strchr(" \t\r\n", body[used]))
        used++;
    if (used != len) {
        fail(out, 400, "bad_json", "malformed JSON: data after the object");
        goto done;
    }
    if (!json_object_is_type(root, json_type_object)) {
        fail(out, 400, "bad_json", "the body must be a JSON object");
        goto done;
    }
    bool has_image = json_object_object_get_ex(root, "image", &image_field);
    bool has_pixels = json_object_object_get_ex(root, "pixels", &pixels_field);
    if (has_image == has_pixels)
        fail(out, 400, "bad_request",
             "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers)");
    else if (has_pixels)
        ok = parse_pixels(pixels_field, pixels, out);
    else
        ok = parse_image(image_field, decoded, max_decoded, out);
done:
    json_object_put(root);
    return ok;
}
