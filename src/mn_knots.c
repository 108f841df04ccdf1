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

/* The factor f and the phase of the knots along one axis, or false: every bend lies
 * next to a knot (at phase + i f; with f even, the knot falls between that position
 * and the one before it), and at least 3 knots bend. The largest such f wins: with f
 * even, f / 2 fits as well when it is even (its extra knots just never bend). */
static bool knots(const int *at, int n, int len, int *f_out, int *phase_out)
{
    for (int f = MN_KNOTS_MAX_FACTOR; f >= MN_KNOTS_MIN_FACTOR; f--)
        for (int phase = 0; phase < f && 3 * f <= len; phase++) {
            int bent = 0, last = -1;
            bool fits = true;
            for (int k = 0; k < n && fits; k++) {
                const int r = ((at[k] - phase) % f + f) % f;
                fits = r == 0 || (f % 2 == 0 && r == f - 1);
                const int knot = (at[k] - phase + (r ? 1 : 0)) / f; /* which knot, from 0 */
                bent += knot != last;
                last = knot;
            }
            if (fits && bent >= 3) {
                *f_out = f;
                *phase_out = phase;
                return true;
            }
        }
    return false;
}

/* The positions of the knots along an axis of length len: the first of the one or two
 * pixels whose mean is the knot's value goes to first[], their count to *span. */
static int knot_positions(int len, int f, int phase, int max_cells, int first[], int *span)
{
    *span = f % 2 == 0 ? 2 : 1;
    int n = 0;
    for (int p = phase; p < len; p += f) {
        if (p - (*span - 1) < 0)
            continue;
        if (n == max_cells)
            return max_cells + 1;
        first[n++] = p - (*span - 1);
    }
    return n;
}

/* The value at a knot that falls between positions p and p + 1 of a line (values v at
 * stride step, len of them): each of the two lies on its own side's segment, so each
 * side is extended half a pixel along its own slope, and the two meet half way. */
static double between(const double *v, int p, int len)
{
    const bool left = p > 0, right = p + 2 < len;
    const double from_left = left ? v[p] + (v[p] - v[p - 1]) / 2 : 0.0;
    const double from_right = right ? v[p + 1] - (v[p + 2] - v[p + 1]) / 2 : 0.0;
    if (left && right)
        return (from_left + from_right) / 2;
    return left ? from_left : right ? from_right : (v[p] + v[p + 1]) / 2;
}

/* Row y of crop c at the knots first[] (span 1: on a pixel; 2: between two). */
static void row_at_knots(const mn_gray_image *img, rect c, int y, const int *first, int n,
                         int span, double *out)
{
    const int w = c.x1 - c.x0 + 1;
    double line[MAX_SIDE];
    const uint8_t *px = img->pixels + (size_t)(c.y0 + y) * (size_t)img->width + c.x0;
    for (int x = 0; x < w; x++)
        line[x] = px[x];
    for (int i = 0; i < n; i++)
        out[i] = span == 1 ? line[first[i]] : between(line, first[i], w);
}

bool mn_knots_native(const mn_gray_image *img, rect c, int max_cells, uint8_t *native,
                     mn_gray_image *out)
{
    const int w = c.x1 - c.x0 + 1, h = c.y1 - c.y0 + 1;
    if (w > MAX_SIDE || h > MAX_SIDE || w < 3 * MN_KNOTS_MIN_FACTOR || h < 3 * MN_KNOTS_MIN_FACTOR)
        return false;
    int at[MAX_SIDE], n, fx, fy, px, py;
    bends(img, c, true, at, &n);
    if (!knots(at, n, w, &fx, &px))
        return false;
    bends(img, c, false, at, &n);
    if (!knots(at, n, h, &fy, &py) || fx != fy)
        return false;
    enum { CELLS = MN_PREPROCESS_BOX };
    int xs[CELLS + 1], ys[CELLS + 1], span;
    if (max_cells > CELLS)
        max_cells = CELLS;
    const int nx = knot_positions(w, fx, px, max_cells, xs, &span);
    const int ny = knot_positions(h, fy, py, max_cells, ys, &span);
    if (nx < 3 || ny < 3 || nx > max_cells || ny > max_cells)
        return false;
    /* separable, as the scaling was: along x on the rows each knot needs, then along y */
    double rows[4][CELLS], column[MAX_SIDE];
    for (int j = 0; j < ny; j++) {
        const int y0 = ys[j] - (span == 2 ? 1 : 0), y1 = ys[j] + (span == 2 ? 2 : 0);
        for (int y = y0; y <= y1; y++)
            if (y >= 0 && y < h)
                row_at_knots(img, c, y, xs, nx, span, rows[y - y0]);
        for (int i = 0; i < nx; i++) {
            double v;
            if (span == 1) {
                v = rows[0][i];
            } else {  /* the four rows as a line of its own, the knot between its middle two */
                int len = 0, p = 1;
                for (int y = y0; y <= y1; y++)
                    if (y >= 0 && y < h)
                        column[len++] = rows[y - y0][i];
                    else if (y < ys[j])
                        p--;  /* no row above: the pair starts the line */
                v = between(column, p, len);
            }
            native[j * nx + i] = (uint8_t)lround(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
        }
    }
    out->width = nx;
    out->height = ny;
    out->pixels = native;
    return true;
}
