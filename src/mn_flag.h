/* The continental "1": a stem with a long flag at its top, often with a foot. Much of
 * the world writes a 1 so; MNIST's writers (American) seldom did, and a network
 * trained on MNIST alone reads such a 1 as a 7. The augmentation (mn_augment.h, the
 * "flag" transform) draws them on MNIST's own 1s. */
#ifndef MN_FLAG_H
#define MN_FLAG_H

#include "mn_rng.h"

/* With probability strength/2, draws on img (a 28x28 "1", white ink on black, levels
 * 0..255) a flag from the top of its stem down to the left: 20..40 % of the stem's
 * length, at 30..50 degrees to the stem but at least 40 below the level (nearer the
 * level it would be a 7's bar), as wide as the stem. A third of the flagged 1s also
 * get a foot: a level bar 30..60 % of the stem's length across its lower end. Both
 * keep within the digit's height. The digit is then moved back by whole pixels to
 * where its centre of mass was. An image with too little ink for a stem is left as
 * it is. */
void mn_flag_draw(float strength, mn_rng *rng, float *img);

#endif
