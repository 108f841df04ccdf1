/* Steps 0, 1 and 2 of preprocessing: a faint image stretched to full contrast, which
 * side is ink, and the gray levels of paper, ink and the cuts between them, from the
 * histograms of the image and its border. */
#include "config.h"

#include <stdlib.h>

#include "mn_levels.h"
#include "mn_simd.h"

/* Smallest level whose cumulative count reaches rank (1-based). */
static int hist_rank(const uint64_t h[256], uint64_t rank)
{
    uint64_t cum = 0;
    for (int v = 0; v < 256; v++) {
        cum += h[v];
        if (cum >= rank)
            return v;
    }
    return 255;
}

/* The image's robust extremes: its levels but for the most extreme 1/10000 of the n
 * pixels at each end (hot pixels, dust), and never more than 16 pixels, so that a
 * small digit in a large photo (a thin 1 of 80 px in 9 Mpx has about 500 pixels of
 * ink) is never ignored whole. */
static void robust_extremes(const uint64_t hist[256], uint64_t n, int *lo, int *hi)
{
    const uint64_t kk = n / 10000 < 1 ? 1 : n / 10000 > 16 ? 16 : n / 10000;
    *lo = hist_rank(hist, kk);
    *hi = hist_rank(hist, n - kk + 1);
}

/* Otsu's threshold on the ink histogram folded into [lo, hi]: the t that best splits
 * the levels into [lo, t] and [t+1, hi]. Returns t + 1. */
static int otsu_above(const uint64_t ink_hist[256], int lo, int hi)
{
    double total = 0.0, sum_all = 0.0;
    for (int v = lo; v <= hi; v++) {
        total += (double)ink_hist[v];
        sum_all += (double)v * (double)ink_hist[v];
    }
    double w0 = 0.0, sum0 = 0.0, best = -1.0;
    int best_t = lo;
    for (int t = lo; t < hi; t++) {
        w0 += (double)ink_hist[t];
        sum0 += (double)t * (double)ink_hist[t];
        double w1 = total - w0;
        if (w0 <= 0.0 || w1 <= 0.0)
            continue;
        double d = sum0 / w0 - (sum_all - sum0) / w1;
        double between = w0 * w1 * d * d;
        if (between > best) {
            best = between;
            best_t = t;
        }
    }
    return best_t + 1;
}

/* The background level from the border histogram: the median of the border pixels
 * in the densest 16-level window when it holds at least half of them (*dominant: a
 * clean paper level, around which the noise is then measured), else the border's
 * median. */
static int border_background(const uint64_t border[256], bool *dominant)
{
    uint64_t in_window = 0, best = 0;
    int best_lo = 0;
    for (int v = 0; v < 256; v++) {
        in_window += border[v];
        if (v >= 16)
            in_window -= border[v - 16];
        if (in_window > best) {
            best = in_window;
            best_lo = max_i(0, v - 15);
        }
    }
    uint64_t window[256] = {0}, total = 0;
    memcpy(window + best_lo, border + best_lo, sizeof window[0] * (size_t)min_i(16, 256 - best_lo));
    for (int v = 0; v < 256; v++)
        total += border[v];
    *dominant = best * 2 >= total;
    return *dominant ? hist_rank(window, (best + 1) / 2) : hist_rank(border, (total + 1) / 2);
}

/* Background noise on the ink side: how far the 90th percentile of the border pixels
 * within `reach` levels of the background lies from it. */
static int border_noise(const uint64_t border[256], int bg, bool inverted, int reach)
{
    uint64_t near[256] = {0}, count = 0;
    for (int v = max_i(0, bg - reach); v <= min_i(255, bg + reach); v++) {
        near[v] = border[v];
        count += border[v];
    }
    if (count == 0)
        return 0;
    int p10 = hist_rank(near, (count + 9) / 10), p90 = hist_rank(near, (count * 9 + 9) / 10);
    return inverted ? bg - p10 : p90 - bg;
}

/* Counts the steps between neighbours among the n pixels a[] that lie within reach of
 * the background: *flat those between equal levels. */
static void count_steps(const uint8_t *a, int n, int bg, int reach, uint64_t *steps,
                        uint64_t *flat)
{
    for (int i = 0; i + 1 < n; i++)
        if (abs(a[i] - bg) <= reach && abs(a[i + 1] - bg) <= reach) {
            (*steps)++;
            *flat += a[i] == a[i + 1];
        }
}

/* Whether the border ring (k thick) is noiseless: at least half of the steps between
 * neighbouring pixels near the background are between equal levels, as in a drawing,
 * a scan with a clean background or a scaled-up low-resolution digit. There the
 * spread of levels near the background is ink touching the border (or the gray
 * blocks of a digit stored at 8x8), not noise, and measuring it as noise would cut
 * that ink away. Noise on paper, in photos and in JPEG, rarely repeats a level. */
static bool border_is_flat(const mn_gray_image *img, int k, int bg, int reach)
{
    const int w = img->width, h = img->height;
    uint64_t steps = 0, flat = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        if (y < k || y >= h - k) {
            count_steps(row, w, bg, reach, &steps, &flat);
        } else {
            const int right = max_i(k, w - k);
            count_steps(row, min_i(k, w), bg, reach, &steps, &flat);
            count_steps(row + right, w - right, bg, reach, &steps, &flat);
        }
    }
    return steps > 0 && flat * 2 >= steps;
}

/* Sums |first difference| and |second difference| along n pixels, step apart. */
static void add_differences(const uint8_t *a, int n, size_t step, uint64_t *d1, uint64_t *d2)
{
    for (int i = 1; i < n; i++) {
        const int prev = a[(size_t)(i - 1) * step], cur = a[(size_t)i * step];
        *d1 += (uint64_t)abs(cur - prev);
        if (i + 1 < n)
            *d2 += (uint64_t)abs(a[(size_t)(i + 1) * step] - 2 * cur + prev);
    }
}

/* Whether the image's outermost rows and columns change smoothly, as a small digit
 * scaled up by interpolation does: their second differences add up to less than
 * half of their first. Noise, in photos and on scanned paper, alternates from pixel
 * to pixel, which makes the second differences larger than the first. */
static bool border_is_smooth(const mn_gray_image *img)
{
    const int w = img->width, h = img->height;
    const uint8_t *p = img->pixels;
    uint64_t d1 = 0, d2 = 0;
    add_differences(p, w, 1, &d1, &d2);
    add_differences(p + (size_t)(h - 1) * (size_t)w, w, 1, &d1, &d2);
    add_differences(p, h, (size_t)w, &d1, &d2);
    add_differences(p + w - 1, h, (size_t)w, &d1, &d2);
    return d1 > 0 && 2 * d2 < d1;
}

/* Whether a tenth of the n pixels lie within 1/8 of the contrast of one of the
 * extremes lo and hi: a digit's paper, or its ink's core, is one flat level; a
 * smooth texture spreads over the levels in between. */
static bool has_flat_extreme(const uint64_t hist[256], uint64_t n, int lo, int hi)
{
    const int near = max_i(1, (hi - lo) / 8);
    uint64_t at_lo = 0, at_hi = 0;
    for (int v = lo; v <= lo + near; v++)
        at_lo += hist[v];
    for (int v = hi - near; v <= hi; v++)
        at_hi += hist[v];
    return (at_lo > at_hi ? at_lo : at_hi) * 10 >= n;
}

/* The polarity that the image's corners show: a digit seldom reaches them, so they
 * are paper. Each corner square, 1/16 of the short side, votes for the extreme (lo or
 * hi) its mean is nearer; three votes decide, two each give MN_POLARITY_AUTO. */
static mn_polarity corner_polarity(const mn_gray_image *img, int lo, int hi)
{
    const int w = img->width, h = img->height, k = max_i(1, min_i(w, h) / 16);
    int light = 0;
    for (int corner = 0; corner < 4; corner++) {
        const int x0 = corner & 1 ? w - k : 0, y0 = corner & 2 ? h - k : 0;
        uint64_t sum = 0;
        for (int y = y0; y < y0 + k; y++)
            for (int x = x0; x < x0 + k; x++)
                sum += img->pixels[(size_t)y * (size_t)w + x];
        light += 2 * sum >= (uint64_t)(lo + hi) * (uint64_t)(k * k);
    }
    return light >= 3 ? MN_POLARITY_DARK_INK : light <= 1 ? MN_POLARITY_LIGHT_INK
                                                          : MN_POLARITY_AUTO;
}

/* Paper at two levels: a shadow across the page leaves the border part shaded (the
 * dominant level), part lit, and the lit paper may lie further from the dominant
 * level than the ink. When a quarter of the border lies at one extreme, lo or hi
 * (within 1/8 of the contrast), and not a quarter at the other, that extreme is
 * paper too, and the ink lies at the other: returns whether it is dark (inverted).
 * Else `inverted`, the side that reaches further. Ink seldom covers a quarter of
 * the border: a digit touches it in a few places. (Where the rule turns the
 * answer, the extreme it takes for paper lies at least half the contrast away
 * from the dominant level, as a shadow's other side does.) */
static bool paper_at_two_levels(const uint64_t border[256], int lo, int hi, bool inverted)
{
    const int near = max_i(1, (hi - lo) / 8);
    uint64_t total = 0, at_lo = 0, at_hi = 0;
    for (int v = 0; v < 256; v++) {
        total += border[v];
        at_lo += v <= lo + near ? border[v] : 0;
        at_hi += v >= hi - near ? border[v] : 0;
    }
    if (at_hi * 4 >= total && at_lo * 4 < total)
        return true;
    if (at_lo * 4 >= total && at_hi * 4 < total)
        return false;
    return inverted;
}

/* The histograms of the whole image and of its border ring, k pixels thick. */
MN_HOT_KERNEL
static void histograms(const mn_gray_image *img, int k, uint64_t hist[256], uint64_t border[256])
{
    uint32_t part[4][256] = {{0}};  /* four partial histograms: runs of equal pixels
                                     * (the background) would otherwise wait on
                                     * each other's increments */
    uint64_t pending = 0;            /* pixels counted in part since the last flush */
    const int w = img->width, h = img->height;
    for (int y = 0; y <= h; y++) {
        if (y == h || pending + (uint64_t)w > UINT32_MAX) {  /* before a count can overflow */
            for (int v = 0; v < 256; v++) {
                hist[v] += (uint64_t)part[0][v] + part[1][v] + part[2][v] + part[3][v];
                part[0][v] = part[1][v] = part[2][v] = part[3][v] = 0;
            }
            pending = 0;
            if (y == h)
                break;
        }
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        int i = 0;
        for (; i + 4 <= w; i += 4) {
            part[0][row[i]]++;
            part[1][row[i + 1]]++;
            part[2][row[i + 2]]++;
            part[3][row[i + 3]]++;
        }
        for (; i < w; i++)
            part[0][row[i]]++;
        pending += (uint64_t)w;
        if (y < k || y >= h - k) {
            for (int x = 0; x < w; x++)
                border[row[x]]++;
        } else {
            for (int x = 0; x < min_i(k, w); x++)
                border[row[x]]++;
            for (int x = max_i(k, w - k); x < w; x++)
                border[row[x]]++;
        }
    }
}

/* Steps 1 and 2 (mn_preprocess_steps.h). */
MN_HOT_KERNEL
bool mn_levels_find(const mn_gray_image *img, mn_polarity polarity, levels *lv)
{
    uint64_t hist[256] = {0}, border[256] = {0};
    const int w = img->width, h = img->height;
    /* a border ring 2% of the short side thick, at least one pixel */
    const int k = max_i(1, min_i(w, h) / 50);
    histograms(img, k, hist, border);
    uint64_t n = (uint64_t)w * (uint64_t)h;
    bool dominant;
    int b = border_background(border, &dominant);
    int lo, hi;
    robust_extremes(hist, n, &lo, &hi);
    const bool tiny = min_i(w, h) < MN_PREPROCESS_TINY_SIDE;
    /* without a dominant level every step of the border counts (reach 255), so the
     * answer holds whatever the background turns out to be: found once, used twice */
    const bool flat_all = !dominant && !tiny && border_is_flat(img, k, b, 255);
    /* a clean image whose border paper and ink share: the corners tell, or else the
     * caller may force a polarity; either way the paper is at the extreme level */
    mn_polarity paper = MN_POLARITY_AUTO;
    lv->ambiguous = false;
    const bool clean = !dominant && has_flat_extreme(hist, n, lo, hi) &&
                       (tiny || flat_all || border_is_smooth(img));
    if (clean) {
        paper = corner_polarity(img, lo, hi);
        lv->ambiguous = paper == MN_POLARITY_AUTO;
        if (lv->ambiguous)
            paper = polarity;
    }
    if (paper != MN_POLARITY_AUTO)
        b = paper == MN_POLARITY_DARK_INK ? hi : lo;
    lv->inverted = b - lo > hi - b;
    if (dominant && !tiny)
        lv->inverted = paper_at_two_levels(border, lo, hi, lv->inverted);
    lv->dominant = dominant;
    lv->bg_raw = b;
    lv->ink_raw = lv->inverted ? lo : hi;
    int lowest = lv->inverted ? 255 : 0;  /* in ink space */
    while (!hist[lowest])
        lowest += lv->inverted ? -1 : 1;
    lv->floor = to_ink(lowest, lv->inverted);
    lv->low = to_ink(lv->inverted ? hi : lo, lv->inverted);
    lv->bg = to_ink(b, lv->inverted);
    lv->ink = to_ink(lv->ink_raw, lv->inverted);
    int contrast = lv->ink - lv->bg;
    if (contrast < MN_PREPROCESS_MIN_CONTRAST)
        return false;
    /* near a dominant paper level, so that ink on the border is not noise; without one
     * (uneven light) over the whole border */
    int reach = dominant ? contrast / 4 : 255;
    const bool flat = dominant ? border_is_flat(img, k, b, reach) : flat_all;
    /* in a clean image what spreads the border's levels is ink, not noise */
    int noise = tiny || flat || clean ? 0 : border_noise(border, b, lv->inverted, reach);
    int margin = min_i(max_i(2 * noise, contrast / 32), contrast / 2);
    lv->cut = lv->bg + margin;
    lv->noisy = 2 * noise > contrast / 32;

    uint64_t ink_hist[256] = {0};
    for (int v = 0; v < 256; v++) {
        int i = to_ink(v, lv->inverted);
        ink_hist[i < lv->bg ? lv->bg : i > lv->ink ? lv->ink : i] += hist[v];
    }
    int t = otsu_above(ink_hist, lv->bg, lv->ink);
    t = max_i(t, lv->bg + contrast / 4);
    t = min_i(t, lv->bg + 3 * contrast / 4);
    lv->mask = max_i(t, lv->cut + 1);
    return true;
}

#define MIN_FAINT_REACH 6

/* Whether a faint image's levels are ink, not noise. They span MIN_FAINT_REACH levels
 * at least (a digit in fewer is hardly visible). In an image under
 * MN_PREPROCESS_TINY_SIDE (a digit stored at 8x8 often touches every edge), the
 * commonest level is one of the extremes lo and hi, with an eighth of the pixels:
 * paper, where noise gathers in the middle. In a larger one, the
 * paper is the middle 90 % of the border ring's levels (what ink touches the border
 * stays out of it), and the image's darkest or lightest level lies beyond that band
 * by at least twice its width and MIN_FAINT_REACH levels. Gaussian noise alone
 * reaches 0.6 of its band beyond it (3.7 against 1.6 standard deviations a side), a
 * JPEG's noise about 1; noise under a level (its band one level) a level or two,
 * blank paper in a JPEG up to 4. A faint JPEG's paper is one or two levels. */
static bool ink_beyond_noise(const uint64_t hist[256], const uint64_t border[256],
                             uint64_t n, bool tiny, int lo, int hi)
{
    if (hi - lo < MIN_FAINT_REACH)
        return false;
    if (tiny) {
        uint64_t mode = 0;
        for (int v = lo + 1; v < hi; v++)
            mode = hist[v] > mode ? hist[v] : mode;
        const uint64_t paper = hist[lo] > hist[hi] ? hist[lo] : hist[hi];
        return paper * 8 >= n && paper > mode;
    }
    uint64_t ring = 0;
    for (int v = 0; v < 256; v++)
        ring += border[v];
    const int p5 = hist_rank(border, (ring + 19) / 20);
    const int p95 = hist_rank(border, (ring * 19 + 19) / 20);
    const int band = p95 - p5;
    return max_i(p5 - lo, hi - p95) >= max_i(MIN_FAINT_REACH, 2 * band);
}

/* Step 0 (mn_levels.h). */
bool mn_levels_stretch_faint(const mn_gray_image *img, uint8_t buf[GRID * GRID],
                             mn_gray_image *out, int *ds, int *lo, int *hi)
{
    uint64_t hist[256] = {0}, border[256] = {0};
    const int w = img->width, h = img->height;
    histograms(img, max_i(1, min_i(w, h) / 50), hist, border);
    const uint64_t n = (uint64_t)w * (uint64_t)h;
    int a, b;
    robust_extremes(hist, n, &a, &b);
    if (a == b || !ink_beyond_noise(hist, border, n, min_i(w, h) < MN_PREPROCESS_TINY_SIDE, a, b))
        return false;
    mn_levels_average_down(img, (rect){0, 0, w - 1, h - 1}, a, b, buf, out, ds);
    *lo = a;
    *hi = b;
    return true;
}

/* Step 0's and 1a's copy (mn_levels.h). */
void mn_levels_average_down(const mn_gray_image *img, rect r, int lo, int hi,
                            uint8_t buf[GRID * GRID], mn_gray_image *out, int *d)
{
    const int w = img->width, rw = r.x1 - r.x0 + 1, rh = r.y1 - r.y0 + 1;
    const int k = (max_i(rw, rh) - 1) / GRID + 1, cw = (rw + k - 1) / k, ch = (rh + k - 1) / k;
    for (int j = 0; j < ch; j++)
        for (int i = 0; i < cw; i++) {
            const int x0 = r.x0 + i * k, y0 = r.y0 + j * k;
            const int x1 = min_i(r.x1 + 1, x0 + k), y1 = min_i(r.y1 + 1, y0 + k);
            int64_t sum = 0, count = (int64_t)(x1 - x0) * (y1 - y0);
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    sum += img->pixels[(size_t)y * (size_t)w + (size_t)x];
            /* the mean, stretched, rounded: (2 (sum - lo n) 255 + (hi - lo) n) / 2 (hi - lo) n */
            int64_t v = ((sum - lo * count) * 255 * 2 + (hi - lo) * count) / (2 * (hi - lo) * count);
            buf[(size_t)j * (size_t)cw + (size_t)i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    *out = (mn_gray_image){cw, ch, buf};
    *d = k;
}
