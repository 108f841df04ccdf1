#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mn_cubic.h"
#include "mn_preprocess.h"
#include "mn_simd.h"

#define BOX MN_PREPROCESS_BOX
#define GRID MN_PREPROCESS_GRID_SIDE
#define SUPER_FACTOR MN_PREPROCESS_SUPER_FACTOR
#define SUPER (BOX * SUPER_FACTOR)
/* the most a thin stroke is grown by, in super pixels: r = lround((MN_PREPROCESS_STROKE
 * - width) * SUPER_FACTOR / 2) with width > 0 */
#define MAX_GROW 4

static int min_i(int a, int b) { return a < b ? a : b; }
static int max_i(int a, int b) { return a > b ? a : b; }
/* fmin/fmax are calls into libm without -ffast-math; these values are never NaN */
static double min_d(double a, double b) { return a < b ? a : b; }
static double max_d(double a, double b) { return a > b ? a : b; }

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

/* Gray levels, all in "ink space" (0 = background side, 255 = digit side) except the
 * raw ones. */
typedef struct levels {
    bool inverted;
    bool dominant;  /* half the border lies within 16 levels: evenly lit paper */
    bool ambiguous; /* no dominant level on a noiseless border: either polarity */
    int bg_raw, ink_raw;
    int bg;    /* background */
    int ink;   /* ink level: at and above it the output is 255 */
    int cut;   /* at and below it the output is 0 */
    int mask;  /* at and above it a pixel belongs to the digit for cropping */
    int floor; /* the image's lowest level, exactly (bg and ink are robust estimates) */
} levels;

static int to_ink(int v, bool inverted) { return inverted ? 255 - v : v; }

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

/* Steps 1 and 2: polarity and the levels. False when there is too little contrast.
 * A forced polarity holds only for an ambiguous image, whose paper it puts at the
 * image's extreme level on that side. */
MN_HOT_KERNEL
static bool find_levels(const mn_gray_image *img, mn_polarity polarity, levels *lv)
{
    uint64_t hist[256] = {0}, border[256] = {0};
    const int w = img->width, h = img->height;
    /* a border ring 2% of the short side thick, at least one pixel */
    const int k = max_i(1, min_i(w, h) / 50);
    histograms(img, k, hist, border);
    uint64_t n = (uint64_t)w * (uint64_t)h;
    bool dominant;
    int b = border_background(border, &dominant);
    /* robust extremes: ignore the most extreme 1/10000 of the pixels (hot pixels,
     * dust), but never a whole small digit */
    uint64_t kk = n / 10000 > 0 ? n / 10000 : 1;
    int lo = hist_rank(hist, kk), hi = hist_rank(hist, n - kk + 1);
    const bool tiny = min_i(w, h) < MN_PREPROCESS_TINY_SIDE;
    /* without a dominant level every step of the border counts (reach 255), so the
     * answer holds whatever the background turns out to be: found once, used twice */
    const bool flat_all = !dominant && !tiny && border_is_flat(img, k, b, 255);
    /* a clean image whose border paper and ink share: the corners tell, or else the
     * caller may force a polarity; either way the paper is at the extreme level */
    mn_polarity paper = MN_POLARITY_AUTO;
    lv->ambiguous = false;
    if (!dominant && has_flat_extreme(hist, n, lo, hi) &&
        (tiny || flat_all || border_is_smooth(img))) {
        paper = corner_polarity(img, lo, hi);
        lv->ambiguous = paper == MN_POLARITY_AUTO;
        if (lv->ambiguous)
            paper = polarity;
    }
    if (paper != MN_POLARITY_AUTO)
        b = paper == MN_POLARITY_DARK_INK ? hi : lo;
    lv->inverted = b - lo > hi - b;
    lv->dominant = dominant;
    lv->bg_raw = b;
    lv->ink_raw = lv->inverted ? lo : hi;
    int lowest = lv->inverted ? 255 : 0;  /* in ink space */
    while (!hist[lowest])
        lowest += lv->inverted ? -1 : 1;
    lv->floor = to_ink(lowest, lv->inverted);
    lv->bg = to_ink(b, lv->inverted);
    lv->ink = to_ink(lv->ink_raw, lv->inverted);
    int contrast = lv->ink - lv->bg;
    if (contrast < MN_PREPROCESS_MIN_CONTRAST)
        return false;
    /* near a dominant paper level, so that ink on the border is not noise; without one
     * (uneven light) over the whole border */
    int reach = dominant ? contrast / 4 : 255;
    const bool flat = dominant ? border_is_flat(img, k, b, reach) : flat_all;
    int noise = tiny || flat ? 0 : border_noise(border, b, lv->inverted, reach);
    int margin = min_i(max_i(2 * noise, contrast / 32), contrast / 2);
    lv->cut = lv->bg + margin;

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

typedef struct rect {
    int x0, y0, x1, y1;  /* inclusive */
} rect;

/* Flood-fills the 8-connected component of grid cell `start`, marking it seen;
 * returns its mass (pixels above the mask level) and bounding box in cells. */
static uint64_t flood(mn_preprocess_scratch *s, int gw, int gh, int start, rect *box)
{
    uint64_t mass = 0;
    int top = 0;
    s->stack[top++] = start;
    s->seen[start] = 1;
    *box = (rect){start % gw, start / gw, start % gw, start / gw};
    while (top > 0) {
        int c = s->stack[--top];
        int cx = c % gw, cy = c / gw;
        mass += s->mass[c];
        box->x0 = min_i(box->x0, cx);
        box->x1 = max_i(box->x1, cx);
        box->y0 = min_i(box->y0, cy);
        box->y1 = max_i(box->y1, cy);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int nx = cx + dx, ny = cy + dy;
                if (nx < 0 || ny < 0 || nx >= gw || ny >= gh)
                    continue;
                int nc = ny * gw + nx;
                if (s->mass[nc] && !s->seen[nc]) {
                    s->seen[nc] = 1;  /* marked when pushed: each cell once */
                    s->stack[top++] = nc;
                }
            }
    }
    return mass;
}

static bool overlaps(rect a, rect b)
{
    return a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
}

/* Tight box of the pixels with ink level >= level inside r, ruled lines left out;
 * false if there are none. */
static bool tight_box(const mn_gray_image *img, const levels *lv,
                      const mn_preprocess_scratch *s, int level, rect r, rect *out)
{
    uint8_t hit[256];
    for (int v = 0; v < 256; v++)
        hit[v] = to_ink(v, lv->inverted) >= level;
    const int f = s->line_cell;
#define ON_LINE_COLUMN(x) (f && s->line_col[(x) / f])
    rect t = {r.x1 + 1, r.y1 + 1, r.x0 - 1, r.y0 - 1};
    for (int y = r.y0; y <= r.y1; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)img->width;
        int first = -1, last = -1;
        if (f && s->line_row[y / f])
            continue;
        for (int x = r.x0; x <= r.x1; x++)
            if (hit[row[x]] && !ON_LINE_COLUMN(x)) {
                first = x;
                break;
            }
        if (first < 0)
            continue;
        for (int x = r.x1; x >= first; x--)
            if (hit[row[x]] && !ON_LINE_COLUMN(x)) {
                last = x;
                break;
            }
        t.x0 = min_i(t.x0, first);
        t.x1 = max_i(t.x1, last);
        t.y0 = min_i(t.y0, y);
        t.y1 = max_i(t.y1, y);
    }
#undef ON_LINE_COLUMN
    if (t.x0 > t.x1)
        return false;
    *out = t;
    return true;
}

/* The component grid: per cell of f x f input pixels, mass[] counts the pixels at or
 * above the mask level. */
static void grid_mass(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                      int f, int gw, int gh)
{
    const int w = img->width, h = img->height;
    uint8_t hit[256];
    for (int v = 0; v < 256; v++)
        hit[v] = to_ink(v, lv->inverted) >= lv->mask;
    memset(s->mass, 0, sizeof s->mass[0] * (size_t)gw * (size_t)gh);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        uint32_t *grid_row = s->mass + (size_t)(y / f) * (size_t)gw;
        for (int gx = 0; gx < gw; gx++) {
            uint32_t c = 0;
            for (int x = gx * f, end = min_i(w, x + f); x < end; x++)
                c += hit[row[x]];
            grid_row[gx] += c;
        }
    }
}

/* The same, and faint[] says whether any pixel of a cell is above the background cut
 * (for the line search: ruled lines are often fainter than the mask level). */
static void grid_mass_faint(const mn_gray_image *img, const levels *lv,
                            mn_preprocess_scratch *s, int f, int gw, int gh)
{
    const int w = img->width, h = img->height;
    uint32_t code[256];  /* both tests in one look-up: mask hit in the low half */
    for (int v = 0; v < 256; v++) {
        int i = to_ink(v, lv->inverted);
        code[v] = (uint32_t)(i >= lv->mask) | (uint32_t)(i > lv->cut) << 16;
    }
    memset(s->mass, 0, sizeof s->mass[0] * (size_t)gw * (size_t)gh);
    memset(s->faint, 0, (size_t)gw * (size_t)gh);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        uint32_t *grid_row = s->mass + (size_t)(y / f) * (size_t)gw;
        uint8_t *faint_row = s->faint + (size_t)(y / f) * (size_t)gw;
        for (int gx = 0; gx < gw; gx++) {
            uint32_t c = 0;  /* at most f per half: no carry */
            for (int x = gx * f, end = min_i(w, x + f); x < end; x++)
                c += code[row[x]];
            grid_row[gx] += c & 0xFFFFu;
            faint_row[gx] |= (c >> 16) != 0;
        }
    }
}

/* Flags the runs of n grid lines (rows or columns: cell k of line i is
 * faint[i * across + k * along], len cells long) where
 * at least 90% of the cells show something and the run is thin (at most 1/32 of the
 * side, at least one cell): a ruled or squared paper's line crossing the whole image,
 * not a digit's stroke, which neither spans the image nor is that thin. */
static bool flag_lines(const uint8_t *faint, int n, int len, int along, int across,
                       uint8_t *flag)
{
    const int thin = max_i(1, n / 32);
    bool any = false;
    for (int i = 0; i < n; i++) {
        int lit = 0;
        for (int k = 0; k < len; k++)
            lit += faint[(size_t)i * (size_t)across + (size_t)k * (size_t)along];
        flag[i] = len >= 16 && lit * 10 >= len * 9;
    }
    for (int i = 0; i < n;) {
        int end = i;
        while (end < n && flag[end])
            end++;
        if (end - i > thin)
            memset(flag + i, 0, (size_t)(end - i));
        any = any || (end > i && end - i <= thin);
        i = end > i ? end : i + 1;
    }
    return any;
}

/* Takes the cells of the flagged runs of lines out of the components (as in
 * flag_lines: cell k of line i at mass[i * across + k * along]), except where the
 * cells on both sides of the run show ink: there a stroke crosses the line and must
 * stay in one piece. */
static void clear_lines(uint32_t *mass, const uint8_t *flag, int n, int len, int along,
                        int across)
{
    for (int i = 0; i < n;) {
        if (!flag[i]) {
            i++;
            continue;
        }
        int end = i;
        while (end < n && flag[end])
            end++;
        for (int k = 0; k < len; k++) {
            size_t at = (size_t)k * (size_t)along;
            bool crossed = i > 0 && end < n && mass[(size_t)(i - 1) * (size_t)across + at] &&
                           mass[(size_t)end * (size_t)across + at];
            for (int j = i; j < end && !crossed; j++)
                mass[(size_t)j * (size_t)across + at] = 0;
        }
        i = end;
    }
}

/* Whether a pixel above the cut and its inward neighbour lie on both of the image's
 * left and right edges (left_right) or top and bottom ones: a line across the whole
 * image puts them there, a lone noisy pixel does not. MNIST-like input and clean
 * photos have a clean border, and the line search (which costs) is then skipped. */
static bool edges_show_ink(const mn_gray_image *img, const levels *lv, bool left_right)
{
    const int w = img->width, h = img->height, n = left_right ? h : w;
    if (w < 2 || h < 2)
        return false;
    const size_t in_step = left_right ? 1 : (size_t)w;  /* towards the inside */
    bool first = false, last = false;
    for (int k = 0; k < n && !(first && last); k++) {
        size_t a = left_right ? (size_t)k * (size_t)w : (size_t)k;
        size_t b = left_right ? a + (size_t)w - 1 : (size_t)(h - 1) * (size_t)w + (size_t)k;
        first = first || (to_ink(img->pixels[a], lv->inverted) > lv->cut &&
                          to_ink(img->pixels[a + in_step], lv->inverted) > lv->cut);
        last = last || (to_ink(img->pixels[b], lv->inverted) > lv->cut &&
                        to_ink(img->pixels[b - in_step], lv->inverted) > lv->cut);
    }
    return first && last;
}

/* Ruled lines: flagged, and taken out of the components. */
static void find_lines(mn_preprocess_scratch *s, int f, int gw, int gh, bool rows_possible,
                       bool cols_possible)
{
    bool rows = rows_possible && flag_lines(s->faint, gh, gw, 1, gw, s->line_row);
    bool cols = cols_possible && flag_lines(s->faint, gw, gh, gw, 1, s->line_col);
    if (!rows)
        memset(s->line_row, 0, sizeof s->line_row);
    if (!cols)
        memset(s->line_col, 0, sizeof s->line_col);
    s->line_cell = rows || cols ? f : 0;
    if (rows)
        clear_lines(s->mass, s->line_row, gh, gw, 1, gw);
    if (cols)
        clear_lines(s->mass, s->line_col, gw, gh, gw, 1);
}

/* Step 3: the digit's bounding box in input pixels. False if only specks were found. */
static bool find_digit(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                       rect *digit)
{
    const int w = img->width, h = img->height;
    const int f = (max_i(w, h) - 1) / GRID + 1;  /* input pixels per grid cell side */
    const int gw = (w + f - 1) / f, gh = (h + f - 1) / f;
    const bool rows = edges_show_ink(img, lv, true), cols = edges_show_ink(img, lv, false);
    if (rows || cols)
        grid_mass_faint(img, lv, s, f, gw, gh);
    else
        grid_mass(img, lv, s, f, gw, gh);
    find_lines(s, f, gw, gh, rows, cols);

    /* pass 1: the largest component */
    memset(s->seen, 0, (size_t)gw * (size_t)gh);
    uint64_t largest = 0;
    rect main_box = {0, 0, 0, 0}, box;
    for (int c = 0; c < gw * gh; c++)
        if (s->mass[c] && !s->seen[c]) {
            uint64_t m = flood(s, gw, gh, c, &box);
            if (m > largest) {
                largest = m;
                main_box = box;
            }
        }
    uint64_t n = (uint64_t)w * (uint64_t)h;
    if (largest < 4 || largest < n / 20000)
        return false;

    /* pass 2: keep the components that are large, or not tiny and next to the main one
     * (the detached bar of a 5, the stem of a 4 drawn in two strokes) */
    int e = max_i(1, max_i(main_box.x1 - main_box.x0, main_box.y1 - main_box.y0) / 4);
    rect near = {main_box.x0 - e, main_box.y0 - e, main_box.x1 + e, main_box.y1 + e};
    rect cells = main_box;
    memset(s->seen, 0, (size_t)gw * (size_t)gh);
    for (int c = 0; c < gw * gh; c++)
        if (s->mass[c] && !s->seen[c]) {
            uint64_t m = flood(s, gw, gh, c, &box);
            if (m * 10 >= largest || (m * 100 >= largest && overlaps(box, near))) {
                cells.x0 = min_i(cells.x0, box.x0);
                cells.y0 = min_i(cells.y0, box.y0);
                cells.x1 = max_i(cells.x1, box.x1);
                cells.y1 = max_i(cells.y1, box.y1);
            }
        }

    /* from cells to pixels: tight around the digit's pixels, then widened by 2 pixels
     * to take in its faint anti-aliased rim (above the background cut) */
    rect r = {cells.x0 * f, cells.y0 * f,
              (int)(((int64_t)cells.x1 + 1) * f < w ? ((int64_t)cells.x1 + 1) * f : w) - 1,
              (int)(((int64_t)cells.y1 + 1) * f < h ? ((int64_t)cells.y1 + 1) * f : h) - 1};
    rect t;
    if (!tight_box(img, lv, s, lv->mask, r, &t))
        return false;
    rect wide = {max_i(0, t.x0 - 2), max_i(0, t.y0 - 2), min_i(w - 1, t.x1 + 2),
                 min_i(h - 1, t.y1 + 2)};
    if (!tight_box(img, lv, s, lv->cut + 1, wide, digit))
        *digit = t;
    return true;
}

/* The start of both scalers: the crop c scaled by 1/s, s = longest side / target,
 * is sw x sh; rows [0, oy + sh + pad) of super are cleared. Returns s. */
static double scaled_size(rect c, int target, int oy, int pad, float *super, int *sw, int *sh)
{
    const int cw = c.x1 - c.x0 + 1, ch = c.y1 - c.y0 + 1;
    const double s = (double)max_i(cw, ch) / target;
    *sw = max_i(1, min_i(target, (int)ceil(cw / s - 1e-9)));
    *sh = max_i(1, min_i(target, (int)ceil(ch / s - 1e-9)));
    memset(super, 0, sizeof(float) * SUPER * (size_t)min_i(SUPER, oy + *sh + pad));
    return s;
}

/* Step 4, area averaging: the crop scaled by 1/s (s = longest side / target, the same
 * on both axes) into super[oy + j][ox + i]; each output pixel is the mean over the
 * s x s square it covers in the crop, with fractional coverage at the edges, and what
 * lies beyond the crop counts as background. Rows [0, oy + sh + pad) of super are
 * written, zero outside the scaled crop (pad: rows the caller reads beyond it). Returns
 * the size written in *sw, *sh (the longest side is `target`). */
MN_HOT_KERNEL
static void area_average(const mn_gray_image *img, const float value[256], rect c, int target,
                         int ox, int oy, int pad, float *super, int *sw_out, int *sh_out)
{
    const int cw = c.x1 - c.x0 + 1, ch = c.y1 - c.y0 + 1;
    int sw, sh;
    const double s = scaled_size(c, target, oy, pad, super, &sw, &sh);

    /* the columns' spans in the crop, the same for every row: output column i covers
     * [a, b) = [i s, (i + 1) s), i.e. input pixels x0..x1-1 minus the parts of the two
     * end pixels outside it */
    int x0[SUPER], x1[SUPER];
    double cut0[SUPER], cut1[SUPER];
    for (int i = 0; i < sw; i++) {
        double a = i * s, b = min_d((i + 1) * s, cw);
        x0[i] = (int)floor(a);
        x1[i] = (int)ceil(b);
        cut0[i] = a - x0[i];
        cut1[i] = x1[i] - b;
    }
    const double norm = 1.0 / (s * s);
    float row_acc[SUPER];
    for (int y = 0; y < ch; y++) {
        const uint8_t *row = img->pixels + (size_t)(c.y0 + y) * (size_t)img->width + c.x0;
        for (int i = 0; i < sw; i++) {
            float sum = 0.0f;
            for (int x = x0[i]; x < x1[i]; x++)
                sum += value[row[x]];
            row_acc[i] = (float)((sum - cut0[i] * value[row[x0[i]]] - cut1[i] * value[row[x1[i] - 1]]) * norm);
        }
        int j0 = (int)floor(y / s), j1 = min_i(sh, (int)ceil((y + 1) / s));
        for (int j = j0; j < j1; j++) {
            const float wy = (float)(min_d(y + 1, (j + 1) * s) - max_d(y, j * s));
            if (wy <= 0.0f)
                continue;
            float *out = super + (size_t)(oy + j) * SUPER + ox;
            for (int i = 0; i < sw; i++)
                out[i] += wy * row_acc[i];
        }
    }
    *sw_out = sw;
    *sh_out = sh;
}

/* Step 4 for a crop much smaller than the box (a digit stored at 8x8 and sent as it
 * is): the same contract as area_average, but each super pixel is a cubic
 * interpolation at its centre, the crop's edge pixels extended, so that the digit
 * comes out with smooth edges, as MNIST's are, rather than as blocks. */
static void cubic_upscale(const mn_gray_image *img, const float value[256], rect c, int target,
                          int ox, int oy, int pad, float *super, int *sw_out, int *sh_out)
{
    const int cw = c.x1 - c.x0 + 1, ch = c.y1 - c.y0 + 1;
    int sw, sh;
    const double s = scaled_size(c, target, oy, pad, super, &sw, &sh);
    int xi[SUPER];
    double wx[SUPER][4];
    for (int i = 0; i < sw; i++) {
        double x = (i + 0.5) * s - 0.5;
        xi[i] = (int)floor(x);
        mn_cubic_weights(x - xi[i], wx[i]);
    }
    for (int j = 0; j < sh; j++) {
        double y = (j + 0.5) * s - 0.5, wy[4];
        const int yi = (int)floor(y);
        mn_cubic_weights(y - yi, wy);
        float *out = super + (size_t)(oy + j) * SUPER + ox;
        for (int i = 0; i < sw; i++) {
            double v = 0.0;
            for (int m = 0; m < 4; m++) {
                const int yy = c.y0 + min_i(max_i(yi - 1 + m, 0), ch - 1);
                const uint8_t *row = img->pixels + (size_t)yy * (size_t)img->width;
                double r = 0.0;
                for (int n = 0; n < 4; n++)
                    r += wx[i][n] * value[row[c.x0 + min_i(max_i(xi[i] - 1 + n, 0), cw - 1)]];
                v += wy[m] * r;
            }
            out[i] = (float)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
        }
    }
    *sw_out = sw;
    *sh_out = sh;
}

#define MAX_CELLS (BOX / 2)  /* a blocky crop of more cells is scaled as it is */

/* Along one axis of crop c (columns when along_x): the cells of a digit scaled up by
 * pixel repetition, i.e. runs of positions where no row (column) changes level. Each
 * run stands for reps = round(width / f) original pixels (f, the repetition factor,
 * goes to *size), its width within 1 of reps * f, and each of those pixels gets the
 * run's first position in first[] (*n of them). False for anything else: f under 2,
 * a run that fits no whole number of pixels, more than MAX_CELLS pixels. */
static bool block_cells(const mn_gray_image *img, rect c, bool along_x, int first[MAX_CELLS],
                        int *n, double *size_out)
{
    const int len = along_x ? c.x1 - c.x0 + 1 : c.y1 - c.y0 + 1;
    const int other = along_x ? c.y1 - c.y0 + 1 : c.x1 - c.x0 + 1;
    int start[GRID], cells = 0;
    start[cells++] = 0;
    for (int p = 1; p < len; p++) {
        bool change = false;
        for (int q = 0; q < other && !change; q++) {
            const int x = along_x ? c.x0 + p : c.x0 + q, y = along_x ? c.y0 + q : c.y0 + p;
            const uint8_t *px = img->pixels + (size_t)y * (size_t)img->width + x;
            change = *px != (along_x ? px[-1] : px[-img->width]);
        }
        if (change) {
            if (cells == MAX_CELLS)
                return false;
            start[cells++] = p;
        }
    }
    /* single pixels repeated f times give runs of floor(f) or ceil(f); longer runs
     * are neighbours of equal level: f is the mean of the runs within 1 of the
     * shortest. The two end runs do not count: the crop may cut them. */
    if (cells < 3)
        return false;
    int width[MAX_CELLS], shortest = len;
    for (int k = 0; k < cells; k++) {
        width[k] = (k + 1 < cells ? start[k + 1] : len) - start[k];
        if (k > 0 && k + 1 < cells)
            shortest = min_i(shortest, width[k]);
    }
    double sum = 0.0;
    int singles = 0;
    for (int k = 1; k + 1 < cells; k++)
        if (width[k] <= shortest + 1) {
            sum += width[k];
            singles++;
        }
    const double size = sum / singles;
    if (size < 2.0)
        return false;
    *n = 0;
    for (int k = 0; k < cells; k++) {
        const int reps = max_i(1, (int)lround(width[k] / size));
        const bool end = k == 0 || k + 1 == cells;
        if (!end && fabs(width[k] - reps * size) > 1.0)
            return false;
        for (int r = 0; r < reps; r++) {
            if (*n == MAX_CELLS)
                return false;
            first[(*n)++] = start[k];  /* the cell is one level throughout */
        }
    }
    *size_out = size;
    return true;
}

/* A crop that is a small digit scaled up by pixel repetition (blocky), back at its
 * own resolution in native (at most MAX_CELLS square), so that it is scaled up
 * smoothly. False for anything else. */
static bool unblock(const mn_gray_image *img, rect c, uint8_t native[MAX_CELLS * MAX_CELLS],
                    mn_gray_image *out)
{
    int xs[MAX_CELLS], ys[MAX_CELLS], nx, ny;
    double size_x, size_y;
    if (!block_cells(img, c, true, xs, &nx, &size_x) ||
        !block_cells(img, c, false, ys, &ny, &size_y))
        return false;
    if (fabs(size_x - size_y) > 1.0 + min_d(size_x, size_y) / 8.0)  /* blocks are square */
        return false;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
            native[j * nx + i] = img->pixels[(size_t)(c.y0 + ys[j]) * (size_t)img->width + c.x0 + xs[i]];
    out->width = nx;
    out->height = ny;
    out->pixels = native;
    return true;
}

/* The crop into the super grid: interpolated when it is at most half the box. */
static void resample(const mn_gray_image *img, const float value[256], rect c, int target,
                     int ox, int oy, int pad, float *super, int *sw, int *sh)
{
    if (max_i(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1) * 2 <= BOX)
        cubic_upscale(img, value, c, target, ox, oy, pad, super, sw, sh);
    else
        area_average(img, value, c, target, ox, oy, pad, super, sw, sh);
}

/* Whether the input span [a, b) (rows or columns, from the crop's origin o) touches a
 * ruled line. */
static bool span_on_line(const uint8_t *flag, int f, int o, double a, double b)
{
    for (int k = (o + (int)floor(a)) / f; k <= (o + (int)ceil(b) - 1) / f; k++)
        if (flag[k])
            return true;
    return false;
}

/* Ruled lines out of the scaled crop (super[oy..oy+sh)[ox..ox+sw), s input pixels per
 * super pixel): a super row or column on a line is replaced by the mean of the
 * nearest ones off it on either side, so a stroke the line crossed continues. */
static void fill_lines(const mn_preprocess_scratch *s, rect c, double scale, int ox, int oy,
                       int sw, int sh, float *super)
{
    const int f = s->line_cell;
    uint8_t on_row[SUPER], on_col[SUPER];
    for (int j = 0; j < sh; j++)
        on_row[j] = span_on_line(s->line_row, f, c.y0, j * scale, (j + 1) * scale);
    for (int i = 0; i < sw; i++)
        on_col[i] = span_on_line(s->line_col, f, c.x0, i * scale, (i + 1) * scale);
    for (int pass = 0; pass < 2; pass++) {  /* rows, then columns */
        const uint8_t *on = pass ? on_col : on_row;
        const int n = pass ? sw : sh, m = pass ? sh : sw;
        const size_t step = pass ? 1 : SUPER, across = pass ? SUPER : 1;
        float *base = super + (size_t)oy * SUPER + ox;
        for (int j = 0; j < n; j++) {
            if (!on[j])
                continue;
            int a = j - 1, b = j + 1;
            while (a >= 0 && on[a])
                a--;
            while (b < n && on[b])
                b++;
            for (int k = 0; k < m; k++) {
                float va = a >= 0 ? base[(size_t)a * step + (size_t)k * across] : 0.0f;
                float vb = b < n ? base[(size_t)b * step + (size_t)k * across] : 0.0f;
                base[(size_t)j * step + (size_t)k * across] = (va + vb) / 2.0f;
            }
        }
    }
}

/* Mean stroke width, in super pixels, of the pixels at least half as bright as the
 * brightest: for a long stroke, area / (perimeter / 2). The perimeter counts the
 * changes between inside and outside along each row and column, borders included. */
MN_HOT_KERNEL
static double stroke_width(const float *super, int sw, int sh)
{
    /* the brightest value of whole rows (zero past sw): the values are >= 0, so their
     * bit patterns order like them, and an integer maximum vectorises where a float
     * one would need -ffast-math */
    int32_t peak_bits = 0;
    for (int k = 0; k < sh * SUPER; k++) {
        int32_t b;
        memcpy(&b, super + k, sizeof b);
        peak_bits = b > peak_bits ? b : peak_bits;
    }
    float peak;
    memcpy(&peak, &peak_bits, sizeof peak);
    if (peak <= 0.0f)
        return 0.0;
    const float half = peak / 2.0f;
    uint8_t in[SUPER + 2][SUPER + 2];  /* with an outside ring */
    memset(in, 0, sizeof in);
    for (int j = 0; j < sh; j++)
        for (int i = 0; i < sw; i++)
            in[j + 1][i + 1] = super[j * SUPER + i] >= half;
    long area = 0, edges = 0;
    for (int j = 0; j <= sh; j++)
        for (int i = 0; i <= sw; i++) {
            area += in[j + 1][i + 1];
            edges += in[j + 1][i + 1] != in[j + 1][i];  /* left edges, then right ones */
            edges += in[j + 1][i + 1] != in[j][i + 1];  /* top, bottom */
        }
    return edges ? 2.0 * (double)area / (double)edges : 0.0;
}

/* Gray dilation of src (sw x sh, zero around) with a disc of radius r, into dst: a
 * running maximum along each row over the disc's half-width at each row offset, then
 * the maximum of those over the disc's rows. */
static void dilate(const float *src, int sw, int sh, int r, float *dst)
{
    float wide[MAX_GROW + 1][SUPER];  /* per half-width, one source row */
    int half[2 * MAX_GROW + 1];
    for (int dy = -r; dy <= r; dy++)
        half[dy + r] = (int)floor(sqrt((double)(r * r - dy * dy)) + 1e-9);
    for (int j = 0; j < sh; j++) {
        for (int i = 0; i < sw; i++)
            dst[j * SUPER + i] = 0.0f;
        for (int dy = -r; dy <= r; dy++) {
            const int y = j + dy, hw = half[dy + r];
            if (y < 0 || y >= sh)
                continue;
            const float *row = src + (size_t)y * SUPER;
            float *m = wide[hw];
            for (int i = 0; i < sw; i++) {
                float v = 0.0f;
                for (int x = max_i(0, i - hw); x <= min_i(sw - 1, i + hw); x++)
                    v = row[x] > v ? row[x] : v;
                m[i] = v;
            }
            for (int i = 0; i < sw; i++)
                dst[j * SUPER + i] = m[i] > dst[j * SUPER + i] ? m[i] : dst[j * SUPER + i];
        }
    }
}

/* Step 4 as a whole: the crop into box[0..dh)[0..dw) (0..255, not yet rounded), via a
 * 4x finer grid on which thin strokes are thickened: MNIST's pen is about 2 pixels
 * wide at 20x20, a ballpoint in a phone photo shrinks to a faint hairline. */
MN_HOT_KERNEL
static void scale_to_box(const mn_gray_image *img, const float value[256], rect c,
                         mn_preprocess_scratch *scratch, double box[BOX][BOX], int *dw_out,
                         int *dh_out)
{
    float *super = scratch->super, *grown = scratch->grown;
    int sw, sh;
    uint8_t native_px[MAX_CELLS * MAX_CELLS];
    mn_gray_image native;
    if (!scratch->line_cell && unblock(img, c, native_px, &native)) {
        img = &native;
        c = (rect){0, 0, native.width - 1, native.height - 1};
    }
    resample(img, value, c, SUPER, 0, 0, SUPER_FACTOR, super, &sw, &sh);
    const double side = max_i(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1);
    if (scratch->line_cell)
        fill_lines(scratch, c, side / SUPER, 0, 0, sw, sh, super);
    double width = stroke_width(super, sw, sh) / SUPER_FACTOR;  /* in output pixels */
    if (width > 0.0 && width < MN_PREPROCESS_THIN_STROKE) {
        /* grow by r on each side, and scale the digit smaller so that it still fits */
        int r = min_i(MAX_GROW, (int)lround((MN_PREPROCESS_STROKE - width) * SUPER_FACTOR / 2.0));
        if (r > 0) {
            resample(img, value, c, SUPER - 2 * r, r, r, r + SUPER_FACTOR, grown, &sw, &sh);
            if (scratch->line_cell)
                fill_lines(scratch, c, side / (SUPER - 2 * r), r, r, sw, sh, grown);
            sw += 2 * r;
            sh += 2 * r;
            dilate(grown, sw, sh, r, super);
            /* what the 4x4 means below read past the digit must be background */
            for (int j = 0; j < min_i(SUPER, sh + SUPER_FACTOR); j++)
                for (int i = (j < sh ? sw : 0); i < SUPER; i++)
                    super[j * SUPER + i] = 0.0f;
        }
    }
    /* back to the output grid: each output pixel is the mean of 4x4 super pixels */
    const int dw = (sw + SUPER_FACTOR - 1) / SUPER_FACTOR;
    const int dh = (sh + SUPER_FACTOR - 1) / SUPER_FACTOR;
    memset(box, 0, sizeof(double) * BOX * BOX);
    for (int j = 0; j < dh; j++) {
        float rows[SUPER];  /* the 4 super rows of output row j, summed */
        for (int i = 0; i < SUPER; i++)
            rows[i] = 0.0f;
        for (int v = 0; v < SUPER_FACTOR; v++)
            for (int i = 0; i < SUPER; i++)
                rows[i] += super[(j * SUPER_FACTOR + v) * SUPER + i];
        for (int i = 0; i < dw; i++) {
            double sum = 0.0;
            for (int u = 0; u < SUPER_FACTOR; u++)
                sum += (double)rows[i * SUPER_FACTOR + u];
            box[j][i] = sum / (SUPER_FACTOR * SUPER_FACTOR);
        }
    }
    *dw_out = dw;
    *dh_out = dh;
}

/* ------------------------------------------------------------ uneven light */

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

/* Whether the paper is shaded (its level more than `margin` above the lightest paper
 * on the border, but under `ink`) along one stretch of at least an eighth of the
 * border ring of blocks: light falls across the whole sheet and a shadow's edge
 * crosses the border once or twice, while a digit's thick middle is not on the border
 * and strokes reaching the edge touch it in separate short places, at the ink level. */
static bool shaded_on_border(const uint8_t *paper, int nbx, int nby, int margin, int ink)
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
    const int shade = lightest + margin;
    int shaded = 0, starts = 0;
    for (int k = 0; k < n; k++) {
        int at = paper[ring[k]], prev = paper[ring[(k + n - 1) % n]];
        bool here = at > shade && at < ink, before = prev > shade && prev < ink;
        shaded += here;
        starts += here && !before;
    }
    return shaded * 8 >= n && starts <= 1;
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
static bool flatten_if_uneven(const mn_gray_image *img, const levels *lv,
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
    uint8_t paper[PAPER_BLOCKS * PAPER_BLOCKS];
    block_means(img, lv->inverted, bs, nbx, nby, s->mass, paper);
    block_filter(paper, nbx, nby, false);
    block_filter(paper, nbx, nby, true);
    if (!shaded_on_border(paper, nbx, nby, margin, lv->bg + (lv->ink - lv->bg) * 7 / 8))
        return false;
    *ds = (max_i(w, h) - 1) / GRID + 1;
    flat->width = (w + *ds - 1) / *ds;
    flat->height = (h + *ds - 1) / *ds;
    flat->pixels = s->flat;
    flatten(img, lv->inverted, paper, bs, nbx, nby, *ds, s->flat, flat->width, flat->height);
    return true;
}

static mn_status no_digit(mn_preprocess_info *info, mn_error *err)
{
    if (info)
        info->no_digit = true;
    return mn_fail(err, MN_ERR_FORMAT, MN_PREPROCESS_NO_DIGIT);
}

static void note_levels(mn_preprocess_info *info, const levels *lv)
{
    if (info) {
        info->ambiguous = lv->ambiguous;
        info->inverted = lv->inverted;
        info->background = (uint8_t)lv->bg_raw;
        info->ink = (uint8_t)lv->ink_raw;
    }
}

static mn_status run(const mn_gray_image *img, mn_polarity polarity,
                     mn_preprocess_scratch *scratch, float out[MN_IMAGE_PIXELS],
                     uint8_t *preview, mn_preprocess_info *info, mn_error *err)
{
    levels lv;
    bool contrast = find_levels(img, polarity, &lv);
    note_levels(info, &lv);
    if (!contrast)
        return no_digit(info, err);
    const int in_w = img->width, in_h = img->height;
    mn_gray_image flat;
    int ds = 1;  /* input pixels per pixel of the image worked on */
    if (flatten_if_uneven(img, &lv, scratch, &flat, &ds)) {
        img = &flat;
        if (!find_levels(img, MN_POLARITY_AUTO, &lv))
            return no_digit(info, err);
    }

    rect crop;
    if (!find_digit(img, &lv, scratch, &crop))
        return no_digit(info, err);

    float value[256];  /* input gray -> output level, background exactly 0 */
    for (int v = 0; v < 256; v++) {
        float x = (float)(to_ink(v, lv.inverted) - lv.cut) * 255.0f / (float)(lv.ink - lv.cut);
        value[v] = x < 0.0f ? 0.0f : x > 255.0f ? 255.0f : x;
    }
    double box[BOX][BOX];
    int dw, dh;
    scale_to_box(img, value, crop, scratch, box, &dw, &dh);

    /* thin strokes averaged over a big area come out faint: stretch them to white */
    double peak = 0.0;
    for (int j = 0; j < dh; j++)
        for (int i = 0; i < dw; i++)
            peak = max_d(peak, box[j][i]);
    double gain = peak > 0.0 && peak < 254.5 ? 255.0 / peak : 1.0;

    uint8_t small[BOX][BOX];
    double mass = 0.0, mx = 0.0, my = 0.0;
    for (int j = 0; j < dh; j++)
        for (int i = 0; i < dw; i++) {
            double v = round(box[j][i] * gain);
            small[j][i] = (uint8_t)(v > 255.0 ? 255.0 : v);
            mass += small[j][i];
            mx += (double)i * small[j][i];
            my += (double)j * small[j][i];
        }
    if (mass <= 0.0)
        return no_digit(info, err);

    /* step 5: centre of mass to (14, 14), whole-pixel shift, box kept inside */
    const double centre = MN_IMAGE_SIDE / 2;
    int ox = (int)lround(centre - mx / mass), oy = (int)lround(centre - my / mass);
    ox = min_i(max_i(ox, 0), MN_IMAGE_SIDE - dw);
    oy = min_i(max_i(oy, 0), MN_IMAGE_SIDE - dh);

    uint8_t pixels[MN_IMAGE_PIXELS];
    memset(pixels, 0, sizeof pixels);
    for (int j = 0; j < dh; j++)
        memcpy(pixels + (oy + j) * MN_IMAGE_SIDE + ox, small[j], (size_t)dw);
    mn_normalize_pixels(pixels, MN_IMAGE_PIXELS, out);
    if (preview)
        memcpy(preview, pixels, sizeof pixels);
    if (info) {
        /* in input pixels; the last downsampled pixel may cover less than ds */
        info->crop_x = crop.x0 * ds;
        info->crop_y = crop.y0 * ds;
        info->crop_w = min_i((crop.x1 + 1) * ds, in_w) - info->crop_x;
        info->crop_h = min_i((crop.y1 + 1) * ds, in_h) - info->crop_y;
        info->box_w = dw;
        info->box_h = dh;
        info->offset_x = ox;
        info->offset_y = oy;
    }
    return MN_OK;
}

mn_status mn_preprocess_gray(const mn_gray_image *img, mn_preprocess_scratch *scratch,
                             float out[MN_IMAGE_PIXELS], uint8_t *preview,
                             mn_preprocess_info *info, mn_error *err)
{
    return mn_preprocess_gray_as(img, MN_POLARITY_AUTO, scratch, out, preview, info, err);
}

mn_status mn_preprocess_gray_as(const mn_gray_image *img, mn_polarity polarity,
                                mn_preprocess_scratch *scratch, float out[MN_IMAGE_PIXELS],
                                uint8_t *preview, mn_preprocess_info *info, mn_error *err)
{
    if (info)
        memset(info, 0, sizeof *info);
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs a non-empty gray image");
    if (!out)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs an output buffer");
    if (polarity != MN_POLARITY_AUTO && polarity != MN_POLARITY_DARK_INK &&
        polarity != MN_POLARITY_LIGHT_INK)
        return mn_fail(err, MN_ERR_ARG, "unknown polarity %d", (int)polarity);
    if (scratch)
        return run(img, polarity, scratch, out, preview, info, err);
    mn_preprocess_scratch *own = malloc(sizeof *own);
    if (!own)
        return mn_fail(err, MN_ERR_NOMEM, "no memory for preprocessing scratch (%zu bytes)",
                       sizeof *own);
    mn_status st = run(img, polarity, own, out, preview, info, err);
    free(own);
    return st;
}

mn_status mn_preprocess_pixels(const float pixels[MN_IMAGE_PIXELS],
                               float out[MN_IMAGE_PIXELS], uint8_t *preview,
                               mn_error *err)
{
    if (!pixels || !out)
        return mn_fail(err, MN_ERR_ARG, "preprocessing needs input and output buffers");
    for (int i = 0; i < MN_IMAGE_PIXELS; i++)
        if (!isfinite(pixels[i]) || pixels[i] < 0.0f || pixels[i] > 255.0f)
            return mn_fail(err, MN_ERR_ARG, "pixel %d (row %d, column %d) is %g, not in 0..255",
                           i, i / MN_IMAGE_SIDE, i % MN_IMAGE_SIDE, (double)pixels[i]);
    /* not mn_normalize_pixels: these values need not be whole (JSON), and rounding them
     * to 8 bits first would change the answer */
    for (int i = 0; i < MN_IMAGE_PIXELS; i++) {
        out[i] = (pixels[i] / 255.0f - MN_MNIST_MEAN) / MN_MNIST_STD;
        if (preview)
            preview[i] = (uint8_t)lroundf(pixels[i]);
    }
    return MN_OK;
}
