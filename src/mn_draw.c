#include "config.h"

#include <math.h>

#include "mn_draw.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE

static inline float clamp_f(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void mn_draw_segment(float *img, mn_point a, mn_point b, float width)
{
    const float dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float t = len2 > 0.0f ? ((x - a.x) * dx + (y - a.y) * dy) / len2 : 0.0f;
            t = clamp_f(t, 0.0f, 1.0f);
            const float d = hypotf(a.x + t * dx - x, a.y + t * dy - y);
            const float v = 255.0f * clamp_f(0.5f * width + 0.5f - d, 0.0f, 1.0f);
            if (v > img[y * SIDE + x])
                img[y * SIDE + x] = v;
        }
}
