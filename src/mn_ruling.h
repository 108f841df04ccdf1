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

/* The same for an image that step 1b left alone (img, not written): when lines cross
 * it from side to side, a copy averaged down to GRID x GRID at most, into s->flat
 * (*copy, each pixel *ds x *ds input pixels), with its lines painted over. False, and
 * *copy and *ds untouched, when none of the lines painted was at a slant or stopped
 * short of the edges: level lines across the whole picture are step 3's to take out,
 * at full resolution. */
bool mn_ruling_paint_copy(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                          mn_gray_image *copy, int *ds);

#endif
