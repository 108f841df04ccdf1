/* Step 3 of preprocessing: the digit's bounding box. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_CROP_H
#define MN_CROP_H

#include "mn_preprocess_steps.h"

/* Step 3: the digit's bounding box in *digit; false when there is none. *several
 * tells whether what was found looks like several characters side by side (a row's
 * box in *digit then); preprocessing decides, knowing the resolution it is read at.
 * Ruled lines found on the way are left in s (line_cell, line_row, line_col) for
 * step 4. */
bool mn_crop_find_digit(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                        rect *digit, bool *several);

#endif
