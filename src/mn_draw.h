/* Anti-aliased pen strokes on a 28x28 image of floats (0..255, white ink on black):
 * the augmentations that add to a digit (mn_flag.h) and the non-digit pictures
 * (mn_shapes.h) draw with them. */
#ifndef MN_DRAW_H
#define MN_DRAW_H

#include "mn_centre.h"

/* The distance from p to the segment ab (to a, when b is a). */
float mn_segment_distance(mn_point p, mn_point a, mn_point b);

/* A straight stroke from a to b, width pixels wide with round ends; each pixel keeps
 * the brighter of what it was and the stroke's coverage of it. */
void mn_draw_segment(float *img, mn_point a, mn_point b, float width);

#endif
