#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mn_centre.h"
#include "mn_net.h"

#define SIDE MN_IMAGE_SIDE
#define PIXELS MN_IMAGE_PIXELS

mn_point mn_centre_of_mass(const float *img)
{
    float sx = 0.0f, sy = 0.0f, sum = 0.0f;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            sx += img[y * SIDE + x] * (float)x;
            sy += img[y * SIDE + x] * (float)y;
            sum += img[y * SIDE + x];
        }
    return sum > 0.0f ? (mn_point){sx / sum, sy / sum} : (mn_point){0.0f, 0.0f};
}

void mn_shift_image(float *img, int dx, int dy)
{
    float moved[PIXELS];
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            const int sx = x - dx, sy = y - dy;
            const bool inside = sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE;
            moved[y * SIDE + x] = inside ? img[sy * SIDE + sx] : 0.0f;
        }
    memcpy(img, moved, sizeof moved);
}
