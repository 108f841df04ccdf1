/* Flushing denormal floats to zero, for the trainer.
 *
 * Floats below FLT_MIN (1.2e-38) are denormal, and most FPUs take a slow path for
 * them: on x86 an operation that meets one costs about a hundred cycles. Training
 * makes them in bulk. A weight whose gradient is zero (one feeding a ReLU unit that
 * no longer fires) keeps Adam's first moment, which shrinks by 0.9 each step: after
 * about 800 steps it is denormal, and rounding then holds it at the smallest
 * denormal for good. At the default run's second epoch a quarter of fc1's moments
 * are there, and every later step pays for them (5 epochs: 59 s against 47 s).
 *
 * Flushing loses nothing the model can show: values below FLT_MIN move no weight
 * (the default run publishes the same weights to the bit, flushed or not). */
#ifndef MN_DENORMALS_H
#define MN_DENORMALS_H

#include <stdbool.h>

/* Sets the calling thread's floating-point unit to flush denormal results to zero
 * and read denormal inputs as zero. Threads started later inherit it (POSIX), so
 * the trainer calls it first, before OpenMP starts its threads. Returns whether
 * denormals are now flushed: not where the architecture has no such mode (x86 and
 * ARM64 have), nor under valgrind, which ignores it. */
bool mn_flush_denormals(void);

#endif
