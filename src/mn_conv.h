/* 3x3 convolution, stride 1, zero padding 1, on one NHWC image at a time.
 *
 * Images are [h][w][c] with channels contiguous. Inputs come pre-padded into
 * [h+2][w+2][cin] with a zero border (mn_pad1), so the kernels need no bounds checks.
 * Weights are kept in PyTorch's layout [cout][cin][3][3] in the parameter buffer and
 * repacked each step (a few thousand floats) into the layouts the kernels want:
 *   forward: [9*cin][cout]   (row k = tap*cin + ci, tap = dy*3 + dx; cout contiguous)
 *   rows:    [cout][9*cin]   (the same k order; used by the backward kernels)
 * The forward kernel is an implicit GEMM: no im2col buffer is ever built. */
#ifndef MN_CONV_H
#define MN_CONV_H

#include <stddef.h>
#include <stdint.h>

void mn_conv3x3_pack_forward(const float *w, int cin, int cout, float *packed);
void mn_conv3x3_pack_rows(const float *w, int cin, int cout, float *rows);
/* w[cout][cin][3][3] = rows[cout][9*cin], reordered (the inverse of pack_rows). */
void mn_conv3x3_unpack_rows(const float *rows, int cin, int cout, float *w);

/* w[cout][cin][3][3] = packed[9*cin][cout], reordered (the inverse of pack_forward). */
void mn_conv3x3_unpack_forward(const float *packed, int cin, int cout, float *w);

/* padded[h+2][w+2][c] = in[h][w][c] with a zero border. */
void mn_pad1(const float *in, int h, int w, int c, float *padded);

/* out[h][w][cout] = bias + conv(padded). cout must be a multiple of 16. */
void mn_conv3x3_forward(const float *padded, int h, int w, int cin,
                        const float *packed, const float *bias, int cout, float *out);

/* out = max(0, 2x2 max-pool(bias + conv(padded))), [h/2][w/2][cout] with rows
 * out_row_stride floats apart: inference's conv-ReLU-pool in one pass, equal to the
 * three layers in turn (mn_pool.h) to the bit. h, w even; cout a multiple of 16. */
void mn_conv3x3_relu_pool_forward(const float *padded, int h, int w, int cin,
                                  const float *packed, const float *bias, int cout, float *out,
                                  size_t out_row_stride);

/* Backward of conv -> ReLU -> 2x2 max-pool (see mn_pool.h) for a pooled gradient
 * dpooled: adds the weight gradient into dw_rows [cout][9*cin], the bias gradient
 * into db [cout], and, unless dpadded is NULL, the input gradient into dpadded (its
 * border collects the gradient of the padding, which the caller ignores). The
 * pooled gradient reaches one position per window (argmax), and only where the
 * pooled value is positive: a quarter or less of a dense backward's work, with the
 * same results (tests/unit/test_layers.c keeps the dense one as a reference).
 * padded and dpadded are [h+2][padded_w][cin], padded_w >= w + 2; h and w even;
 * pooled, argmax and dpooled are [h/2][w/2][cout]. */
void mn_conv3x3_backward_pooled(const float *padded, int h, int w, int padded_w, int cin,
                                const float *w_rows, int cout, const float *pooled,
                                const uint8_t *argmax, const float *dpooled,
                                float *dw_rows, float *db, float *dpadded);

/* Weight and bias gradients only, from a dense dout[h][w][cout], vectorised over the
 * output channels (cout a multiple of 8): adds into dw_packed [9*cin][cout] (the
 * forward layout) and db [cout]. Best when cin is small (the first layer), where
 * the pooled kernel's per-gradient work would be too short to vectorise. */
void mn_conv3x3_weight_grad(const float *padded, int h, int w, int cin, const float *dout,
                            int cout, float *dw_packed, float *db);

#endif
