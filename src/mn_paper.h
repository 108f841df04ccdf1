/* Step 1b of preprocessing: uneven light flattened. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_PAPER_H
#define MN_PAPER_H

#include "mn_preprocess_steps.h"

/* Step 1b: img flat-fielded into s->flat (*flat, each pixel *ds x *ds input pixels)
 * when its paper is unevenly lit; false, and nothing written, otherwise. */
bool mn_paper_flatten_if_uneven(const mn_gray_image *img, const levels *lv,
                                mn_preprocess_scratch *s, mn_gray_image *flat, int *ds);

#endif
