/* libFuzzer target: the JSON body of POST /predict, {"image": "<base64 or data: URL>"}
 * or {"pixels": [784 numbers]}.
 *
 * fcgi/predict.c parses it in a static function tied to the FastCGI worker, so this
 * target repeats that function's steps with the same calls and the same flags (json-c
 * strict tokener, depth 8; trailing whitespace only; then fcgi/base64.c's data URL
 * split and decoding into a buffer of the size the worker checks against) and hands
 * a decoded image to the image sniffer, as prepare_input does. Keep it in step with
 * parse_json_body() in fcgi/predict.c. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <math.h>

#include "base64.h"
#include "common.h"
#include "mn_image.h"
#include "mn_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the responder's default --max-body */
#define MAX_BODY ((size_t)8 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_BODY)
        return 0;
    const char *body = (const char *)data;
    json_tokener *tok = json_tokener_new_ex(8);
    FUZZ_CHECK(tok != NULL);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, body, (int)size);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    json_object *image = NULL, *pixels = NULL;
    if (!root || jerr != json_tokener_success)
        goto done;
    FUZZ_CHECK(used <= size);
    while (used < size && body[used] && strchr(" \t\r\n", body[used]))
        used++;
    if (used != size || !json_object_is_type(root, json_type_object))
        goto done;
    bool has_image = json_object_object_get_ex(root, "image", &image);
    bool has_pixels = json_object_object_get_ex(root, "pixels", &pixels);
    if (has_image == has_pixels)
        goto done;
    if (has_pixels) {
        if (!json_object_is_type(pixels, json_type_array) ||
            json_object_array_length(pixels) != MN_IMAGE_PIXELS)
            goto done;
        float input[MN_IMAGE_PIXELS];
        for (size_t i = 0; i < MN_IMAGE_PIXELS; i++) {
            json_object *v = json_object_array_get_idx(pixels, i);
            double d = json_object_get_double(v);
            if (!(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) ||
                !(d >= 0.0 && d <= 255.0))
                goto done;
            input[i] = (float)d;
        }
        /* predict.c rounds them to bytes for preprocessing */
        volatile long sum = 0;
        for (size_t i = 0; i < MN_IMAGE_PIXELS; i++)
            sum += lrintf(input[i]);
        (void)sum;
        goto done;
    }
    if (!json_object_is_type(image, json_type_string))
        goto done;
    const char *text = json_object_get_string(image);
    size_t text_len = (size_t)json_object_get_string_len(image);
    const char *b64 = text;
    size_t b64_len = text_len;
    bool is_base64 = true;
    char media[64];
    if (data_url_split(text, text_len, &b64, &b64_len, &is_base64, media, sizeof media)) {
        FUZZ_CHECK(b64 >= text && b64 + b64_len == text + text_len);
        FUZZ_CHECK(strlen(media) < sizeof media);
        if (!is_base64)
            goto done;
    }
    if (base64_decoded_max(b64_len) > MAX_BODY)
        goto done;
    /* exactly the bound the worker relies on, so that ASan sees any write past it */
    size_t cap = base64_decoded_max(b64_len);
    uint8_t *decoded = malloc(cap);
    FUZZ_CHECK(decoded != NULL);
    size_t n = 0;
    if (base64_decode(b64, b64_len, decoded, &n)) {
        FUZZ_CHECK(n <= cap);
        (void)mn_image_sniff(decoded, n);
    }
    free(decoded);
done:
    json_object_put(root);
    return 0;
}
