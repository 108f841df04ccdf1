/* Training-time data augmentation: random distortions of 28x28 MNIST digits so that
 * the network learns digits as other people, pens and scanners make them.
 *
 * Each transform has a strength (0 is exactly the identity, 1 the tuned maximum):
 *   affine    rotation up to 15 degrees, scale 0.85..1.15 per axis, shear up to 0.3,
 *             translation up to 2 px (magnitudes drawn uniformly up to strength x these);
 *   elastic   a smooth random displacement field (4x4 control points, up to 2.5 px);
 *   stroke    thicker or thinner strokes: a blend towards a 3x3 gray dilation by up
 *             to strength, or towards an erosion by up to half of it;
 *   blur      a 3x3 Gaussian blur with sigma up to strength x 1.0 px;
 *   lowres    with probability strength/2, a scanner's copy: the digit's bitmap (ink
 *             at 128 and above) counted into blocks of 17 levels, the 28-px frame 10..12
 *             blocks wide, then scaled back up smoothly (Catmull-Rom), as the service
 *             scales up a digit stored at 8x8;
 *   contrast  a gamma change by a factor exp(+-0.7 x strength);
 *   flag      with probability strength/2, a "1" written the continental way: a flag
 *             at its top, sometimes a foot (mn_flag.h); other digits are untouched;
 *   aspect    with probability strength/2, the digit widened (up to as wide as tall)
 *             or narrowed (to 65 % of its width at least) (mn_aspect.h);
 *   rotate    with probability strength/2, the digit turned about the frame's centre
 *             by up to 20 degrees either way, as a note photographed askew shows it.
 * The flag comes first, so that the rest distort it with the digit, then the aspect,
 * then the turn; the others run in the order listed; then a digit left fainter than
 * full white is stretched back to 255, as the service's preprocessing does. The random
 * numbers of one image come only from the seed given (mn_augment_seed: run seed, epoch,
 * sample index), each transform drawing from its own stream, so the result depends on
 * nothing else: not on threads, batch order, or which other transforms are on.
 * Nothing allocates; the function is thread-safe. */
#ifndef MN_AUGMENT_H
#define MN_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "mn_error.h"

enum mn_augment_kind {
    MN_AUG_AFFINE,
    MN_AUG_ELASTIC,
    MN_AUG_STROKE,
    MN_AUG_BLUR,
    MN_AUG_LOWRES,
    MN_AUG_CONTRAST,
    MN_AUG_FLAG,
    MN_AUG_ASPECT,
    MN_AUG_ROTATE,
    MN_AUG_KINDS
};

#define MN_AUGMENT_MAX_STRENGTH 2.0f
#define MN_AUGMENT_TEXT 160 /* room for mn_augment_format's text */

typedef struct mn_augment {
    float strength[MN_AUG_KINDS]; /* 0..MN_AUGMENT_MAX_STRENGTH; all 0: no augmentation */
} mn_augment;

/* The transform's name as --augment spells it ("affine", ...). */
const char *mn_augment_name(int kind);

/* Parses "none", or a comma-separated list of NAME or NAME=STRENGTH (strength 1 when
 * omitted), e.g. "affine,lowres=0.5". Unlisted transforms get strength 0. */
mn_status mn_augment_parse(const char *text, mn_augment *aug, mn_error *err);

/* The canonical text of aug ("none" or "affine=1,lowres=0.5"), parseable again. */
void mn_augment_format(const mn_augment *aug, char *out, size_t size);

/* True when at least one strength is above 0. */
int mn_augment_enabled(const mn_augment *aug);

/* The seed of sample `index` in epoch `epoch` of a run seeded with run_seed. */
uint64_t mn_augment_seed(uint64_t run_seed, uint64_t epoch, uint64_t index);

/* Writes the augmented in (MN_IMAGE_PIXELS bytes, 28x28) to out (may not alias in);
 * label is the digit's class (-1 if unknown), which only the flag transform reads.
 * All strengths 0: out is an exact copy. */
void mn_augment_image(const mn_augment *aug, uint64_t seed, int label, const uint8_t *in,
                      uint8_t *out);

#endif
