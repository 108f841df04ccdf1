#include "config.h"

#include "mn_activation.h"

void mn_relu_forward(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void mn_relu_backward(const float *y, const float *dy, float *dx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void mn_dropout_mask(mn_rng *rng, float p, uint8_t *keep, size_t n)
{
    /* compare 24-bit uniforms against an integer threshold: exact and cheap */
    const uint64_t threshold = (uint64_t)(p * 16777216.0f);
    for (size_t i = 0; i < n; i++)
        keep[i] = (mn_rng_next(rng) >> 40) >= threshold;
}

void mn_dropout_forward(const float *x, const uint8_t *keep, float p, float *y, size_t n)
{
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        y[i] = keep[i] ? x[i] * scale : 0.0f;
}

void mn_dropout_backward(const float *dy, const uint8_t *keep, float p, float *dx, size_t n)
{
    mn_dropout_forward(dy, keep, p, dx, n); /* the same linear map */
}
