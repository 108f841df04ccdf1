#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "mn_gemm.h"
#include "mn_simd.h"

/* Built-in kernel. Each output row C[i, :] is accumulated as a sum of scaled rows of
 * op(B), in blocks of 64 columns so that the accumulators stay in registers or L1.
 * op(A)[i, p] and op(B)[p, j] are read through strides, so transposes need no copy. */
enum { NB = 64, KB = 256 };

MN_HOT_KERNEL
void mn_sgemm_builtin(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc)
{
    const size_t a_row = trans_a ? 1 : (size_t)lda, a_col = trans_a ? (size_t)lda : 1;
    const size_t b_row = trans_b ? 1 : (size_t)ldb, b_col = trans_b ? (size_t)ldb : 1;
    float acc[NB];
    float bt[KB * NB]; /* a packed block of op(B), row-major [KB][NB] */

    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cij = c + (size_t)i * ldc + j;
            *cij = beta == 0.0f ? 0.0f : beta * *cij;
        }
    for (int j0 = 0; j0 < n; j0 += NB) {
        int nb = n - j0 < NB ? n - j0 : NB;
        for (int p0 = 0; p0 < k; p0 += KB) {
            int kb = k - p0 < KB ? k - p0 : KB;
            for (int p = 0; p < kb; p++)
                for (int j = 0; j < NB; j++)
                    bt[p * NB + j] = j < nb ? b[(size_t)(p0 + p) * b_row + (size_t)(j0 + j) * b_col] : 0.0f;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < NB; j++)
                    acc[j] = 0.0f;
                for (int p = 0; p < kb; p++) {
                    float av = alpha * a[(size_t)i * a_row + (size_t)(p0 + p) * a_col];
                    const float *brow = bt + p * NB;
                    for (int j = 0; j < NB; j++) /* full width: vectorises cleanly */
                        acc[j] += av * brow[j];
                }
                float *crow = c + (size_t)i * ldc + j0;
                for (int j = 0; j < nb; j++)
                    crow[j] += acc[j];
            }
        }
    }
}

void mn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
#ifdef HAVE_OPENBLAS
    if (m == 1 && !trans_a) {
        /* one row (a single image): a matrix-vector product, which reads B once instead
         * of packing it first as sgemm does */
        if (trans_b)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, 1, beta, c, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, 1, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
#else
    mn_sgemm_builtin(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

void mn_sgemm_parallel(int threads, bool trans_a, bool trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc)
{
#ifdef _OPENMP
    if (threads > 1 && n >= 32 && !omp_in_parallel()) {
        /* column slices in multiples of 16, one per thread: the split depends only on
         * the thread count, so results are reproducible for a given count */
        int slice = ((n + threads - 1) / threads + 15) / 16 * 16;
        #pragma omp parallel for schedule(static) num_threads(threads)
        for (int j0 = 0; j0 < n; j0 += slice) {
            int nb = n - j0 < slice ? n - j0 : slice;
            const float *bj = trans_b ? b + (size_t)j0 * ldb : b + j0;
            mn_sgemm(trans_a, trans_b, m, nb, k, alpha, a, lda, bj, ldb, beta, c + j0, ldc);
        }
        return;
    }
#else
    (void)threads; /* one thread without OpenMP */
#endif
    mn_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void mn_gemm_single_threaded(void)
{
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
}

const char *mn_gemm_kernel_upgrade(const char *core, bool avx2_fma)
{
    /* OpenBLAS's x86 cores without AVX2 kernels. A CPU newer than the library (Debian
     * 12's 0.3.21 does not know Zen 5 or Emerald Rapids) falls back to one of them,
     * usually Prescott's SSE3 kernels: 20-50 % slower training than its Haswell ones. */
    static const char *const pre_avx2[] = {
        "Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Core2",
        "Penryn", "Dunnington", "Nehalem", "Atom", "Sandybridge", "Athlon", "Opteron",
        "Opteron_SSE3", "Barcelona", "Bobcat", "Bulldozer", "Piledriver", "Steamroller",
        "Nano"};
    if (!avx2_fma || !core)
        return NULL;
    for (size_t i = 0; i < sizeof pre_avx2 / sizeof pre_avx2[0]; i++)
        if (strcmp(core, pre_avx2[i]) == 0)
            return "Haswell";
    return NULL;
}

void mn_gemm_prefer_fast_kernels(char *const argv[])
{
#if defined(HAVE_OPENBLAS) && defined(__x86_64__) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE"))
        return; /* the user's choice, or already restarted */
    __builtin_cpu_init();
    bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char *core = mn_gemm_kernel_upgrade(openblas_get_corename(), avx2_fma);
    if (!core)
        return;
    /* OpenBLAS picks its kernels when it is loaded, from OPENBLAS_CORETYPE: the only
     * way to change them is to start again with it set. */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0 && setenv("OPENBLAS_CORETYPE", core, 1) == 0) {
        self[len] = '\0';
        execv(self, argv);
    }
    fprintf(stderr, "%s: note: cannot restart with OPENBLAS_CORETYPE=%s; "
            "keeping OpenBLAS's %s kernels\n", argv[0], core, openblas_get_corename());
#else
    (void)argv;
#endif
}

const char *mn_gemm_backend(void)
{
#ifdef HAVE_OPENBLAS
    return openblas_get_config();
#else
    return "built-in";
#endif
}
