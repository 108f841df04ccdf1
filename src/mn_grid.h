/* Step 3 of preprocessing, its grid: the image's ink counted per cell of a coarse grid
 * (at most MN_PREPROCESS_GRID_SIDE a side, so that the components' cost does not
 * depend on the image's size), and ruled or squared paper's lines found and taken out
 * of it. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_GRID_H
#define MN_GRID_H

#include "mn_preprocess_steps.h"

/* Counts into s->mass, for gw x gh cells of f x f input pixels, the pixels at or above
 * the mask level. When a line could cross the whole image (pixels above the cut on
 * two opposite edges), flags the grid rows and columns of ruled lines in s->line_row
 * and s->line_col (s->line_cell = f when any, else 0) and takes their cells out of
 * s->mass, except where a stroke crosses them. */
void mn_grid_count(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s, int f,
                   int gw, int gh);

#endif
