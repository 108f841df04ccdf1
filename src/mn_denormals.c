#include "config.h"

#include <float.h>
#include <stdint.h>

#include "mn_denormals.h"

#if defined(__x86_64__) || defined(__i386__) && defined(__SSE2__)
#define MN_X86_MXCSR 1
#include <immintrin.h>
#endif

/* Whether the mode holds now: an emulator (valgrind) may ignore it. */
static bool denormals_flushed(void)
{
    volatile float min = FLT_MIN, half = 0.5f;
    return min * half == 0.0f;
}

bool mn_flush_denormals(void)
{
#ifdef MN_X86_MXCSR
    /* MXCSR's flush-to-zero (results) and denormals-are-zero (inputs) bits */
    _mm_setcsr(_mm_getcsr() | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON);
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= UINT64_C(1) << 24; /* FZ: flush-to-zero, for inputs and results */
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
    return denormals_flushed();
}
