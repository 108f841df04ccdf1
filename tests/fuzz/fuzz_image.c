/* libFuzzer target: image decoding with limits and MNIST-style preprocessing
 * (src/mn_image.c, src/mn_preprocess.c and its steps), the path every uploaded image takes:
 * mn_image_decode_gray with a pixel cap, then mn_preprocess_gray with a per-thread
 * scratch area, as the responder's workers do (and for an image it finds ambiguous,
 * mn_preprocess_gray_as with each polarity).
 *
 * The cap is 512x512 pixels (the service's default is 16 Mpx): the limit logic does
 * not depend on its value, preprocessing already takes its larger-than-256x256 path
 * there, and a small cap keeps each execution short. The probe alone also
 * runs with the service's default cap, which costs nothing. stb_image is compiled into
 * this target with AddressSanitizer and coverage (tests/fuzz/stb_image_impl.c), so
 * its decoders are fuzzed as well, as reached through our checks. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mn_image.h"
#include "mn_net.h"
#include "mn_preprocess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PIXELS ((size_t)1 << 18)

/* What every preprocessing result must satisfy. */
static void check_preprocessed(const mn_gray_image *img, mn_status st,
                               const mn_preprocess_info *pinfo, const float *out)
{
    if (st == MN_OK) {
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            FUZZ_CHECK(isfinite(out[i]));
        FUZZ_CHECK(pinfo->box_w >= 0 && pinfo->box_w <= MN_PREPROCESS_BOX);
        FUZZ_CHECK(pinfo->box_h >= 0 && pinfo->box_h <= MN_PREPROCESS_BOX);
        FUZZ_CHECK(pinfo->crop_x >= 0 && pinfo->crop_y >= 0 &&
                   pinfo->crop_x + pinfo->crop_w <= img->width &&
                   pinfo->crop_y + pinfo->crop_h <= img->height);
    } else {
        FUZZ_CHECK(st == MN_ERR_FORMAT && (pinfo->no_digit || pinfo->several_digits));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_preprocess_scratch scratch;
    mn_error err;
    mn_image_info info;

    memset(&info, 0, sizeof info);
    mn_status pst = mn_image_probe(data, size, 0, &info, &err);
    if (pst == MN_OK)
        FUZZ_CHECK((uint64_t)info.width * (uint64_t)info.height <= MN_IMAGE_DEFAULT_MAX_PIXELS);
    if (mn_image_sniff(data, size) == MN_IMAGE_FORMAT_UNKNOWN)
        FUZZ_CHECK(pst != MN_OK);

    mn_gray_image img;
    mn_status st = mn_image_decode_gray(data, size, FUZZ_MAX_PIXELS, &img, &info, &err);
    if (st != MN_OK) {
        FUZZ_CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) && err.msg[0]);
        return 0;
    }
    FUZZ_CHECK(img.pixels != NULL && img.width > 0 && img.height > 0);
    FUZZ_CHECK((uint64_t)img.width * (uint64_t)img.height <= FUZZ_MAX_PIXELS);
    FUZZ_CHECK(info.width == img.width && info.height == img.height);
    FUZZ_CHECK(info.orientation >= 1 && info.orientation <= 8);

    float out[MN_IMAGE_PIXELS];
    uint8_t preview[MN_IMAGE_PIXELS];
    mn_preprocess_info pinfo;
    st = mn_preprocess_gray(&img, &scratch, out, preview, &pinfo, &err);
    check_preprocessed(&img, st, &pinfo, out);
    /* an ambiguous image is also read with each polarity forced, as /predict does */
    if (st == MN_OK && pinfo.ambiguous)
        for (int way = MN_POLARITY_DARK_INK; way <= MN_POLARITY_LIGHT_INK; way++) {
            mn_status wst = mn_preprocess_gray_as(&img, (mn_polarity)way, &scratch, out, preview,
                                                  &pinfo, &err);
            check_preprocessed(&img, wst, &pinfo, out);
        }
    /* ?preprocess=0 with a 28x28 image: the pixels go through as they are */
    if (img.width == MN_IMAGE_SIDE && img.height == MN_IMAGE_SIDE) {
        float raw[MN_IMAGE_PIXELS];
        for (int i = 0; i < MN_IMAGE_PIXELS; i++)
            raw[i] = img.pixels[i];
        FUZZ_CHECK(mn_preprocess_pixels(raw, out, preview, &err) == MN_OK);
    }
    mn_gray_image_free(&img);
    return 0;
}
