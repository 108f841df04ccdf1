/* GEMM against a naive double-precision reference: every transpose combination, odd
 * shapes, padded leading dimensions, alpha and beta; and the product over packed
 * panels that inference's fc1 uses. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mn_gemm.h"
#include "mn_gemm_tile.h"
#include "mn_rng.h"

typedef void gemm_fn(bool, bool, int, int, int, float, const float *, int, const float *,
                     int, float, float *, int);

static void reference(bool ta, bool tb, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            c[(size_t)i * ldc + j] = (float)(alpha * s + beta * c[(size_t)i * ldc + j]);
        }
}

static void fill(mn_rng *rng, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * mn_rng_uniform(rng) - 1.0f;
}

static void check_shape(gemm_fn *fn, bool ta, bool tb, int m, int n, int k, float alpha,
                        float beta)
{
    mn_rng rng;
    mn_rng_seed(&rng, (uint64_t)(m * 1000003 + n * 1009 + k));
    /* leading dimensions larger than needed, to catch stride mistakes */
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    size_t asz = (size_t)(ta ? k : m) * lda, bsz = (size_t)(tb ? n : k) * ldb;
    size_t csz = (size_t)m * ldc;
    float *a = malloc(asz * sizeof *a), *b = malloc(bsz * sizeof *b);
    float *c = malloc(csz * sizeof *c), *want = malloc(csz * sizeof *want);
    fill(&rng, a, asz);
    fill(&rng, b, bsz);
    fill(&rng, c, csz);
    for (size_t i = 0; i < csz; i++)
        want[i] = c[i];
    reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
    fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            size_t idx = (size_t)i * ldc + j;
            /* the padding columns must be untouched: want still holds the originals */
            double tol = 1e-5 * (k + 1) + 1e-5 * fabs(want[idx]);
            if (fabs(c[idx] - want[idx]) > tol)
                fail_msg("%s%s m=%d n=%d k=%d: C[%d,%d] = %g, want %g", ta ? "T" : "N",
                         tb ? "T" : "N", m, n, k, i, j, c[idx], want[idx]);
        }
    free(a);
    free(b);
    free(c);
    free(want);
}

static const int shapes[][3] = {
    {1, 1, 1}, {1, 7, 3}, {7, 1, 5}, {5, 9, 1}, {13, 17, 19}, {33, 65, 70},
    {64, 288, 100}, {128, 130, 257}, {3, 300, 2}, {200, 10, 128},
};

static void check_all(gemm_fn *fn)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            check_shape(fn, t & 1, t & 2, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 0.0f);
            check_shape(fn, t & 1, t & 2, shapes[s][0], shapes[s][1], shapes[s][2], 0.5f, 1.0f);
            check_shape(fn, t & 1, t & 2, shapes[s][0], shapes[s][1], shapes[s][2], -2.0f, 0.25f);
        }
}

static void test_sgemm(void **state)
{
    (void)state;
    check_all(mn_sgemm);
}

static void test_sgemm_builtin(void **state)
{
    (void)state;
    check_all(mn_sgemm_builtin);
}

/* The thread count is the caller's: three, more than this machine may have, so
 * that the column split runs whatever OpenMP's default. */
static void sgemm_three_threads(bool ta, bool tb, int m, int n, int k, float alpha,
                                const float *a, int lda, const float *b, int ldb, float beta,
                                float *c, int ldc)
{
    mn_sgemm_parallel(3, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void sgemm_one_thread(bool ta, bool tb, int m, int n, int k, float alpha,
                             const float *a, int lda, const float *b, int ldb, float beta,
                             float *c, int ldc)
{
    mn_sgemm_parallel(1, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void test_sgemm_parallel(void **state)
{
    (void)state;
    check_all(sgemm_three_threads);
    check_all(sgemm_one_thread);
}

static void test_gemm_panels(void **state)
{
    (void)state;
    /* rows: whole and short blocks of six; k: one slice, a slice and a bit, fc1's 3136 */
    const int cases[][3] = {{1, 16, 1}, {5, 32, 7}, {6, 16, 256}, {13, 48, 300}, {64, 128, 3136}};
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int m = cases[s][0], n = cases[s][1], k = cases[s][2], ldc = n + 4;
        mn_rng rng;
        mn_rng_seed(&rng, (uint64_t)s + 1);
        float *a = malloc((size_t)m * k * sizeof *a), *b = malloc((size_t)k * n * sizeof *b);
        float *panels = malloc((size_t)k * n * sizeof *panels);
        float *c = malloc((size_t)m * ldc * sizeof *c), *want = malloc((size_t)m * ldc * sizeof *want);
        fill(&rng, a, (size_t)m * k);
        fill(&rng, b, (size_t)k * n);
        fill(&rng, c, (size_t)m * ldc);
        for (size_t i = 0; i < (size_t)m * ldc; i++)
            want[i] = c[i];
        reference(false, false, m, n, k, 1.0f, a, k, b, n, 1.0f, want, ldc); /* c += a b */
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++)
                panels[mn_gemm_panel_index(k, i, j)] = b[(size_t)i * n + j];
        mn_gemm_panels(a, m, k, panels, n, c, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++) { /* padding columns untouched */
                size_t idx = (size_t)i * ldc + j;
                if (fabs(c[idx] - want[idx]) > 1e-5 * (k + 1) + 1e-5 * fabs(want[idx]))
                    fail_msg("m=%d n=%d k=%d: C[%d,%d] = %g, want %g", m, n, k, i, j, c[idx],
                             want[idx]);
            }
        /* rows split anywhere give the same bits: what lets threads share the rows */
        float *split = malloc((size_t)m * ldc * sizeof *split);
        for (size_t i = 0; i < (size_t)m * ldc; i++)
            split[i] = want[i] = 0.0f;
        mn_gemm_panels(a, m, k, panels, n, want, ldc);
        const int r = m / 2 + 1 < m ? m / 2 + 1 : m;
        mn_gemm_panels(a, r, k, panels, n, split, ldc);
        mn_gemm_panels(a + (size_t)r * k, m - r, k, panels, n, split + (size_t)r * ldc, ldc);
        assert_memory_equal(split, want, (size_t)m * ldc * sizeof *split);
        free(a), free(b), free(panels), free(c), free(want), free(split);
    }
}

static void test_beta_zero_ignores_nan(void **state)
{
    /* beta = 0 must overwrite C, even when C holds NaN (BLAS semantics) */
    (void)state;
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {NAN, NAN, NAN, NAN};
    mn_sgemm_builtin(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    assert_float_equal(c[0], 1.0f, 0.0f);
    assert_float_equal(c[3], 4.0f, 0.0f);
    float d[4] = {NAN, NAN, NAN, NAN};
    mn_sgemm(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, d, 2);
    assert_float_equal(d[1], 2.0f, 0.0f);
}

static void test_kernel_upgrade(void **state)
{
    (void)state;
    /* a CPU OpenBLAS fell back on (pre-AVX2 kernels) but which has AVX2 and FMA */
    assert_string_equal(mn_gemm_kernel_upgrade("Prescott", true), "Haswell");
    assert_string_equal(mn_gemm_kernel_upgrade("Unknown", true), "Haswell");
    assert_string_equal(mn_gemm_kernel_upgrade("Sandybridge", true), "Haswell");
    /* a CPU without them really needs the old kernels */
    assert_null(mn_gemm_kernel_upgrade("Prescott", false));
    /* OpenBLAS's own AVX2 or AVX-512 choice stands */
    assert_null(mn_gemm_kernel_upgrade("Haswell", true));
    assert_null(mn_gemm_kernel_upgrade("Zen", true));
    assert_null(mn_gemm_kernel_upgrade("SkylakeX", true));
    assert_null(mn_gemm_kernel_upgrade(NULL, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm),
        cmocka_unit_test(test_sgemm_builtin),
        cmocka_unit_test(test_sgemm_parallel),
        cmocka_unit_test(test_beta_zero_ignores_nan),
        cmocka_unit_test(test_gemm_panels),
        cmocka_unit_test(test_kernel_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
