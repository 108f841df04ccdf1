/* Inference's conv-ReLU-pool by Winograd's F(4x4, 3x3).
 *
 * Each 4x4 block of outputs comes from a 6x6 block of input through 36 element-wise
 * products summed over input channels: 36 GEMMs of [tiles x cin] x [cin x cout], 4x
 * fewer multiplications than the direct convolution where F(2x2, 3x3) saves 2.25x.
 * For conv2 (14x14, 32 -> 64) that is 1.18 million multiply-adds an image instead of
 * 1.61 million, though four tiles a side cover 16x16 outputs of which 14x14 are kept.
 * The larger transforms' constants (1/6, 1/12, 1/24) cost precision: on conv2's
 * shapes, outputs up to 3.8 are off by at most 6e-6 against F(2x2)'s 8e-7, which
 * inference can spend (probabilities still match training's to 1e-6, see
 * test_net) and training, whose gradients go through mn_winograd.h, need not.
 * A 4x4 tile holds four whole 2x2 pooling windows, so the output transform ends in
 * bias, max and ReLU in registers and only the pooled output is written. Images
 * are NHWC (see mn_conv.h). */
#ifndef MN_WINOGRAD4_H
#define MN_WINOGRAD4_H

#include <stddef.h>

/* U = G g G^T for every (input, output) channel pair: u is [36][cin][cout]. */
void mn_winograd4_pack(const float *w, int cin, int cout, float *u);

/* Tiles per block of the three steps (transform, multiply, transform back). */
#define MN_WINOGRAD4_TILE_BLOCK 6

/* Floats of scratch mn_winograd4_forward_relu_pool needs: at most
 * 36 * MN_WINOGRAD4_TILE_BLOCK * (cin + cout). */
size_t mn_winograd4_scratch_floats(int h, int w, int cin, int cout);

/* Side of the zero-padded input the kernel reads for an n-pixel side: the image at
 * offset 1, zeros around it up to a whole number of 4x4 tiles (18 for 14). */
static inline int mn_winograd4_padded_side(int n)
{
    return (n + 3) / 4 * 4 + 2;
}

/* out[h/2][w/2][cout] = max(0, 2x2 max-pool of bias + conv(padded)), padded being
 * [mn_winograd4_padded_side(h)][mn_winograd4_padded_side(w)][cin]; h and w even,
 * cin a multiple of 8, cout a multiple of 16. */
void mn_winograd4_forward_relu_pool(const float *padded, int h, int w, int cin, const float *u,
                                    const float *bias, int cout, float *out, float *scratch);

#endif
