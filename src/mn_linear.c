#include "config.h"

#include <stddef.h>

#include "mn_gemm.h"
#include "mn_linear.h"

void mn_linear_forward(const float *x, int batch, int in, const float *w, const float *b,
                       int out, float *y, int threads)
{
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < out; j++)
            y[(size_t)i * out + j] = b[j];
    mn_sgemm_parallel(threads, false, true, batch, out, in, 1.0f, x, in, w, in, 1.0f, y, out);
}

void mn_linear_backward(const float *x, const float *dy, int batch, int in, const float *w,
                        int out, float *dw, float *db, float *dx, int threads)
{
    mn_sgemm_parallel(threads, true, false, out, in, batch, 1.0f, dy, out, x, in, 0.0f, dw, in);
    for (int j = 0; j < out; j++) {
        float s = 0.0f;
        for (int i = 0; i < batch; i++)
            s += dy[(size_t)i * out + j];
        db[j] = s;
    }
    if (dx)
        mn_sgemm_parallel(threads, false, false, batch, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}
