/* The classic 8x8 format of handwritten digits: how old scanners and the datasets made
 * from them (the UCI "optical recognition" kind, 1,797 digits in its best-known
 * sample) store a digit. Its bitmap, fitted to 32x32 with the aspect kept, is counted
 * in 4x4 blocks, giving 8x8 pixels of 17 levels.
 *
 * The trainer makes scanner's copies of MNIST digits in this format (trainer/train.c)
 * and reads them through the service's own preprocessing, so that the network learns
 * them as /predict will show them. The test generator tests/ood/mnist_classic.py
 * makes the same format in Python for the mnist-8x8 diagnostic. */
#ifndef MN_CLASSIC_H
#define MN_CLASSIC_H

#include <stdint.h>

#define MN_CLASSIC_SIDE 8
#define MN_CLASSIC_PIXELS (MN_CLASSIC_SIDE * MN_CLASSIC_SIDE)
/* the paper put around a digit by mn_classic_with_margin, in blocks on each side */
#define MN_CLASSIC_MARGIN 2
#define MN_CLASSIC_FRAME (MN_CLASSIC_SIDE + 2 * MN_CLASSIC_MARGIN)
#define MN_CLASSIC_MAX_FACTOR 6

/* Stores a 28x28 digit (white ink on black, as MNIST) in the classic format: the box
 * of its nonzero pixels fitted to 32x32 (the longer side filling it, centred) by
 * bilinear interpolation, ink where that is at least 128, each 4x4 block's count of
 * ink (0..16) scaled to 0..255. A blank digit gives a blank image. */
void mn_classic_store(const uint8_t digit[28 * 28], uint8_t out[MN_CLASSIC_PIXELS]);

/* The classic image on paper MN_CLASSIC_MARGIN blocks wide all round, scaled up by
 * factor (1..MN_CLASSIC_MAX_FACTOR) with bilinear interpolation, as an image viewer
 * or a web page would show it: out has (MN_CLASSIC_FRAME * factor)^2 pixels. */
void mn_classic_with_margin(const uint8_t small[MN_CLASSIC_PIXELS], int factor, uint8_t *out);

#endif
