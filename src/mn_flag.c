#include "config.h"

#include <math.h>
#include <stdbool.h>

#include "mn_centre.h"
#include "mn_draw.h"
#include "mn_flag.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS
#define INK 128.0f        /* a pixel at least this bright is ink */
#define MIN_STEM 8        /* rows: a shorter digit has no stem to flag */
#define END_ROWS 3        /* rows whose ink locates each end of the stem */
#define DEGREES 0.017453292f
/* The flag: its angle to the stem, and to straight down at most (nearer the level it
 * would be a 7's bar, which MNIST's 7s often are); its length, a share of the stem's */
#define TURN_MIN (30.0f * DEGREES)
#define TURN_MAX (50.0f * DEGREES)
#define FLAG_MAX_TURN (50.0f * DEGREES)
#define FLAG_MIN 0.2f
#define FLAG_MAX 0.4f
/* The foot: how many flagged 1s get one, its width a share of the stem's length */
#define FOOT_SHARE (1.0f / 3.0f)
#define FOOT_MIN 0.3f
#define FOOT_MAX 0.6f

typedef mn_point point;

static inline float clamp_f(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The mean column of the ink in rows [y0, y1); -1 when they hold none. */
static float ink_column(const float *img, int y0, int y1)
{
    float sum = 0.0f, weight = 0.0f;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < SIDE; x++)
            if (img[y * SIDE + x] >= INK) {
                sum += (float)x;
                weight += 1.0f;
            }
    return weight > 0.0f ? sum / weight : -1.0f;
}

/* The stem's two ends and its width: the top and bottom rows of ink, at the mean column
 * of the ink near each; the width is the ink's area over the stem's length. */
static bool find_stem(const float *img, point *top, point *bottom, float *width)
{
    int first = -1, last = -1;
    float area = 0.0f;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            area += img[y * SIDE + x] / 255.0f;
            if (img[y * SIDE + x] >= INK) {
                first = first < 0 ? y : first;
                last = y;
            }
        }
    if (first < 0 || last - first < MIN_STEM)
        return false;
    *top = (point){ink_column(img, first, first + END_ROWS), (float)first};
    *bottom = (point){ink_column(img, last + 1 - END_ROWS, last + 1), (float)last};
    const float length = hypotf(bottom->x - top->x, bottom->y - top->y);
    *width = clamp_f(area / length, 1.5f, 4.5f);
    /* the pen's centre, so that a flag or foot keeps within the digit's height */
    top->y += 0.5f * (*width - 1.0f);
    bottom->y -= 0.5f * (*width - 1.0f);
    return true;
}

void mn_flag_draw(float strength, mn_rng *rng, float *img)
{
    point top, bottom;
    float width;
    if (mn_rng_uniform(rng) >= 0.5f * strength || !find_stem(img, &top, &bottom, &width))
        return;
    const float length = hypotf(bottom.x - top.x, bottom.y - top.y);
    const point before = mn_centre_of_mass(img);
    /* angles from straight down, towards the left: the stem's, then the flag's */
    const float stem = atan2f(top.x - bottom.x, bottom.y - top.y);
    const float turn = fminf(stem + mn_rng_between(rng, TURN_MIN, TURN_MAX), FLAG_MAX_TURN);
    const float flag = mn_rng_between(rng, FLAG_MIN, FLAG_MAX) * length;
    mn_draw_segment(img, top, (point){top.x - flag * sinf(turn), top.y + flag * cosf(turn)}, width);
    if (mn_rng_uniform(rng) < FOOT_SHARE) {
        const float half = 0.5f * mn_rng_between(rng, FOOT_MIN, FOOT_MAX) * length;
        mn_draw_segment(img, (point){bottom.x - half, bottom.y}, (point){bottom.x + half, bottom.y},
                     width);
    }
    const point after = mn_centre_of_mass(img);
    mn_shift_image(img, (int)lroundf(before.x - after.x), (int)lroundf(before.y - after.y));
}
