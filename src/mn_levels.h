/* Steps 1 and 2 of preprocessing: polarity and gray levels. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_LEVELS_H
#define MN_LEVELS_H

#include "mn_preprocess_steps.h"

/* Steps 1 and 2: polarity and the levels. False when there is too little contrast.
 * A forced polarity holds only for an ambiguous image, whose paper it puts at the
 * image's extreme level on that side. */
bool mn_levels_find(const mn_gray_image *img, mn_polarity polarity, levels *lv);

#endif
