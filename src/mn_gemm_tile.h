/* The register-blocked GEMM tile the Winograd convolutions multiply with (see
 * mn_winograd.h, mn_winograd4.h), and a GEMM over weights packed for it, which
 * inference's fc1 takes for a batch: c[m][n..n+16) (+)= a[m][0..k) b[0..k)[n..n+16)
 * for m in [0, rows), rows <= 6, in twelve accumulators held in registers. */
#ifndef MN_GEMM_TILE_H
#define MN_GEMM_TILE_H

#include <stddef.h>

#include "mn_simd.h"

/* One tile of rows <= 6 (see above), added to c or replacing it: always inlined
 * with both constant. */
static inline __attribute__((always_inline)) void mn_gemm_rows_x16(const float *a, int lda,
                                                                  const float *b, int ldb,
                                                                  int k, float *c, int ldc,
                                                                  const int rows,
                                                                  const int accumulate)
{
    mn_v8 acc[6][2];
    for (int r = 0; r < rows; r++) {
        acc[r][0] = accumulate ? mn_v8_load(c + (size_t)r * ldc) : mn_v8_set1(0);
        acc[r][1] = accumulate ? mn_v8_load(c + (size_t)r * ldc + 8) : mn_v8_set1(0);
    }
    for (int p = 0; p < k; p++) {
        const mn_v8 b0 = mn_v8_load(b + (size_t)p * ldb), b1 = mn_v8_load(b + (size_t)p * ldb + 8);
        for (int r = 0; r < rows; r++) {
            const mn_v8 x = mn_v8_set1(a[(size_t)r * lda + p]);
            acc[r][0] += x * b0;
            acc[r][1] += x * b1;
        }
    }
    for (int r = 0; r < rows; r++) {
        mn_v8_store(c + (size_t)r * ldc, acc[r][0]);
        mn_v8_store(c + (size_t)r * ldc + 8, acc[r][1]);
    }
}

/* The same for all m rows of a, six at a time: one 16-column strip of c. The row
 * count is a constant in each call, so a short last block costs its own rows. */
static inline __attribute__((always_inline)) void mn_gemm_strip_x16(const float *a, int m,
                                                                   int lda, const float *b,
                                                                   int ldb, int k, float *c,
                                                                   int ldc, const int accumulate)
{
    for (int r = 0; r < m; r += 6) {
        const float *ar = a + (size_t)r * lda;
        float *cr = c + (size_t)r * ldc;
        switch (m - r < 6 ? m - r : 6) {
        case 6: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 6, accumulate); break;
        case 5: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 5, accumulate); break;
        case 4: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 4, accumulate); break;
        case 3: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 3, accumulate); break;
        case 2: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 2, accumulate); break;
        default: mn_gemm_rows_x16(ar, lda, b, ldb, k, cr, ldc, 1, accumulate); break;
        }
    }
}

/* c = a b for `m` rows of a [m][k] and all of b [k][n], n a multiple of 16: the
 * element-wise stage of a Winograd convolution, rows being tiles. */
static inline __attribute__((always_inline)) void mn_gemm_tiles(const float *a, int m, int k,
                                                               const float *b, int n, float *c)
{
    for (int co = 0; co < n; co += 16)
        mn_gemm_strip_x16(a, m, k, b + co, n, k, c + co, n, 0);
}

/* Panels: b [k][n] (n a multiple of 16) as n/16 panels [k][16], each contiguous,
 * k * n floats in all; b[i][j] is at this index. A row of b is then eight
 * 16-float pieces, one per panel. */
static inline size_t mn_gemm_panel_index(int k, int i, int j)
{
    return ((size_t)(j / 16) * k + i) * 16 + j % 16;
}

/* c[m][n] += a[m][k] b, b in panels (above); c's rows ldc apart. Each
 * element's sum runs in the same order whatever m, so rows can be split between
 * threads without changing a result. */
void mn_gemm_panels(const float *a, int m, int k, const float *panels, int n, float *c,
                    int ldc);

#endif
