#include "config.h"

#include "mn_gemm_tile.h"

void mn_gemm_pack_panels(const float *b, int k, int n, float *panels)
{
    for (int p = 0; p < n / 16; p++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < 16; j++)
                panels[((size_t)p * k + i) * 16 + j] = b[(size_t)i * n + p * 16 + j];
}

/* Slices of k: a slice of one panel (256 x 16 floats, 16 KiB) stays in L1 while
 * every block of six rows of a passes over it, and the m x 256 slice of a in L2
 * while the panels do. Measured on fc1 (64 x 3136 x 128): 8.1-8.3 us an image,
 * OpenBLAS 9.2-9.5 with its packing of both operands on every call. */
enum { K_SLICE = 256 };

MN_HOT_KERNEL
void mn_gemm_panels(const float *a, int m, int k, const float *panels, int n, float *c,
                    int ldc)
{
    for (int k0 = 0; k0 < k; k0 += K_SLICE) {
        const int kc = k - k0 < K_SLICE ? k - k0 : K_SLICE;
        for (int p = 0; p < n / 16; p++) {
            const float *b = panels + ((size_t)p * k + k0) * 16;
            for (int r = 0; r < m; r += 6) {
                const float *ar = a + (size_t)r * k + k0;
                float *cr = c + (size_t)r * ldc + p * 16;
                switch (m - r < 6 ? m - r : 6) {
                case 6: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 6, 1); break;
                case 5: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 5, 1); break;
                case 4: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 4, 1); break;
                case 3: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 3, 1); break;
                case 2: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 2, 1); break;
                default: mn_gemm_rows_x16(ar, k, b, 16, kc, cr, ldc, 1, 1); break;
                }
            }
        }
    }
}
