#include "config.h"

#include <string.h>

#include "mn_conv.h"
#include "mn_simd.h"

void mn_conv3x3_pack_forward(const float *w, int cin, int cout, float *packed)
{
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++)
                packed[(size_t)(tap * cin + ci) * cout + co] = w[((size_t)co * cin + ci) * 9 + tap];
}

void mn_conv3x3_pack_rows(const float *w, int cin, int cout, float *rows)
{
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++)
                rows[(size_t)co * 9 * cin + tap * cin + ci] = w[((size_t)co * cin + ci) * 9 + tap];
}

void mn_conv3x3_unpack_rows(const float *rows, int cin, int cout, float *w)
{
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++)
                w[((size_t)co * cin + ci) * 9 + tap] = rows[(size_t)co * 9 * cin + tap * cin + ci];
}

void mn_pad1(const float *in, int h, int w, int c, float *padded)
{
    size_t row = (size_t)(w + 2) * c;
    memset(padded, 0, row * sizeof *padded);
    for (int y = 0; y < h; y++) {
        float *dst = padded + (size_t)(y + 1) * row;
        memset(dst, 0, (size_t)c * sizeof *dst);
        memcpy(dst + c, in + (size_t)y * w * c, (size_t)w * c * sizeof *dst);
        memset(dst + (size_t)(w + 1) * c, 0, (size_t)c * sizeof *dst);
    }
    memset(padded + (size_t)(h + 1) * row, 0, row * sizeof *padded);
}

/* Offsets of the nine taps from a window's top left, in a padded image whose rows
 * are padded_w pixels wide. */
static void tap_offsets(int padded_w, int cin, int off[9])
{
    for (int dy = 0; dy < 3; dy++)
        for (int dx = 0; dx < 3; dx++)
            off[dy * 3 + dx] = (dy * padded_w + dx) * cin;
}

/* Six output positions by sixteen output channels per step: 12 accumulators, two
 * weight vectors and one broadcast fit the 16 AVX2 registers. */
enum { MR = 6 };

/* acc[r] = bias + the convolution at the window whose top left is a[r], for output
 * channels co..co+16 and r < rows: the inner loop of both forward kernels, in
 * registers. Always inlined with constant rows and (for the first layer) cin = 1, so
 * that no loop over positions or channels is left and the nine taps unroll. Each
 * output's terms are added in tap then channel order, whichever kernel asks. */
static inline __attribute__((always_inline)) void conv_block(const float *const *a,
                                                             const int rows, const int cin,
                                                             const int off[9],
                                                             const float *packed,
                                                             const float *bias, int cout,
                                                             int co, mn_v8 acc[][2])
{
    const mn_v8 bias0 = mn_v8_load(bias + co), bias1 = mn_v8_load(bias + co + 8);
    for (int r = 0; r < rows; r++)
        acc[r][0] = bias0, acc[r][1] = bias1;
    for (int tap = 0; tap < 9; tap++) {
        const float *bw = packed + (size_t)tap * cin * cout + co;
        const int o = off[tap];
        for (int ci = 0; ci < cin; ci++) {
            const mn_v8 b0 = mn_v8_load(bw + (size_t)ci * cout);
            const mn_v8 b1 = mn_v8_load(bw + (size_t)ci * cout + 8);
            for (int r = 0; r < rows; r++) {
                const mn_v8 x = mn_v8_set1(a[r][o + ci]);
                acc[r][0] += x * b0;
                acc[r][1] += x * b1;
            }
        }
    }
}

/* The convolution for one input-channel count (see conv_block). */
static inline __attribute__((always_inline)) void conv3x3(const float *padded, int h, int w,
                                                          const int cin, const float *packed,
                                                          const float *bias, int cout, float *out)
{
    const int npos = h * w;
    int off[9];
    tap_offsets(w + 2, cin, off);

    for (int co = 0; co < cout; co += 16)
        for (int p0 = 0; p0 < npos; p0 += MR) {
            const int mr = npos - p0 < MR ? npos - p0 : MR;
            const float *a[MR];
            for (int r = 0; r < MR; r++) {
                int p = p0 + (r < mr ? r : 0); /* spare rows recompute row 0, unstored */
                a[r] = padded + ((size_t)(p / w) * (w + 2) + (size_t)(p % w)) * cin;
            }
            mn_v8 acc[MR][2];
            conv_block(a, MR, cin, off, packed, bias, cout, co, acc);
            for (int r = 0; r < mr; r++) {
                float *o = out + (size_t)(p0 + r) * cout + co;
                mn_v8_store(o, acc[r][0]);
                mn_v8_store(o + 8, acc[r][1]);
            }
        }
}

MN_HOT_KERNEL
void mn_conv3x3_forward(const float *padded, int h, int w, int cin,
                        const float *packed, const float *bias, int cout, float *out)
{
    if (cin == 1)
        conv3x3(padded, h, w, 1, packed, bias, cout, out);
    else
        conv3x3(padded, h, w, cin, packed, bias, cout, out);
}

/* conv -> ReLU -> 2x2 max-pool for inference: the four outputs of one pooling window
 * by sixteen channels in eight registers, reduced to one before anything is stored.
 * conv_block sums each output as conv3x3 does, so the result is the unfused layers'
 * to the bit. */
static inline __attribute__((always_inline)) void conv3x3_relu_pool(
    const float *padded, int h, int w, const int cin, const float *packed, const float *bias,
    int cout, float *out, size_t out_row_stride)
{
    int off[9];
    tap_offsets(w + 2, cin, off);
    const size_t prow = (size_t)(w + 2) * cin;
    for (int py = 0; py < h / 2; py++)
        for (int px = 0; px < w / 2; px++) {
            const float *a00 = padded + (size_t)(2 * py) * prow + (size_t)(2 * px) * cin;
            const float *a[4] = {a00, a00 + cin, a00 + prow, a00 + prow + cin};
            float *o = out + (size_t)py * out_row_stride + (size_t)px * cout;
            for (int co = 0; co < cout; co += 16) {
                mn_v8 acc[4][2];
                conv_block(a, 4, cin, off, packed, bias, cout, co, acc);
                for (int j = 0; j < 2; j++) /* the window's order: as mn_relu_maxpool2_forward */
                    mn_v8_store(o + co + 8 * j,
                                mn_v8_relu(mn_v8_max(mn_v8_max(mn_v8_max(acc[0][j], acc[1][j]),
                                                               acc[2][j]), acc[3][j])));
            }
        }
}

MN_HOT_KERNEL
void mn_conv3x3_relu_pool_forward(const float *padded, int h, int w, int cin,
                                  const float *packed, const float *bias, int cout, float *out,
                                  size_t out_row_stride)
{
    if (cin == 1)
        conv3x3_relu_pool(padded, h, w, 1, packed, bias, cout, out, out_row_stride);
    else
        conv3x3_relu_pool(padded, h, w, cin, packed, bias, cout, out, out_row_stride);
}

/* dst[0..n) += s * src[0..n), vectorised when n is a multiple of 8. */
static inline void axpy(float *dst, float s, const float *src, int n)
{
    if (n % 8 == 0) {
        const mn_v8 sv = mn_v8_set1(s);
        for (int i = 0; i < n; i += 8)
            mn_v8_store(dst + i, mn_v8_load(dst + i) + sv * mn_v8_load(src + i));
    } else {
        for (int i = 0; i < n; i++)
            dst[i] += s * src[i];
    }
}

/* A gradient that reaches one convolution output: where (offset of its window's top
 * left in the padded input) and how much. */
typedef struct {
    int base;
    int channel;
    float g;
} pooled_grad;

enum { BLK = 96 }; /* twelve 8-float accumulators: one 3-tap row when cin is 32 */

/* The shape mn_conv3x3_backward_pooled's parts share. */
typedef struct {
    int cin, cout, pw, np, padded_w;
    size_t prow; /* one padded input row, in floats */
    int off[9];  /* tap offsets (tap_offsets) */
} pooled_shape;

/* acc[0..BLK) = dst[0..BLK) + sum_i g_i * src_i[0..BLK), in registers. */
static inline void accumulate_block(float *dst, const pooled_grad *list, int n,
                                    const float *src, size_t src_stride, size_t src_offset,
                                    int use_channel)
{
    mn_v8 acc[BLK / 8];
    for (int j = 0; j < BLK / 8; j++)
        acc[j] = mn_v8_load(dst + 8 * j);
    for (int i = 0; i < n; i++) {
        const mn_v8 g = mn_v8_set1(list[i].g);
        const float *s = src + (use_channel ? (size_t)list[i].channel * src_stride
                                            : (size_t)list[i].base) + src_offset;
        for (int j = 0; j < BLK / 8; j++)
            acc[j] += g * mn_v8_load(s + 8 * j);
    }
    for (int j = 0; j < BLK / 8; j++)
        mn_v8_store(dst + 8 * j, acc[j]);
}

/* Where the gradient of pooled output pi enters the convolution: its window's
 * winning position, as an offset into the padded input. */
static inline __attribute__((always_inline)) size_t pooled_base(int p, int pw, int padded_w,
                                                                int cin, uint8_t argmax)
{
    const int y = 2 * (p / pw) + (argmax >> 1), x = 2 * (p % pw) + (argmax & 1);
    return ((size_t)y * padded_w + x) * cin;
}

/* The parts below are always inlined into the MN_HOT_KERNEL that calls them, so
 * that they are compiled for its targets (FMA): a baseline copy would round
 * differently. General shapes: one saxpy per tap and gradient. */
static inline __attribute__((always_inline)) void pooled_general(
    const pooled_shape *s, const float *padded, const float *w_rows, const float *pooled,
    const uint8_t *argmax, const float *dpooled, float *dw_rows, float *db, float *dpadded)
{
    const int cin = s->cin, cout = s->cout, k = 9 * cin;
    for (int p = 0; p < s->np; p++)
        for (int co = 0; co < cout; co++) {
            const size_t pi = (size_t)p * cout + co;
            const float g = dpooled[pi];
            if (pooled[pi] <= 0.0f || g == 0.0f)
                continue; /* ReLU closed, or nothing to pass back */
            const size_t base = pooled_base(p, s->pw, s->padded_w, cin, argmax[pi]);
            db[co] += g;
            for (int tap = 0; tap < 9; tap++)
                axpy(dw_rows + (size_t)co * k + tap * cin, g, padded + base + s->off[tap], cin);
            if (dpadded)
                for (int tap = 0; tap < 9; tap++)
                    axpy(dpadded + base + s->off[tap], g, w_rows + (size_t)co * k + tap * cin, cin);
        }
}

/* Fast path, weight and bias gradients. A row of three taps is 3*cin contiguous
 * floats both in the padded input and in a weight row, so whole rows are
 * accumulated in registers; list holds np entries. */
static inline __attribute__((always_inline)) void pooled_weight_grad(
    const pooled_shape *s, const float *padded, const float *pooled, const uint8_t *argmax,
    const float *dpooled, float *dw_rows, float *db, pooled_grad *list)
{
    const int cout = s->cout, k = 9 * s->cin, row = 3 * s->cin;
    for (int co = 0; co < cout; co++) {
        /* weight gradient of one output channel: sum over its active positions */
        int n = 0;
        float bias = 0.0f;
        for (int p = 0; p < s->np; p++) {
            /* branch-free: write the entry, keep it only if the gradient flows */
            const size_t pi = (size_t)p * cout + co;
            const float g = pooled[pi] > 0.0f ? dpooled[pi] : 0.0f;
            list[n] = (pooled_grad){(int)pooled_base(p, s->pw, s->padded_w, s->cin, argmax[pi]),
                                    co, g};
            n += g != 0.0f;
            bias += g;
        }
        db[co] += bias;
        for (int dy = 0; dy < 3; dy++)
            for (int c0 = 0; c0 < row; c0 += BLK)
                accumulate_block(dw_rows + (size_t)co * k + dy * row + c0, list, n, padded, 0,
                                 dy * s->prow + c0, 0);
    }
}

/* Fast path, input gradient: for each pooled position, the channels bucketed by
 * the window position of their maximum; list holds 4 * cout entries. */
static inline __attribute__((always_inline)) void pooled_input_grad(
    const pooled_shape *s, const float *w_rows, const float *pooled, const uint8_t *argmax,
    const float *dpooled, float *dpadded, pooled_grad *list)
{
    const int cout = s->cout, k = 9 * s->cin, row = 3 * s->cin;
    for (int p = 0; p < s->np; p++) {
        pooled_grad *bucket[4] = {list, list + cout, list + 2 * cout, list + 3 * cout};
        int count[4] = {0, 0, 0, 0};
        for (int co = 0; co < cout; co++) {
            const size_t pi = (size_t)p * cout + co;
            const float g = pooled[pi] > 0.0f ? dpooled[pi] : 0.0f;
            const int a = argmax[pi];
            bucket[a][count[a]] = (pooled_grad){0, co, g};
            count[a] += g != 0.0f;
        }
        for (int a = 0; a < 4; a++) {
            if (!count[a])
                continue;
            float *dst = dpadded + pooled_base(p, s->pw, s->padded_w, s->cin, (uint8_t)a);
            for (int dy = 0; dy < 3; dy++)
                for (int c0 = 0; c0 < row; c0 += BLK)
                    accumulate_block(dst + dy * s->prow + c0, bucket[a], count[a], w_rows,
                                     (size_t)k, (size_t)dy * row + c0, 1);
        }
    }
}

MN_HOT_KERNEL
void mn_conv3x3_backward_pooled(const float *padded, int h, int w, int padded_w, int cin,
                                const float *w_rows, int cout, const float *pooled,
                                const uint8_t *argmax, const float *dpooled,
                                float *dw_rows, float *db, float *dpadded)
{
    pooled_shape s = {.cin = cin, .cout = cout, .pw = w / 2, .np = (h / 2) * (w / 2),
                      .padded_w = padded_w, .prow = (size_t)padded_w * cin};
    tap_offsets(padded_w, cin, s.off);
    if (3 * cin % BLK != 0 || s.np > 4096 || cout > 256) {
        pooled_general(&s, padded, w_rows, pooled, argmax, dpooled, dw_rows, db, dpadded);
        return;
    }
    pooled_grad list[4096];
    pooled_weight_grad(&s, padded, pooled, argmax, dpooled, dw_rows, db, list);
    if (dpadded)
        pooled_input_grad(&s, w_rows, pooled, argmax, dpooled, dpadded, list);
}

void mn_conv3x3_unpack_forward(const float *packed, int cin, int cout, float *w)
{
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++)
                w[((size_t)co * cin + ci) * 9 + tap] = packed[(size_t)(tap * cin + ci) * cout + co];
}

MN_HOT_KERNEL
void mn_conv3x3_weight_grad(const float *padded, int h, int w, int cin, const float *dout,
                            int cout, float *dw_packed, float *db)
{
    int off[9];
    tap_offsets(w + 2, cin, off);
    for (int co = 0; co < cout; co += 8) {
        mn_v8 bias = mn_v8_load(db + co);
        for (int q = 0; q < h * w; q++)
            bias += mn_v8_load(dout + (size_t)q * cout + co);
        mn_v8_store(db + co, bias);
    }
    for (int tap = 0; tap < 9; tap++)
        for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < cout; co += 32) {
                float *dst = dw_packed + (size_t)(tap * cin + ci) * cout + co;
                const int nv = cout - co < 32 ? (cout - co) / 8 : 4;
                mn_v8 acc[4] = {mn_v8_set1(0.0f), mn_v8_set1(0.0f), mn_v8_set1(0.0f), mn_v8_set1(0.0f)};
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        const float v = padded[((size_t)y * (w + 2) + x) * cin + off[tap] + ci];
                        if (v == 0.0f)
                            continue;
                        const float *g = dout + ((size_t)y * w + x) * cout + co;
                        for (int j = 0; j < nv; j++)
                            acc[j] += v * mn_v8_load(g + 8 * j);
                    }
                for (int j = 0; j < nv; j++)
                    mn_v8_store(dst + 8 * j, mn_v8_load(dst + 8 * j) + acc[j]);
            }
}
