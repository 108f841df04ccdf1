/* Fully connected layer with PyTorch's layout: W is [out][in], y = x W^T + b. The
 * GEMMs split their columns over `threads` threads (mn_sgemm_parallel). */
#ifndef MN_LINEAR_H
#define MN_LINEAR_H

/* y[batch][out] = x[batch][in] W^T + b. */
void mn_linear_forward(const float *x, int batch, int in, const float *w, const float *b,
                       int out, float *y, int threads);

/* From dy[batch][out]: dw[out][in] = dy^T x and db[out] = sum over the batch
 * (both overwritten), and dx[batch][in] = dy W unless dx is NULL. */
void mn_linear_backward(const float *x, const float *dy, int batch, int in, const float *w,
                        int out, float *dw, float *db, float *dx, int threads);

#endif
