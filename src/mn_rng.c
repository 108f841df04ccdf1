#include "config.h"

#include "mn_rng.h"

uint64_t mn_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Each state word is one splitmix64 step from the previous word (the first from the
 * seed). The reference seeding steps one splitmix64 state four times instead; this
 * chain is as good a seeding and is kept because every model trained so far came
 * from it: a seed must keep reproducing its run. */
void mn_rng_seed(mn_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed = mn_mix64(seed);
        rng->s[i] = seed;
    }
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t mn_rng_next(mn_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float mn_rng_uniform(mn_rng *rng)
{
    return (float)(mn_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

float mn_rng_between(mn_rng *rng, float lo, float hi)
{
    return lo + (hi - lo) * mn_rng_uniform(rng);
}

uint32_t mn_rng_below(mn_rng *rng, uint32_t n)
{
    /* Lemire's multiply-and-reject: unbiased and almost always one draw. */
    uint64_t m = (uint64_t)(uint32_t)(mn_rng_next(rng) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)-n % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(mn_rng_next(rng) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void mn_rng_shuffle_u32(mn_rng *rng, uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = mn_rng_below(rng, (uint32_t)i);
        uint32_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}
