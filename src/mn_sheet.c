/* Step 1a of preprocessing: a sheet of paper photographed on a darker desk, found so
 * that the digit is read on the sheet and not the sheet as the digit. */
#include "config.h"

#include "mn_sheet.h"

#define SHEET_GRID 64  /* the image is looked at in at most 64x64 cells */

/* Marks the cells whose mean level is at or above the mask level (in ink space): a
 * sheet lighter than the desk is on the ink side. */
static void mark_cells(const mn_gray_image *img, const levels *lv, int cell, int gw, int gh,
                       uint8_t *on)
{
    uint32_t sum[SHEET_GRID * SHEET_GRID] = {0};
    const int w = img->width, h = img->height;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * (size_t)w;
        uint32_t *cells = sum + (y / cell) * gw;
        for (int x = 0; x < w; x++)
            cells[x / cell] += (uint32_t)to_ink(row[x], lv->inverted);
    }
    for (int j = 0; j < gh; j++)
        for (int i = 0; i < gw; i++) {
            const int cw = min_i(cell, w - i * cell), ch = min_i(cell, h - j * cell);
            on[j * gw + i] = sum[j * gw + i] >= (uint32_t)lv->mask * (uint32_t)(cw * ch);
        }
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

/* Step 1a (mn_sheet.h). */
bool mn_sheet_find(const mn_gray_image *img, const levels *lv, rect *sheet)
{
    const int w = img->width, h = img->height;
    /* the sheet is the light side (a shadow on paper is the dark one), and something
     * written on it lies beyond the desk's level, away from the sheet's: without it
     * this is a digit on its paper, however bold */
    if (min_i(w, h) < 64 || lv->inverted || (lv->bg - lv->low) * 8 < lv->ink - lv->bg)
        return false;
    const int cell = (max_i(w, h) - 1) / SHEET_GRID + 1;
    const int gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell;
    uint8_t on[SHEET_GRID * SHEET_GRID];
    mark_cells(img, lv, cell, gw, gh, on);
    rect b = {0, 0, 0, 0};
    const int count = largest_group(on, gw, gh, &b);
    const int bw = b.x1 - b.x0 + 1, bh = b.y1 - b.y0 + 1;
    /* a fifth of the picture, filling 60 % of its box (the desk is the border's level,
     * so the sheet leaves most of the border to it) */
    if (count * 5 < gw * gh || count * 10 < bw * bh * 6)
        return false;
    /* in pixels, a sixteenth of the sheet in from its edges (its rim, its shadow) */
    const int mx = max_i(1, bw * cell / 16), my = max_i(1, bh * cell / 16);
    *sheet = (rect){b.x0 * cell + mx, b.y0 * cell + my,
                    min_i(w, (b.x1 + 1) * cell) - 1 - mx, min_i(h, (b.y1 + 1) * cell) - 1 - my};
    return sheet->x1 > sheet->x0 && sheet->y1 > sheet->y0;
}

