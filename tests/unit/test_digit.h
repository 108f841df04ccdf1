/* A synthetic digit for the unit tests that transform images: a "0"-like ring of
 * radius 6 and width ~2.5 px, slightly tall, anti-aliased 0..255 on a 28x28 black
 * canvas, centred at (CX, CY). */
#ifndef TESTS_UNIT_TEST_DIGIT_H
#define TESTS_UNIT_TEST_DIGIT_H

#include <math.h>
#include <stdint.h>

#include "mn_net.h" /* MN_IMAGE_SIDE */

static inline void test_ring(uint8_t *img, double cx, double cy)
{
    for (int y = 0; y < MN_IMAGE_SIDE; y++)
        for (int x = 0; x < MN_IMAGE_SIDE; x++) {
            double r = hypot(x - cx, (y - cy) * 0.8);
            double cover = 1.25 - fabs(r - 6.0);
            img[y * MN_IMAGE_SIDE + x] = (uint8_t)(cover <= 0 ? 0 : cover >= 1 ? 255 : 255 * cover);
        }
}

#endif
