/* Step 3's grid (mn_grid.h): the image's ink counted per cell, and ruled or squared
 * paper's lines found and taken out of it. */
#include "config.h"

#include <string.h>

#include "mn_grid.h"

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

/* Whether paper lies beside a run of lines, going from line i by step (+1 or -1;
 * lit[i] of len cells of line i show faint ink): one of the two next lines is less than
 * 80 % lit, or the image ends there. (The line next to a ruled line may be half covered
 * by it.) Around a stroke across a digit that fills its image, the lines are almost as
 * lit as the stroke, ink that scaling up blurred, and no line is there. */
static bool paper_beside(const int *lit, int n, int i, int step, int len)
{
    for (int k = 0; k < 2; k++, i += step)
        if (i < 0 || i >= n || lit[i] * 10 < len * 8)
            return true;
    return false;
}

/* Flags the runs of n grid lines (rows or columns: cell k of line i is
 * faint[i * across + k * along], len cells long) where at least 90% of the cells show
 * something, the run is thin (at most 1/32 of the side, at least one cell) and the
 * lines beside it are paper (paper_beside): a ruled or squared paper's line crossing
 * the whole image, not a digit's stroke, which neither spans the image nor is that
 * thin. */
static bool flag_lines(const uint8_t *faint, int n, int len, int along, int across,
                       uint8_t *flag)
{
    const int thin = max_i(1, n / 32);
    int lit[GRID];
    bool any = false;
    for (int i = 0; i < n; i++) {
        lit[i] = 0;
        for (int k = 0; k < len; k++)
            lit[i] += faint[(size_t)i * (size_t)across + (size_t)k * (size_t)along];
        flag[i] = len >= 16 && lit[i] * 10 >= len * 9;
    }
    for (int i = 0; i < n;) {
        int end = i;
        while (end < n && flag[end])
            end++;
        const bool line = end > i && end - i <= thin && paper_beside(lit, n, i - 1, -1, len) &&
                          paper_beside(lit, n, end, 1, len);
        if (end > i && !line)
            memset(flag + i, 0, (size_t)(end - i));
        any = any || line;
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

/* mn_grid.h: the counts, and the lines out of them. */
void mn_grid_count(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s, int f,
                   int gw, int gh)
{
    const bool rows = edges_show_ink(img, lv, true), cols = edges_show_ink(img, lv, false);
    if (rows || cols)
        grid_mass_faint(img, lv, s, f, gw, gh);
    else
        grid_mass(img, lv, s, f, gw, gh);
    find_lines(s, f, gw, gh, rows, cols);
}
