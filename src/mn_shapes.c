#include "config.h"

#include <math.h>
#include <stdbool.h>

#include "mn_draw.h"
#include "mn_rng.h"
#include "mn_shapes.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define CENTRE 13.5f
#define RADIUS 10.0f         /* the shapes' outer radius: 20 pixels across, as MNIST's box */
#define MAX_CORNERS 16       /* a star of 8 points */
#define TWO_PI 6.2831853f
#define SHAPE_STREAM 0x5348415045ull /* "SHAPE" */

typedef mn_point point;

static inline float clamp_f(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static void shape_rng(mn_rng *rng, uint64_t seed)
{
    mn_rng_seed(rng, mn_mix64(seed ^ SHAPE_STREAM));
}

enum mn_shape_kind mn_shape_kind_of(uint64_t seed)
{
    mn_rng rng;
    shape_rng(&rng, seed);
    return (enum mn_shape_kind)mn_rng_below(&rng, MN_SHAPE_KINDS);
}

/* The point at angle a and distance r from the centre. */
static point polar(float a, float r)
{
    return (point){CENTRE + r * cosf(a), CENTRE + r * sinf(a)};
}

/* Whether p lies inside the polygon (even-odd rule). */
static bool inside(point p, const point *c, int n)
{
    bool in = false;
    for (int i = 0, j = n - 1; i < n; j = i++)
        if ((c[i].y > p.y) != (c[j].y > p.y) &&
            p.x < c[j].x + (p.y - c[j].y) * (c[i].x - c[j].x) / (c[i].y - c[j].y))
            in = !in;
    return in;
}

/* Fills the polygon, anti-aliased by the pixel centre's distance to its edge. Half the
 * time the ink fades along a random direction, from full white on one side of the
 * polygon to 35 % on the other. */
static void fill_polygon(float *img, const point *c, int n, mn_rng *rng)
{
    const bool fade = mn_rng_uniform(rng) < 0.5f;
    const float dir = mn_rng_between(rng, 0.0f, TWO_PI), ux = cosf(dir), uy = sinf(dir);
    float lo = 1e9f, hi = -1e9f, x0 = SIDE, x1 = 0.0f, y0 = SIDE, y1 = 0.0f;
    for (int k = 0; k < n; k++) {
        lo = fminf(lo, c[k].x * ux + c[k].y * uy);
        hi = fmaxf(hi, c[k].x * ux + c[k].y * uy);
        x0 = fminf(x0, c[k].x), x1 = fmaxf(x1, c[k].x);
        y0 = fminf(y0, c[k].y), y1 = fmaxf(y1, c[k].y);
    }
    /* pixels further than half a pixel outside the corners' box stay black */
    for (int y = (int)fmaxf(0.0f, ceilf(y0 - 0.5f)); y <= (int)fminf(SIDE - 1, y1 + 0.5f); y++)
        for (int x = (int)fmaxf(0.0f, ceilf(x0 - 0.5f)); x <= (int)fminf(SIDE - 1, x1 + 0.5f); x++) {
            const point p = {(float)x, (float)y};
            float d = 1e9f;
            for (int i = 0, j = n - 1; i < n; j = i++)
                d = fminf(d, mn_segment_distance(p, c[j], c[i]));
            const float cover = clamp_f(inside(p, c, n) ? 0.5f + d : 0.5f - d, 0.0f, 1.0f);
            const float along = clamp_f((x * ux + y * uy - lo) / (hi - lo), 0.0f, 1.0f);
            img[y * SIDE + x] = 255.0f * cover * (fade ? 0.35f + 0.65f * along : 1.0f);
        }
}

static void star(float *img, mn_rng *rng)
{
    point c[MAX_CORNERS];
    const int points = 4 + (int)mn_rng_below(rng, 5);
    const float turn = mn_rng_between(rng, 0.0f, TWO_PI), inner = mn_rng_between(rng, 0.3f, 0.55f) * RADIUS;
    for (int k = 0; k < 2 * points; k++)
        c[k] = polar(turn + (float)k * TWO_PI / (float)(2 * points), k % 2 ? inner : RADIUS);
    fill_polygon(img, c, 2 * points, rng);
}

/* n corners spread around the centre, each moved by up to a third of their spacing
 * and drawn in to 80 % of the radius at most. Here and in scribble() a point's
 * distance is drawn before its angle, in statements of their own: the order of a
 * call's arguments is unspecified in C, and a seed must draw the same picture
 * whatever the compiler. */
static void corners(point *c, int n, mn_rng *rng)
{
    const float turn = mn_rng_between(rng, 0.0f, TWO_PI), step = TWO_PI / (float)n;
    for (int k = 0; k < n; k++) {
        const float r = mn_rng_between(rng, 0.8f, 1.0f) * RADIUS;
        const float a = turn + step * ((float)k + mn_rng_between(rng, -0.33f, 0.33f));
        c[k] = polar(a, r);
    }
}

static void polygon(float *img, mn_rng *rng)
{
    point c[MAX_CORNERS];
    const int n = 3 + (int)mn_rng_below(rng, 6);
    corners(c, n, rng);
    fill_polygon(img, c, n, rng);
}

static void triangle(float *img, mn_rng *rng)
{
    point c[3];
    corners(c, 3, rng);
    const float width = mn_rng_between(rng, 1.5f, 3.5f);
    for (int k = 0; k < 3; k++)
        mn_draw_segment(img, c[k], c[(k + 1) % 3], width);
}

static void cross(float *img, mn_rng *rng)
{
    const int strokes = 2 + (int)mn_rng_below(rng, 3);
    const float turn = mn_rng_between(rng, 0.0f, TWO_PI), width = mn_rng_between(rng, 1.5f, 3.5f);
    for (int k = 0; k < strokes; k++) {
        const float a = turn + ((float)k + mn_rng_between(rng, -0.2f, 0.2f)) * (TWO_PI / 2.0f) / (float)strokes;
        mn_draw_segment(img, polar(a, RADIUS), polar(a + TWO_PI / 2.0f, RADIUS), width);
    }
}

static void scribble(float *img, mn_rng *rng)
{
    const int strokes = 10 + (int)mn_rng_below(rng, 7);
    const float width = mn_rng_between(rng, 1.5f, 3.0f);
    const float r = mn_rng_between(rng, 0.0f, RADIUS);
    const float a = mn_rng_between(rng, 0.0f, TWO_PI);
    point from = polar(a, r);
    for (int k = 0; k < strokes; k++) {
        const float reach = RADIUS * sqrtf(mn_rng_uniform(rng));
        const float turn = mn_rng_between(rng, 0.0f, TWO_PI);
        const point to = polar(turn, reach);
        mn_draw_segment(img, from, to, width);
        from = to;
    }
}

void mn_shape_draw(uint64_t seed, uint8_t out[MN_IMAGE_PIXELS])
{
    mn_rng rng;
    float img[PIXELS] = {0};
    shape_rng(&rng, seed);
    switch ((enum mn_shape_kind)mn_rng_below(&rng, MN_SHAPE_KINDS)) {
    case MN_SHAPE_STAR: star(img, &rng); break;
    case MN_SHAPE_POLYGON: polygon(img, &rng); break;
    case MN_SHAPE_TRIANGLE: triangle(img, &rng); break;
    case MN_SHAPE_CROSS: cross(img, &rng); break;
    default: scribble(img, &rng); break;
    }
    for (int i = 0; i < PIXELS; i++)
        out[i] = (uint8_t)lrintf(clamp_f(img[i], 0.0f, 255.0f));
}
