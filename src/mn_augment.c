#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_aspect.h"
#include "mn_augment.h"
#include "mn_cubic.h"
#include "mn_flag.h"
#include "mn_net.h"
#include "mn_rng.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define CENTRE ((SIDE - 1) * 0.5f)
#define ELASTIC_NODES 4

/* fminf/fmaxf are calls into libm without -ffast-math; these values are never NaN */
static inline float min_f(float a, float b) { return a < b ? a : b; }
static inline float max_f(float a, float b) { return a > b ? a : b; }

static const char *const names[MN_AUG_KINDS] = {
    "affine", "elastic", "stroke", "blur", "lowres", "contrast", "flag", "aspect", "rotate",
};

const char *mn_augment_name(int kind)
{
    return kind >= 0 && kind < MN_AUG_KINDS ? names[kind] : "?";
}

int mn_augment_enabled(const mn_augment *aug)
{
    for (int k = 0; k < MN_AUG_KINDS; k++)
        if (aug->strength[k] > 0.0f)
            return 1;
    return 0;
}

static mn_status parse_item(const char *item, size_t len, mn_augment *aug, mn_error *err)
{
    const char *eq = memchr(item, '=', len);
    size_t name_len = eq ? (size_t)(eq - item) : len;
    int kind = -1;
    for (int k = 0; k < MN_AUG_KINDS; k++)
        if (strlen(names[k]) == name_len && memcmp(names[k], item, name_len) == 0)
            kind = k;
    if (kind < 0)
        return mn_fail(err, MN_ERR_ARG,
                            "unknown transform '%.*s' (affine, elastic, stroke, blur, "
                            "lowres, contrast, flag, aspect, rotate, or none)", (int)len, item);
    float strength = 1.0f;
    if (eq) {
        char number[32], *end;
        size_t n = len - name_len - 1;
        if (n == 0 || n >= sizeof number)
            return mn_fail(err, MN_ERR_ARG, "bad strength in '%.*s'", (int)len, item);
        memcpy(number, eq + 1, n);
        number[n] = '\0';
        strength = strtof(number, &end);
        if (*end || !(strength >= 0.0f && strength <= MN_AUGMENT_MAX_STRENGTH))
            return mn_fail(err, MN_ERR_ARG,
                                "strength of %s must be a number from 0 to %g, not '%s'",
                                names[kind], (double)MN_AUGMENT_MAX_STRENGTH, number);
    }
    aug->strength[kind] = strength;
    return MN_OK;
}

mn_status mn_augment_parse(const char *text, mn_augment *aug, mn_error *err)
{
    memset(aug, 0, sizeof *aug);
    if (strcmp(text, "none") == 0)
        return MN_OK;
    if (!*text)
        return mn_fail(err, MN_ERR_ARG, "empty transform list (use 'none')");
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return mn_fail(err, MN_ERR_ARG, "empty item in transform list '%s'", text);
        mn_status st = parse_item(p, len, aug, err);
        if (st)
            return st;
        if (!comma)
            return MN_OK;
        p = comma + 1;
    }
}

void mn_augment_format(const mn_augment *aug, char *out, size_t size)
{
    size_t used = 0;
    if (size)
        out[0] = '\0';
    for (int k = 0; k < MN_AUG_KINDS; k++) {
        if (!(aug->strength[k] > 0.0f) || used >= size)
            continue;
        int n = snprintf(out + used, size - used, "%s%s=%g", used ? "," : "", names[k],
                         (double)aug->strength[k]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used == 0 && size)
        snprintf(out, size, "none");
}

uint64_t mn_augment_seed(uint64_t run_seed, uint64_t epoch, uint64_t index)
{
    uint64_t h = mn_mix64(run_seed ^ 0x4155474d454e54ull); /* "AUGMENT" */
    h = mn_mix64(h ^ epoch);
    return mn_mix64(h ^ index);
}

/* Uniform in [-1, 1). */
static float symmetric(mn_rng *rng)
{
    return 2.0f * mn_rng_uniform(rng) - 1.0f;
}

/* Each transform draws from its own stream, so turning one on changes no other's draws. */
static void stream(mn_rng *rng, uint64_t seed, int kind)
{
    mn_rng_seed(rng, mn_mix64(seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(kind + 1))));
}

#define PADDED (SIDE + 2) /* a zero border of one pixel: neighbours need no checks */

static void pad(const float *in, float *padded)
{
    memset(padded, 0, PADDED * PADDED * sizeof *padded);
    for (int y = 0; y < SIDE; y++)
        memcpy(padded + (y + 1) * PADDED + 1, in + y * SIDE, SIDE * sizeof *in);
}

/* Bilinear sample of the padded image at input coordinates (x, y); 0 outside. */
static float bilinear(const float *padded, float x, float y)
{
    if (!(x > -1.0f && x < (float)SIDE && y > -1.0f && y < (float)SIDE))
        return 0.0f;
    int x0 = (int)(x + 1.0f) - 1, y0 = (int)(y + 1.0f) - 1; /* floor, as x, y > -1 */
    float fx = x - (float)x0, fy = y - (float)y0;
    const float *p = padded + (y0 + 1) * PADDED + (x0 + 1);
    float top = p[0] + fx * (p[1] - p[0]);
    float bottom = p[PADDED] + fx * (p[PADDED + 1] - p[PADDED]);
    return top + fy * (bottom - top);
}

/* The inverse map of the affine part: output offset from the centre -> input offset. */
typedef struct geometry {
    float a[2][2], shift[2];
    float field[2][ELASTIC_NODES][ELASTIC_NODES]; /* elastic displacement at the nodes */
    int elastic;
} geometry;

static void draw_affine(geometry *g, float s, mn_rng *rng)
{
    float angle = 0.2618f * s * symmetric(rng); /* 15 degrees */
    float sx = 1.0f + 0.15f * s * symmetric(rng), sy = 1.0f + 0.15f * s * symmetric(rng);
    float shear = 0.3f * s * symmetric(rng);
    float c = cosf(angle), n = sinf(angle);
    /* forward: rotate(shear(scale(p))); the inverse is drawn directly, as every
     * factor's distribution is symmetric enough for augmentation */
    g->a[0][0] = (c + n * shear) / sx;
    g->a[0][1] = (c * shear - n) / sx;
    g->a[1][0] = n / sy;
    g->a[1][1] = c / sy;
    g->shift[0] = 2.0f * s * symmetric(rng);
    g->shift[1] = 2.0f * s * symmetric(rng);
}

static void draw_elastic(geometry *g, float s, mn_rng *rng)
{
    g->elastic = 1;
    for (int d = 0; d < 2; d++)
        for (int j = 0; j < ELASTIC_NODES; j++)
            for (int i = 0; i < ELASTIC_NODES; i++)
                g->field[d][j][i] = 2.5f * s * symmetric(rng);
}

/* The elastic displacement of row y at every x, bilinear between the nodes: each node
 * row is interpolated along x first (lerp), then the two around y are blended. */
static void displacement_row(const geometry *g, int y, float dx[SIDE], float dy[SIDE])
{
    const float step = (float)(SIDE - 1) / (ELASTIC_NODES - 1);
    float gy = (float)y / step;
    int j = gy >= ELASTIC_NODES - 1 ? ELASTIC_NODES - 2 : (int)gy;
    float fy = gy - (float)j;
    for (int x = 0; x < SIDE; x++) {
        float gx = (float)x / step;
        int i = gx >= ELASTIC_NODES - 1 ? ELASTIC_NODES - 2 : (int)gx;
        float fx = gx - (float)i;
        float d[2];
        for (int k = 0; k < 2; k++) {
            float top = g->field[k][j][i] + fx * (g->field[k][j][i + 1] - g->field[k][j][i]);
            float bottom = g->field[k][j + 1][i] +
                           fx * (g->field[k][j + 1][i + 1] - g->field[k][j + 1][i]);
            d[k] = top + fy * (bottom - top);
        }
        dx[x] = d[0];
        dy[x] = d[1];
    }
}

static void geometric(const mn_augment *aug, uint64_t seed, const float *in, float *out)
{
    geometry g = {.a = {{1, 0}, {0, 1}}};
    float padded[PADDED * PADDED];
    mn_rng rng;
    pad(in, padded);
    if (aug->strength[MN_AUG_AFFINE] > 0.0f) {
        stream(&rng, seed, MN_AUG_AFFINE);
        draw_affine(&g, aug->strength[MN_AUG_AFFINE], &rng);
    }
    if (aug->strength[MN_AUG_ELASTIC] > 0.0f) {
        stream(&rng, seed, MN_AUG_ELASTIC);
        draw_elastic(&g, aug->strength[MN_AUG_ELASTIC], &rng);
    }
    float dx[SIDE] = {0}, dy[SIDE] = {0};
    for (int y = 0; y < SIDE; y++) {
        if (g.elastic)
            displacement_row(&g, y, dx, dy);
        float oy = (float)y - CENTRE - g.shift[1];
        for (int x = 0; x < SIDE; x++) {
            float ox = (float)x - CENTRE - g.shift[0];
            float sx = g.a[0][0] * ox + g.a[0][1] * oy + CENTRE + dx[x];
            float sy = g.a[1][0] * ox + g.a[1][1] * oy + CENTRE + dy[x];
            out[y * SIDE + x] = bilinear(padded, sx, sy);
        }
    }
}

/* With probability s/2, the digit turned about the frame's centre (where MNIST put
 * its centre of mass) by up to ROTATE_MAX either way; false when it is left as it is.
 * The service crops, scales and centres what it is sent, but does not turn it back:
 * a note photographed askew reaches the network turned. */
#define ROTATE_MAX 0.34906585f /* 20 degrees */
static bool turn(float s, mn_rng *rng, const float *in, float *out)
{
    if (!(mn_rng_uniform(rng) < 0.5f * s))
        return false;
    const float angle = ROTATE_MAX * symmetric(rng), c = cosf(angle), n = sinf(angle);
    float padded[PADDED * PADDED];
    pad(in, padded);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            const float ox = (float)x - CENTRE, oy = (float)y - CENTRE;
            out[y * SIDE + x] = bilinear(padded, c * ox - n * oy + CENTRE, n * ox + c * oy + CENTRE);
        }
    return true;
}

/* Gray dilation (sign > 0) or erosion (sign < 0) over a 3x3 cross, on the padded image. */
static float morph_at(const float *padded, int x, int y, int sign)
{
    const float *p = padded + (y + 1) * PADDED + (x + 1);
    float a = p[-1] > p[1] ? p[-1] : p[1], b = p[-PADDED] > p[PADDED] ? p[-PADDED] : p[PADDED];
    if (sign > 0)
        return max_f(p[0], max_f(a, b));
    a = min_f(p[-1], p[1]);
    b = min_f(p[-PADDED], p[PADDED]);
    return min_f(p[0], min_f(a, b));
}

/* Thinning goes half as far as thickening: the service's preprocessing thickens strokes
 * thinner than 1.4 px again (mn_preprocess.h), so very thin strokes are never served. */
static void stroke(float s, mn_rng *rng, const float *in, float *out)
{
    float amount = s * symmetric(rng);
    int sign = amount > 0.0f ? 1 : -1;
    float blend = min_f(sign > 0 ? amount : -0.5f * amount, 1.0f), padded[PADDED * PADDED];
    pad(in, padded);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float v = in[y * SIDE + x];
            out[y * SIDE + x] = v + blend * (morph_at(padded, x, y, sign) - v);
        }
}

/* Separable 3-tap [w, 1, w] filter along rows (dx = 1) or columns (dx = SIDE). */
static void blur_pass(const float *in, float *out, float w, int along_rows)
{
    const float norm = 1.0f / (1.0f + 2.0f * w);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            int p = along_rows ? x : y;
            int step = along_rows ? 1 : SIDE, at = y * SIDE + x;
            float left = p > 0 ? in[at - step] : 0.0f;
            float right = p < SIDE - 1 ? in[at + step] : 0.0f;
            out[at] = (in[at] + w * (left + right)) * norm;
        }
}

static void blur(float s, mn_rng *rng, float *img, float *tmp)
{
    float sigma = s * mn_rng_uniform(rng);
    if (!(sigma > 0.05f))
        return; /* the weight below would be 0: nothing to do */
    float w = expf(-1.0f / (2.0f * sigma * sigma));
    blur_pass(img, tmp, w, 1);
    blur_pass(tmp, img, w, 0);
}

/* weights[c][i]: the share of input pixel i in low-res cell c of n (area averaging) */
static void area_weights(int n, float weights[14][SIDE])
{
    const float scale = (float)SIDE / (float)n;
    for (int c = 0; c < n; c++)
        for (int i = 0; i < SIDE; i++) {
            float lo = max_f((float)c * scale, (float)i);
            float hi = min_f((float)(c + 1) * scale, (float)(i + 1));
            weights[c][i] = hi > lo ? (hi - lo) / scale : 0.0f;
        }
}

static void downsample(const float *in, float *low, int n)
{
    float weights[14][SIDE], rows[SIDE * 14];
    area_weights(n, weights);
    for (int y = 0; y < SIDE; y++)
        for (int c = 0; c < n; c++) {
            float sum = 0.0f;
            for (int x = 0; x < SIDE; x++)
                sum += weights[c][x] * in[y * SIDE + x];
            rows[y * n + c] = sum;
        }
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            float sum = 0.0f;
            for (int y = 0; y < SIDE; y++)
                sum += weights[r][y] * rows[y * n + c];
            low[r * n + c] = sum;
        }
}

static int clamp_i(int v, int n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

/* The low-res image back to 28x28 as the service scales up a small or blocky digit
 * (src/mn_preprocess.c): Catmull-Rom at each output pixel's centre, edges extended. */
static void upsample(const float *low, int n, float *out)
{
    int base[SIDE];
    double w[SIDE][4];
    for (int p = 0; p < SIDE; p++) {
        double v = (p + 0.5) * n / SIDE - 0.5;
        base[p] = (int)floor(v);
        mn_cubic_weights(v - base[p], w[p]);
    }
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double sum = 0.0;
            for (int j = 0; j < 4; j++) {
                const float *row = low + clamp_i(base[y] - 1 + j, n) * n;
                double r = 0.0;
                for (int i = 0; i < 4; i++)
                    r += w[x][i] * row[clamp_i(base[x] - 1 + i, n)];
                sum += w[y][j] * r;
            }
            out[y * SIDE + x] = min_f(max_f((float)sum, 0.0f), 255.0f);
        }
}

/* As an old scanner stored a digit: its bitmap (ink or not) counted into blocks, the
 * digit 7 to 9 blocks tall, 17 levels, then scaled back up smoothly. */
static void lowres(float s, mn_rng *rng, float *img)
{
    if (!(mn_rng_uniform(rng) < 0.5f * s))
        return;
    int n = 10 + (int)mn_rng_below(rng, 3); /* the 28-px frame in 10..12 blocks */
    float bitmap[PIXELS], low[14 * 14];
    for (int i = 0; i < PIXELS; i++)
        bitmap[i] = img[i] >= 128.0f ? 255.0f : 0.0f;
    downsample(bitmap, low, n);
    for (int i = 0; i < n * n; i++)
        low[i] = (float)(int)(low[i] * (16.0f / 255.0f) + 0.5f) * (255.0f / 16.0f);
    upsample(low, n, img);
}

/* x^gamma from a table every 4 gray levels, linearly interpolated: 65 powf calls an
 * image instead of one a pixel */
static void contrast(float s, mn_rng *rng, float *img)
{
    enum { STEPS = 64 };
    float gamma = expf(0.7f * s * symmetric(rng)), table[STEPS + 1];
    for (int k = 0; k <= STEPS; k++)
        table[k] = 255.0f * powf((float)k / STEPS, gamma);
    for (int i = 0; i < PIXELS; i++) {
        float pos = min_f(max_f(img[i], 0.0f), 255.0f) * (STEPS / 255.0f);
        int k = pos >= STEPS ? STEPS - 1 : (int)pos;
        img[i] = table[k] + (pos - (float)k) * (table[k + 1] - table[k]);
    }
}

/* The service stretches faint strokes back to full white (mn_preprocess.h), so a digit
 * the transforms left fainter is trained on as it would be served. */
static void stretch_to_white(float *img)
{
    float top = 0.0f;
    for (int i = 0; i < PIXELS; i++)
        top = max_f(top, img[i]);
    if (!(top > 1.0f) || top >= 255.0f)
        return;
    const float gain = 255.0f / top;
    for (int i = 0; i < PIXELS; i++)
        img[i] *= gain;
}

void mn_augment_image(const mn_augment *aug, uint64_t seed, int label, const uint8_t *in,
                      uint8_t *out)
{
    if (!mn_augment_enabled(aug)) {
        memcpy(out, in, PIXELS);
        return;
    }
    float a[PIXELS], b[PIXELS];
    mn_rng rng;
    for (int i = 0; i < PIXELS; i++)
        a[i] = (float)in[i];
    if (aug->strength[MN_AUG_FLAG] > 0.0f && label == 1) {
        stream(&rng, seed, MN_AUG_FLAG);
        mn_flag_draw(aug->strength[MN_AUG_FLAG], &rng, a);
    }
    if (aug->strength[MN_AUG_ASPECT] > 0.0f) {
        stream(&rng, seed, MN_AUG_ASPECT);
        mn_aspect_change(aug->strength[MN_AUG_ASPECT], &rng, a);
    }
    if (aug->strength[MN_AUG_ROTATE] > 0.0f) {
        stream(&rng, seed, MN_AUG_ROTATE);
        if (turn(aug->strength[MN_AUG_ROTATE], &rng, a, b))
            memcpy(a, b, sizeof a);
    }
    if (aug->strength[MN_AUG_AFFINE] > 0.0f || aug->strength[MN_AUG_ELASTIC] > 0.0f) {
        geometric(aug, seed, a, b);
        memcpy(a, b, sizeof a);
    }
    if (aug->strength[MN_AUG_STROKE] > 0.0f) {
        stream(&rng, seed, MN_AUG_STROKE);
        stroke(aug->strength[MN_AUG_STROKE], &rng, a, b);
        memcpy(a, b, sizeof a);
    }
    if (aug->strength[MN_AUG_BLUR] > 0.0f) {
        stream(&rng, seed, MN_AUG_BLUR);
        blur(aug->strength[MN_AUG_BLUR], &rng, a, b);
    }
    if (aug->strength[MN_AUG_LOWRES] > 0.0f) {
        stream(&rng, seed, MN_AUG_LOWRES);
        lowres(aug->strength[MN_AUG_LOWRES], &rng, a);
    }
    if (aug->strength[MN_AUG_CONTRAST] > 0.0f) {
        stream(&rng, seed, MN_AUG_CONTRAST);
        contrast(aug->strength[MN_AUG_CONTRAST], &rng, a);
    }
    stretch_to_white(a);
    for (int i = 0; i < PIXELS; i++) {
        float v = a[i] + 0.5f; /* rounds: v is not negative where it is used */
        out[i] = (uint8_t)(!(v > 1.0f) ? 0 : v >= 255.0f ? 255 : (int)v); /* NaN -> 0 */
    }
}
