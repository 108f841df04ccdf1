#include "config.h"

#include <math.h>

#include "mn_draw.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE

static inline float clamp_f(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

float mn_segment_distance(mn_point p, mn_point a, mn_point b)
{
    const float dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    float t = len2 > 0.0f ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0f;
    t = clamp_f(t, 0.0f, 1.0f);
    return hypotf(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

void mn_draw_segment(float *img, mn_point a, mn_point b, float width)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            const float d = mn_segment_distance((mn_point){(float)x, (float)y}, a, b);
            const float v = 255.0f * clamp_f(0.5f * width + 0.5f - d, 0.0f, 1.0f);
            if (v > img[y * SIDE + x])
                img[y * SIDE + x] = v;
        }
}
