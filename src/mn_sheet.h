/* Step 1a of preprocessing: a sheet photographed on a desk. Internal to src/ (see mn_preprocess_steps.h). */
#ifndef MN_SHEET_H
#define MN_SHEET_H

#include "mn_preprocess_steps.h"

/* Step 1a: whether img is a sheet of paper lighter than the desk round it (so that
 * steps 1-2 took the desk for the paper and the sheet for ink), with something
 * darker than the desk on it. The sheet is the largest 4-connected group of cells
 * (at most 64x64 of them) whose mean lies at or above the mask level, covering a
 * fifth of the picture and filling 60 % of its box. *sheet: its box in pixels, a
 * sixteenth of its size in from each edge. */
bool mn_sheet_find(const mn_gray_image *img, const levels *lv, rect *sheet);

#endif
