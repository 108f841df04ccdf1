/* Step 4 of preprocessing: the crop scaled into the box. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_SCALE_H
#define MN_SCALE_H

#include "mn_preprocess_steps.h"

/* Step 4: the crop c into box[0..*dh)[0..*dw) (0..255, not yet rounded), value[] mapping
 * input gray to output level. Returns whether the digit was read at low resolution:
 * at most BOX / 2 pixels a side, as sent or once a small digit scaled up is taken
 * back to its own pixels. */
bool mn_scale_to_box(const mn_gray_image *img, const float value[256], rect c,
                     mn_preprocess_scratch *scratch, double box[BOX][BOX], int *dw_out,
                     int *dh_out);

/* Whether the whole image is a small digit (at most BOX / 2 pixels a side) scaled up
 * by repeating pixels, as step 4 takes a blocky crop back to its own pixels. */
bool mn_scale_is_blocky(const mn_gray_image *img);

#endif
