/* Every layer's forward pass against a direct reference and its backward pass against
 * central finite differences of a random linear function of its output. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_activation.h"
#include "mn_conv.h"
#include "mn_linear.h"
#include "mn_loss.h"
#include "mn_pool.h"
#include "mn_rng.h"
#include "mn_winograd.h"
#include "mn_winograd4.h"

static mn_rng rng;

static float *random_array(size_t n, float scale)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (2.0f * mn_rng_uniform(&rng) - 1.0f) * scale;
    return x;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void assert_close(const char *what, size_t i, double got, double want, double tol)
{
    if (fabs(got - want) > tol * (1.0 + fabs(want)))
        fail_msg("%s[%zu]: got %.6g, want %.6g", what, i, got, want);
}

/* d loss / d *x by central differences: LOSS(CTX) evaluated with *x moved by +EPS
 * and by -EPS, *x restored after. */
static double central_difference(float *x, float eps, double (*loss)(void *ctx), void *ctx)
{
    const float keep = *x;
    *x = keep + eps;
    const double up = loss(ctx);
    *x = keep - eps;
    const double down = loss(ctx);
    *x = keep;
    return (up - down) / (2 * eps);
}

/* ---------------------------------------------------------------- convolution */

/* A 3x3 convolution of one shape on random data: input [h][w][cin], weights in
 * PyTorch's layout [cout][cin][3][3], bias [cout]. */
typedef struct conv_problem {
    int h, w, cin, cout;
    float *in, *wt, *bias;
} conv_problem;

static size_t conv_inputs(const conv_problem *p)
{
    return (size_t)p->h * p->w * p->cin;
}

static size_t conv_outputs(const conv_problem *p)
{
    return (size_t)p->h * p->w * p->cout;
}

static size_t conv_weights(const conv_problem *p)
{
    return (size_t)9 * p->cin * p->cout;
}

/* SHAPE is {h, w, cin, cout}; the input is drawn in +-1, then the weights in +-0.5,
 * then the bias in +-BIAS_SCALE. */
static conv_problem random_conv(const int shape[4], float bias_scale)
{
    conv_problem p = {shape[0], shape[1], shape[2], shape[3], NULL, NULL, NULL};
    p.in = random_array(conv_inputs(&p), 1.0f);
    p.wt = random_array(conv_weights(&p), 0.5f);
    p.bias = random_array((size_t)p.cout, bias_scale);
    return p;
}

static void conv_free(conv_problem *p)
{
    free(p->in), free(p->wt), free(p->bias);
}

/* out = conv(in) straight from the definition. */
static void conv_reference(const conv_problem *p, float *out)
{
    const int h = p->h, w = p->w, cin = p->cin;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int co = 0; co < p->cout; co++) {
                double s = p->bias[co];
                for (int ci = 0; ci < cin; ci++)
                    for (int dy = 0; dy < 3; dy++)
                        for (int dx = 0; dx < 3; dx++) {
                            int yy = y + dy - 1, xx = x + dx - 1;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                                continue;
                            s += (double)p->in[((size_t)yy * w + xx) * cin + ci] *
                                 p->wt[(((size_t)co * cin + ci) * 3 + dy) * 3 + dx];
                        }
                out[((size_t)y * w + x) * p->cout + co] = (float)s;
            }
}

/* The input with a zero border of one pixel, [h+2][w+2][cin] (malloc'ed). */
static float *padded_input(const conv_problem *p)
{
    float *padded = calloc((size_t)(p->h + 2) * (p->w + 2) * p->cin, sizeof *padded);
    assert_non_null(padded);
    mn_pad1(p->in, p->h, p->w, p->cin, padded);
    return padded;
}

/* The weights packed for mn_conv3x3_forward (malloc'ed). */
static float *packed_weights(const conv_problem *p)
{
    float *packed = malloc(conv_weights(p) * sizeof *packed);
    assert_non_null(packed);
    mn_conv3x3_pack_forward(p->wt, p->cin, p->cout, packed);
    return packed;
}

/* The dense backward of conv(padded [h+2][w+2][cin]) for a gradient dout[h][w][cout],
 * straight from the definition: adds into dw_rows [cout][9*cin] (mn_conv.h's rows
 * layout), db [cout] and dpadded. The reference for the library's pooled backward. */
static void conv_backward_dense(const float *padded, int h, int w, int cin,
                                const float *w_rows, int cout, const float *dout,
                                float *dw_rows, float *db, float *dpadded)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int co = 0; co < cout; co++) {
                const float g = dout[((size_t)y * w + x) * cout + co];
                db[co] += g;
                for (int tap = 0; tap < 9; tap++)
                    for (int ci = 0; ci < cin; ci++) {
                        size_t at = ((size_t)(y + tap / 3) * (w + 2) + x + tap % 3) * cin + ci;
                        size_t k = (size_t)co * 9 * cin + (size_t)tap * cin + ci;
                        dw_rows[k] += g * padded[at];
                        dpadded[at] += g * w_rows[k];
                    }
            }
}

/* padded [h+2][w+2][c] copied into rows padded_w pixels wide, zeros right. */
static float *widen(const float *padded, int h, int w, int c, int padded_w)
{
    float *wide = calloc((size_t)(h + 2) * padded_w * c, sizeof *wide);
    for (int y = 0; y < h + 2; y++)
        memcpy(wide + (size_t)y * padded_w * c, padded + (size_t)y * (w + 2) * c,
               (size_t)(w + 2) * c * sizeof *wide);
    return wide;
}

static void test_conv_forward(void **state)
{
    (void)state;
    const int cases[][4] = {{5, 7, 1, 16}, {28, 28, 1, 32}, {14, 14, 32, 64}, {3, 3, 3, 48}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        conv_problem p = random_conv(cases[c], 0.5f);
        const size_t nout = conv_outputs(&p);
        float *padded = padded_input(&p), *packed = packed_weights(&p);
        float *got = malloc(nout * sizeof *got), *want = malloc(nout * sizeof *want);
        mn_conv3x3_forward(padded, p.h, p.w, p.cin, packed, p.bias, p.cout, got);
        conv_reference(&p, want);
        for (size_t i = 0; i < nout; i++)
            assert_close("conv out", i, got[i], want[i], 1e-5);
        conv_free(&p);
        free(padded), free(packed), free(got), free(want);
    }
}

static void test_conv_relu_pool_fused(void **state)
{
    (void)state;
    /* the first layer's shape (one channel), and a multi-channel one; the output rows
     * are spaced wider than they are, as in the padded buffer inference writes */
    const int cases[][4] = {{28, 28, 1, 32}, {6, 4, 8, 16}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        conv_problem p = random_conv(cases[c], 0.5f);
        const int h = p.h, w = p.w, cout = p.cout;
        size_t stride = (size_t)(w / 2 + 2) * cout, nout = (size_t)(h / 2) * stride;
        float *padded = padded_input(&p), *packed = packed_weights(&p);
        float *conv = malloc(conv_outputs(&p) * sizeof *conv);
        float *want = calloc(nout, sizeof *want), *got = calloc(nout, sizeof *got);
        uint8_t *argmax = malloc(nout);
        mn_conv3x3_forward(padded, h, w, p.cin, packed, p.bias, cout, conv);
        mn_relu_maxpool2_forward(conv, h, w, cout, want, stride, argmax);
        mn_conv3x3_relu_pool_forward(padded, h, w, p.cin, packed, p.bias, cout, got, stride);
        assert_memory_equal(got, want, nout * sizeof *got);
        size_t positive = 0;
        for (size_t i = 0; i < nout; i++)
            positive += want[i] > 0.0f;
        assert_true(positive > nout / 8); /* not a comparison of zeros */
        conv_free(&p);
        free(padded), free(packed), free(conv), free(want), free(got), free(argmax);
    }
}

static void test_winograd_forward(void **state)
{
    (void)state;
    /* 49 tiles: four full blocks and one tile; 24: exactly two blocks; 6 and 1: one short block */
    const int cases[][4] = {{14, 14, 32, 64}, {8, 12, 8, 16}, {4, 6, 8, 16}, {2, 2, 8, 32}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        conv_problem p = random_conv(cases[c], 0.5f);
        const int h = p.h, w = p.w, cin = p.cin, cout = p.cout;
        const size_t nout = conv_outputs(&p);
        float *got = malloc(nout * sizeof *got), *want = malloc(nout * sizeof *want);
        float *padded = padded_input(&p);
        float *u = malloc((size_t)16 * cin * cout * sizeof *u);
        float *scratch = malloc(mn_winograd_scratch_floats(h, w, cin, cout) * sizeof *scratch);
        const int padded_w = w + 2 + (int)(c % 2) * 4; /* rows wider than needed, or not */
        float *wide = widen(padded, h, w, cin, padded_w);
        mn_winograd_pack(p.wt, cin, cout, u);
        mn_winograd_forward(wide, h, w, padded_w, cin, u, p.bias, cout, got, scratch);
        free(wide);
        conv_reference(&p, want);
        for (size_t i = 0; i < nout; i++)
            assert_close("winograd out", i, got[i], want[i], 1e-4);
        conv_free(&p);
        free(got), free(want), free(padded), free(u), free(scratch);
    }
}

static void test_winograd4_relu_pool(void **state)
{
    (void)state;
    /* 16 tiles: blocks of 6, 6 and 4, the last row and column of tiles half outside
     * the 14x14 image; 6 tiles: one whole block; 4 tiles of which three are partly
     * outside a 6x6 image; one tile holding a single pooling window */
    const int cases[][4] = {{14, 14, 32, 64}, {8, 12, 8, 16}, {6, 6, 8, 16}, {2, 2, 8, 32}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        conv_problem p = random_conv(cases[c], 0.5f);
        const int h = p.h, w = p.w, cin = p.cin, cout = p.cout;
        int sh = mn_winograd4_padded_side(h), sw = mn_winograd4_padded_side(w);
        size_t nout = conv_outputs(&p), npool = nout / 4;
        float *conv = malloc(nout * sizeof *conv), *want = malloc(npool * sizeof *want);
        float *got = malloc(npool * sizeof *got);
        float *padded = calloc((size_t)sh * sw * cin, sizeof *padded);
        float *u = malloc((size_t)36 * cin * cout * sizeof *u);
        float *scratch = malloc(mn_winograd4_scratch_floats(h, w, cin, cout) * sizeof *scratch);
        uint8_t *argmax = malloc(npool);
        for (int y = 0; y < h; y++) /* the image at (1, 1), zeros right and below */
            memcpy(padded + ((size_t)(y + 1) * sw + 1) * cin, p.in + (size_t)y * w * cin,
                   (size_t)w * cin * sizeof *p.in);
        mn_winograd4_pack(p.wt, cin, cout, u);
        mn_winograd4_forward_relu_pool(padded, h, w, cin, u, p.bias, cout, got, scratch);
        conv_reference(&p, conv);
        mn_relu_maxpool2_forward(conv, h, w, cout, want, (size_t)(w / 2) * cout, argmax);
        size_t positive = 0;
        for (size_t i = 0; i < npool; i++) {
            assert_close("winograd4 out", i, got[i], want[i], 1e-4);
            positive += want[i] > 0.0f;
        }
        assert_true(positive > npool / 4); /* not a comparison of zeros */
        conv_free(&p);
        free(conv), free(want), free(got), free(padded), free(u), free(scratch), free(argmax);
    }
}

static void test_conv_pack_roundtrip(void **state)
{
    (void)state;
    const int cin = 3, cout = 16;
    float *wt = random_array((size_t)9 * cin * cout, 1.0f);
    float packed[9 * 3 * 16], rows[9 * 3 * 16], back[9 * 3 * 16];
    mn_conv3x3_pack_forward(wt, cin, cout, packed);
    mn_conv3x3_unpack_forward(packed, cin, cout, back);
    assert_memory_equal(back, wt, sizeof back);
    mn_conv3x3_pack_rows(wt, cin, cout, rows);
    mn_conv3x3_unpack_rows(rows, cin, cout, back);
    assert_memory_equal(back, wt, sizeof back);
    free(wt);
}

/* A loss of a convolution's output, L = sum(r * conv(in)), for finite differences. */
typedef struct conv_loss {
    const conv_problem *p;
    const float *r;
    float *out;   /* conv_outputs() floats of room */
} conv_loss;

static double conv_loss_at(void *ctx)
{
    conv_loss *l = ctx;
    conv_reference(l->p, l->out);
    return dot(l->r, l->out, conv_outputs(l->p));
}

/* Checks dL/dw, dL/db, dL/din of the dense reference backward against central
 * differences of L; the pooled kernel is checked against that backward below. */
static void test_conv_backward_finite_differences(void **state)
{
    (void)state;
    conv_problem p = random_conv((const int[4]){4, 5, 3, 16}, 0.5f);
    const int h = p.h, w = p.w, cin = p.cin, cout = p.cout;
    const size_t nout = conv_outputs(&p), nw = conv_weights(&p);
    float *r = random_array(nout, 1.0f), *out = malloc(nout * sizeof *out);
    float *padded = padded_input(&p);
    float *dpadded = calloc((size_t)(h + 2) * (w + 2) * cin, sizeof *dpadded);
    float *rows = malloc(nw * sizeof *rows), *drows = calloc(nw, sizeof *drows);
    float *dw = malloc(nw * sizeof *dw), *db = calloc(cout, sizeof *db);
    mn_conv3x3_pack_rows(p.wt, cin, cout, rows);
    conv_backward_dense(padded, h, w, cin, rows, cout, r, drows, db, dpadded);
    mn_conv3x3_unpack_rows(drows, cin, cout, dw);

    const float eps = 1e-2f;
    conv_loss loss = {&p, r, out};
    for (size_t i = 0; i < nw; i += 7)
        assert_close("dw", i, dw[i], central_difference(&p.wt[i], eps, conv_loss_at, &loss), 1e-3);
    for (int i = 0; i < cout; i++)
        assert_close("db", (size_t)i, db[i],
                     central_difference(&p.bias[i], eps, conv_loss_at, &loss), 1e-3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ci = 0; ci < cin; ci++) {
                size_t i = ((size_t)y * w + x) * cin + ci;
                float got = dpadded[((size_t)(y + 1) * (w + 2) + x + 1) * cin + ci];
                assert_close("din", i, got,
                             central_difference(&p.in[i], eps, conv_loss_at, &loss), 1e-3);
            }
    conv_free(&p);
    free(r), free(out), free(padded), free(dpadded), free(rows), free(drows), free(dw), free(db);
}

/* The pooled (sparse) backward and the first-layer weight gradient must equal the
 * dense chain ReLU' -> maxpool' -> conv' on the same data. */
static void check_pooled_backward(int h, int w, int padded_w, int cin, int cout)
{
    conv_problem p = random_conv((const int[4]){h, w, cin, cout}, 0.2f);
    const size_t nout = conv_outputs(&p), npool = nout / 4, nw = conv_weights(&p);
    const size_t npad = (size_t)(h + 2) * (w + 2) * cin;
    float *dpooled = random_array(npool, 1.0f);
    float *out = malloc(nout * sizeof *out), *pooled = malloc(npool * sizeof *pooled);
    uint8_t *argmax = malloc(npool);
    float *padded = padded_input(&p), *rows = malloc(nw * sizeof *rows);
    conv_reference(&p, out);
    mn_relu_maxpool2_forward(out, h, w, cin == 0 ? 1 : cout, pooled, (size_t)(w / 2) * cout, argmax);
    mn_conv3x3_pack_rows(p.wt, cin, cout, rows);

    /* dense chain */
    float *dpool_relu = malloc(npool * sizeof *dpool_relu), *dout = malloc(nout * sizeof *dout);
    for (size_t i = 0; i < npool; i++)
        dpool_relu[i] = pooled[i] > 0.0f ? dpooled[i] : 0.0f;
    mn_maxpool2_backward(dpool_relu, argmax, h, w, cout, dout);
    float *dw_want = calloc(nw, sizeof(float)), *db_want = calloc(cout, sizeof(float));
    float *dpad_want = calloc(npad, sizeof(float));
    conv_backward_dense(padded, h, w, cin, rows, cout, dout, dw_want, db_want, dpad_want);

    float *dw = calloc(nw, sizeof(float)), *db = calloc(cout, sizeof(float));
    float *wide = widen(padded, h, w, cin, padded_w);
    float *dpad = calloc((size_t)(h + 2) * padded_w * cin, sizeof(float));
    mn_conv3x3_backward_pooled(wide, h, w, padded_w, cin, rows, cout, pooled, argmax, dpooled,
                               dw, db, dpad);
    for (size_t i = 0; i < nw; i++)
        assert_close("pooled dw", i, dw[i], dw_want[i], 1e-4);
    for (int i = 0; i < cout; i++)
        assert_close("pooled db", (size_t)i, db[i], db_want[i], 1e-4);
    for (size_t i = 0; i < (size_t)(h + 2) * padded_w * cin; i++) {
        const size_t y = i / ((size_t)padded_w * cin), x = i / cin % padded_w;
        const double want = x < (size_t)w + 2 ? dpad_want[(y * (w + 2) + x) * cin + i % cin] : 0.0;
        assert_close("pooled din", i, dpad[i], want, 1e-4);
    }
    free(wide);

    /* weight-only dense kernel, packed layout */
    float *dw_packed = calloc(nw, sizeof(float)), *dw_torch = malloc(nw * sizeof(float));
    float *dw_want_torch = malloc(nw * sizeof(float));
    float *db2 = calloc(cout, sizeof(float));
    mn_conv3x3_weight_grad(padded, h, w, cin, dout, cout, dw_packed, db2);
    mn_conv3x3_unpack_forward(dw_packed, cin, cout, dw_torch);
    mn_conv3x3_unpack_rows(dw_want, cin, cout, dw_want_torch);
    for (size_t i = 0; i < nw; i++)
        assert_close("weight_grad dw", i, dw_torch[i], dw_want_torch[i], 1e-4);
    for (int i = 0; i < cout; i++)
        assert_close("weight_grad db", (size_t)i, db2[i], db_want[i], 1e-4);

    conv_free(&p);
    free(dpooled), free(out), free(pooled), free(argmax);
    free(padded), free(rows), free(dpool_relu), free(dout), free(dw_want), free(db_want);
    free(dpad_want), free(dw), free(db), free(dpad), free(dw_packed), free(dw_torch);
    free(dw_want_torch), free(db2);
}

static void test_conv_backward_pooled(void **state)
{
    (void)state;
    check_pooled_backward(14, 14, 16, 32, 64); /* conv2: the register-blocked path */
    check_pooled_backward(14, 14, 18, 32, 64); /* in the network's wider buffer */
    check_pooled_backward(6, 8, 10, 3, 16);    /* general path */
    check_pooled_backward(6, 8, 13, 3, 16);    /* general path, wider rows */
    check_pooled_backward(28, 28, 30, 1, 32);  /* conv1 */
}

/* ---------------------------------------------------------------- pooling */

/* 2x2 max-pooling straight from the definition, without ReLU. */
static void maxpool_reference(const float *in, int h, int w, int c, float *out)
{
    for (int py = 0; py < h / 2; py++)
        for (int px = 0; px < w / 2; px++)
            for (int ch = 0; ch < c; ch++) {
                float m = -INFINITY;
                for (int k = 0; k < 4; k++)
                    m = fmaxf(m, in[((size_t)(2 * py + k / 2) * w + 2 * px + k % 2) * c + ch]);
                out[((size_t)py * (w / 2) + px) * c + ch] = m;
            }
}

/* L = sum(r * pool(in)) for finite differences. */
typedef struct pool_loss {
    const float *in, *r;
    int h, w, c;
    float *out;
} pool_loss;

static double pool_loss_at(void *ctx)
{
    pool_loss *l = ctx;
    maxpool_reference(l->in, l->h, l->w, l->c, l->out);
    return dot(l->r, l->out, (size_t)l->h * l->w * l->c / 4);
}

static void test_maxpool(void **state)
{
    (void)state;
    const int h = 6, w = 4, c = 3;
    const size_t n = (size_t)h * w * c, np = n / 4;
    float *in = random_array(n, 1.0f), *out = malloc(np * sizeof *out);
    float *relu_out = malloc(np * sizeof *relu_out), *din = malloc(n * sizeof *din);
    float *r = random_array(np, 1.0f);
    uint8_t *arg = malloc(np);
    maxpool_reference(in, h, w, c, out);
    mn_relu_maxpool2_forward(in, h, w, c, relu_out, (size_t)(w / 2) * c, arg);
    for (int py = 0; py < h / 2; py++)
        for (int px = 0; px < w / 2; px++)
            for (int ch = 0; ch < c; ch++) {
                size_t pi = ((size_t)py * (w / 2) + px) * c + ch;
                assert_float_equal(relu_out[pi], out[pi] > 0.0f ? out[pi] : 0.0f, 0.0f);
                int a = arg[pi]; /* the window's maximum, ReLU or not */
                assert_float_equal(in[((size_t)(2 * py + a / 2) * w + 2 * px + a % 2) * c + ch],
                                   out[pi], 0.0f);
            }
    /* backward against finite differences of sum(r * pool(in)) */
    mn_maxpool2_backward(r, arg, h, w, c, din);
    pool_loss loss = {in, r, h, w, c, out};
    for (size_t i = 0; i < n; i++)
        assert_close("pool din", i, din[i], central_difference(&in[i], 1e-3f, pool_loss_at, &loss),
                     1e-2);
    free(in), free(out), free(relu_out), free(din), free(r), free(arg);
}

/* ---------------------------------------------------------------- activations */

static void test_relu(void **state)
{
    (void)state;
    const size_t n = 200;
    float *x = random_array(n, 1.0f), *y = malloc(n * sizeof *y), *dy = random_array(n, 1.0f);
    float *dx = malloc(n * sizeof *dx);
    mn_relu_forward(x, y, n);
    mn_relu_backward(y, dy, dx, n);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(y[i], x[i] > 0 ? x[i] : 0.0f, 0.0f);
        /* derivative of relu is 1 above zero and 0 below: finite differences agree
         * away from the kink */
        float eps = 1e-3f;
        if (fabsf(x[i]) > 2 * eps) {
            float up = x[i] + eps > 0 ? x[i] + eps : 0, down = x[i] - eps > 0 ? x[i] - eps : 0;
            assert_close("relu dx", i, dx[i], dy[i] * (up - down) / (2 * eps), 1e-3);
        }
    }
    free(x), free(y), free(dy), free(dx);
}

static void test_dropout(void **state)
{
    (void)state;
    const size_t n = 100000;
    uint8_t *keep = malloc(n);
    float *x = random_array(n, 1.0f), *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
    mn_rng r;
    mn_rng_seed(&r, 42);
    mn_dropout_mask(&r, 0.25f, keep, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += keep[i];
    assert_in_range(kept, 74000, 76000); /* 75 % kept, 4.5 sigma band */
    mn_dropout_forward(x, keep, 0.25f, y, n);
    mn_dropout_backward(x, keep, 0.25f, dx, n);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(y[i], keep[i] ? x[i] / 0.75f : 0.0f, 1e-6);
        assert_float_equal(dx[i], y[i], 0.0f); /* a linear map is its own derivative */
    }
    /* the same seed gives the same mask */
    uint8_t *again = malloc(n);
    mn_rng_seed(&r, 42);
    mn_dropout_mask(&r, 0.25f, again, n);
    assert_memory_equal(keep, again, n);
    free(keep), free(x), free(y), free(dx), free(again);
}

/* ---------------------------------------------------------------- linear, loss */

/* L = sum(r * linear(x)) for finite differences. */
typedef struct linear_loss {
    const float *x, *wt, *b, *r;
    int batch, in, out;
    float *y;
} linear_loss;

static double linear_loss_at(void *ctx)
{
    linear_loss *l = ctx;
    mn_linear_forward(l->x, l->batch, l->in, l->wt, l->b, l->out, l->y, 2);
    return dot(l->r, l->y, (size_t)l->batch * l->out);
}

static void test_linear(void **state)
{
    (void)state;
    const int batch = 3, in = 7, out = 5;
    float *x = random_array((size_t)batch * in, 1.0f), *wt = random_array((size_t)out * in, 1.0f);
    float *b = random_array(out, 1.0f), *r = random_array((size_t)batch * out, 1.0f);
    float y[15], dw[35], db[5], dx[21];
    mn_linear_forward(x, batch, in, wt, b, out, y, 2);
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < out; j++) {
            double s = b[j];
            for (int k = 0; k < in; k++)
                s += (double)x[i * in + k] * wt[j * in + k];
            assert_close("linear y", (size_t)(i * out + j), y[i * out + j], s, 1e-5);
        }
    mn_linear_backward(x, r, batch, in, wt, out, dw, db, dx, 2);
    float *params[3] = {wt, b, x};
    float *grads[3] = {dw, db, dx};
    size_t sizes[3] = {(size_t)out * in, (size_t)out, (size_t)batch * in};
    linear_loss loss = {x, wt, b, r, batch, in, out, y};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < sizes[p]; i++)
            assert_close("linear grad", i, grads[p][i],
                         central_difference(&params[p][i], 1e-2f, linear_loss_at, &loss), 1e-3);
    free(x), free(wt), free(b), free(r);
}

/* The mean cross-entropy of softmax(z) for finite differences. */
typedef struct xent_loss {
    const float *z;
    const uint8_t *labels;
    int batch, classes;
    float *probs;
} xent_loss;

static double xent_loss_at(void *ctx)
{
    xent_loss *l = ctx;
    return mn_softmax_xent_forward(l->z, l->labels, l->batch, l->classes, l->probs);
}

static void test_softmax_cross_entropy(void **state)
{
    (void)state;
    const int batch = 4, classes = 10;
    float *z = random_array((size_t)batch * classes, 3.0f);
    float probs[40], dz[40];
    const uint8_t labels[4] = {0, 9, 3, 3};
    float loss = mn_softmax_xent_forward(z, labels, batch, classes, probs);
    for (int i = 0; i < batch; i++) {
        double s = 0;
        for (int j = 0; j < classes; j++)
            s += probs[i * classes + j];
        assert_float_equal(s, 1.0, 1e-5);
    }
    mn_softmax_xent_backward(probs, labels, batch, classes, dz);
    xent_loss xent = {z, labels, batch, classes, probs};
    for (int i = 0; i < batch * classes; i++)
        assert_close("dlogits", (size_t)i, dz[i],
                     central_difference(&z[i], 1e-2f, xent_loss_at, &xent), 1e-3);
    /* uniform logits: loss log(10); huge logits stay finite */
    float flat[10] = {0};
    assert_float_equal(mn_softmax_xent_forward(flat, labels, 1, classes, probs), logf(10.0f), 1e-6);
    float big[10] = {1000, -1000, 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t one = 1;
    float l = mn_softmax_xent_forward(big, &one, 1, classes, probs);
    assert_true(isfinite(l));
    assert_float_equal(l, 2000.0f, 1e-2);
    assert_true(loss > 0.0f);
    free(z);
}

/* A picture without a digit (MN_LABEL_NONE) is trained towards the uniform
 * distribution: its loss is 0 there and grows as one class stands out, and its
 * gradient is that loss's, probs - 1/10. */
static void test_no_digit_target(void **state)
{
    (void)state;
    const int batch = 3, classes = 10;
    float *z = random_array((size_t)batch * classes, 3.0f);
    float probs[30], dz[30];
    const uint8_t labels[3] = {MN_LABEL_NONE, 4, MN_LABEL_NONE};
    mn_softmax_xent_forward(z, labels, batch, classes, probs);
    mn_softmax_xent_backward(probs, labels, batch, classes, dz);
    xent_loss xent = {z, labels, batch, classes, probs};
    for (int i = 0; i < batch * classes; i++)
        assert_close("dlogits", (size_t)i, dz[i],
                     central_difference(&z[i], 1e-2f, xent_loss_at, &xent), 1e-3);
    for (int j = 0; j < classes; j++)
        assert_float_equal(dz[j], (probs[j] - 0.1f) / batch, 1e-6);
    const uint8_t none = MN_LABEL_NONE;
    float even[10] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, sure[10] = {2, 2, 2, 2, 9, 2, 2, 2, 2, 2};
    assert_float_equal(mn_softmax_xent_forward(even, &none, 1, classes, probs), 0.0f, 1e-6);
    /* KL(uniform || p) for p = softmax(sure): log-sum-exp - mean - log 10 */
    double lse = log(9.0 * exp(2.0) + exp(9.0)), mean = (9.0 * 2.0 + 9.0) / 10.0;
    assert_float_equal(mn_softmax_xent_forward(sure, &none, 1, classes, probs),
                       lse - mean - log(10.0), 1e-5);
    free(z);
}

static void test_argmax(void **state)
{
    (void)state;
    const float rising[4] = {-3.0f, -1.0f, 0.5f, 2.0f};
    const float falling[4] = {2.0f, 0.5f, -1.0f, -3.0f};
    const float tie[5] = {0.1f, 0.7f, 0.3f, 0.7f, 0.7f};
    assert_int_equal(mn_argmax(rising, 4), 3);
    assert_int_equal(mn_argmax(falling, 4), 0);
    assert_int_equal(mn_argmax(tie, 5), 1); /* the first of equals */
    assert_int_equal(mn_argmax(falling, 1), 0);
}

int main(void)
{
    mn_rng_seed(&rng, 12345);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_forward),
        cmocka_unit_test(test_conv_relu_pool_fused),
        cmocka_unit_test(test_winograd_forward),
        cmocka_unit_test(test_winograd4_relu_pool),
        cmocka_unit_test(test_conv_pack_roundtrip),
        cmocka_unit_test(test_conv_backward_finite_differences),
        cmocka_unit_test(test_conv_backward_pooled),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_softmax_cross_entropy),
        cmocka_unit_test(test_no_digit_target),
        cmocka_unit_test(test_argmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
