/* Pictures that hold no digit, for training: the network learns to answer them with
 * low confidence (its target is the uniform distribution, MN_LABEL_NONE in mn_loss.h)
 * rather than with a confident guess, as it did for a star (a 4) or an X (an 8).
 *
 * Each is drawn in MNIST's form (white on black, 28x28, about 20 pixels across,
 * anti-aliased), one of these kinds, chosen evenly:
 *   star      a filled star of 4 to 8 points;
 *   polygon   a filled convex polygon of 3 to 8 corners, from a triangle to a disk;
 *   triangle  a triangle's outline;
 *   cross     2 to 4 strokes through one point: an X, a +, an asterisk;
 *   scribble  a tangle: 10 to 16 strokes from point to random point.
 * Half of the filled shapes fade along a random direction, as uneven light leaves
 * them. Outlines of other shapes are left out: a circle or a rounded square is how
 * many people write a 0. The picture depends only on the seed; thread-safe. */
#ifndef MN_SHAPES_H
#define MN_SHAPES_H

#include <stdint.h>

#include "mn_net.h"

enum mn_shape_kind { MN_SHAPE_STAR, MN_SHAPE_POLYGON, MN_SHAPE_TRIANGLE, MN_SHAPE_CROSS,
                     MN_SHAPE_SCRIBBLE, MN_SHAPE_KINDS };

/* The kind of shape mn_shape_draw draws for seed. */
enum mn_shape_kind mn_shape_kind_of(uint64_t seed);

/* Draws the shape for seed into out (MN_IMAGE_PIXELS bytes, overwritten). */
void mn_shape_draw(uint64_t seed, uint8_t out[MN_IMAGE_PIXELS]);

#endif
