/* Deterministic random numbers: xoshiro256** seeded through splitmix64.
 *
 * Every random choice in training (initialisation, shuffling, dropout) comes from
 * an mn_rng seeded from the run's seed, so a seed reproduces a run exactly. The
 * state is four words so that a checkpoint can store and restore it. */
#ifndef MN_RNG_H
#define MN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mn_rng {
    uint64_t s[4];
} mn_rng;

/* splitmix64's finaliser: a good 64-bit mix, used to derive independent seeds. */
uint64_t mn_mix64(uint64_t x);

void mn_rng_seed(mn_rng *rng, uint64_t seed);
uint64_t mn_rng_next(mn_rng *rng);
/* Uniform in [0, 1) with 24 bits of precision. */
float mn_rng_uniform(mn_rng *rng);
/* Uniform between lo and hi: lo + (hi - lo) x mn_rng_uniform (rounding may reach hi). */
float mn_rng_between(mn_rng *rng, float lo, float hi);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t mn_rng_below(mn_rng *rng, uint32_t n);
/* Fisher-Yates shuffle. */
void mn_rng_shuffle_u32(mn_rng *rng, uint32_t *a, size_t n);

#endif
