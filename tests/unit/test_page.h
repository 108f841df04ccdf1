/* A page for the unit tests of preprocessing's crop (step 3, src/mn_crop.c): a
 * 260x260 picture of paper (228) to draw ink (35) and other marks on, a hollow box
 * (a 0, lines 12 thick, 60 wide and 100 tall) as the digit, and what preprocessing
 * crops of a picture. Header only; include it after cmocka.h. */
#ifndef TESTS_UNIT_TEST_PAGE_H
#define TESTS_UNIT_TEST_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mn_image.h"
#include "mn_preprocess.h"

enum { PAGE_SIDE = 260, PAGE_PAPER = 228, PAGE_INK = 35 };

/* A blank page. */
static inline mn_gray_image page(void)
{
    mn_gray_image img = {PAGE_SIDE, PAGE_SIDE, malloc((size_t)PAGE_SIDE * PAGE_SIDE)};
    assert_non_null(img.pixels);
    memset(img.pixels, PAGE_PAPER, (size_t)PAGE_SIDE * PAGE_SIDE);
    return img;
}

/* [x0, x1) x [y0, y1) at `level`, clipped to the page. */
static inline void fill(mn_gray_image *img, int x0, int y0, int x1, int y1, int level)
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < PAGE_SIDE; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < PAGE_SIDE; x++)
            img->pixels[y * PAGE_SIDE + x] = (uint8_t)level;
}

/* The 0: lines 12 thick round [100, 160) x [top, top + 100). */
static inline void zero(mn_gray_image *img, int top)
{
    fill(img, 100, top, 160, top + 12, PAGE_INK);
    fill(img, 100, top + 88, 160, top + 100, PAGE_INK);
    fill(img, 100, top, 112, top + 100, PAGE_INK);
    fill(img, 148, top, 160, top + 100, PAGE_INK);
}

/* The crop of img, which is freed; preprocessing must succeed. */
static inline mn_preprocess_info crop_of(mn_gray_image img)
{
    float out[MN_IMAGE_PIXELS];
    mn_preprocess_info info;
    mn_error err = {{0}};
    if (mn_preprocess_gray(&img, NULL, out, NULL, &info, &err) != MN_OK)
        fail_msg("preprocessing failed: %s", err.msg);
    free(img.pixels);
    return info;
}

/* Whether the crop of img is that of the 0 at `top` alone. */
static inline bool crops_the_zero(mn_gray_image img, int top)
{
    mn_gray_image alone = page();
    zero(&alone, top);
    const mn_preprocess_info want = crop_of(alone), got = crop_of(img);
    return got.crop_x == want.crop_x && got.crop_y == want.crop_y &&
           got.crop_w == want.crop_w && got.crop_h == want.crop_h;
}

#endif
