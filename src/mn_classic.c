#include "config.h"

#include <math.h>
#include <string.h>

#include "mn_classic.h"

#define SIDE 28
#define BITMAP 32
#define BLOCK (BITMAP / MN_CLASSIC_SIDE)

typedef struct box {
    int x0, y0, x1, y1; /* inclusive; x1 < 0 when there is no ink */
} box;

static box ink_box(const uint8_t *digit)
{
    box b = {SIDE, SIDE, -1, -1};
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            if (digit[y * SIDE + x]) {
                b.x0 = x < b.x0 ? x : b.x0;
                b.x1 = x > b.x1 ? x : b.x1;
                b.y0 = y < b.y0 ? y : b.y0;
                b.y1 = y > b.y1 ? y : b.y1;
            }
    return b;
}

/* Where output pixel p of n samples a span [lo, hi] of the source: the pixel centres
 * of both aligned, as image libraries scale; clamped to the span. */
static void source_position(int p, int n, int lo, int hi, int *i, float *frac)
{
    float v = lo + (p + 0.5f) * (float)(hi - lo + 1) / (float)n - 0.5f;
    v = v < (float)lo ? (float)lo : v > (float)hi ? (float)hi : v;
    *i = (int)v < hi ? (int)v : (hi > lo ? hi - 1 : lo);
    *frac = v - (float)*i;
}

static float bilinear(const uint8_t *img, int stride, int x, float fx, int x2, int y, float fy,
                      int y2)
{
    const uint8_t *r0 = img + y * stride, *r1 = img + y2 * stride;
    return (1.0f - fy) * ((1.0f - fx) * r0[x] + fx * r0[x2]) +
           fy * ((1.0f - fx) * r1[x] + fx * r1[x2]);
}

void mn_classic_store(const uint8_t digit[SIDE * SIDE], uint8_t out[MN_CLASSIC_PIXELS])
{
    int count[MN_CLASSIC_PIXELS] = {0};
    const box b = ink_box(digit);
    memset(out, 0, MN_CLASSIC_PIXELS);
    if (b.x1 < 0)
        return;
    const int w = b.x1 - b.x0 + 1, h = b.y1 - b.y0 + 1;
    const float scale = (float)BITMAP / (float)(w > h ? w : h);
    const int fw = (int)fmaxf(1.0f, roundf(w * scale)), fh = (int)fmaxf(1.0f, roundf(h * scale));
    const int left = (BITMAP - fw) / 2, top = (BITMAP - fh) / 2;
    for (int y = 0; y < fh; y++) {
        int sy;
        float fy;
        source_position(y, fh, b.y0, b.y1, &sy, &fy);
        const int sy2 = sy < b.y1 ? sy + 1 : sy;
        for (int x = 0; x < fw; x++) {
            int sx;
            float fx;
            source_position(x, fw, b.x0, b.x1, &sx, &fx);
            const int sx2 = sx < b.x1 ? sx + 1 : sx;
            if (bilinear(digit, SIDE, sx, fx, sx2, sy, fy, sy2) >= 128.0f)
                count[(top + y) / BLOCK * MN_CLASSIC_SIDE + (left + x) / BLOCK]++;
        }
    }
    for (int i = 0; i < MN_CLASSIC_PIXELS; i++)
        out[i] = (uint8_t)lroundf((float)count[i] * 255.0f / (BLOCK * BLOCK));
}

void mn_classic_with_margin(const uint8_t small[MN_CLASSIC_PIXELS], int factor, uint8_t *out)
{
    enum { F = MN_CLASSIC_FRAME };
    uint8_t frame[F * F] = {0};
    for (int y = 0; y < MN_CLASSIC_SIDE; y++)
        memcpy(frame + (y + MN_CLASSIC_MARGIN) * F + MN_CLASSIC_MARGIN,
               small + y * MN_CLASSIC_SIDE, MN_CLASSIC_SIDE);
    const int n = F * factor;
    for (int y = 0; y < n; y++) {
        int sy;
        float fy;
        source_position(y, n, 0, F - 1, &sy, &fy);
        for (int x = 0; x < n; x++) {
            int sx;
            float fx;
            source_position(x, n, 0, F - 1, &sx, &fx);
            out[y * n + x] = (uint8_t)(bilinear(frame, F, sx, fx, sx + 1, sy, fy, sy + 1) + 0.5f);
        }
    }
}
