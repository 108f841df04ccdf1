#include "config.h"

#include "mn_gemm_tile.h"

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
            mn_gemm_strip_x16(a + k0, m, k, b, 16, kc, c + p * 16, ldc, 1);
        }
    }
}
