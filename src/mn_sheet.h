/* Step 1a of preprocessing: a sheet photographed on a desk. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_SHEET_H
#define MN_SHEET_H

#include "mn_preprocess_steps.h"

/* Step 1a: whether img is a sheet of paper lighter than the desk round it, steps 1-2
 * having taken the desk for the paper. The sheet is the largest 4-connected group of
 * cells (at most 64x64 of them), covering a tenth of the picture and filling 60 % of
 * its box (52 % with desk in its four corners, as a note turned by up to 30 degrees
 * leaves it), whose mean lies
 *   - on a darker desk (light ink: the sheet was taken for ink), at or above the mask
 *     level, with something darker than the desk on it;
 *   - on a lighter desk (dark ink), below the desk's level by half the way to the
 *     sheet's (the image's robust lightest level, a quarter of the contrast beyond
 *     the desk at least).
 * It is cut deep enough in (1/16, 1/8, 1/6, 1/5 or 1/4 of its box) that the ring of
 * cells just inside the cut lies on it (a turned sheet's box has desk in its
 * corners), with no ink outside the cut (on a lighter desk the dark cells, on a
 * darker one the holes in the sheet); when no cut fits, there is no sheet on a
 * lighter desk, and on a darker one the cut stays a sixteenth in.
 * *sheet: its box in pixels, so cut. */
bool mn_sheet_find(const mn_gray_image *img, const levels *lv, rect *sheet);

#endif
