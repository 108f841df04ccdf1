/* Making any photo or drawing look like an MNIST digit (see ARCHITECTURE.md and the README, "API").
 * The steps below live in mn_levels.c (0, 1, 2), mn_sheet.c (1a), mn_paper.c (1b),
 * mn_ruling.c (1c), mn_crop.c (3) and mn_scale.c (4); mn_preprocess.c runs them (0,
 * then 1 and 2, which find the levels that 1a and 1b use, then 1a, 1b, 1c, 3, 4) and
 * does 5 and 6.
 *
 * From an 8-bit grayscale image (mn_image_decode_gray: alpha already composited on
 * white, or on black under light strokes), as follows:
 *   0. a faint image, its ink fewer than MN_PREPROCESS_MIN_CONTRAST levels from its
 *      paper (a digit saved with its 17 stored levels, 0..16; a light gray
 *      drawing, in a JPEG too), whose ink still lies well beyond its paper's noise,
 *      is stretched to 0..255 into the scratch (averaged down to at most 256x256
 *      pixels; see mn_levels_stretch_faint) and read from there;
 *   1. polarity from the border: the background is the border's median, or, when
 *      one 16-level window holds at least half of the border pixels (a dominant
 *      paper level), the median of those; the digit is on whichever side (darker or
 *      lighter) reaches further from it, robustly (the 1/10000 extreme, but never
 *      past 16 pixels, so that a few hot pixels do not count and a small digit in a
 *      large photo does), unless a quarter of the border lies at that side's
 *      extreme and not at the other's: then that side is paper too, lit beside a
 *      shadow across the page, and the ink is on the other (under 32 pixels a side
 *      the border is too short to tell). Dark ink is inverted so that the digit is
 *      white on black, as in MNIST. Without a dominant level, in a clean image (a border
 *      that is noiseless, see 2, or changes smoothly, as a digit scaled up by
 *      interpolation does, or an image too small to tell) with a tenth of its
 *      pixels at one flat extreme level, the border is split between paper and ink
 *      (a digit filling its canvas). The corners then tell: a digit seldom reaches
 *      them, so when three of the four (squares 1/16 of the short side) are nearer
 *      one extreme level, that level is the paper. When they split two and two,
 *      either polarity may be right: info->ambiguous says so, and
 *      mn_preprocess_gray_as reads the image with the polarity the caller asks for.
 *      Either way the paper is put at the image's extreme level on its side;
 *   1a. a sheet of paper photographed on a desk (mn_sheet.h): steps 1 and 2 took
 *      the desk for paper, and on a darker desk the sheet for ink. When the largest
 *      block of cells at the ink level (on a lighter desk: lighter than the desk by
 *      a quarter of the contrast or more) covers a tenth of the picture and, with
 *      the holes in it (the ink on it) when they are at most a quarter of it, 60 % of
 *      its box (52 % with desk in the box's four corners: a note turned by up to 30
 *      degrees), and (on a darker desk) something on it is darker than the desk, the
 *      sheet (a sixteenth in from its edges, or up to a quarter, until the cut lies on
 *      the sheet alone with all the ink inside it: a turned note's box has desk in its
 *      corners; else on a lighter desk no sheet, on a darker one a sixteenth in) is
 *      cut out into the
 *      scratch, averaged down to 256x256 at most, and read from there, if its border
 *      shows paper (a dominant level); steps 1-2 are done again on it;
 *   1b. uneven light (a shadow, a gradient): the paper's level is estimated locally,
 *      as the means of 32x32 blocks closed over 7 blocks (ink narrower than that gives
 *      way to the paper around it). When that paper, along one stretch of at least an
 *      eighth of the border ring of blocks (gaps of up to 2 blocks bridged; two
 *      stretches on a photo's noisy paper 225 px or more a side: two shadows, or one
 *      round a corner the light reaches), is
 *      darker than the lightest border paper by more than half the cut's margin (and
 *      1/16 of the contrast) yet lighter than 7/8 of the way to the ink (a stroke
 *      reaching the edge is not a shadow), or, on a photo's noisy paper, where a
 *      sixteenth of the blocks inside is so shaded and 7/8 of those show that level
 *      themselves (a shadow inside the sheet), the image is
 *      flat-fielded into the scratch (at most 256x256, averaged down): each ink level
 *      i becomes 255 (i - p) / (255 - p), p the paper's level interpolated there, as
 *      light darkens paper and ink alike; the steps below then run on that copy, with
 *      polarity and levels found again. Evenly lit input is not touched, nor is a
 *      small digit scaled up by repeating pixels (blocky, see 4): no photo, its
 *      strokes are wide for its canvas and the closing would take them for shade;
 *   1c. on that flat-fielded copy, or on evenly lit paper that lit runs cross from
 *      side to side (on a copy averaged down to 256x256 at most, used only if it
 *      painted a line that step 3 cannot find: at a slant, or stopping short of the
 *      picture's edges), the lines of ruled or squared paper, however the photo
 *      turned them (up to an eighth of the picture's length from level): two or
 *      more straight paths in a direction whose part inside the picture (half its
 *      length at least) lies 80 % above the cut, thin (a thirty-second of the
 *      picture), with paper (under 70 %) beside them, are painted over with the
 *      paper on either side, except where ink touching them reaches further across
 *      (a stroke along or over the line); the levels are then found again;
 *   2. background removal: values up to a cut just above the background become
 *      exactly 0, and the range from the cut to the ink level is stretched to 0..255.
 *      The cut is twice the background noise (at least 1/32, at most 1/2 of the
 *      contrast): with a dominant paper level, measured on the border pixels within a
 *      quarter of the contrast of it, so that a digit covering much of the border (a
 *      low-resolution digit scaled up to fill its canvas) is not taken for noise;
 *      else on the whole border, so that uneven light stays under the cut. A border
 *      whose neighbouring pixels near the background mostly repeat their level (a
 *      drawing, a clean scan, a scaled-up low-resolution digit) has no noise: what
 *      spreads its levels is ink touching it, and the cut is then the least margin.
 *      So is an image under MN_PREPROCESS_TINY_SIDE on a side (a digit sent at the
 *      8x8 it was stored at): its border is too few pixels to tell noise from ink,
 *      and so is the clean image of step 1 without a dominant level (a digit scaled
 *      up smoothly to fill its canvas, whose gray strokes spread the border's levels);
 *   3. crop to the digit's bounding box: pixels above an Otsu threshold are grouped
 *      into 8-connected components (on a grid of at most 256x256 cells, so the cost
 *      does not depend on the image size). Ruled or squared paper's lines are taken
 *      out first: grid rows or columns where 90% of the cells show anything above the
 *      cut, in runs at most 1/32 of the side thick with paper (under 80%) within two
 *      lines on either side (a digit's stroke neither spans the image nor is that
 *      thin, and a digit filling its canvas blurs ink over most of every row around
 *      it), leave the components except where a stroke crosses them, and are
 *      ignored by the crop. Marks round the digit are taken out next, in a grid of
 *      32 cells a side or more (at 8x8 a digit's parts look like marks): a thing at
 *      the picture's edge (a component touching it, its cells filling half its box,
 *      under 1/20 of its pixels within 1/8 of the contrast of the ink level: a
 *      thumb over a corner, a table's edge), when the largest other component keeps
 *      clear of the edge and of it by a quarter of its size; a frame (a
 *      component whose cells fill at most a quarter of its box and that surrounds,
 *      in its middle row and column, another of at least 1/16 of its mass: a form's
 *      box, a ring round a circled digit) and then a line under the digit (a flat
 *      component, four times as wide as tall, at least as wide as the main one, its
 *      top in the main one's lower half and its bottom 1/12 of its height below
 *      the main one's: an underline, a form's comb whose ticks rise beside it), and
 *      punched holes (solid round blobs filling 2/3 but not 9/10 of their box, at
 *      most a third of the main one's height across, within their size of the picture's
 *      edge, a quarter of the main one's size clear of it, when it keeps clear of
 *      the edge). The main component is the
 *      largest left, or the largest that is not flat if it has a tenth of that
 *      mass. Components smaller than 1/10 of it are dropped unless they are at
 *      least 1/100 of it and within a quarter of its size of its box (a detached
 *      bar). So is a line of print round the digit (a worksheet's "Write a digit
 *      here" over it, "Answer:" before it): the components more than a third of
 *      the main one's height over (or under) its box, or wholly before (or after)
 *      it, when together they are at most a fifth as tall as it, twice as wide as
 *      tall, under half its mass, and three times their own height away from it
 *      over or under it; twice before or after it, within its rows, and a tenth of
 *      their box empty (a stroke of the digit drawn apart is taller for its gap,
 *      or solid). Several characters side by side ("42") are refused rather than read as
 *      one: the kept components fall into groups split by empty columns, and two
 *      groups each 2/3 of the row's height and 1/8 of its ink, at least 1/6 of its
 *      height apart, in a row 6/5 as wide as tall or more, are two characters,
 *      unless the row is under 20 pixels tall or read at low resolution (step 4),
 *      where a digit broken in two looks the same. The box is then tightened to
 *      the digit's pixels, keeping their faint anti-aliased rim;
 *   4. area averaging (a box filter with fractional coverage) to fit a 20x20 box,
 *      keeping the aspect ratio, done on a 4x finer grid and then 4x4-averaged (the
 *      same result). A crop of at most 10 pixels a side is instead interpolated
 *      (Catmull-Rom), so that it comes out smooth, as MNIST's digits are, not as
 *      blocks; so is a crop that is such a small digit scaled up by repeating pixels
 *      (blocky), once its runs of repeated columns and rows are taken back to one
 *      pixel each, or scaled up 3 to 32 times by linear interpolation (smooth;
 *      mn_knots.h), once taken back to its values at the pixel centres, where its
 *      rows and columns bend. On the finer grid, strokes thinner than 1.4 output
 *      pixels (a ballpoint in a phone photo) are thickened to about 2, MNIST's pen,
 *      by a gray dilation, the digit being scaled a little smaller so that it still
 *      fits; strokes thicker than 3 (a marker; 3.6 in a digit read at low
 *      resolution, which interpolation blurs) are thinned to about 2.5 by a gray
 *      erosion, which opens loops they had almost closed. If the strokes come out
 *      fainter than full white, they are stretched back to 255. The rows and
 *      columns of ruled lines are filled there from the nearest ones off the line,
 *      so that a stroke the line crossed continues;
 *   5. placement in 28x28 with the centre of mass at (14, 14), in pixel-index
 *      coordinates (pixel (i, j) sits at (i, j), as scipy.ndimage.center_of_mass
 *      counts), by rounding the offset to whole pixels and clamping so that the box
 *      stays inside, as MNIST itself was made;
 *   6. normalisation of the 8-bit result (mn_normalize_pixels).
 *
 * An image with no digit (uniform, contrast under 32 levels unless step 0 took it,
 * or only specks: its largest component under 1/20000 of the image or 256 pixels) is
 * refused with MN_ERR_FORMAT, the message MN_PREPROCESS_NO_DIGIT
 * and info->no_digit = true, so that the service can answer 422 "no digit found";
 * one with several characters side by side (step 3) with MN_ERR_FORMAT, the message
 * MN_PREPROCESS_SEVERAL_DIGITS and info->several_digits = true.
 *
 * Nothing here allocates when the caller supplies a scratch area; none of it is
 * shared between calls, so one scratch per thread serves any image size. */
#ifndef MN_PREPROCESS_H
#define MN_PREPROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "mn_error.h"
#include "mn_image.h"
#include "mn_net.h"
#include "mn_preprocess_types.h"

#define MN_PREPROCESS_NO_DIGIT "no digit found"
#define MN_PREPROCESS_SEVERAL_DIGITS \
    "several digits or characters side by side: send one digit per image"

/* What preprocessing found; useful for logs and the UI. Coordinates in input pixels. */
typedef struct mn_preprocess_info {
    bool no_digit;        /* the status is MN_ERR_FORMAT because nothing digit-like was found */
    bool several_digits;  /* ... because several characters stand side by side (step 3) */
    bool ambiguous;       /* the polarity could be either (step 1): try both */
    bool inverted;        /* the input was dark on light */
    uint8_t background;   /* background gray level of the input, 0..255 */
    uint8_t ink;          /* gray level of the ink (robust extreme) */
    int crop_x, crop_y, crop_w, crop_h;  /* the digit's bounding box */
    int box_w, box_h;     /* its size after scaling, each <= MN_PREPROCESS_BOX */
    int offset_x, offset_y;  /* where the box's top-left corner went in 28x28 */
    bool low_res;         /* read at low resolution: at most MN_PREPROCESS_BOX / 2 pixels
                           * a side, as sent or taken back from a small digit scaled up */
} mn_preprocess_info;

/* Preprocesses img (width*height 8-bit gray, see mn_gray_image; not modified).
 * out: MN_IMAGE_PIXELS normalised floats, row-major 28x28, written on MN_OK.
 * preview: NULL, or MN_IMAGE_PIXELS bytes receiving the 8-bit image (white digit on
 *          black) that out was normalised from.
 * scratch: NULL to have one malloc'ed and freed inside (tools, tests).
 * info: NULL, or filled as far as the steps went (always no_digit).
 * Errors: MN_ERR_ARG (bad image), MN_ERR_FORMAT + MN_PREPROCESS_NO_DIGIT,
 *         MN_ERR_NOMEM (only when scratch is NULL). */
mn_status mn_preprocess_gray(const mn_gray_image *img, mn_preprocess_scratch *scratch,
                             float out[MN_IMAGE_PIXELS], uint8_t *preview,
                             mn_preprocess_info *info, mn_error *err);

/* mn_preprocess_gray with the polarity forced, for an image that mn_preprocess_gray
 * found ambiguous (for any other image, every polarity gives the same result as
 * MN_POLARITY_AUTO). An unknown polarity is MN_ERR_ARG. */
mn_status mn_preprocess_gray_as(const mn_gray_image *img, mn_polarity polarity,
                                mn_preprocess_scratch *scratch, float out[MN_IMAGE_PIXELS],
                                uint8_t *preview, mn_preprocess_info *info, mn_error *err);

/* The JSON {"pixels": [...]} path: values already in MNIST form (28x28 row-major, white
 * digit on black, 0..255), so only normalised. Non-finite or out-of-range values are
 * MN_ERR_ARG naming the first bad index. preview (may be NULL) gets them rounded. */
mn_status mn_preprocess_pixels(const float pixels[MN_IMAGE_PIXELS],
                               float out[MN_IMAGE_PIXELS], uint8_t *preview,
                               mn_error *err);

#endif
