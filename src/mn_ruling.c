/* Step 1c of preprocessing: the lines of ruled or squared paper in a photo, painted
 * over. Photographed at an angle, the lines cross the picture at a slant, and step 3,
 * which looks for them along the rows and columns of its grid, cannot see them; nor
 * can it see lines that stop short of the picture's edges, as a page's do when the
 * photo shows it in perspective. A pencil digit's crop then took the lines in with
 * it. Here they are found as straight paths of ink across most of the flat-fielded
 * copy, at any slant up to an eighth of its length, and painted over with the paper
 * beside them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mn_levels.h"
#include "mn_ruling.h"
#include "mn_simd.h"

#define MIN_LENGTH 64        /* pixels: a shorter image shows too little of a line */
#define MAX_LINES 64         /* per direction, more than any paper has */
#define MAX_CANDIDATES 1024  /* each line is seen at a few drifts */

/* One direction of lines: `along` pixels long, `across` of them side by side. Pixel
 * (i along, j across) is at px[i * si + j * sj]; lit[i * across + j] says whether it
 * is above the cut. */
typedef struct lattice {
    uint8_t *px;
    const uint8_t *lit;
    int along, across;
    size_t si, sj;
} lattice;

/* Every straight path across a lattice: the one that starts at a (-D <= a < across +
 * D: it may enter or leave through a side) and drifts by d (|d| <= D) over the length
 * has count[at(d, a)] lit pixels among its inside[at(d, a)] pixels in the picture. */
typedef struct paths {
    uint32_t *count;
    int32_t *inside;
    int D, along, across;
} paths;

typedef struct line {
    int d;       /* drift across over the whole length, in pixels */
    int a0, a1;  /* the run of paths it covers */
    uint32_t count;
} line;

static size_t at(const paths *p, int d, int a)
{
    return (size_t)(d + p->D) * (size_t)(p->across + 2 * p->D) + (size_t)(a + p->D);
}

/* How far the path that drifts by d has moved at i, rounded half away from zero. */
static int drift_at(int d, int i, int along)
{
    const int m = abs(d), step = (2 * m * i + (along - 1)) / (2 * (along - 1));
    return d < 0 ? -step : step;
}

/* The counts: each row of lit pixels is added, shifted, to every drift's row of
 * counts, a plain loop that the compiler vectorises. The lengths inside: path a meets
 * the picture at i when 0 <= a + drift < across, counted by a difference array. */
MN_HOT_KERNEL
static void trace(const lattice *t, paths *p)
{
    const int n = t->across, D = p->D, width = n + 2 * D;
    memset(p->count, 0, sizeof p->count[0] * (size_t)(2 * D + 1) * (size_t)width);
    memset(p->inside, 0, sizeof p->inside[0] * (size_t)(2 * D + 1) * (size_t)width);
    for (int d = -D; d <= D; d++) {
        int32_t *in = p->inside + at(p, d, -D);
        for (int i = 0; i < t->along; i++) {
            const int s = drift_at(d, i, t->along);
            in[D - s]++;  /* from a = -s ... */
            if (n - s + D < width)
                in[n - s + D]--;  /* ... to a = n - s - 1 */
        }
        for (int a = 1; a < width; a++)
            in[a] += in[a - 1];
    }
    for (int i = 0; i < t->along; i++) {
        const uint8_t *row = t->lit + (size_t)i * (size_t)n;
        if (!memchr(row, 1, (size_t)n))
            continue;
        for (int d = -D; d <= D; d++) {
            uint32_t *out = p->count + at(p, d, -drift_at(d, i, t->along));
            for (int j = 0; j < n; j++)  /* pixel j lies on the path from j - drift */
                out[j] += row[j];
        }
    }
}

/* Whether a path lies in the picture for half its length or more and is lit along
 * `tenths` tenths of that. */
static bool lit_along(const paths *p, int d, int a, int tenths)
{
    if (a < -p->D || a >= p->across + p->D)
        return false;
    const size_t k = at(p, d, a);
    return 2 * p->inside[k] >= p->along && p->count[k] * 10 >= (uint32_t)(p->inside[k] * tenths);
}

/* Runs of paths at one drift that are lit along 80 % of their part inside the picture
 * (a page seen in perspective stops short of its edges), thin, with paper (under 70 %
 * lit) two paths beyond either side: lines, not a stroke. */
static int lines_at(const paths *p, int d, int thin, line *out, int room)
{
    int n = 0;
    for (int a = -p->D; a < p->across + p->D && n < room;) {
        if (!lit_along(p, d, a, 8)) {
            a++;
            continue;
        }
        int end = a;
        uint32_t peak = 0;
        for (; lit_along(p, d, end, 8); end++)
            peak = p->count[at(p, d, end)] > peak ? p->count[at(p, d, end)] : peak;
        if (end - a <= thin && !lit_along(p, d, a - 2, 7) && !lit_along(p, d, end + 1, 7))
            out[n++] = (line){d, a, end - 1, peak};
        a = end;
    }
    return n;
}

/* Whether two candidates are the same line, seen at neighbouring drifts (a line a few
 * pixels wide holds paths of several): within `thin` of each other at both ends. */
static bool same_line(const line *x, const line *y, int thin)
{
    return abs(x->a0 - y->a0) <= thin && abs(x->a0 + x->d - (y->a0 + y->d)) <= thin;
}

/* More lit first; among equals, the earlier candidate (a total order, so the result
 * does not depend on qsort's). */
static int by_count(const void *a, const void *b)
{
    const line *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->d != y->d ? (x->d < y->d ? -1 : 1) : (x->a0 < y->a0 ? -1 : x->a0 > y->a0);
}

/* The lines of one direction, each kept at the drift where it is lit most: the
 * candidates taken most lit first, each one kept unless a kept one is the same line. */
static int find_lines(const paths *p, line *out)
{
    const int thin = max_i(2, p->across / 32);
    line cand[MAX_CANDIDATES];
    int n = 0;
    for (int d = -p->D; d <= p->D; d++)
        n += lines_at(p, d, thin, cand + n, MAX_CANDIDATES - n);
    qsort(cand, (size_t)n, sizeof cand[0], by_count);
    int kept = 0;
    for (int k = 0; k < n && kept < MAX_LINES; k++) {
        bool seen = false;
        for (int m = 0; m < kept && !seen; m++)
            seen = same_line(&cand[k], &out[m], thin);
        if (!seen)
            out[kept++] = cand[k];
    }
    return kept;
}

/* Paints a line over with the paper on either side of it, a pixel wider each way;
 * where ink reaches across further than that, the pixels are left as they are: a
 * stroke along the line or over it, or a broad stroke that paths at a slant cross in
 * a thin run. */
static void paint_over(const lattice *t, const line *l)
{
    const int width = l->a1 - l->a0 + 3;
    for (int i = 0; i < t->along; i++) {
        const int s = drift_at(l->d, i, t->along);
        const int c0 = max_i(0, l->a0 + s - 1), c1 = min_i(t->across - 1, l->a1 + s + 1);
        if (c0 > c1)  /* the line is outside the picture here */
            continue;
        const uint8_t *lit = t->lit + (size_t)i * (size_t)t->across;
        int lo = c0, hi = c1;  /* the band, and the ink that touches it */
        while (lo > 0 && lit[lo - 1] && hi - lo < width + 2)
            lo--;
        while (hi < t->across - 1 && lit[hi + 1] && hi - lo < width + 2)
            hi++;
        if (hi - lo + 1 > width + 2)
            continue;
        int p = c0 > 0 ? t->px[(size_t)i * t->si + (size_t)(c0 - 1) * t->sj] : -1;
        int q = c1 < t->across - 1 ? t->px[(size_t)i * t->si + (size_t)(c1 + 1) * t->sj] : -1;
        if (p < 0)
            p = q;
        if (q < 0)
            q = p;
        for (int c = c0; c <= c1 && p >= 0; c++)
            t->px[(size_t)i * t->si + (size_t)c * t->sj] =
                (uint8_t)((p * (c1 + 1 - c) + q * (c - c0 + 1)) / (c1 - c0 + 2));
    }
}

/* lit[] for one direction: whether each pixel is above the cut, rows along it. */
static void mark_lit(const mn_gray_image *img, const levels *lv, bool transposed, uint8_t *lit)
{
    const int w = img->width, h = img->height;
    uint8_t above[256];
    for (int v = 0; v < 256; v++)
        above[v] = to_ink(v, lv->inverted) > lv->cut;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            lit[transposed ? (size_t)x * (size_t)h + (size_t)y : (size_t)y * (size_t)w + (size_t)x] =
                above[img->pixels[(size_t)y * (size_t)w + (size_t)x]];
}

/* One direction: its lines found and painted over, if there are two or more (a
 * paper's lines come in families; a single straight thing may be a stroke). Returns
 * how many it painted; *unseen counts those that step 3 cannot find, at a slant or
 * stopping short of the picture's edges. */
static int erase_direction(const lattice *t, paths *p, int *unseen)
{
    if (t->along < MIN_LENGTH)
        return 0;
    p->D = t->along / 8;  /* about 7 degrees */
    p->along = t->along;
    p->across = t->across;
    trace(t, p);
    line found[MAX_LINES];
    const int n = find_lines(p, found);
    if (n < 2)
        return 0;
    for (int k = 0; k < n; k++) {
        paint_over(t, &found[k]);
        *unseen += abs(found[k].d) > 1 || p->inside[at(p, found[k].d, found[k].a0)] < p->along;
    }
    return n;
}

/* Both directions of img (at most GRID x GRID): the lines painted, *unseen as above. */
static int erase_lines(mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s, int *unseen)
{
    const int w = img->width, h = img->height;
    /* s->seen, s->faint, s->mass and s->stack are free until step 3 */
    paths p = {s->mass, s->stack, 0, 0, 0};
    mark_lit(img, lv, true, s->seen);  /* level lines: along x, lit[x * h + y] */
    lattice rows = {img->pixels, s->seen, w, h, 1, (size_t)w};
    const int painted = erase_direction(&rows, &p, unseen);
    mark_lit(img, lv, false, s->faint);  /* upright ones: along y */
    lattice cols = {img->pixels, s->faint, h, w, (size_t)w, 1};
    return painted + erase_direction(&cols, &p, unseen);
}

bool mn_ruling_paint_over(mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s)
{
    const int w = img->width, h = img->height;
    if (w > GRID || h > GRID || (w < MIN_LENGTH && h < MIN_LENGTH))
        return false;
    int unseen = 0;
    return erase_lines(img, lv, s, &unseen) > 0;
}

/* Lit runs along one line of img (n pixels from `start`, `step` apart): where a
 * page's lines cross it. On a camera's noisy paper only runs of two pixels or more
 * count, so that its grain does not. */
static int runs_across(const mn_gray_image *img, const levels *lv, size_t start, size_t step, int n)
{
    const int shortest = lv->noisy ? 2 : 1;
    int runs = 0, length = 0;
    for (int k = 0; k < n; k++) {
        const bool lit = to_ink(img->pixels[start + (size_t)k * step], lv->inverted) > lv->cut;
        length = lit ? length + 1 : 0;
        runs += length == shortest;
    }
    return runs;
}

/* Whether lines cross the picture from side to side: two or more lit runs on each of
 * two opposite sides, a sixteenth in (a page in perspective stops short of the edges). */
static bool shows_lines(const mn_gray_image *img, const levels *lv)
{
    const int w = img->width, h = img->height, ix = w / 16, iy = h / 16;
    const size_t W = (size_t)w;
    const bool rows = runs_across(img, lv, (size_t)ix, W, h) >= 2 &&
                      runs_across(img, lv, (size_t)(w - 1 - ix), W, h) >= 2;
    const bool cols = runs_across(img, lv, (size_t)iy * W, 1, w) >= 2 &&
                      runs_across(img, lv, (size_t)(h - 1 - iy) * W, 1, w) >= 2;
    return rows || cols;
}

bool mn_ruling_paint_copy(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                          mn_gray_image *copy, int *ds)
{
    if ((img->width < MIN_LENGTH && img->height < MIN_LENGTH) || !shows_lines(img, lv))
        return false;
    int d;
    mn_gray_image c;
    mn_levels_average_down(img, (rect){0, 0, img->width - 1, img->height - 1}, 0, 255, s->flat, &c, &d);
    int unseen = 0;
    /* level lines across the whole picture are step 3's, at full resolution */
    if (erase_lines(&c, lv, s, &unseen) == 0 || unseen == 0)
        return false;
    *copy = c;
    *ds = d;
    return true;
}
