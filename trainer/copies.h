/* Scanner's copies (--scan-copies): each epoch trains, after its images, on copies of
 * some of them made as old scanners stored digits, so that the network reads digits
 * at low resolution too. Half the copies, drawn by their own random numbers, are
 * stored in the classic 8x8 format (src/mn_classic.h) and read through the service's
 * preprocessing: as stored, or on a margin scaled up smoothly, as such digits are sent
 * to /predict. The others pass the lowres transform (src/mn_augment.h), whose grids
 * are 7 to 9 blocks a digit. Both halves are distorted by the run's transforms first. */
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

/* True when the copy with these random numbers (mn_augment_seed) is a classic one. */
bool copy_is_classic(uint64_t seed);

/* The network's input for a classic copy of digit (28x28, MNIST's form, of class
 * label): digit distorted by aug (its lowres transform left out), stored in the
 * classic format, sent in a form drawn from seed and preprocessed as /predict would.
 * Returns whether /predict reads that form at low resolution
 * (mn_preprocess_info.low_res). */
bool classic_copy(const mn_augment *aug, uint64_t seed, int label,
                  const uint8_t digit[MN_IMAGE_PIXELS],
                  mn_preprocess_scratch *scratch, float x[MN_IMAGE_PIXELS]);

#endif
