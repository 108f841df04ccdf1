/* 2x2 max-pooling, stride 2, on one NHWC image [h][w][c] (h, w even), after ReLU as
 * the network has it.
 * argmax records which input of each window won, as dy*2 + dx (first on ties, like
 * PyTorch), so that the backward pass routes the gradient without searching again. */
#ifndef MN_POOL_H
#define MN_POOL_H

#include <stddef.h>
#include <stdint.h>

/* din[h][w][c] = the pooled gradient dout[h/2][w/2][c] placed at each argmax, zero
 * elsewhere. */
void mn_maxpool2_backward(const float *dout, const uint8_t *argmax, int h, int w, int c,
                          float *din);

/* ReLU then max-pool in one pass (max commutes with ReLU): out = max(0, max(window)).
 * Output rows are out_row_stride floats apart, so the result can land directly in
 * the interior of a padded buffer for the next convolution. (Inference fuses it into
 * the convolutions instead: mn_conv3x3_relu_pool_forward, mn_winograd4_forward_relu_pool.) */
void mn_relu_maxpool2_forward(const float *in, int h, int w, int c, float *out,
                              size_t out_row_stride, uint8_t *argmax);

#endif
