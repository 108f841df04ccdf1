/* Step 1a of preprocessing: a sheet of paper photographed on a desk, found so that
 * the digit is read on the sheet, not the sheet as the digit (a darker desk) nor the
 * sheet's edges with it (a lighter one). */
#include "config.h"

#include <string.h>

#include "mn_sheet.h"

#define SHEET_GRID 64  /* the image is looked at in at most 64x64 cells */

/* The image in cells of `size` pixels a side (gw x gh of them, at most 64x64): the
 * sum of each cell's levels in ink space, read once for every question below. */
typedef struct cell_sums {
    int size, gw, gh, w, h;
    uint32_t sum[SHEET_GRID * SHEET_GRID];
} cell_sums;

static void sum_cells(const mn_gray_image *img, const levels *lv, cell_sums *c)
{
    const int w = img->width, h = img->height;
    c->size = (max_i(w, h) - 1) / SHEET_GRID + 1;
    c->gw = (w + c->size - 1) / c->size;
    c->gh = (h + c->size - 1) / c->size;
    c->w = w;
    c->h = h;
    memset(c->sum, 0, sizeof c->sum);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        uint32_t *cells = c->sum + (y / c->size) * c->gw;
        for (int gx = 0; gx < c->gw; gx++) {
            uint32_t sum = 0;  /* raw levels: a loop the compiler vectorises */
            for (int x = gx * c->size, end = min_i(w, x + c->size); x < end; x++)
                sum += row[x];
            cells[gx] += sum;
        }
    }
    if (lv->inverted)  /* in ink space each pixel's level is 255 minus its own */
        for (int j = 0; j < c->gh; j++)
            for (int i = 0; i < c->gw; i++) {
                const int cw = min_i(c->size, w - i * c->size);
                const int ch = min_i(c->size, h - j * c->size);
                c->sum[j * c->gw + i] = 255u * (uint32_t)(cw * ch) - c->sum[j * c->gw + i];
            }
}

/* Marks the cells whose mean level is at or above `level`, or, when `below`, at or
 * below it. */
static void mark_cells(const cell_sums *c, int level, bool below, uint8_t *on)
{
    for (int j = 0; j < c->gh; j++)
        for (int i = 0; i < c->gw; i++) {
            const int cw = min_i(c->size, c->w - i * c->size);
            const int ch = min_i(c->size, c->h - j * c->size);
            const uint32_t at = (uint32_t)level * (uint32_t)(cw * ch), sum = c->sum[j * c->gw + i];
            on[j * c->gw + i] = below ? sum <= at : sum >= at;
        }
}

/* Whether any inked cell lies outside box b (in cells, widened by one). */
static bool ink_outside(const uint8_t *inked, int gw, int gh, rect b)
{
    for (int j = 0; j < gh; j++)
        for (int i = 0; i < gw; i++)
            if (inked[j * gw + i] && (i < b.x0 - 1 || i > b.x1 + 1 || j < b.y0 - 1 || j > b.y1 + 1))
                return true;
    return false;
}

/* The largest 4-connected group of marked cells: its size, its box in *box. */
static int largest_group(uint8_t *on, int gw, int gh, rect *box)
{
    int16_t stack[SHEET_GRID * SHEET_GRID];
    int best = 0;
    for (int start = 0; start < gw * gh; start++) {
        if (on[start] != 1)
            continue;
        int top = 0, count = 0;
        rect b = {start % gw, start / gw, start % gw, start / gw};
        stack[top++] = (int16_t)start;
        on[start] = 2;
        while (top > 0) {
            const int c = stack[--top], cx = c % gw, cy = c / gw;
            count++;
            b = (rect){min_i(b.x0, cx), min_i(b.y0, cy), max_i(b.x1, cx), max_i(b.y1, cy)};
            const int next[4] = {cx > 0 ? c - 1 : -1, cx + 1 < gw ? c + 1 : -1,
                                 cy > 0 ? c - gw : -1, cy + 1 < gh ? c + gw : -1};
            for (int k = 0; k < 4; k++)
                if (next[k] >= 0 && on[next[k]] == 1) {
                    on[next[k]] = 2;
                    stack[top++] = (int16_t)next[k];
                }
        }
        if (count > best) {
            best = count;
            *box = b;
        }
    }
    return best;
}

/* The cells of box b off the sheet (on[] not 2) that no path of such cells joins to
 * the box's edge: holes in the sheet, where the ink on it is. Returns how many;
 * hole[] marks them. */
static int holes_in(const uint8_t *on, int gw, rect b, uint8_t *hole)
{
    uint8_t out[SHEET_GRID * SHEET_GRID] = {0};
    int16_t stack[SHEET_GRID * SHEET_GRID];
    int top = 0, off = 0, reached = 0;
    for (int j = b.y0; j <= b.y1; j++)
        for (int i = b.x0; i <= b.x1; i++) {
            const int c = j * gw + i;
            if (on[c] == 2)
                continue;
            off++;
            if (i == b.x0 || i == b.x1 || j == b.y0 || j == b.y1) {
                out[c] = 1;
                stack[top++] = (int16_t)c;
            }
        }
    while (top > 0) {
        const int c = stack[--top], cx = c % gw, cy = c / gw;
        reached++;
        const int next[4] = {cx > b.x0 ? c - 1 : -1, cx < b.x1 ? c + 1 : -1,
                             cy > b.y0 ? c - gw : -1, cy < b.y1 ? c + gw : -1};
        for (int k = 0; k < 4; k++)
            if (next[k] >= 0 && on[next[k]] != 2 && !out[next[k]]) {
                out[next[k]] = 1;
                stack[top++] = (int16_t)next[k];
            }
    }
    for (int j = b.y0; j <= b.y1; j++)
        for (int i = b.x0; i <= b.x1; i++)
            hole[j * gw + i] = on[j * gw + i] != 2 && !out[j * gw + i];
    return off - reached;
}

/* Whether the four corner cells of box b lie off the sheet (on[] not 2): a turned
 * note's box has desk in its corners. */
static bool corners_off(const uint8_t *on, int gw, rect b)
{
    return on[b.y0 * gw + b.x0] != 2 && on[b.y0 * gw + b.x1] != 2 &&
           on[b.y1 * gw + b.x0] != 2 && on[b.y1 * gw + b.x1] != 2;
}

/* Whether the ring of cells just inside box b, m cells in from its edges, lies on
 * the sheet (its cells are 2 in on[] after largest_group), but for a twentieth: the cut is all
 * sheet, as a rectangle's is, and not a disc of light's corners or a stroke's way
 * out of it. */
static bool ring_on_sheet(const uint8_t *on, int gw, rect b, int m)
{
    const rect r = {b.x0 + m, b.y0 + m, b.x1 - m, b.y1 - m};
    int cells = 0, off = 0;
    for (int j = r.y0; j <= r.y1; j++)
        for (int i = r.x0; i <= r.x1; i++)
            if (j == r.y0 || j == r.y1 || i == r.x0 || i == r.x1) {
                cells++;
                off += on[j * gw + i] != 2;
            }
    return cells > 0 && off * 20 <= cells;
}

/* How far in from the sheet's box b to cut: 1/16, 1/8, 1/6, 1/5 or 1/4 of its size,
 * the first where the ring of cells just inside the cut lies on the sheet and no ink
 * (inked[]) lies outside the cut. A sheet turned by 15 degrees, or seen at a slant,
 * needs 1/6 (its box is wider than it by its corners), by 20 degrees 1/5, by 25 to 40
 * degrees 1/4. 0 when none fits. */
static int cut_inset(const uint8_t *on, int gw, int gh, rect b, const uint8_t *inked)
{
    static const int insets[] = {16, 8, 6, 5, 4};
    for (size_t k = 0; k < sizeof insets / sizeof insets[0]; k++) {
        const int m = max_i(1, max_i(b.x1 - b.x0 + 1, b.y1 - b.y0 + 1) / insets[k]);
        const rect cut = {b.x0 + m, b.y0 + m, b.x1 - m, b.y1 - m};
        if (cut.x1 > cut.x0 && cut.y1 > cut.y0 && ring_on_sheet(on, gw, b, m) &&
            !ink_outside(inked, gw, gh, cut))
            return insets[k];
    }
    return 0;
}

/* Step 1a (mn_sheet.h). */
bool mn_sheet_find(const mn_gray_image *img, const levels *lv, rect *sheet)
{
    const int w = img->width, h = img->height;
    if (min_i(w, h) < 64)
        return false;
    /* on a dark desk the sheet is the light side, the ink (a shadow on paper is the
     * dark one), and something written on it lies beyond the desk's level, away from
     * the sheet's: without it this is a digit on its paper, however bold. On a light
     * desk the ink is dark and the sheet lighter than the desk, well below its level
     * in ink space (a quarter of the contrast), all the ink on it. */
    const bool light_desk = lv->inverted;
    if (light_desk ? (lv->bg - lv->low) * 4 < lv->ink - lv->bg
                   : (lv->bg - lv->low) * 8 < lv->ink - lv->bg)
        return false;
    cell_sums c;
    sum_cells(img, lv, &c);
    const int cell = c.size, gw = c.gw, gh = c.gh;
    uint8_t on[SHEET_GRID * SHEET_GRID];
    if (light_desk)
        mark_cells(&c, (lv->bg + lv->low) / 2, true, on);
    else
        mark_cells(&c, lv->mask, false, on);
    rect b = {0, 0, 0, 0};
    const int count = largest_group(on, gw, gh, &b);
    const int bw = b.x1 - b.x0 + 1, bh = b.y1 - b.y0 + 1;
    /* a tenth of the picture (a note on a table), filling 60 % of its box (the desk is
     * the border's level, so the sheet leaves most of the border to it) with the holes
     * in it, the ink on it, when they are at most a quarter of it (a note turned by 15
     * degrees fills 2/3 of its box, and a large digit on it takes a tenth; a light
     * frame's hole is most of it); or 52 % with desk in the box's four corners, as a
     * note turned by up to 30 degrees leaves it */
    uint8_t hole[SHEET_GRID * SHEET_GRID] = {0}, inked[SHEET_GRID * SHEET_GRID];
    const int holes = holes_in(on, gw, b, hole);
    const int area = count + (holes * 4 <= count ? holes : 0);
    if (area * 10 < gw * gh || area * 25 < bw * bh * 13 ||
        (area * 10 < bw * bh * 6 && !corners_off(on, gw, b)))
        return false;
    /* no ink may lie outside the cut: on a light desk the ink is the dark side, the
     * desk's, and on a dark desk the holes in the sheet; a cut that fits nowhere is no
     * sheet on a light desk, and stays a sixteenth in on a dark one */
    if (light_desk)
        mark_cells(&c, lv->mask, false, inked);
    int inset = cut_inset(on, gw, gh, b, light_desk ? inked : hole);
    if (!inset && light_desk)
        return false;
    inset = inset ? inset : 16;
    /* in pixels, that far in from the sheet's edges (its rim, its shadow) */
    const int mx = max_i(1, bw * cell / inset), my = max_i(1, bh * cell / inset);
    *sheet = (rect){b.x0 * cell + mx, b.y0 * cell + my,
                    min_i(w, (b.x1 + 1) * cell) - 1 - mx, min_i(h, (b.y1 + 1) * cell) - 1 - my};
    return sheet->x1 > sheet->x0 && sheet->y1 > sheet->y0;
}
