/* Steps 0, 1 and 2 of preprocessing: a faint image stretched, polarity and gray levels. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_LEVELS_H
#define MN_LEVELS_H

#include "mn_preprocess_steps.h"

/* Steps 1 and 2: polarity and the levels. False when there is too little contrast.
 * A forced polarity holds only for an ambiguous image, whose paper it puts at the
 * image's extreme level on that side. */
bool mn_levels_find(const mn_gray_image *img, mn_polarity polarity, levels *lv);

/* Step 0: a faint image read as if it had full contrast. An image whose levels span
 * fewer than MN_PREPROCESS_MIN_CONTRAST (a digit stored with 17 levels, 0..16, and
 * saved as it is; a bitmap of 0s and 1s) on paper that is one exact level, so that
 * no level of it can be noise: in an image under MN_PREPROCESS_TINY_SIDE, an eighth
 * of the pixels at one extreme level; in a larger one, 7/8 of the border ring. Such
 * an image of at most cap pixels is stretched linearly from its lowest (*lo) and
 * highest (*hi) level to 0..255 into buf and described by *out; true if it was. */
bool mn_levels_stretch_faint(const mn_gray_image *img, uint8_t *buf, size_t cap,
                             mn_gray_image *out, int *lo, int *hi);

#endif
