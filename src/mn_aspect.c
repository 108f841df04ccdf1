#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "mn_aspect.h"
#include "mn_centre.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define INK 64.0f         /* a pixel at least this bright is part of the digit's box */
#define WIDEN_MIN 0.3f    /* a widened digit goes at least this share of the way to square */
#define NARROW_MIN 0.65f  /* a narrowed digit keeps at least this share of its width */

typedef struct {
    int x0, x1, y0, y1; /* the box of the ink, inclusive; x1 < 0: no ink */
} box;

static box ink_box(const float *img)
{
    box b = {SIDE, -1, SIDE, -1};
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            if (img[y * SIDE + x] >= INK) {
                b.x0 = x < b.x0 ? x : b.x0;
                b.x1 = x > b.x1 ? x : b.x1;
                b.y0 = y < b.y0 ? y : b.y0;
                b.y1 = y;
            }
    return b;
}

/* The value at column x (fractional) of row, black outside the frame. */
static float sample_row(const float *row, float x)
{
    const float fl = floorf(x);
    const int i = (int)fl;
    const float f = x - fl;
    const float a = i >= 0 && i < SIDE ? row[i] : 0.0f;
    const float b = i + 1 >= 0 && i + 1 < SIDE ? row[i + 1] : 0.0f;
    return a + f * (b - a);
}

/* in with every row scaled by factor about column centre. */
static void scale_rows(const float *in, float factor, float centre, float *out)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            out[y * SIDE + x] = sample_row(in + y * SIDE, centre + ((float)x - centre) / factor);
}

void mn_aspect_change(float strength, mn_rng *rng, float *img)
{
    if (mn_rng_uniform(rng) >= 0.5f * strength)
        return;
    const box b = ink_box(img);
    if (b.x1 < 0)
        return;
    const float width = (float)(b.x1 - b.x0 + 1), height = (float)(b.y1 - b.y0 + 1);
    if (width < MN_ASPECT_MIN_WIDTH * height || width >= height)
        return;
    const bool widen = mn_rng_uniform(rng) < 0.5f;
    const float u = mn_rng_uniform(rng);
    const float to_square = height / width - 1.0f; /* the widening that makes it square */
    const float factor = widen ? 1.0f + (WIDEN_MIN + (1.0f - WIDEN_MIN) * u) * to_square
                               : NARROW_MIN + (1.0f - NARROW_MIN) * u;
    const float before = mn_centre_of_mass(img).x;
    float scaled[PIXELS];
    scale_rows(img, factor, 0.5f * (float)(b.x0 + b.x1), scaled);
    mn_shift_image(scaled, (int)lroundf(before - mn_centre_of_mass(scaled).x), 0);
    memcpy(img, scaled, sizeof scaled);
}
