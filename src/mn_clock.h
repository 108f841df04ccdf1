/* Monotonic time in seconds, header-only so that programs linking no src/ object
 * (mnist-serve) can use it too. */
#ifndef MN_CLOCK_H
#define MN_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
static inline double mn_clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Seconds since start, a value of mn_clock_seconds(). */
static inline double mn_clock_elapsed(double start)
{
    return mn_clock_seconds() - start;
}

#endif
