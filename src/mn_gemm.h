/* Single-precision matrix multiply, row-major:
 *   C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C
 * where op(X) is X or its transpose. lda/ldb/ldc are row strides in floats.
 *
 * With OpenBLAS (found by configure) this is cblas_sgemm, which the programs make
 * single-threaded (mn_gemm_single_threaded): the network parallelises at its own
 * level (mn_sgemm_parallel, per-image loops) with the thread count its caller
 * passes, which keeps results identical for a given count. Without OpenBLAS, a
 * built-in blocked kernel does the work. */
#ifndef MN_GEMM_H
#define MN_GEMM_H

#include <stdbool.h>

void mn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc);

/* The same product with the N dimension split across `threads` OpenMP threads
 * (in column slices that depend only on that count; one thread inside a parallel
 * region). */
void mn_sgemm_parallel(int threads, bool trans_a, bool trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc);

/* The built-in kernel, whatever the build: exported so tests can check it against
 * the naive reference even when OpenBLAS serves mn_sgemm. */
void mn_sgemm_builtin(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc);

/* Makes the BLAS library run in the calling thread, for the whole process (no-op
 * without OpenBLAS). Process-wide state: a program's main calls it; nothing in the
 * library does. */
void mn_gemm_single_threaded(void);

/* On an x86 CPU with AVX2 and FMA that OpenBLAS does not recognise (it then falls
 * back to pre-AVX2 kernels), restarts the program (execv of /proc/self/exe with argv)
 * with OPENBLAS_CORETYPE=Haswell. Does nothing when OPENBLAS_CORETYPE is set, when
 * OpenBLAS chose AVX2 kernels itself, or without OpenBLAS; if the restart fails, says
 * so on stderr and returns. A program's main calls it first, before any other work:
 * mnist-train's does (fc1's GEMMs in training are OpenBLAS's); mnist-fcgi's does not
 * (its fc1 is the project's own kernel, and a second start costs it milliseconds). */
void mn_gemm_prefer_fast_kernels(char *const argv[]);

/* The core to ask OpenBLAS for instead of `core` (its openblas_get_corename()), or
 * NULL to keep it: "Haswell" for a pre-AVX2 core on a CPU with AVX2 and FMA. */
const char *mn_gemm_kernel_upgrade(const char *core, bool avx2_fma);

/* "OpenBLAS <config>" or "built-in", for logs and benchmarks. */
const char *mn_gemm_backend(void);

#endif
