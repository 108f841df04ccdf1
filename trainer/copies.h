/* Scanner's copies (--scan-copies): each epoch trains, after its images, on copies of
 * some of them made as old scanners stored digits, so that the network reads digits
 * at low resolution too. Each copy is distorted by the run's transforms, stored in the
 * classic 8x8 format (src/mn_classic.h) and read through the service's preprocessing:
 * as stored, or on a margin scaled up smoothly, as such digits are sent to /predict. */
#ifndef TRAINER_COPIES_H
#define TRAINER_COPIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn_augment.h"
#include "mn_net.h"
#include "mn_preprocess.h"

/* The training image that sample number `sample` of an epoch shows: samples from
 * ntrain on are the ncopies copies, of images spread evenly over the set. */
size_t copy_source(long ntrain, long ncopies, size_t sample);

/* The network's input for a copy of digit (28x28, MNIST's form, of class
 * label): digit distorted by aug (its lowres transform left out), stored in the
 * classic format, sent in a form drawn from seed and preprocessed as /predict would.
 * Returns whether /predict reads that form at low resolution
 * (mn_preprocess_info.low_res). */
bool classic_copy(const mn_augment *aug, uint64_t seed, int label,
                  const uint8_t digit[MN_IMAGE_PIXELS],
                  mn_preprocess_scratch *scratch, float x[MN_IMAGE_PIXELS]);

#endif
