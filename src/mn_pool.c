#include "config.h"

#include <string.h>

#include "mn_pool.h"
#include "mn_simd.h"

/* One row of output windows, ReLU applied to the maximum; eight channels at a time
 * when c allows it. The comparisons are strict, so the first of equal values wins,
 * as in PyTorch. */
static inline __attribute__((always_inline)) void pool_row(const float *in, int w, int c,
                                                        int py, float *out, uint8_t *argmax)
{
    const int pw = w / 2;
    for (int px = 0; px < pw; px++) {
        const float *p00 = in + ((size_t)(2 * py) * w + 2 * px) * c;
        const float *win[4] = {p00, p00 + c, p00 + (size_t)w * c, p00 + (size_t)w * c + c};
        float *o = out + (size_t)px * c;
        uint8_t *a = argmax + (size_t)px * c;
        int ch = 0;
        for (; ch + 8 <= c; ch += 8) {
            mn_v8 best = mn_v8_load(win[0] + ch);
            mn_vi8 arg = {0};
            for (int k = 1; k < 4; k++) {
                const mn_v8 v = mn_v8_load(win[k] + ch);
                const mn_vi8 gt = v > best;
                best = mn_v8_max(best, v);
                arg = (arg & ~gt) | ((mn_vi8){k, k, k, k, k, k, k, k} & gt);
            }
            best = mn_v8_relu(best);
            mn_v8_store(o + ch, best);
            for (int j = 0; j < 8; j++)
                a[ch + j] = (uint8_t)arg[j];
        }
        for (; ch < c; ch++) {
            float best = win[0][ch];
            uint8_t arg = 0;
            for (uint8_t k = 1; k < 4; k++)
                if (win[k][ch] > best) {
                    best = win[k][ch];
                    arg = k;
                }
            o[ch] = best < 0.0f ? 0.0f : best;
            a[ch] = arg;
        }
    }
}

MN_HOT_KERNEL
void mn_relu_maxpool2_forward(const float *in, int h, int w, int c, float *out,
                              size_t out_row_stride, uint8_t *argmax)
{
    const size_t prow = (size_t)(w / 2) * c;
    for (int py = 0; py < h / 2; py++)
        pool_row(in, w, c, py, out + py * out_row_stride, argmax + py * prow);
}

void mn_maxpool2_backward(const float *dout, const uint8_t *argmax, int h, int w, int c,
                          float *din)
{
    const int pw = w / 2;
    memset(din, 0, (size_t)h * w * c * sizeof *din);
    for (int py = 0; py < h / 2; py++)
        for (int px = 0; px < pw; px++)
            for (int ch = 0; ch < c; ch++) {
                size_t pi = ((size_t)py * pw + px) * c + ch;
                int am = argmax[pi];
                int y = 2 * py + (am >> 1), x = 2 * px + (am & 1);
                din[((size_t)y * w + x) * c + ch] = dout[pi];
            }
}
