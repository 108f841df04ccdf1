/* What the steps of preprocessing (mn_preprocess.h describes them) share: sizes, the
 * gray levels found, a rectangle, small helpers. Internal to src/, not part of the
 * library's interface. The steps, each with its header:
 *   mn_levels     steps 0-2: a faint image stretched; polarity and gray levels, from the
 *                 histograms and border
 *   mn_sheet      step 1a: a sheet photographed on a desk, cut out
 *   mn_paper      step 1b: uneven light flattened
 *   mn_ruling     step 1c: a photographed page's lines painted over
 *   mn_grid       step 3: the ink counted on a coarse grid, ruled lines taken out
 *   mn_crop       step 3: the digit's bounding box from the grid's components
 *   mn_scale      step 4: the crop scaled into the 20x20 box
 *   mn_preprocess     the order of the steps, placement in 28x28, the interface */
#ifndef MN_PREPROCESS_STEPS_H
#define MN_PREPROCESS_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "mn_image.h"
#include "mn_preprocess_types.h"

#define BOX MN_PREPROCESS_BOX
#define GRID MN_PREPROCESS_GRID_SIDE
#define SUPER_FACTOR MN_PREPROCESS_SUPER_FACTOR
#define SUPER (BOX * SUPER_FACTOR)

static inline int min_i(int a, int b) { return a < b ? a : b; }
static inline int max_i(int a, int b) { return a > b ? a : b; }
/* fmin/fmax are calls into libm without -ffast-math; these values are never NaN */
static inline double min_d(double a, double b) { return a < b ? a : b; }
static inline double max_d(double a, double b) { return a > b ? a : b; }

/* Gray levels, all in "ink space" (0 = background side, 255 = digit side) except the
 * raw ones. */
typedef struct levels {
    bool inverted;
    bool dominant;  /* half the border lies within 16 levels: evenly lit paper */
    bool ambiguous; /* a clean border without a dominant level, corners split: either */
    int bg_raw, ink_raw;
    int bg;    /* background */
    int ink;   /* ink level: at and above it the output is 255 */
    int cut;   /* at and below it the output is 0 */
    int mask;  /* at and above it a pixel belongs to the digit for cropping */
    int floor; /* the image's lowest level, exactly (bg and ink are robust estimates) */
    int low;   /* its lowest level, robustly: paper lighter than the border's is below bg */
    bool noisy; /* the border's noise, not the contrast, set the cut: paper as a camera sees it */
} levels;

static inline int to_ink(int v, bool inverted) { return inverted ? 255 - v : v; }

typedef struct rect {
    int x0, y0, x1, y1;  /* inclusive */
} rect;

#endif
