/* A small digit scaled up by linear interpolation, back at its own pixels (see
 * mn_knots.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "mn_knots.h"

/* A second difference beyond this is a bend, not the rounding of a line: each of the
 * three values is off by at most 0.5, so rounding alone gives at most 2. */
#define ROUNDING 2
#define MAX_SIDE (MN_KNOTS_MAX_FACTOR * (MN_PREPROCESS_BOX + 1))

/* Where the line along one axis of crop c bends: the positions p (1..len-2) at which
 * some row (column) has a second difference beyond ROUNDING, into at[] (*n of them). */
static void bends(const mn_gray_image *img, rect c, bool along_x, int at[MAX_SIDE], int *n)
{
    const int len = along_x ? c.x1 - c.x0 + 1 : c.y1 - c.y0 + 1;
    const int other = along_x ? c.y1 - c.y0 + 1 : c.x1 - c.x0 + 1;
    const ptrdiff_t step = along_x ? 1 : img->width, across = along_x ? img->width : 1;
    const uint8_t *origin = img->pixels + (size_t)c.y0 * (size_t)img->width + c.x0;
    *n = 0;
    for (int p = 1; p + 1 < len; p++)
        for (int q = 0; q < other; q++) {
            const uint8_t *px = origin + q * across + p * step;
            if (abs(px[-step] - 2 * px[0] + px[step]) > ROUNDING) {
                at[(*n)++] = p;
                break;
            }
        }
}

/* The knots along one axis: each cluster of bends (one position, or two side by side)
 * is where a pixel centre of the small image fell, and those lie f apart, at
 * phase + i f, with f a real number (an image of n pixels scaled to m has f = m / n).
 * f and phase are fitted to the clusters by least squares; false unless at least 3
 * clusters each lie within a pixel of their knot, f is within the factors tried, and
 * no bend is three positions wide (an edge drawn at full resolution). */
static bool knots(const int *at, int n, double *f_out, double *phase_out)
{
    double centre[MAX_SIDE];
    int m = 0;
    for (int k = 0; k < n;) {
        int run = 1;
        while (k + run < n && at[k + run] == at[k] + run)
            run++;
        if (run > 2)
            return false;
        centre[m++] = at[k] + (run - 1) / 2.0;
        k += run;
    }
    if (m < 3)
        return false;
    /* a first f: the mean of the spacings close to the smallest (neighbouring knots) */
    double least = centre[1] - centre[0], sum = 0.0;
    int near = 0;
    for (int j = 2; j < m; j++)
        least = fmin(least, centre[j] - centre[j - 1]);
    for (int j = 1; j < m; j++)
        if (centre[j] - centre[j - 1] < 1.5 * least) {
            sum += centre[j] - centre[j - 1];
            near++;
        }
    double f = sum / near, phase = centre[0];
    for (int round = 0; round < 2; round++) {  /* number the knots, fit, number again */
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int j = 0; j < m; j++) {
            const double i = (double)lround((centre[j] - phase) / f);
            sx += i, sy += centre[j], sxx += i * i, sxy += i * centre[j];
        }
        const double det = m * sxx - sx * sx;
        if (det <= 0.0)
            return false;
        f = (m * sxy - sx * sy) / det;
        phase = (sy - f * sx) / m;
        if (!(f >= MN_KNOTS_MIN_FACTOR && f <= MN_KNOTS_MAX_FACTOR))
            return false;
    }
    for (int j = 0; j < m; j++)
        if (fabs(centre[j] - phase - f * (double)lround((centre[j] - phase) / f)) > 1.0)
            return false;
    *f_out = f;
    *phase_out = phase - f * floor(phase / f);  /* the first knot at or after 0 */
    return true;
}

/* The knots inside [0, len - 1]: phase + i f, into t[]; returns their count, or
 * max_cells + 1 when there are more. */
static int knot_positions(int len, double f, double phase, int max_cells, double t[])
{
    int n = 0;
    for (double p = phase; p <= len - 1 + 1e-9; p += f) {
        if (n == max_cells)
            return max_cells + 1;
        t[n++] = fmin(p, len - 1);
    }
    return n;
}

/* The line v (len values) at knot t: the pixels on each side lie on that side's
 * segment, which is extended to t along its own slope; the two sides meet half way.
 * A knot on a pixel is that pixel's value either way. */
static double at_knot(const double *v, int len, double t)
{
    const int a = (int)floor(t), b = (int)ceil(t);
    const bool left = a > 0, right = b + 1 < len;
    const double from_left = left ? v[a] + (v[a] - v[a - 1]) * (t - a) : v[a];
    const double from_right = right ? v[b] - (v[b + 1] - v[b]) * (b - t) : v[b];
    if (left && right)
        return (from_left + from_right) / 2;
    return left ? from_left : from_right;
}

/* Row y of crop c at the knots t[0..n). */
static void row_at_knots(const mn_gray_image *img, rect c, int y, const double *t, int n,
                         double *out)
{
    const int w = c.x1 - c.x0 + 1;
    double line[MAX_SIDE];
    const uint8_t *px = img->pixels + (size_t)(c.y0 + y) * (size_t)img->width + c.x0;
    for (int x = 0; x < w; x++)
        line[x] = px[x];
    for (int i = 0; i < n; i++)
        out[i] = at_knot(line, w, t[i]);
}

bool mn_knots_native(const mn_gray_image *img, rect c, int max_cells, uint8_t *native,
                     mn_gray_image *out)
{
    const int w = c.x1 - c.x0 + 1, h = c.y1 - c.y0 + 1;
    const int least = 3 * MN_KNOTS_MIN_FACTOR;  /* three knots */
    if (w > MAX_SIDE || h > MAX_SIDE || w < least || h < least)
        return false;
    int at[MAX_SIDE], n;
    double fx, fy, px, py;
    bends(img, c, true, at, &n);
    if (!knots(at, n, &fx, &px))
        return false;
    bends(img, c, false, at, &n);
    if (!knots(at, n, &fy, &py) || fabs(fx - fy) > 0.05 * fmin(fx, fy))  /* square pixels */
        return false;
    enum { CELLS = MN_PREPROCESS_BOX };
    double xs[CELLS + 1], ys[CELLS + 1];
    if (max_cells > CELLS)
        max_cells = CELLS;
    const int nx = knot_positions(w, fx, px, max_cells, xs);
    const int ny = knot_positions(h, fy, py, max_cells, ys);
    if (nx < 3 || ny < 3 || nx > max_cells || ny > max_cells)
        return false;
    /* separable, as the scaling was: along x on the rows each knot needs, then along y */
    double rows[4][CELLS];
    for (int j = 0; j < ny; j++) {
        const int y0 = (int)floor(ys[j]) - 1;  /* rows a - 1, a, b, b + 1 around the knot */
        for (int k = 0; k < 4; k++)
            if (y0 + k >= 0 && y0 + k < h)
                row_at_knots(img, c, y0 + k, xs, nx, rows[k]);
        const int first = y0 < 0 ? 1 : 0, last = y0 + 3 < h ? 3 : h - 1 - y0;
        for (int i = 0; i < nx; i++) {
            double column[4];
            for (int k = first; k <= last; k++)
                column[k - first] = rows[k][i];
            const double v = at_knot(column, last - first + 1, ys[j] - (y0 + first));
            native[j * nx + i] = (uint8_t)lround(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
        }
    }
    out->width = nx;
    out->height = ny;
    out->pixels = native;
    return true;
}
