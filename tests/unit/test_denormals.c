/* mn_flush_denormals: denormal results and inputs become zero, in the calling thread
 * and in the threads OpenMP starts afterwards; normal floats are untouched. The
 * tests run in order: the first sees the default mode, before the flush. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_denormals.h"

enum { THREADS = 4 };

static volatile float half = 0.5f;

static float smallest_denormal(void)
{
    const uint32_t bits = 1;
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* valgrind runs the program on an emulated CPU that ignores the flush mode */
static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload");
}

/* 1 if this thread makes a denormal from normal inputs or reads one as nonzero */
static int keeps_denormals(void)
{
    volatile float min = FLT_MIN, tiny = smallest_denormal();
    const float made = min * half, read = min + tiny; /* a normal result */
    return fpclassify(made) == FP_SUBNORMAL || read != FLT_MIN;
}

static void test_default_mode_keeps_denormals(void **state)
{
    (void)state;
    assert_int_equal(keeps_denormals(), 1); /* else the next test proves nothing */
}

static void test_flush_reaches_this_thread_and_later_threads(void **state)
{
    (void)state;
    const bool flushed = mn_flush_denormals();
#if defined(__x86_64__) || defined(__aarch64__)
    assert_int_equal(flushed, !under_valgrind());
#endif
    if (!flushed) skip(); /* no such mode here, or valgrind */
    volatile float min = FLT_MIN, tiny = smallest_denormal();
    assert_true(min * half == 0.0f);    /* a denormal result is flushed */
    assert_true(min + tiny == FLT_MIN); /* a denormal input is read as zero */
    assert_true(min * 1.0f == FLT_MIN); /* the smallest normal float survives */
    int kept = 0;
    #pragma omp parallel num_threads(THREADS) reduction(+ : kept)
    kept += keeps_denormals();
    assert_int_equal(kept, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mode_keeps_denormals),
        cmocka_unit_test(test_flush_reaches_this_thread_and_later_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
