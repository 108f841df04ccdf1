/* The sizes, working memory and polarities of preprocessing (mn_preprocess.h), apart
 * from its functions, so that the files of its steps share them without a circle. */
#ifndef MN_PREPROCESS_TYPES_H
#define MN_PREPROCESS_TYPES_H

#include <stdint.h>

#define MN_PREPROCESS_BOX 20          /* the digit is scaled to fit this square */
#define MN_PREPROCESS_GRID_SIDE 256   /* connected components run on at most this grid */
#define MN_PREPROCESS_MIN_CONTRAST 32 /* levels between background and ink */
#define MN_PREPROCESS_SUPER_FACTOR 4  /* scaling works on a 4x finer grid (80x80) */
#define MN_PREPROCESS_THIN_STROKE 1.4   /* strokes thinner than this (in 28x28 pixels)... */
#define MN_PREPROCESS_STROKE 2.0        /* ...are thickened to about this */
#define MN_PREPROCESS_THICK_STROKE 3.0  /* strokes thicker than this (1 in 20 of MNIST's), */
#define MN_PREPROCESS_THICK_LOW_RES 3.6 /* or than this at low resolution (blurred), */
#define MN_PREPROCESS_THINNED 2.5       /* ...are thinned to about this */
#define MN_PREPROCESS_PAPER_BLOCKS 32 /* the paper's brightness is estimated on this grid */
#define MN_PREPROCESS_TINY_SIDE 32    /* a smaller image's border cannot show noise */
#define MN_PREPROCESS_PAPER_REACH 3   /* blocks: wider ink than 2*3+1 blocks is paper */

/* Working memory for one preprocessing call (about 820 KiB): allocate it once per
 * thread (malloc or embed it; no initialisation needed) and reuse it. */
typedef struct mn_preprocess_scratch {
    uint32_t mass[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE];
    int32_t stack[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE];
    uint8_t seen[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE];
    uint8_t faint[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE]; /* anything above the cut */
    uint8_t line_row[MN_PREPROCESS_GRID_SIDE];  /* grid rows / columns on a ruled line */
    uint8_t line_col[MN_PREPROCESS_GRID_SIDE];
    uint8_t flat[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE]; /* the flat-fielded copy */
    uint8_t stretched[MN_PREPROCESS_GRID_SIDE * MN_PREPROCESS_GRID_SIDE]; /* a faint image's (step 0) */
    int line_cell;  /* input pixels per grid cell side; 0: no line was found */
    float super[(MN_PREPROCESS_BOX * MN_PREPROCESS_SUPER_FACTOR) *
                (MN_PREPROCESS_BOX * MN_PREPROCESS_SUPER_FACTOR)];
    float grown[(MN_PREPROCESS_BOX * MN_PREPROCESS_SUPER_FACTOR) *
                (MN_PREPROCESS_BOX * MN_PREPROCESS_SUPER_FACTOR)];
} mn_preprocess_scratch;

/* Which side of the gray scale the ink is on (mn_preprocess_gray_as). */
typedef enum mn_polarity {
    MN_POLARITY_AUTO = 0,   /* decided from the border (step 1) */
    MN_POLARITY_DARK_INK,   /* dark digit on light paper, the paper the lightest level */
    MN_POLARITY_LIGHT_INK   /* light digit on dark paper, the paper the darkest level */
} mn_polarity;

#endif
