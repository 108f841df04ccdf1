/* Steps 0, 1 and 2 of preprocessing: a faint image stretched, polarity and gray levels. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_LEVELS_H
#define MN_LEVELS_H

#include "mn_preprocess_steps.h"

/* Steps 1 and 2: polarity and the levels. False when there is too little contrast.
 * A forced polarity holds only for an ambiguous image, whose paper it puts at the
 * image's extreme level on that side. */
bool mn_levels_find(const mn_gray_image *img, mn_polarity polarity, levels *lv);

/* Step 0: a faint image read as if it had full contrast. An image that step 1 found
 * too faint, its ink fewer than MN_PREPROCESS_MIN_CONTRAST levels from its paper (a
 * digit stored with 17 levels, 0..16, and saved as it is; a light gray drawing; a
 * bitmap of 0s and 1s) whose darkest or lightest levels lie beyond the noise of its
 * paper (ink_beyond_noise in mn_levels.c), is stretched
 * linearly from its lowest (*lo) to its highest (*hi) level, robustly as step 1
 * measures them, to 0..255 into buf (*out), averaged in cells of *ds x *ds pixels
 * when it is more than GRID pixels a side; true if it was. */
bool mn_levels_stretch_faint(const mn_gray_image *img, uint8_t buf[GRID * GRID],
                             mn_gray_image *out, int *ds, int *lo, int *hi);

/* The part r of img averaged in cells of *d x *d pixels, so that it fits GRID x GRID
 * (d > 1 only above GRID pixels a side), stretched linearly from lo..hi to 0..255
 * (clipped) and rounded, into buf (*out): the copies of step 0 (a faint image) and
 * step 1a (a sheet on a desk, 0..255). */
void mn_levels_average_down(const mn_gray_image *img, rect r, int lo, int hi,
                            uint8_t buf[GRID * GRID], mn_gray_image *out, int *d);

#endif
