/* Where a 28x28 digit's mass lies, and whole-pixel moves: the augmentations that redraw
 * a digit (mn_flag.h, mn_aspect.h) move it back to where its mass was, as the service
 * centres every digit it reads. */
#ifndef MN_CENTRE_H
#define MN_CENTRE_H

typedef struct mn_point {
    float x, y;
} mn_point;

/* The centre of mass of img (MN_IMAGE_PIXELS levels, row-major); (0, 0) when blank. */
mn_point mn_centre_of_mass(const float *img);

/* Moves img by (dx, dy) whole pixels; what comes in is black. */
void mn_shift_image(float *img, int dx, int dy);

#endif
