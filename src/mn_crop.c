/* Step 3 of preprocessing: the digit's bounding box from the connected components of
 * a coarse grid (mn_grid.h), marks round the digit left out. */
#include "config.h"

#include <string.h>

#include "mn_crop.h"
#include "mn_grid.h"

/* Flood-fills the 8-connected component of grid cell `start`, marking its cells
 * seen with `label` (not 0); returns its mass (pixels above the mask level) and sets
 * its bounding box and number of cells. */
static uint64_t flood(mn_preprocess_scratch *s, int gw, int gh, int start, uint8_t label,
                      rect *box, int *cells)
{
    uint64_t mass = 0;
    int top = 0;
    s->stack[top++] = start;
    s->seen[start] = label;
    *box = (rect){start % gw, start / gw, start % gw, start / gw};
    *cells = 0;
    while (top > 0) {
        int c = s->stack[--top];
        int cx = c % gw, cy = c / gw;
        mass += s->mass[c];
        (*cells)++;
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
                    s->seen[nc] = label;  /* marked when pushed: each cell once */
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

/* The box round boxes a and b. */
static rect join(rect a, rect b)
{
    return (rect){min_i(a.x0, b.x0), min_i(a.y0, b.y0), max_i(a.x1, b.x1), max_i(a.y1, b.y1)};
}

/* Box m widened by a quarter of its size on each side: what lies beside the part. */
static rect near_box(rect m)
{
    const int e = max_i(1, max_i(m.x1 - m.x0, m.y1 - m.y0) / 4);
    return (rect){m.x0 - e, m.y0 - e, m.x1 + e, m.y1 + e};
}

/* A connected component of the grid, labelled k + 1 in seen[] when it is parts[k]. */
typedef struct part {
    uint64_t mass;
    int cells;
    rect box;
} part;
#define MAX_PARTS 254  /* labels 1..254; 255 marks the components beyond */

/* Whether component `label` has cells on all four sides of box b, in b's middle row
 * and column, within its own box `around`. */
static bool surrounds(const uint8_t *seen, int gw, uint8_t label, rect around, rect b)
{
    const int row = (b.y0 + b.y1) / 2, col = (b.x0 + b.x1) / 2;
    bool left = false, right = false, up = false, down = false;
    for (int x = around.x0; x <= around.x1; x++)
        if (seen[(size_t)row * (size_t)gw + (size_t)x] == label) {
            left = left || x < b.x0;
            right = right || x > b.x1;
        }
    for (int y = around.y0; y <= around.y1; y++)
        if (seen[(size_t)y * (size_t)gw + (size_t)col] == label) {
            up = up || y < b.y0;
            down = down || y > b.y1;
        }
    return left && right && up && down;
}

/* Whether parts[i] is a frame: a box or ring drawn round the digit, as on a form or
 * when a digit is circled. It is hollow (its cells fill at most a quarter of its
 * box) and surrounds another component of at least 1/16 of its mass. A digit's loop
 * seldom holds a separate stroke of that size. */
static bool is_frame(const mn_preprocess_scratch *s, int gw, const part *parts, int np, int i)
{
    const rect f = parts[i].box;
    const int64_t area = (int64_t)(f.x1 - f.x0 + 1) * (f.y1 - f.y0 + 1);
    if ((int64_t)parts[i].cells * 4 > area)
        return false;
    for (int j = 0; j < np; j++) {
        const rect g = parts[j].box;
        if (j != i && parts[j].mass * 16 >= parts[i].mass && g.x0 > f.x0 && g.x1 < f.x1 &&
            g.y0 > f.y0 && g.y1 < f.y1 && surrounds(s->seen, gw, (uint8_t)(i + 1), f, g))
            return true;
    }
    return false;
}

/* Whether a component is flat: at least four times as wide as tall. */
static bool is_flat(rect b)
{
    return (b.y1 - b.y0 + 1) * 4 <= b.x1 - b.x0 + 1;
}

/* Whether box u is a line under the digit (box d): flat, at least as wide as the
 * digit, its top in the digit's lower half and its bottom below the digit's by 1/12
 * of its height: an underline, or a form's comb, whose ticks rise beside the digit.
 * Not above it: the bar of a 5 or a 7 drawn apart lies there; and the base of a 2
 * drawn apart is no wider than the 2. */
static bool is_underline(rect u, rect d)
{
    const int height = d.y1 - d.y0 + 1;
    return is_flat(u) && u.x1 - u.x0 >= d.x1 - d.x0 && u.y0 > d.y0 + height / 2 &&
           u.y1 - d.y1 > max_i(1, height / 12);
}

static bool touches_edge(rect b, int gw, int gh)
{
    return b.x0 == 0 || b.y0 == 0 || b.x1 == gw - 1 || b.y1 == gh - 1;
}

/* Whether part p is a punched hole beside the digit (main box d), as a scanner with a
 * dark lid shows a binder's holes: a solid round blob (its cells fill 2/3 of its box
 * but not 9/10, as a disc's do and a square block of a digit scaled up from a few
 * pixels does not; the box within 4/3 as wide as tall either way), at most a third
 * of the digit's height across, no further from the picture's edge than its own size, and
 * clear of the digit by a quarter of the digit's size, a digit that keeps clear of
 * the edge itself (one filling its canvas has its pieces there). */
static bool is_hole(part p, rect d, int gw, int gh)
{
    const rect b = p.box;
    const int w = b.x1 - b.x0 + 1, h = b.y1 - b.y0 + 1, side = max_i(w, h);
    const int edge = min_i(min_i(b.x0, b.y0), min_i(gw - 1 - b.x1, gh - 1 - b.y1));
    const int64_t cells = p.cells, area = (int64_t)w * h;
    return cells * 3 >= area * 2 && cells * 10 <= area * 9 && w * 3 <= h * 4 && h * 3 <= w * 4 &&
           side * 3 <= d.y1 - d.y0 + 1 && edge <= side && !overlaps(b, near_box(d)) &&
           !touches_edge(d, gw, gh);
}

/* The largest of the parts that mark[] does not mark, or rather the largest that is
 * not flat, if it has a tenth of that mass (a digit is not flat; an underline may be
 * the largest part); -1 if none. */
static int main_part(const part *parts, int np, const bool *mark)
{
    int largest = -1, upright = -1;
    for (int i = 0; i < np; i++) {
        if (mark[i])
            continue;
        if (largest < 0 || parts[i].mass > parts[largest].mass)
            largest = i;
        if (!is_flat(parts[i].box) && (upright < 0 || parts[i].mass > parts[upright].mass))
            upright = i;
    }
    return upright >= 0 && parts[upright].mass * 10 >= parts[largest].mass ? upright : largest;
}

/* Takes the marks round the digit out of the components (their cells' mass set to
 * 0): frames, and then lines under the main part and punched holes beside it. Returns the mass of the main part
 * left, its box in *main_box (0 and untouched when none is). */
static uint64_t drop_marks(mn_preprocess_scratch *s, int gw, int gh, const part *parts, int np,
                           rect *main_box)
{
    bool mark[MAX_PARTS];
    bool any = false;
    for (int i = 0; i < np; i++)
        any |= mark[i] = is_frame(s, gw, parts, np, i);
    int m = main_part(parts, np, mark);
    if (m < 0)
        return 0;
    for (int i = 0; i < np; i++)
        if (!mark[i] && i != m &&
            (is_underline(parts[i].box, parts[m].box) || is_hole(parts[i], parts[m].box, gw, gh)))
            any = mark[i] = true;
    if (any)
        for (int c = 0; c < gw * gh; c++)
            if (s->seen[c] && s->seen[c] <= np && mark[s->seen[c] - 1])
                s->mass[c] = 0;
    *main_box = parts[m].box;
    return parts[m].mass;
}

/* Several characters in a row ("42"), which no one digit's reading answers: the
 * kept parts fall into groups side by side, split at columns that no part's box
 * reaches into (boxes, not cells: a digit's strokes drawn apart, a 4's stem beside
 * its corner, overlap in their boxes). Two groups that are each as tall as a
 * character (2/3 of the row) and heavy enough (1/8 of the ink), with a gap between
 * them of at least 1/6 of the row's height, in a row at least 6/5 as wide as tall,
 * are taken for two characters. A digit drawn apart leaves a narrower gap: of
 * MNIST's 70,000, one wide 4 is split so, by 1/19 to 1/12 of its height (scaled up
 * 2 or 4 times, or stored at 8x8 and scaled up). Sorts parts[] by their left edge. */
static bool side_by_side(part *parts, int np, rect row)
{
    const int height = row.y1 - row.y0 + 1, width = row.x1 - row.x0 + 1;
    if (width * 5 < height * 6)
        return false;
    for (int i = 1; i < np; i++)  /* insertion sort: np is small */
        for (int j = i; j > 0 && parts[j].box.x0 < parts[j - 1].box.x0; j--) {
            part t = parts[j];
            parts[j] = parts[j - 1];
            parts[j - 1] = t;
        }
    uint64_t total = 0;
    for (int i = 0; i < np; i++)
        total += parts[i].mass;
    int last_x1 = -1;  /* right edge of the last group that could be a character */
    for (int i = 0, j; i < np; i = j) {
        rect g = parts[i].box;
        uint64_t mass = 0;
        for (j = i; j < np && parts[j].box.x0 <= g.x1; j++) {
            g.x1 = max_i(g.x1, parts[j].box.x1);
            g.y0 = min_i(g.y0, parts[j].box.y0);
            g.y1 = max_i(g.y1, parts[j].box.y1);
            mass += parts[j].mass;
        }
        if ((g.y1 - g.y0 + 1) * 3 < height * 2 || mass * 8 < total)
            continue;
        const int gap = g.x0 - last_x1 - 1;
        if (last_x1 >= 0 && gap * 6 >= height)
            return true;
        last_x1 = g.x1;
    }
    return false;
}

/* Where a line of print lies from the digit's main part. */
typedef enum { ABOVE, BELOW, LEFT, RIGHT } place;

/* How many cells box b lies on `where` of box m, beyond m's edge (under 1: not
 * wholly there). */
static int distance(rect b, rect m, place where)
{
    switch (where) {
    case ABOVE: return m.y0 - b.y1;
    case BELOW: return b.y0 - m.y1;
    case LEFT: return m.x0 - b.x1;
    default: return b.x0 - m.x1;
    }
}

/* A line of print beside the digit, which the crop would squeeze in with it: a
 * worksheet's "Write a digit here" over it, "Answer:" before it. Its parts are the
 * kept ones that lie on `where` of the main part, over or under it beyond a third of
 * its height, before or after it beyond its box. Together they are print when they
 * are at most a fifth as tall as the main part, at least twice as wide as tall,
 * under half its mass, and away from it by three times their own height over or
 * under it, twice before or after it, where they must also stand within its rows and
 * leave a tenth of their box empty (letters do; a sliver of a stroke fills it). A
 * stroke of the digit drawn apart (the bar of a 5, a piece of a grainy pencil stroke,
 * a block of a digit stored at 8x8) is taller for its gap, or solid: no crop of
 * MNIST's 70,000 digits changes, scaled up 2, 4 or 8 times or stored at 8x8 and
 * scaled up 6 or 12 times on a margin. Marks the parts in drop[]. */
static void find_print(const part *parts, int np, rect main, uint64_t main_mass, place where,
                       bool *drop)
{
    const bool beside = where == LEFT || where == RIGHT;
    const int height = main.y1 - main.y0 + 1, zone = beside ? 0 : (height + 2) / 3;
    rect u = {0, 0, -1, -1};
    uint64_t mass = 0;
    int64_t cells = 0;
    bool any = false;
    for (int i = 0; i < np; i++) {
        if (distance(parts[i].box, main, where) <= zone)
            continue;
        u = any ? join(u, parts[i].box) : parts[i].box;
        mass += parts[i].mass;
        cells += parts[i].cells;
        any = true;
    }
    const int uh = u.y1 - u.y0 + 1, uw = u.x1 - u.x0 + 1, apart = distance(u, main, where) - 1;
    if (!any || uh * 5 > height || uw < 2 * uh || mass * 2 >= main_mass ||
        apart < (beside ? 2 : 3) * uh)
        return;
    if (beside && (u.y0 < main.y0 || u.y1 > main.y1 || cells * 10 > (int64_t)uw * uh * 9))
        return;
    for (int i = 0; i < np; i++)
        drop[i] = drop[i] || distance(parts[i].box, main, where) > zone;
}

/* The box of the kept parts (pass 2), lines of print round the main part left out
 * (find_print); they are also taken out of parts[], whose count is returned in *np. */
static rect without_print(part *parts, int *np, rect main, uint64_t main_mass)
{
    bool drop[MAX_PARTS] = {false};
    for (place where = ABOVE; where <= RIGHT; where++)
        find_print(parts, *np, main, main_mass, where, drop);
    rect cells = main;
    int kept = 0;
    for (int i = 0; i < *np; i++) {
        if (drop[i])
            continue;
        cells = join(cells, parts[i].box);
        parts[kept++] = parts[i];
    }
    *np = kept;
    return cells;
}

/* Whether parts[i] (label i + 1 in s->seen) is a thing at the picture's edge, not
 * ink: it touches the edge, is solid (its cells fill half its box) and
 * hardly reaches the ink's level (under 1/20 of its pixels above the mask lie within
 * 1/8 of the contrast of it): a thumb over the corner, a shadowed table edge. A
 * digit's strokes, however gray their rim, reach the ink level: it is their level. */
static bool is_edge_blob(const mn_gray_image *img, const levels *lv,
                         const mn_preprocess_scratch *s, int f, int gw, int gh, part p,
                         uint8_t label)
{
    const rect b = p.box;
    const int64_t area = (int64_t)(b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
    if (!touches_edge(b, gw, gh) || (int64_t)p.cells * 2 < area)
        return false;
    const int dark = lv->ink - (lv->ink - lv->bg) / 8;
    uint64_t inked = 0, at_ink = 0;
    for (int gy = b.y0; gy <= b.y1; gy++)
        for (int gx = b.x0; gx <= b.x1; gx++) {
            if (s->seen[gy * gw + gx] != label)
                continue;
            for (int y = gy * f; y < min_i(img->height, (gy + 1) * f); y++) {
                const uint8_t *row = img->pixels + (size_t)y * (size_t)img->width;
                for (int x = gx * f; x < min_i(img->width, (gx + 1) * f); x++) {
                    const int v = to_ink(row[x], lv->inverted);
                    inked += v >= lv->mask;
                    at_ink += v >= dark;
                }
            }
        }
    return at_ink * 20 < inked;
}

/* Takes the things at the picture's edge (is_edge_blob) out of the components, their
 * cells' mass set to 0, when the largest part left, the digit, keeps clear of the
 * edge and of them by a quarter of its size: a digit that fills its canvas (one
 * scaled up from a few pixels), or a piece of one, broken off by the mask, can be
 * gray, solid and at the edge too, but lies beside the rest of it. */
static void drop_edge_blobs(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                            int f, int gw, int gh, part *parts, int np)
{
    bool blob[MAX_PARTS], any = false;
    int largest = -1;
    for (int i = 0; i < np; i++) {
        any |= blob[i] = is_edge_blob(img, lv, s, f, gw, gh, parts[i], (uint8_t)(i + 1));
        if (!blob[i] && (largest < 0 || parts[i].mass > parts[largest].mass))
            largest = i;
    }
    if (!any || largest < 0 || touches_edge(parts[largest].box, gw, gh))
        return;
    const rect near = near_box(parts[largest].box);
    for (int i = 0; i < np; i++)
        blob[i] = blob[i] && !overlaps(parts[i].box, near);
    for (int c = 0; c < gw * gh; c++)
        if (s->seen[c] && s->seen[c] <= np && blob[s->seen[c] - 1])
            s->mass[c] = 0;
    for (int i = 0; i < np; i++)
        if (blob[i])
            parts[i].mass = 0;
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

/* Step 3 (mn_crop.h): the digit's bounding box in input pixels. */
bool mn_crop_find_digit(const mn_gray_image *img, const levels *lv, mn_preprocess_scratch *s,
                        rect *digit, bool *several)
{
    const int w = img->width, h = img->height;
    const int f = (max_i(w, h) - 1) / GRID + 1;  /* input pixels per grid cell side */
    const int gw = (w + f - 1) / f, gh = (h + f - 1) / f;
    mn_grid_count(img, lv, s, f, gw, gh);

    /* pass 1: the components, the marks round the digit taken out, and the main one */
    memset(s->seen, 0, (size_t)gw * (size_t)gh);
    part parts[MAX_PARTS];
    int np = 0, ncells;
    bool counted = true;  /* every component is in parts[] */
    uint64_t largest = 0;
    rect main_box = {0, 0, 0, 0}, box;
    for (int c = 0; c < gw * gh; c++)
        if (s->mass[c] && !s->seen[c]) {
            uint64_t m = flood(s, gw, gh, c, (uint8_t)(np < MAX_PARTS ? np + 1 : 255), &box,
                               &ncells);
            if (np < MAX_PARTS)
                parts[np++] = (part){m, ncells, box};
            else
                counted = false;
            if (m > largest) {
                largest = m;
                main_box = box;
            }
        }
    /* a tiny image's digit is too few cells to tell its parts from marks round it */
    if (counted && min_i(gw, gh) >= MN_PREPROCESS_TINY_SIDE) {
        drop_edge_blobs(img, lv, s, f, gw, gh, parts, np);
        largest = drop_marks(s, gw, gh, parts, np, &main_box);
    }
    /* only specks: under 1/20000 of the image, or 256 pixels (16x16 of ink; a thin 1
     * of 80 px has twice that) */
    const uint64_t n = (uint64_t)w * (uint64_t)h, specks = n / 20000 < 256 ? n / 20000 : 256;
    if (largest < 4 || largest < specks)
        return false;

    /* pass 2: keep the components that are large, or not tiny and next to the main one
     * (the detached bar of a 5, the stem of a 4 drawn in two strokes) */
    const rect near = near_box(main_box);
    rect cells = main_box;
    int nk = 0;
    memset(s->seen, 0, (size_t)gw * (size_t)gh);
    for (int c = 0; c < gw * gh; c++)
        if (s->mass[c] && !s->seen[c]) {
            uint64_t m = flood(s, gw, gh, c, 1, &box, &ncells);
            if (m * 10 >= largest || (m * 100 >= largest && overlaps(box, near))) {
                cells = join(cells, box);
                if (nk < MAX_PARTS)
                    parts[nk] = (part){m, ncells, box};
                nk++;
            }
        }
    if (nk <= MAX_PARTS && min_i(gw, gh) >= MN_PREPROCESS_TINY_SIDE)
        cells = without_print(parts, &nk, main_box, largest);
    *several = nk <= MAX_PARTS && side_by_side(parts, nk, cells);

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
