/* Deskewing: the slant of a digit taken out before the network reads it.
 *
 * People slant their digits, some by 30 or 45 degrees, and a handwriting font or a
 * hurried hand slants an 8 or a 4 further than MNIST's writers did. A network that
 * reads upright digits needs to learn fewer shapes, and one trained on upright digits
 * reads a slant it never saw. The slant is measured from the ink's second moments: the
 * covariance of x and y over the variance of y is how far the ink's axis leans (a
 * shear). Each row is then shifted by that lean times its height above the centre of
 * mass, by linear interpolation: rows, heights and the centre of mass stay as they
 * were, and an upright digit is left alone.
 *
 * It works on the network's input (28x28 floats, MNIST's normalisation), so that the
 * trainer (every image it trains on or evaluates) and the service (every input of a
 * model whose metadata says "deskew": MN_DESKEW_METHOD) apply the very same step. */
#ifndef MN_DESKEW_H
#define MN_DESKEW_H

#include <stdint.h>

#include "mn_net.h"

#define MN_DESKEW_METHOD "moments" /* the metadata's value for this step */
#define MN_DESKEW_MAX_SHEAR 1.0    /* 45 degrees: a steeper lean is taken back this far */

/* The lean of x's ink: the shift in pixels to the right per pixel upwards, clamped to
 * +-MN_DESKEW_MAX_SHEAR; 0 for an image without ink. */
double mn_deskew_shear(const float x[MN_IMAGE_PIXELS]);

/* Takes x's lean out, in place (see above). */
void mn_deskew(float x[MN_IMAGE_PIXELS]);

/* The 8-bit image (0..255, as mn_preprocess_gray's preview) that normalised input x
 * was made from, so that a preview shows the deskewed input the network read. */
void mn_deskew_preview(const float x[MN_IMAGE_PIXELS], uint8_t preview[MN_IMAGE_PIXELS]);

#endif
