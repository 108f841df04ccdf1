/* Single-precision matrix multiply, row-major:
 *   C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C
 * where op(X) is X or its transpose. lda/ldb/ldc are row strides in floats.
 *
 * With OpenBLAS (found by configure) this is cblas_sgemm, run single-threaded: the
 * network parallelises at its own level (mn_sgemm_parallel, per-image loops), which
 * keeps results identical for a given thread count. Without it, a built-in blocked
 * kernel does the work. */
#ifndef MN_GEMM_H
#define MN_GEMM_H

#include <stdbool.h>

void mn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc);

/* The same product with the N dimension split across the OpenMP threads. */
void mn_sgemm_parallel(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                       const float *a, int lda, const float *b, int ldb, float beta,
                       float *c, int ldc);

/* The built-in kernel, whatever the build: exported so tests can check it against
 * the naive reference even when OpenBLAS serves mn_sgemm. */
void mn_sgemm_builtin(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc);

/* Makes the BLAS library run in the calling thread (no-op without OpenBLAS). */
void mn_gemm_single_threaded(void);

/* "OpenBLAS <config>" or "built-in", for logs and benchmarks. */
const char *mn_gemm_backend(void);

#endif
