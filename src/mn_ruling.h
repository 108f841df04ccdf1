/* Step 1c of preprocessing: a photographed page's lines painted over. Internal to src/
 * (see mn_preprocess_steps.h). */
#ifndef MN_RULING_H
#define MN_RULING_H

#include "mn_preprocess_steps.h"

/* Paints over, in img (a flat-fielded copy, at most GRID x GRID, written in place),
 * the lines of ruled or squared paper: straight paths above the cut across 80 % of
 * its length or more, level or at a slant of up to an eighth of it, thin, with paper
 * beside them, two or more in a direction. True if it painted any. Uses s->seen,
 * s->faint and s->mass, which step 3 fills afresh. */
bool mn_ruling_paint_over(mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s);

#endif
