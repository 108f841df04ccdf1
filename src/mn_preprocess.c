#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn_crop.h"
#include "mn_levels.h"
#include "mn_paper.h"
#include "mn_preprocess.h"
#include "mn_ruling.h"
#include "mn_scale.h"
#include "mn_sheet.h"

static mn_status no_digit(mn_preprocess_info *info, mn_error *err)
{
    if (info)
        info->no_digit = true;
    return mn_fail(err, MN_ERR_FORMAT, MN_PREPROCESS_NO_DIGIT);
}

/* lo and hi: the input levels that a faint image's 0 and 255 stand for (step 0) */
static void note_levels(mn_preprocess_info *info, const levels *lv, int lo, int hi)
{
    if (info) {
        info->ambiguous = lv->ambiguous;
        info->inverted = lv->inverted;
        info->background = (uint8_t)(lo + (lv->bg_raw * (hi - lo) + 127) / 255);
        info->ink = (uint8_t)(lo + (lv->ink_raw * (hi - lo) + 127) / 255);
    }
}

/* Steps 0-2: the levels of *img, or, when it is faint, of its copy stretched into the
 * scratch (*faint, and *img then points at it; each of its pixels *ds x *ds input
 * pixels). False: too little contrast for a digit. */
static bool find_levels(const mn_gray_image **img, mn_polarity polarity,
                        mn_preprocess_scratch *scratch, mn_gray_image *faint, levels *lv,
                        int *ds, mn_preprocess_info *info)
{
    bool contrast = mn_levels_find(*img, polarity, lv);
    int lo = 0, hi = 255;
    *ds = 1;
    if (!contrast && mn_levels_stretch_faint(*img, scratch->stretched, faint, ds, &lo, &hi)) {
        *img = faint;
        contrast = mn_levels_find(faint, polarity, lv);
    }
    note_levels(info, lv, lo, hi);
    return contrast;
}

/* Where the image worked on lies in the input: its origin, and input pixels a pixel. */
typedef struct view {
    int x, y, ds;
} view;

/* Steps 0-2, 1a and 1b: the image to crop from (*img: the input, or a copy of it in
 * the scratch, described by copies[]), its levels and its view of the input. False:
 * no digit. */
static bool prepare(const mn_gray_image **img, mn_polarity polarity,
                    mn_preprocess_scratch *scratch, mn_gray_image copies[3], levels *lv,
                    view *v, mn_preprocess_info *info)
{
    *v = (view){0, 0, 1};
    if (!find_levels(img, polarity, scratch, &copies[0], lv, &v->ds, info))
        return false;
    /* a sheet on a desk, unless the image is a faint one's copy (in the same buffer),
     * and only if what was cut is paper, one level dominating its border */
    rect sheet;
    levels on_sheet;
    int d;
    if (*img != &copies[0] && mn_sheet_find(*img, lv, &sheet)) {
        mn_levels_average_down(*img, sheet, 0, 255, scratch->stretched, &copies[1], &d);
        if (mn_levels_find(&copies[1], polarity, &on_sheet) && on_sheet.dominant) {
            *v = (view){sheet.x0, sheet.y0, d};
            *img = &copies[1];
            *lv = on_sheet;
            note_levels(info, lv, 0, 255);
        }
    }
    int flat_ds = 1;
    if (mn_paper_flatten_if_uneven(*img, lv, scratch, &copies[2], &flat_ds)) {
        v->ds *= flat_ds;
        *img = &copies[2];
        if (!mn_levels_find(*img, MN_POLARITY_AUTO, lv))
            return false;
        /* step 1c: a photographed page's lines painted over in the copy, and the levels
         * found again without them */
        if (mn_ruling_paint_over(&copies[2], lv, scratch) &&
            !mn_levels_find(*img, MN_POLARITY_AUTO, lv))
            return false;
    } else if (mn_ruling_paint_copy(*img, lv, scratch, &copies[2], &flat_ds)) {
        /* step 1c on evenly lit paper: a copy without the lines */
        v->ds *= flat_ds;
        *img = &copies[2];
        if (!mn_levels_find(*img, MN_POLARITY_AUTO, lv))
            return false;
    }
    return true;
}

static mn_status run(const mn_gray_image *img, mn_polarity polarity,
                     mn_preprocess_scratch *scratch, float out[MN_IMAGE_PIXELS],
                     uint8_t *preview, mn_preprocess_info *info, mn_error *err)
{
    const int in_w = img->width, in_h = img->height;
    levels lv;
    mn_gray_image copies[3];
    view at;
    if (!prepare(&img, polarity, scratch, copies, &lv, &at, info))
        return no_digit(info, err);

    rect crop;
    bool several;
    if (!mn_crop_find_digit(img, &lv, scratch, &crop, &several))
        return no_digit(info, err);

    float value[256];  /* input gray -> output level, background exactly 0 */
    for (int v = 0; v < 256; v++) {
        float x = (float)(to_ink(v, lv.inverted) - lv.cut) * 255.0f / (float)(lv.ink - lv.cut);
        value[v] = x < 0.0f ? 0.0f : x > 255.0f ? 255.0f : x;
    }
    double box[BOX][BOX];
    int dw, dh;
    const bool low_res = mn_scale_to_box(img, value, crop, scratch, box, &dw, &dh);
    /* a digit broken in two and two characters look alike when few pixels tall (read
     * at low resolution, or under the box's 20 pixels): read it then */
    if (several && !low_res && crop.y1 - crop.y0 + 1 >= BOX) {
        if (info)
            info->several_digits = true;
        return mn_fail(err, MN_ERR_FORMAT, MN_PREPROCESS_SEVERAL_DIGITS);
    }

    /* thin strokes averaged over a big area come out faint: stretch them to white */
    double peak = 0.0;
    for (int j = 0; j < dh; j++)
        for (int i = 0; i < dw; i++)
            peak = max_d(peak, box[j][i]);
    double gain = peak > 0.0 && peak < 254.5 ? 255.0 / peak : 1.0;

    uint8_t small[BOX][BOX];
    double mass = 0.0, mx = 0.0, my = 0.0;
    for (int j = 0; j < dh; j++)
        for (int i = 0; i < dw; i++) {
            double v = round(box[j][i] * gain);
            small[j][i] = (uint8_t)(v > 255.0 ? 255.0 : v);
            mass += small[j][i];
            mx += (double)i * small[j][i];
            my += (double)j * small[j][i];
        }
    if (mass <= 0.0)
        return no_digit(info, err);

    /* step 5: centre of mass to (14, 14), whole-pixel shift, box kept inside */
    const double centre = MN_IMAGE_SIDE / 2;
    int ox = (int)lround(centre - mx / mass), oy = (int)lround(centre - my / mass);
    ox = min_i(max_i(ox, 0), MN_IMAGE_SIDE - dw);
    oy = min_i(max_i(oy, 0), MN_IMAGE_SIDE - dh);

    uint8_t pixels[MN_IMAGE_PIXELS];
    memset(pixels, 0, sizeof pixels);
    for (int j = 0; j < dh; j++)
        memcpy(pixels + (oy + j) * MN_IMAGE_SIDE + ox, small[j], (size_t)dw);
    mn_normalize_pixels(pixels, MN_IMAGE_PIXELS, out);
    if (preview)
        memcpy(preview, pixels, sizeof pixels);
    if (info) {
        /* in input pixels; the last downsampled pixel may cover less than ds */
        info->crop_x = at.x + crop.x0 * at.ds;
        info->crop_y = at.y + crop.y0 * at.ds;
        info->crop_w = min_i(at.x + (crop.x1 + 1) * at.ds, in_w) - info->crop_x;
        info->crop_h = min_i(at.y + (crop.y1 + 1) * at.ds, in_h) - info->crop_y;
        info->box_w = dw;
        info->box_h = dh;
        info->offset_x = ox;
        info->offset_y = oy;
        info->low_res = low_res;
    }
    return MN_OK;
}

mn_status mn_preprocess_gray(const mn_gray_image *img, mn_preprocess_scratch *scratch,
                             float out[MN_IMAGE_PIXELS], uint8_t *preview,
                             mn_preprocess_info *info, mn_error *err)
{
    return mn_preprocess_gray_as(img, MN_POLARITY_AUTO, scratch, out, preview, info, err);
}

mn_status mn_preprocess_gray_as(const mn_gray_image *img, mn_polarity polarity,
                                mn_preprocess_scratch *scratch, float out[MN_IMAGE_PIXELS],
                                uint8_t *preview, mn_preprocess_info *info, mn_error *err)
{
    if (info)
        memset(info, 0, sizeof *info);
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs a non-empty gray image");
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs an output buffer");
    if (polarity != MN_POLARITY_AUTO && polarity != MN_POLARITY_DARK_INK &&
        polarity != MN_POLARITY_LIGHT_INK)
        return mn_fail(err, MN_ERR_ARG, "unknown polarity %d", (int)polarity);
    if (scratch)
        return run(img, polarity, scratch, out, preview, info, err);
    mn_preprocess_scratch *own = malloc(sizeof *own);
    if (!own)
        return mn_fail(err, MN_ERR_NOMEM, "no memory for preprocessing scratch (%zu bytes)",
                       sizeof *own);
    mn_status st = run(img, polarity, own, out, preview, info, err);
    free(own);
    return st;
}

mn_status mn_preprocess_pixels(const float pixels[MN_IMAGE_PIXELS],
                               float out[MN_IMAGE_PIXELS], uint8_t *preview,
                               mn_error *err)
{
    if (!pixels || !out)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs input and output buffers");
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        if (!isfinite(pixels[i]) || pixels[i] < 0.0f || pixels[i] > 255.0f)
            return mn_fail(err, MN_ERR_ARG, "pixel %d (row %d, column %d) is %g, not in 0..255",
                           i, i / MN_IMAGE_SIDE, i % MN_IMAGE_SIDE, (double)pixels[i]);
    /* not mn_normalize_pixels: these values need not be whole (JSON), and rounding them
     * to 8 bits first would change the answer */
    for (int i = 0; i < MN_IMAGE_PIXELS; i++) {
        out[i] = (pixels[i] / 255.0f - MN_MNIST_MEAN) / MN_MNIST_STD;
        if (preview)
            preview[i] = (uint8_t)lroundf(pixels[i]);
    }
    return MN_OK;
}
