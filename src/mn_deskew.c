#include "config.h"

#include <math.h>
#include <string.h>

#include "mn_deskew.h"

#define SIDE MN_IMAGE_SIDE

/* The normalised value of a blank pixel: zero ink. */
static float paper(void)
{
    return -MN_MNIST_MEAN / MN_MNIST_STD;
}

/* The centre of mass (*cx, *cy) of x's ink; false when there is none. */
static bool centre_of_ink(const float *x, double *cx, double *cy)
{
    double m = 0.0, sx = 0.0, sy = 0.0;
    for (int y = 0; y < SIDE; y++)
        for (int i = 0; i < SIDE; i++) {
            const double w = x[y * SIDE + i] - paper();
            m += w;
            sx += w * i;
            sy += w * y;
        }
    if (!(m > 0.0))
        return false;
    *cx = sx / m;
    *cy = sy / m;
    return true;
}

/* The lean about the centre (cx, cy); image rows grow downwards, so a digit leaning
 * right has x falling as y grows, a negative covariance and a positive lean. */
static double lean(const float *x, double cx, double cy)
{
    double mu11 = 0.0, mu02 = 0.0;
    for (int y = 0; y < SIDE; y++)
        for (int i = 0; i < SIDE; i++) {
            const double w = x[y * SIDE + i] - paper();
            mu11 += w * (i - cx) * (y - cy);
            mu02 += w * (y - cy) * (y - cy);
        }
    if (!(mu02 > 0.0))
        return 0.0;
    const double s = -mu11 / mu02;
    return s > MN_DESKEW_MAX_SHEAR ? MN_DESKEW_MAX_SHEAR
         : s < -MN_DESKEW_MAX_SHEAR ? -MN_DESKEW_MAX_SHEAR : s;
}

double mn_deskew_shear(const float x[MN_IMAGE_PIXELS])
{
    double cx, cy;
    return centre_of_ink(x, &cx, &cy) ? lean(x, cx, cy) : 0.0;
}

void mn_deskew(float x[MN_IMAGE_PIXELS])
{
    double cx, cy;
    if (!centre_of_ink(x, &cx, &cy))
        return;
    const double s = lean(x, cx, cy);
    float out[MN_IMAGE_PIXELS];
    for (int y = 0; y < SIDE; y++) {
        /* row y above the centre leans right by s per pixel: read it that far right,
         * between columns i + k and i + k + 1 for every i */
        const double shift = s * (cy - y), k0 = floor(shift);
        const int k = (int)k0;
        const float t = (float)(shift - k0), u = 1.0f - t;
        const float *row = x + y * SIDE;
        float *o = out + y * SIDE;
        for (int i = 0; i < SIDE; i++) {
            const int a = i + k, b = a + 1;
            const float va = a >= 0 && a < SIDE ? row[a] : paper();
            const float vb = b >= 0 && b < SIDE ? row[b] : paper();
            o[i] = u * va + t * vb;
        }
    }
    memcpy(x, out, sizeof out);
}

void mn_deskew_preview(const float x[MN_IMAGE_PIXELS], uint8_t preview[MN_IMAGE_PIXELS])
{
    for (int i = 0; i < MN_IMAGE_PIXELS; i++) {
        const float v = (x[i] * MN_MNIST_STD + MN_MNIST_MEAN) * 255.0f;
        preview[i] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : lroundf(v));
    }
}
