/* Element-wise layers: ReLU and (inverted) dropout. */
#ifndef MN_ACTIVATION_H
#define MN_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#include "mn_rng.h"

void mn_relu_forward(const float *x, float *y, size_t n);
/* dx = dy where the ReLU output y was positive, else 0 (dx may alias dy). */
void mn_relu_backward(const float *y, const float *dy, float *dx, size_t n);

/* keep[i] = 1 with probability 1 - p, else 0. */
void mn_dropout_mask(mn_rng *rng, float p, uint8_t *keep, size_t n);
/* y = x * keep / (1 - p): the expected activation is unchanged, so inference needs no
 * scaling (PyTorch's convention). y may alias x. */
void mn_dropout_forward(const float *x, const uint8_t *keep, float p, float *y, size_t n);
void mn_dropout_backward(const float *dy, const uint8_t *keep, float p, float *dx, size_t n);

#endif
