/* A small digit scaled up by linear interpolation (what most tools call bilinear),
 * found and taken back to its own pixels, so that step 4 of preprocessing scales it
 * as it scales a small image (mn_scale.c). Internal to src/ (see mn_preprocess_steps.h).
 *
 * Scaled up f times (f = m / n for n pixels made m, not always a whole number), an
 * image is linear between the centres of its pixels, which lie f apart: the second
 * difference of its rows (columns) vanishes, to rounding, everywhere but next to those
 * centres, the knots. */
#ifndef MN_KNOTS_H
#define MN_KNOTS_H

#include "mn_preprocess_steps.h"

#define MN_KNOTS_MIN_FACTOR 3  /* at 2, half of all positions lie next to a knot */
#define MN_KNOTS_MAX_FACTOR 32

/* If crop c of img is an image of at most max_cells x max_cells pixels (and at least
 * 3 x 3) scaled up by a factor in [MN_KNOTS_MIN_FACTOR, MN_KNOTS_MAX_FACTOR], the same
 * on both axes within 5 %, writes that image's pixels inside c (its values at the
 * knots) to native and describes them in *out; otherwise returns false. A blocky image
 * (pixels repeated) bends next to its block edges too: check for that first. */
bool mn_knots_native(const mn_gray_image *img, rect c, int max_cells, uint8_t *native,
                     mn_gray_image *out);

#endif
