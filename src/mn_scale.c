/* Step 4 of preprocessing: the crop scaled into the 20x20 box on a 4x finer grid, by
 * area averaging or, for a small or blocky digit, cubic interpolation; thin strokes
 * thickened, thick ones thinned, ruled lines filled. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mn_cubic.h"
#include "mn_knots.h"
#include "mn_scale.h"
#include "mn_simd.h"

/* the most a thin stroke is grown by, in super pixels: r = lround((MN_PREPROCESS_STROKE
 * - width) * SUPER_FACTOR / 2) with width > 0 */
#define MAX_GROW 4

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

bool mn_scale_is_blocky(const mn_gray_image *img)
{
    uint8_t native[MAX_CELLS * MAX_CELLS];
    mn_gray_image small;
    const rect whole = {0, 0, img->width - 1, img->height - 1};
    return unblock(img, whole, native, &small);
}

/* A crop of at most half the box a side: a low-resolution digit, interpolated. */
static bool is_low_res(rect c)
{
    return max_i(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1) * 2 <= BOX;
}

/* The crop into the super grid: interpolated when it is at most half the box. */
static void resample(const mn_gray_image *img, const float value[256], rect c, int target,
                     int ox, int oy, int pad, float *super, int *sw, int *sh)
{
    if (is_low_res(c))
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

/* The larger of a and b when growing, else the smaller. */
static inline float pick(float a, float b, bool grow)
{
    return grow ? (a > b ? a : b) : (a < b ? a : b);
}

/* Gray dilation (grow) or erosion of src (sw x sh, zero around) with a disc of radius
 * r, into dst: a running maximum (minimum) along each row over the disc's half-width
 * at each row offset, then the same over the disc's rows. The zero around counts: it
 * never wins a maximum, and wins any minimum whose disc reaches it. */
static void morph(const float *src, int sw, int sh, int r, bool grow, float *dst)
{
    float wide[MAX_GROW + 1][SUPER];  /* per half-width, one source row */
    int half[2 * MAX_GROW + 1];
    for (int dy = -r; dy <= r; dy++)
        half[dy + r] = (int)floor(sqrt((double)(r * r - dy * dy)) + 1e-9);
    for (int j = 0; j < sh; j++) {
        const bool outside = !grow && (j < r || j + r >= sh);
        for (int i = 0; i < sw; i++)
            dst[j * SUPER + i] = grow || outside ? 0.0f : src[j * SUPER + i];
        for (int dy = -r; dy <= r && !outside; dy++) {
            const int y = j + dy, hw = half[dy + r];
            if (y < 0 || y >= sh)
                continue;
            const float *row = src + (size_t)y * SUPER;
            float *m = wide[hw];
            for (int i = 0; i < sw; i++) {
                float v = grow || (i >= hw && i + hw < sw) ? row[i] : 0.0f;
                for (int x = max_i(0, i - hw); x <= min_i(sw - 1, i + hw); x++)
                    v = pick(row[x], v, grow);
                m[i] = v;
            }
            for (int i = 0; i < sw; i++)
                dst[j * SUPER + i] = pick(m[i], dst[j * SUPER + i], grow);
        }
    }
}

/* Thick strokes (a marker, or a fat digit stored at low resolution) thinned in place
 * by a gray erosion, so that loops they had almost closed open again. */
static void thin(float *super, float *tmp, int sw, int sh, double width)
{
    const double excess = width - MN_PREPROCESS_THINNED;  /* in output pixels */
    const int r = min_i(MAX_GROW, (int)lround(excess * SUPER_FACTOR / 2.0));
    if (r <= 0)
        return;
    morph(super, sw, sh, r, false, tmp);
    for (int j = 0; j < sh; j++)
        memcpy(super + (size_t)j * SUPER, tmp + (size_t)j * SUPER, sizeof(float) * (size_t)sw);
}

/* Step 4 as a whole: the crop into box[0..dh)[0..dw) (0..255, not yet rounded), via a
 * 4x finer grid on which thin strokes are thickened and thick ones thinned: MNIST's
 * pen is about 2 pixels wide at 20x20, a ballpoint in a phone photo shrinks to a faint
 * hairline, a marker is twice MNIST's pen. True when the crop, or the small image it
 * was taken back to, has at most BOX / 2 pixels a side. */
MN_HOT_KERNEL
bool mn_scale_to_box(const mn_gray_image *img, const float value[256], rect c,
                         mn_preprocess_scratch *scratch, double box[BOX][BOX], int *dw_out,
                         int *dh_out)
{
    float *super = scratch->super, *grown = scratch->grown;
    int sw, sh;
    uint8_t native_px[MAX_CELLS * MAX_CELLS];
    mn_gray_image native;
    if (!scratch->line_cell && (unblock(img, c, native_px, &native) ||
                                mn_knots_native(img, c, MAX_CELLS, native_px, &native))) {
        img = &native;  /* a small digit scaled up: scaled from its own pixels instead */
        c = (rect){0, 0, native.width - 1, native.height - 1};
    }
    resample(img, value, c, SUPER, 0, 0, SUPER_FACTOR, super, &sw, &sh);
    const double side = max_i(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1);
    const bool low_res = is_low_res(c);
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
            morph(grown, sw, sh, r, true, super);
            /* what the 4x4 means below read past the digit must be background */
            for (int j = 0; j < min_i(SUPER, sh + SUPER_FACTOR); j++)
                for (int i = (j < sh ? sw : 0); i < SUPER; i++)
                    super[j * SUPER + i] = 0.0f;
        }
    } else if (width > (low_res ? MN_PREPROCESS_THICK_LOW_RES : MN_PREPROCESS_THICK_STROKE)) {
        thin(super, grown, sw, sh, width);
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
    return low_res;
}
