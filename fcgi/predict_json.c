#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "mn_json.h"
#include "predict_json.h"

/* How deep the body may nest, the object itself included. */
#define PREDICT_MAX_DEPTH 8

static bool fail(predict_json *out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
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

static bool bad_json(predict_json *out, const mn_json *j)
{
    return fail(out, 400, "bad_json", "malformed JSON at byte %zu: %s", j->error_at,
                j->error ? j->error : "unexpected input");
}

/* "pixels": exactly 784 numbers from 0 to 255. */
static bool parse_pixels(mn_json *j, float pixels[MN_IMAGE_PIXELS], predict_json *out)
{
    if (mn_json_next(j) != MN_JSON_ARRAY)
        return fail(out, 400, "bad_pixels",
                    "\"pixels\" must be an array of %d numbers (28x28, row-major)", MN_IMAGE_PIXELS);
    mn_json_accept(j, '[');
    size_t n = 0;
    if (mn_json_accept(j, ']'))
        return fail(out, 400, "bad_pixels",
                    "\"pixels\" must be an array of %d numbers (28x28, row-major), got 0",
                    MN_IMAGE_PIXELS);
    do {
        const mn_json_kind kind = mn_json_next(j);
        double d = -1;
        if (kind == MN_JSON_NONE) {
            mn_json_fail(j, "expected a value");
            return bad_json(out, j);
        }
        if (kind == MN_JSON_NUMBER && !mn_json_number(j, &d))
            return bad_json(out, j);
        if (!(d >= 0.0 && d <= 255.0)) /* not a number, or out of range */
            return fail(out, 400, "bad_pixels", "\"pixels\"[%zu] must be a number from 0 to 255", n);
        if (n < MN_IMAGE_PIXELS)
            pixels[n] = (float)d;
        n++;
    } while (mn_json_accept(j, ','));
    if (!mn_json_expect(j, ']'))
        return bad_json(out, j);
    if (n != MN_IMAGE_PIXELS)
        return fail(out, 400, "bad_pixels",
                    "\"pixels\" must be an array of %d numbers (28x28, row-major), got %zu",
                    MN_IMAGE_PIXELS, n);
    out->have_pixels = true;
    return true;
}

/* "image": base64 or a base64 data: URL, decoded into decoded[0..max_decoded). A
 * string with escapes (PHP writes "\/") is unescaped into decoded first and decoded
 * there in place: base64 writes 3 bytes for every 4 it has read, behind its reading. */
static bool parse_image(mn_json *j, uint8_t *decoded, size_t max_decoded, predict_json *out)
{
    mn_json_str s;
    if (mn_json_next(j) != MN_JSON_STRING)
        return fail(out, 400, "bad_image_field", "\"image\" must be a string");
    if (!mn_json_string(j, &s))
        return bad_json(out, j);
    const char *text = s.raw;
    size_t text_len = s.len;
    if (s.escaped) {
        if (!mn_json_str_decode(&s, (char *)decoded, max_decoded, &text_len))
            return fail(out, 400, "bad_base64", "\"image\" is not valid base64");
        text = (const char *)decoded;
    }
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

/* The object's members: exactly one of "image" and "pixels", others skipped. */
static bool parse_members(mn_json *j, uint8_t *decoded, size_t max_decoded,
                          float pixels[MN_IMAGE_PIXELS], predict_json *out)
{
    bool has_image = false, has_pixels = false;
    if (!mn_json_accept(j, '}')) {
        do {
            mn_json_str key;
            if (!mn_json_string(j, &key) || !mn_json_expect(j, ':'))
                return bad_json(out, j);
            const bool image = mn_json_str_is(&key, "image"), pix = mn_json_str_is(&key, "pixels");
            if ((image || pix) && (has_image || has_pixels))
                return fail(out, 400, "bad_request",
                            "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" "
                            "(784 numbers), once");
            has_image |= image;
            has_pixels |= pix;
            bool ok = image ? parse_image(j, decoded, max_decoded, out)
                    : pix ? parse_pixels(j, pixels, out)
                          : mn_json_skip(j, PREDICT_MAX_DEPTH - 1) || bad_json(out, j);
            if (!ok)
                return false;
        } while (mn_json_accept(j, ','));
        if (!mn_json_expect(j, '}'))
            return bad_json(out, j);
    }
    if (!mn_json_at_end(j))
        return bad_json(out, j);
    if (!has_image && !has_pixels)
        return fail(out, 400, "bad_request",
                    "give exactly one of \"image\" (base64 or data: URL) and \"pixels\" (784 numbers)");
    return true;
}

bool predict_json_parse(const char *body, size_t len, uint8_t *decoded, size_t max_decoded,
                        float pixels[MN_IMAGE_PIXELS], predict_json *out)
{
    memset(out, 0, sizeof *out);
    mn_json j;
    /* The whole body is checked first, so that malformed JSON is always bad_json,
     * whatever its members say (a /predict body is small: the price is one scan). */
    mn_json_init(&j, body, len);
    if (mn_json_next(&j) == MN_JSON_NONE)
        mn_json_fail(&j, "expected a JSON object");
    if (j.error || !mn_json_skip(&j, PREDICT_MAX_DEPTH) || !mn_json_at_end(&j))
        return bad_json(out, &j);
    mn_json_init(&j, body, len);
    if (mn_json_next(&j) != MN_JSON_OBJECT)
        return fail(out, 400, "bad_json", "the body must be a JSON object");
    mn_json_accept(&j, '{');
    if (parse_members(&j, decoded, max_decoded, pixels, out))
        return true;
    out->have_pixels = false;
    out->image_len = 0;
    return false;
}
