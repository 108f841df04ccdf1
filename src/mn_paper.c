/* Step 1b of preprocessing: paper under uneven light (a shadow, a gradient) estimated
 * block by block and divided out, so that one cut separates ink from paper. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn_paper.h"
#include "mn_scale.h"
#include "mn_simd.h"

#define PAPER_BLOCKS MN_PREPROCESS_PAPER_BLOCKS
#define PAPER_REACH MN_PREPROCESS_PAPER_REACH

/* Adds the sums of each block of bs columns of `col` (w wide) to out[0..nbx). */
static void add_block_sums(const uint32_t *col, int w, int bs, int nbx, uint32_t *out)
{
    for (int bx = 0; bx < nbx; bx++) {
        uint32_t s = 0;
        for (int x = bx * bs, end = min_i(w, x + bs); x < end; x++)
            s += col[x];
        out[bx] += s;
    }
}

/* The mean ink level per block of bs x bs input pixels (nbx x nby blocks): a mean,
 * not an extreme, so that sensor noise does not darken or lighten the paper. Rows
 * are summed into per-column sums (in the component grid's scratch, free until step
 * 3; a vectorised loop), which each block row then adds up. */
MN_HOT_KERNEL
static void block_means(const mn_gray_image *img, bool inverted, int bs, int nbx, int nby,
                        uint32_t *col, uint8_t paper[PAPER_BLOCKS * PAPER_BLOCKS])
{
    const int w = img->width, h = img->height;
    if (bs == 1) {  /* a small image: its pixels are the blocks */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                paper[y * PAPER_BLOCKS + x] =
                    (uint8_t)to_ink(img->pixels[(size_t)y * (size_t)w + (size_t)x], inverted);
        return;
    }
    uint32_t sum[PAPER_BLOCKS * PAPER_BLOCKS] = {0};
    for (int y0 = 0; y0 < h; y0 += bs) {
        memset(col, 0, sizeof col[0] * (size_t)w);
        for (int y = y0; y < min_i(h, y0 + bs); y++) {
            const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
            for (int x = 0; x < w; x++)
                col[x] += row[x];
        }
        add_block_sums(col, w, bs, nbx, sum + (size_t)(y0 / bs) * PAPER_BLOCKS);
    }
    for (int j = 0; j < nby; j++)
        for (int i = 0; i < nbx; i++) {
            uint32_t n = (uint32_t)(min_i(w, (i + 1) * bs) - i * bs) *
                         (uint32_t)(min_i(h, (j + 1) * bs) - j * bs);
            uint32_t mean = (sum[j * PAPER_BLOCKS + i] + n / 2) / n;
            paper[j * PAPER_BLOCKS + i] = (uint8_t)to_ink((int)mean, inverted);
        }
}

/* A running minimum (or maximum) over 2 PAPER_REACH + 1 blocks along rows, then along
 * columns. */
static void block_filter(uint8_t a[PAPER_BLOCKS * PAPER_BLOCKS], int nx, int ny, bool take_max)
{
    const int r = PAPER_REACH;
    /* each line padded with the neutral value, so the window needs no bounds checks
     * and the two kinds of loop have no branch in them (they vectorise) */
    uint8_t line[PAPER_BLOCKS + 2 * PAPER_REACH];
    for (int pass = 0; pass < 2; pass++) {
        const int n = pass ? ny : nx, m = pass ? nx : ny;
        const int along = pass ? PAPER_BLOCKS : 1, across = pass ? 1 : PAPER_BLOCKS;
        for (int j = 0; j < m; j++) {
            uint8_t *at = a + j * across;
            for (int k = 0; k < r; k++)
                line[k] = line[r + n + k] = take_max ? 0 : 255;
            for (int i = 0; i < n; i++)
                line[r + i] = at[i * along];
            for (int i = 0; i < n; i++) {
                uint8_t v = line[i];
                if (take_max)
                    for (int k = 1; k <= 2 * r; k++)
                        v = line[i + k] > v ? line[i + k] : v;
                else
                    for (int k = 1; k <= 2 * r; k++)
                        v = line[i + k] < v ? line[i + k] : v;
                at[i * along] = v;
            }
        }
    }
}

/* Where a pixel coordinate falls between block centres: the lower block and the
 * weight of the upper one, for bilinear interpolation of the paper field. */
static void block_between(double coord, int bs, int nb, int *lower, float *t)
{
    double u = coord / bs - 0.5;
    int k = (int)floor(u);
    if (k < 0) {
        *lower = 0;
        *t = 0.0f;
    } else if (k >= nb - 1) {
        *lower = nb - 1;
        *t = 0.0f;
    } else {
        *lower = k;
        *t = (float)(u - k);
    }
}

/* The flat-fielded copy, dw x dh cells of ds x ds input pixels: each cell's mean
 * ink level i becomes 255 (i - p) / (255 - p) with p the paper's level interpolated
 * there: light falls on paper and ink alike, so dividing by the paper's brightness
 * undoes a shadow; the ink's polarity stays as it was. */
static void flatten(const mn_gray_image *img, bool inverted, const uint8_t *paper, int bs,
                    int nbx, int nby, int ds, uint8_t *flat, int dw, int dh)
{
    const int w = img->width, h = img->height;
    int bx[GRID];
    float tx[GRID];
    for (int i = 0; i < dw; i++)
        block_between((i * ds + min_i(w, (i + 1) * ds)) / 2.0, bs, nbx, &bx[i], &tx[i]);
    for (int j = 0; j < dh; j++) {
        const int y0 = j * ds, y1 = min_i(h, y0 + ds);
        int by;
        float ty;
        block_between((y0 + y1) / 2.0, bs, nby, &by, &ty);
        const uint8_t *p0 = paper + by * PAPER_BLOCKS;
        const uint8_t *p1 = paper + min_i(by + 1, nby - 1) * PAPER_BLOCKS;
        for (int i = 0; i < dw; i++) {
            const int x0 = i * ds, x1 = min_i(w, x0 + ds), b1 = min_i(bx[i] + 1, nbx - 1);
            unsigned sum = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    sum += img->pixels[(size_t)y * (size_t)w + (size_t)x];
            float mean = (float)sum / (float)((y1 - y0) * (x1 - x0));
            float ink = inverted ? 255.0f - mean : mean;
            float top = p0[bx[i]] + tx[i] * (float)(p0[b1] - p0[bx[i]]);
            float bottom = p1[bx[i]] + tx[i] * (float)(p1[b1] - p1[bx[i]]);
            float p = top + ty * (bottom - top);
            float v = 255.0f * (ink - p) / max_d(255.0f - p, MN_PREPROCESS_MIN_CONTRAST);
            v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
            uint8_t level = (uint8_t)(v + 0.5f);  /* v >= 0: rounds, without a libm call */
            flat[(size_t)j * (size_t)dw + (size_t)i] = inverted ? (uint8_t)(255 - level) : level;
        }
    }
}

/* Whether the paper is shaded (its level more than half of `margin` above the
 * lightest paper on the border, but under `ink`) along at most `stretches` stretches
 * making up an eighth of the border ring of blocks: light falls across the whole
 * sheet and a shadow's edge crosses the border once or twice, while a digit's thick
 * middle is not on the border and strokes reaching the edge touch it in separate
 * short places, at the ink level. Half the margin, because a shadow deepens inwards:
 * where it crosses the border it is lighter than where the crop meets it. Gaps of up
 * to STRETCH_GAP blocks do not end a stretch: a shadow round a corner often leaves the
 * corner block itself a little lighter. */
#define STRETCH_GAP 2
#define PHOTO_MIN_BLOCK 4 /* pixels a side */
#define TWO_SHADOWS_MIN_BLOCK 8 /* pixels a side: a picture of 225 px or more */
static bool shaded_on_border(const uint8_t *paper, int nbx, int nby, int margin, int ink,
                             int stretches)
{
    int ring[4 * PAPER_BLOCKS], n = 0;  /* block indices, clockwise from the top left */
    for (int i = 0; i < nbx; i++)
        ring[n++] = i;
    for (int j = 1; j < nby; j++)
        ring[n++] = j * PAPER_BLOCKS + nbx - 1;
    for (int i = nbx - 2; i >= 0 && nby > 1; i--)
        ring[n++] = (nby - 1) * PAPER_BLOCKS + i;
    for (int j = nby - 2; j > 0 && nbx > 1; j--)
        ring[n++] = j * PAPER_BLOCKS;
    int lightest = 255;
    for (int k = 0; k < n; k++)
        lightest = min_i(lightest, paper[ring[k]]);
    const int shade = lightest + margin / 2;
    bool shaded_at[4 * PAPER_BLOCKS];
    int shaded = 0, starts = 0;
    for (int k = 0; k < n; k++) {
        shaded_at[k] = paper[ring[k]] > shade && paper[ring[k]] < ink;
        shaded += shaded_at[k];
    }
    for (int k = 0; k < n; k++) {
        bool after_gap = shaded_at[k];  /* no shaded block among the STRETCH_GAP + 1 before */
        for (int d = 1; d <= STRETCH_GAP + 1 && after_gap; d++)
            after_gap = !shaded_at[(k + n * (STRETCH_GAP + 1) - d) % n]; /* n may be < d */
        starts += after_gap;
    }
    return shaded * 8 >= n && starts <= stretches;
}

/* Whether a shadow lies inside the sheet, away from its border: at least
 * 1/INSIDE_SHARE of the blocks shaded (as in shaded_on_border, but against the lightest
 * paper anywhere), and 7/8 of those at the level their own pixels show (`seen`, the
 * block means before the closing, within `tol`). A shadow is paper seen darker, so
 * its blocks show its level, all but those its rim and the ink cross (88-97 % of them
 * in the photos set); where a small digit scaled up crowds thick strokes together,
 * the closing makes levels between ink and paper that few blocks show (30-85 %). */
#define INSIDE_SHARE 16
static bool shaded_inside(const uint8_t *paper, const uint8_t *seen, int nbx, int nby,
                          int margin, int ink, int tol)
{
    int lightest = 255;
    for (int j = 0; j < nby; j++)
        for (int i = 0; i < nbx; i++)
            lightest = min_i(lightest, paper[j * PAPER_BLOCKS + i]);
    const int shade = lightest + margin / 2;
    int shaded = 0, seen_so = 0;
    for (int j = 0; j < nby; j++)
        for (int i = 0; i < nbx; i++) {
            const int k = j * PAPER_BLOCKS + i;
            if (paper[k] > shade && paper[k] < ink) {
                shaded++;
                seen_so += abs(paper[k] - seen[k]) <= tol;
            }
        }
    return shaded * INSIDE_SHARE >= nbx * nby && seen_so * 8 >= shaded * 7;
}

/* The highest ink-space level among the pixels of the outer ring of blocks (bs thick). */
static int ring_peak(const mn_gray_image *img, bool inverted, int bs)
{
    const int w = img->width, h = img->height;
    int peak = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        const bool whole = y < bs || y >= h - bs;
        const int left_end = whole ? w : min_i(bs, w), right_start = max_i(left_end, w - bs);
        for (int x = 0; x < left_end; x++)
            peak = max_i(peak, to_ink(row[x], inverted));
        for (int x = right_start; x < w; x++)
            peak = max_i(peak, to_ink(row[x], inverted));
    }
    return peak;
}

/* Uneven light (a shadow, a gradient): the paper's level is estimated on a coarse
 * grid of blocks (a closing: ink narrower than 2 PAPER_REACH + 1 blocks gives way to
 * the paper around it). Only where that paper would somewhere be taken for ink (its
 * level above the global cut) is the image flat-fielded, into scratch->flat at most
 * GRID x GRID (*flat, each pixel *ds x *ds input pixels); otherwise it is left alone
 * and false returned, so that evenly lit input is processed exactly as before. */
bool mn_paper_flatten_if_uneven(const mn_gray_image *img, const levels *lv,
                                mn_preprocess_scratch *s, mn_gray_image *flat, int *ds)
{
    const int w = img->width, h = img->height;
    if (w > GRID * GRID)  /* the column sums would not fit; such a strip is no photo */
        return false;
    const int bs = (max_i(w, h) - 1) / PAPER_BLOCKS + 1;
    const int nbx = (w + bs - 1) / bs, nby = (h + bs - 1) / bs;
    const int margin = max_i(lv->cut - lv->bg, (lv->ink - lv->bg) / 8);
    /* The paper of a border block lies between the image's floor and the block's
     * brightest pixel (the filters only take minima and maxima of block means), so
     * when those are within the margin, no border block can be shaded. For a small
     * image (a 28x28 upload) that test costs less than the filters it saves. */
    if (bs <= 4 && ring_peak(img, lv->inverted, bs) - lv->floor <= margin)
        return false;
    uint8_t paper[PAPER_BLOCKS * PAPER_BLOCKS], seen[PAPER_BLOCKS * PAPER_BLOCKS];
    block_means(img, lv->inverted, bs, nbx, nby, s->mass, paper);
    memcpy(seen, paper, sizeof seen);
    block_filter(paper, nbx, nby, false);
    block_filter(paper, nbx, nby, true);
    const int ink = lv->bg + (lv->ink - lv->bg) * 7 / 8;
    /* a shadow inside the sheet, or two crossing the border (or one whose corner the
     * light reaches), only on a photo's noisy paper, in blocks of a few pixels: a scan
     * or a drawing has no such shade, and on a small image the closing takes a digit's
     * strokes for it. Two stretches need larger blocks still: a digit scaled up from
     * 8x8 to 128 px with noise crosses the border with broad gray strokes in two places. */
    const bool photo = lv->noisy && bs >= PHOTO_MIN_BLOCK;
    const int stretches = photo && bs >= TWO_SHADOWS_MIN_BLOCK ? 2 : 1;
    const bool shaded = shaded_on_border(paper, nbx, nby, margin, ink, stretches) ||
                        (photo && shaded_inside(paper, seen, nbx, nby, margin, ink,
                                                max_i(margin / 2, (lv->ink - lv->bg) / 16)));
    if (!shaded)
        return false;
    /* nor is a small digit scaled up by repeating pixels a photo: its strokes, wide for
     * its canvas, are what the closing took for shade (asked last: it reads the image) */
    if (mn_scale_is_blocky(img))
        return false;
    *ds = (max_i(w, h) - 1) / GRID + 1;
    flat->width = (w + *ds - 1) / *ds;
    flat->height = (h + *ds - 1) / *ds;
    flat->pixels = s->flat;
    flatten(img, lv->inverted, paper, bs, nbx, nby, *ds, s->flat, flat->width, flat->height);
    return true;
}
