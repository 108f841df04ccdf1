/* Step 1a of preprocessing: what is a sheet photographed on a darker or a lighter
 * desk, and what is not (src/mn_sheet.c), asked directly of mn_sheet_find with the
 * levels of step 1. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_levels.h"
#include "mn_sheet.h"

enum { W = 300, H = 240 };

/* A desk at level `desk` with a block [x0, x1) x [y0, y1) at level `block` and a
 * square of 20 pixels at level `mark` (a stroke written on the block) in its middle. */
static mn_gray_image picture(int desk, int block, int mark, int x0, int y0, int x1, int y1)
{
    mn_gray_image img = {W, H, malloc((size_t)W * H)};
    assert_non_null(img.pixels);
    const int mx = (x0 + x1) / 2 - 10, my = (y0 + y1) / 2 - 10;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = desk;
            if (x >= x0 && x < x1 && y >= y0 && y < y1)
                v = x >= mx && x < mx + 20 && y >= my && y < my + 20 ? mark : block;
            img.pixels[y * W + x] = (uint8_t)v;
        }
    return img;
}

/* [x0, x1) x [y0, y1) of img at `level`. */
static void fill(mn_gray_image *img, int x0, int y0, int x1, int y1, int level)
{
    for (int y = y0; y < y1; y++)
        memset(img->pixels + y * W + x0, level, (size_t)(x1 - x0));
}

/* Whether mn_sheet_find finds a sheet in img; its box in *r. */
static bool sheet_in(mn_gray_image img, rect *r)
{
    levels lv;
    assert_true(mn_levels_find(&img, MN_POLARITY_AUTO, &lv));
    const bool found = mn_sheet_find(&img, &lv, r);
    free(img.pixels);
    return found;
}

/* A desk at level `desk` with, centred at (150, 120), a disc of light 232 of radius
 * 100 or a note of 232, 140 pixels a side, turned by `degrees`; a square of `side`
 * pixels at level `mark` centred at (150, mark_y). */
static mn_gray_image note_on_desk(int desk, bool disc, double degrees, int mark, int mark_y,
                                  int side)
{
    mn_gray_image img = picture(desk, desk, desk, 0, 0, 1, 1);
    const double c = cos(degrees * M_PI / 180), s = sin(degrees * M_PI / 180);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const double dx = x - 150, dy = y - 120, u = c * dx + s * dy, v = c * dy - s * dx;
            const bool on = disc ? dx * dx + dy * dy < 100 * 100 : fabs(u) < 70 && fabs(v) < 70;
            if (abs(x - 150) < side / 2 && abs(y - mark_y) < side / 2)
                img.pixels[y * W + x] = (uint8_t)mark;
            else if (on)
                img.pixels[y * W + x] = 232;
        }
    return img;
}

/* The same turned by 15 degrees, with a square of `side` pixels. */
static mn_gray_image mark_on_desk(int desk, bool disc, int mark, int mark_y, int side)
{
    return note_on_desk(desk, disc, 15, mark, mark_y, side);
}

/* The same with a square of 20 pixels. */
static mn_gray_image shape_on_desk(int desk, bool disc, int mark, int mark_y)
{
    return mark_on_desk(desk, disc, mark, mark_y, 20);
}

static void test_a_light_sheet_on_a_dark_desk(void **state)
{
    (void)state;
    rect r;
    assert_true(sheet_in(picture(70, 230, 20, 60, 40, 240, 200), &r));
    /* a sixteenth of its size in from its edges (the grid's cells are 5 pixels) */
    assert_in_range(r.x0, 60 + 180 / 16 - 5, 60 + 180 / 16 + 5);
    assert_in_range(r.y1, 200 - 160 / 16 - 6, 200 - 160 / 16 + 4);
    /* touching two edges of the picture */
    assert_true(sheet_in(picture(70, 230, 20, 0, 0, 240, 200), &r));
    /* a small note, an eighth of the picture */
    assert_true(sheet_in(picture(70, 230, 20, 100, 70, 210, 160), &r));
    /* turned by 15 degrees (or seen at a slant): its box's corners are desk, so the
     * cut goes a sixth of the box in (about 170 px) */
    assert_true(sheet_in(shape_on_desk(70, false, 20, 120), &r));
    assert_in_range(r.x0, 150 - 85 + 170 / 6 - 6, 150 - 85 + 170 / 6 + 6);
    assert_in_range(r.y1, 120 + 85 - 170 / 6 - 6, 120 + 85 - 170 / 6 + 6);
    /* with a large mark (56 px a side): the turned note fills under 60 % of its box
     * but for the ink on it, a hole in it, which counts as sheet */
    assert_true(sheet_in(mark_on_desk(70, false, 20, 120, 56), &r));
    /* turned by 25 degrees: the note fills 57 % of its box (186 px), desk in its
     * corners, and the cut goes a quarter of the box in, onto the note alone */
    assert_true(sheet_in(note_on_desk(70, false, 25, 20, 120, 20), &r));
    assert_in_range(r.x0, 150 - 93 + 186 / 4 - 6, 150 - 93 + 186 / 4 + 6);
    assert_in_range(r.y1, 120 + 93 - 186 / 4 - 6, 120 + 93 - 186 / 4 + 6);
    /* with the ink near the note's lower edge (y = 180 to 192), below where that cut
     * would go: the cut stays a sixteenth in, the ink inside it */
    assert_true(sheet_in(note_on_desk(70, false, 25, 20, 186, 12), &r));
    assert_true(r.y1 >= 192);
}

static void test_what_is_no_sheet(void **state)
{
    (void)state;
    rect r;
    /* a dark block on light paper (a shadow): a sheet is the light side */
    assert_false(sheet_in(picture(230, 70, 250, 60, 40, 240, 200), &r));
    /* nothing on it darker than the desk: a light shape on a dark canvas */
    assert_false(sheet_in(picture(70, 230, 230, 60, 40, 240, 200), &r));
    /* under a tenth of the picture */
    assert_false(sheet_in(picture(70, 230, 20, 110, 90, 180, 150), &r));
    /* filling under 60 % of its box: the light frame of a picture, say */
    mn_gray_image frame = picture(70, 230, 20, 30, 20, 270, 220);
    fill(&frame, 60, 50, 240, 190, 70);
    fill(&frame, 145, 115, 155, 125, 20);
    assert_false(sheet_in(frame, &r));
    /* an L of light filling 56 % of its box, ink on it, desk in one corner of the
     * box alone: no turned note */
    mn_gray_image ell = picture(70, 230, 230, 30, 20, 270, 220);
    fill(&ell, 136, 62, 270, 220, 70);
    fill(&ell, 50, 30, 70, 50, 20);
    assert_false(sheet_in(ell, &r));
}

static void test_a_light_sheet_on_a_light_desk(void **state)
{
    (void)state;
    rect r;
    /* a white note on a light gray desk, dark ink on it: the ink is the dark side, the
     * sheet lighter than the desk */
    assert_true(sheet_in(picture(170, 232, 30, 60, 40, 240, 200), &r));
    assert_in_range(r.x0, 60 + 180 / 16 - 5, 60 + 180 / 16 + 5);
    assert_in_range(r.y1, 200 - 160 / 16 - 6, 200 - 160 / 16 + 4);
    /* the note turned by 15 degrees: its box's corners are desk, so the cut goes
     * deeper in, a sixth of the box (about 170 px) */
    assert_true(sheet_in(shape_on_desk(170, false, 30, 120), &r));
    assert_in_range(r.x0, 150 - 85 + 170 / 6 - 6, 150 - 85 + 170 / 6 + 6);
    /* a disc of light, the ink well inside it, is cut so too */
    assert_true(sheet_in(shape_on_desk(170, true, 30, 120), &r));
    /* the note turned by 25 degrees: the cut goes a quarter of its box in */
    assert_true(sheet_in(note_on_desk(170, false, 25, 30, 120, 20), &r));
    assert_in_range(r.x0, 150 - 93 + 186 / 4 - 6, 150 - 93 + 186 / 4 + 6);
}

static void test_what_is_no_sheet_on_a_light_desk(void **state)
{
    (void)state;
    rect r;
    /* paper a little lighter than the border (under a quarter of the contrast) */
    assert_false(sheet_in(picture(170, 190, 30, 60, 40, 240, 200), &r));
    /* ink on the desk beside the sheet: cutting the sheet would cut the digit */
    mn_gray_image beside = picture(170, 232, 30, 60, 40, 240, 200);
    fill(&beside, 10, 100, 22, 130, 30);
    assert_false(sheet_in(beside, &r));
    /* ink near the rim of a disc of light, or near the edge of a turned note: a cut
     * deep enough to lie on the light alone would cut the ink */
    assert_false(sheet_in(shape_on_desk(170, true, 30, 195), &r));
    assert_false(sheet_in(shape_on_desk(170, false, 30, 185), &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_light_sheet_on_a_dark_desk),
        cmocka_unit_test(test_what_is_no_sheet),
        cmocka_unit_test(test_a_light_sheet_on_a_light_desk),
        cmocka_unit_test(test_what_is_no_sheet_on_a_light_desk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
