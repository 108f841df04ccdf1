/* A digit made wider or narrower. Writers differ in how wide they make a digit, and
 * some scanners fit every digit to a square box; the service keeps the shape it is
 * sent (mn_preprocess.h), so a wide 6 reaches the network as wide as tall. MNIST's
 * digits are mostly narrow (a 6 about two thirds as wide as tall), and a network
 * trained on them alone reads a wide 6 as a 5. The augmentation (mn_augment.h, the
 * "aspect" transform) widens and narrows MNIST's own digits. */
#ifndef MN_ASPECT_H
#define MN_ASPECT_H

#include "mn_rng.h"

/* With probability strength/2, changes the width of the digit in img (28x28, white
 * ink on black, levels 0..255): half of the time widened 30..100 % of the way to as
 * wide as tall, half of the time narrowed to 65..100 % of its width. Only a digit
 * taller than wide and at least MN_ASPECT_MIN_WIDTH as wide as tall changes (a 1
 * widened would be a slab). Each row is resampled (linear) about the middle of the
 * digit's box; the digit is then moved back by whole pixels to the column of its
 * centre of mass. The height and rows do not change. */
void mn_aspect_change(float strength, mn_rng *rng, float *img);

#define MN_ASPECT_MIN_WIDTH 0.45f

#endif
