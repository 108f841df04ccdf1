#include "config.h"

#include "copies.h"
#include "mn_classic.h"
#include "mn_rng.h"

#define COPY_STREAM 0x434f5059ull /* "COPY": numbers no transform draws */

size_t copy_source(long ntrain, long ncopies, size_t sample)
{
    if (sample < (size_t)ntrain)
        return sample;
    return (sample - (size_t)ntrain) * (size_t)ntrain / (size_t)ncopies;
}

static void copy_rng(mn_rng *rng, uint64_t seed)
{
    mn_rng_seed(rng, mn_mix64(seed ^ COPY_STREAM));
}

bool classic_copy(const mn_augment *aug, uint64_t seed, int label,
                  const uint8_t digit[MN_IMAGE_PIXELS],
                  mn_preprocess_scratch *scratch, float x[MN_IMAGE_PIXELS])
{
    enum { LARGEST = MN_CLASSIC_FRAME * MN_CLASSIC_MAX_FACTOR };
    mn_rng rng;
    copy_rng(&rng, seed);
    mn_augment run = *aug;
    run.strength[MN_AUG_LOWRES] = 0.0f; /* the classic format is the scanner here */
    uint8_t distorted[MN_IMAGE_PIXELS], small[MN_CLASSIC_PIXELS], big[LARGEST * LARGEST];
    mn_augment_image(&run, seed, label, digit, distorted);
    mn_classic_store(distorted, small);
    mn_gray_image sent = {MN_CLASSIC_SIDE, MN_CLASSIC_SIDE, small};
    if (mn_rng_uniform(&rng) < 0.5f) { /* on a margin, scaled up 2 to 6 times */
        const int factor = 2 + (int)mn_rng_below(&rng, MN_CLASSIC_MAX_FACTOR - 1);
        mn_classic_with_margin(small, factor, big);
        sent = (mn_gray_image){MN_CLASSIC_FRAME * factor, MN_CLASSIC_FRAME * factor, big};
    }
    /* the truth is known: the ink is light, as in MNIST; an image the service would
     * refuse (the distortions left no ink) is trained on as distorted */
    mn_preprocess_info info;
    if (mn_preprocess_gray_as(&sent, MN_POLARITY_LIGHT_INK, scratch, x, NULL, &info, NULL) != MN_OK) {
        mn_normalize_pixels(distorted, MN_IMAGE_PIXELS, x);
        return false;
    }
    return info.low_res;
}
