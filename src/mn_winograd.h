/* 3x3 convolution (stride 1, padding 1) by Winograd's minimal filtering F(2x2, 3x3).
 *
 * Each 2x2 block of outputs is computed from a 4x4 block of input in a transformed
 * domain where the convolution becomes 16 element-wise products, summed over input
 * channels: 16 small GEMMs with 2.25x fewer multiplications than the direct
 * convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks").
 * The network's second layer (14x14, 32 -> 64 channels) spends most of training's
 * forward pass here (inference takes F(4x4, 3x3), mn_winograd4.h). Images are NHWC
 * and padded like mn_conv3x3_forward's (see mn_conv.h). */
#ifndef MN_WINOGRAD_H
#define MN_WINOGRAD_H

#include <stddef.h>

/* U = G g G^T for every (input, output) channel pair: u is [16][cin][cout]. */
void mn_winograd_pack(const float *w, int cin, int cout, float *u);

/* Tiles go through the three steps (transform, multiply, transform back) in blocks
 * of this many, so that their transformed data stays in cache between the steps. */
#define MN_WINOGRAD_TILE_BLOCK 12

/* Floats of scratch mn_winograd_forward needs for an h x w image: at most
 * 16 * MN_WINOGRAD_TILE_BLOCK * (cin + cout). */
size_t mn_winograd_scratch_floats(int h, int w, int cin, int cout);

/* out[h][w][cout] = bias + conv(padded), padded being [h+2][padded_w][cin] with
 * padded_w >= w + 2 (wider rows let it share inference's buffer, mn_winograd4.h);
 * h and w even, cin a multiple of 8, cout a multiple of 16. */
void mn_winograd_forward(const float *padded, int h, int w, int padded_w, int cin,
                         const float *u, const float *bias, int cout, float *out,
                         float *scratch);

#endif
