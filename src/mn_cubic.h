/* Catmull-Rom interpolation weights, one definition for the service's scaling of a
 * small digit (mn_scale.c) and for the training transform that imitates it
 * (mn_augment.c, lowres), so that the two draw the same curve. */
#ifndef MN_CUBIC_H
#define MN_CUBIC_H

/* The weights of the four samples at -1, 0, 1, 2 around a point t in [0, 1) past the
 * second: they sum to 1, and t = 0 gives the second sample exactly. */
static inline void mn_cubic_weights(double t, double w[4])
{
    const double t2 = t * t, t3 = t2 * t;
    w[0] = (-t3 + 2.0 * t2 - t) / 2.0;
    w[1] = (3.0 * t3 - 5.0 * t2 + 2.0) / 2.0;
    w[2] = (-3.0 * t3 + 4.0 * t2 + t) / 2.0;
    w[3] = (t3 - t2) / 2.0;
}

#endif
