#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "mn_activation.h"
#include "mn_conv.h"
#include "mn_gemm.h"
#include "mn_gemm_tile.h"
#include "mn_linear.h"
#include "mn_loss.h"
#include "mn_net.h"
#include "mn_pool.h"
#include "mn_rng.h"
#include "mn_simd.h"
#include "mn_winograd.h"
#include "mn_winograd4.h"

/* Geometry of MNISTNet. Activations are NHWC inside the network; the flatten before
 * fc1 reorders to PyTorch's C,H,W so that fc1.weight keeps PyTorch's meaning. */
enum {
    C1 = 32, C2 = 64, HID = 128,
    S1 = 28, S2 = 14, S3 = 7,             /* sides: input, after pool1, after pool2 */
    PAD1 = (S1 + 2) * (S1 + 2),           /* padded input, 1 channel */
    PAD2 = (S2 + 2) * (S2 + 2) * C1,      /* padded pool1 output */
    SIDE2I = (S2 + 3) / 4 * 4 + 2,        /* its side for inference's F(4x4,3x3): 18 */
    PAD2I = SIDE2I * SIDE2I * C1,
    POOL1 = S2 * S2 * C1,
    POOL2 = S3 * S3 * C2,                 /* 3136 = fc1 inputs */
    K2 = 9 * C1,                          /* conv2 reduction length */
    WINO2 = 16 * MN_WINOGRAD_TILE_BLOCK * (C1 + C2), /* conv2's Winograd scratch: training */
    WINO4 = 36 * MN_WINOGRAD4_TILE_BLOCK * (C1 + C2), /* and inference */
    WINO = WINO2 > WINO4 ? WINO2 : WINO4
};
static const float DROP1 = 0.25f, DROP2 = 0.5f;

const mn_tensor_spec mn_net_tensors[MN_NUM_TENSORS] = {
    {"conv1.weight", 4, {C1, 1, 3, 3}, 0, 288},
    {"conv1.bias", 1, {C1}, 288, 32},
    {"conv2.weight", 4, {C2, C1, 3, 3}, 320, 18432},
    {"conv2.bias", 1, {C2}, 18752, 64},
    {"fc1.weight", 2, {HID, POOL2}, 18816, 401408},
    {"fc1.bias", 1, {HID}, 420224, 128},
    {"fc2.weight", 2, {MN_NUM_CLASSES, HID}, 420352, 1280},
    {"fc2.bias", 1, {MN_NUM_CLASSES}, 421632, 10},
};
_Static_assert(421642 == MN_NUM_PARAMS, "parameter table and MN_NUM_PARAMS disagree");

static int fan_in(int id)
{
    const mn_tensor_spec *w = &mn_net_tensors[id & ~1]; /* the layer's weight */
    int n = 1;
    for (int d = 1; d < w->ndim; d++)
        n *= w->shape[d];
    return n;
}

mn_status mn_params_alloc(mn_params *p, mn_error *err)
{
    p->memory = calloc(MN_NUM_PARAMS, sizeof(float));
    if (!p->memory)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for %zu parameters", MN_NUM_PARAMS);
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        p->t[i] = p->memory + mn_net_tensors[i].offset;
    return MN_OK;
}

void mn_params_free(mn_params *p)
{
    free(p->memory);
    memset(p, 0, sizeof *p);
}

void mn_params_init(mn_params *p, uint64_t seed)
{
    mn_rng rng;
    mn_rng_seed(&rng, seed);
    for (int i = 0; i < MN_NUM_TENSORS; i++) {
        const float bound = 1.0f / sqrtf((float)fan_in(i));
        for (size_t j = 0; j < mn_net_tensors[i].count; j++)
            p->t[i][j] = (2.0f * mn_rng_uniform(&rng) - 1.0f) * bound;
    }
}

void mn_normalize_pixels(const uint8_t *pixels, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ((float)pixels[i] / 255.0f - MN_MNIST_MEAN) / MN_MNIST_STD;
}

/* ------------------------------------------------------------------ workspace */

struct mn_workspace {
    int max_batch;
    int threads;
    bool train;            /* did the last forward pass apply dropout? */
    void *memory;

    /* per image, kept from forward for backward */
    float *in1;            /* [B][PAD1]  padded input */
    float *in2;            /* [B][PAD2]  padded ReLU-pool1 output (conv2 input);
                            * [B][PAD2I] in inference */
    uint8_t *arg1;         /* [B][POOL1] */
    float *pool2;          /* [B][POOL2] ReLU-pool2 output, NHWC, before dropout */
    uint8_t *arg2;         /* [B][POOL2] */
    uint8_t *keep1;        /* [B][POOL2] dropout after pool2 (NHWC order) */
    uint8_t *keep2;        /* [B][HID]   dropout after fc1 */
    float *x1;             /* [B][POOL2] fc1 input, C,H,W order */
    float *h1;             /* [B][HID]   ReLU(fc1) */
    float *a1;             /* [B][HID]   fc2 input (after dropout) */
    float *logits, *probs; /* [B][10] */
    float *dlogits, *da1, *dx1;

    /* per thread scratch */
    float *conv_out;       /* [T][S1*S1*C1] (also holds conv2's smaller output) */
    float *winograd;       /* [T][WINO] conv2's transformed tiles */
    float *dpad2;          /* [T][PAD2] */
    float *pool1;          /* [T][POOL1] */
    float *dpool1;         /* [T][POOL1] */
    float *dpool2;         /* [T][POOL2] */
    float *dw1, *db1;      /* [T][9][C1] (forward layout), [T][C1] */
    float *dw2, *db2;      /* [T][C2*K2], [T][C2] */

    /* weights repacked for the kernels: forward (by mn_net_forward), backward rows */
    mn_packed_weights *packed;
    float *w2_rows;
};

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

mn_status mn_workspace_create(mn_workspace **out, int max_batch, mn_error *err)
{
    *out = NULL;
    if (max_batch < 1 || max_batch > 65536)
        return mn_fail(err, MN_ERR_ARG, "batch size %d out of range 1..65536", max_batch);
    mn_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for the workspace");
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const size_t B = (size_t)max_batch, T = (size_t)threads, F = sizeof(float);
    struct { void **ptr; size_t bytes; } parts[] = {
        {(void **)&ws->in1, B * PAD1 * F}, {(void **)&ws->in2, B * PAD2I * F},
        {(void **)&ws->arg1, B * POOL1}, {(void **)&ws->pool2, B * POOL2 * F},
        {(void **)&ws->arg2, B * POOL2}, {(void **)&ws->keep1, B * POOL2},
        {(void **)&ws->keep2, B * HID}, {(void **)&ws->x1, B * POOL2 * F},
        {(void **)&ws->h1, B * HID * F}, {(void **)&ws->a1, B * HID * F},
        {(void **)&ws->logits, B * MN_NUM_CLASSES * F}, {(void **)&ws->probs, B * MN_NUM_CLASSES * F},
        {(void **)&ws->dlogits, B * MN_NUM_CLASSES * F}, {(void **)&ws->da1, B * HID * F},
        {(void **)&ws->dx1, B * POOL2 * F},
        {(void **)&ws->conv_out, T * S1 * S1 * C1 * F}, {(void **)&ws->dpad2, T * PAD2 * F},
        {(void **)&ws->winograd, T * WINO * F},
        {(void **)&ws->pool1, T * POOL1 * F}, {(void **)&ws->dpool1, T * POOL1 * F},
        {(void **)&ws->dpool2, T * POOL2 * F},
        {(void **)&ws->dw1, T * C1 * 9 * F}, {(void **)&ws->db1, T * C1 * F},
        {(void **)&ws->dw2, T * C2 * K2 * F}, {(void **)&ws->db2, T * C2 * F},
        {(void **)&ws->w2_rows, (size_t)K2 * C2 * F},
    };
    const size_t nparts = sizeof parts / sizeof parts[0];
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++)
        total += align64(parts[i].bytes);
    /* one allocation, made once: no allocator traffic per step (ARCHITECTURE.md, "Conventions") */
    ws->memory = aligned_alloc(64, total);
    if (!ws->memory) {
        free(ws);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for a workspace of %zu bytes", total);
    }
    /* not cleared: every array is written before it is read, and a server's
     * workspace sized for big batches only occupies the pages a batch touches */
    char *cursor = ws->memory;
    for (size_t i = 0; i < nparts; i++) {
        *parts[i].ptr = cursor;
        cursor += align64(parts[i].bytes);
    }
    /* apart, and never cleared: training packs only the convolutions, so the pages
     * of the transposed fc1 are never touched and cost no memory */
    ws->packed = malloc(sizeof *ws->packed);
    if (!ws->packed) {
        free(ws->memory);
        free(ws);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for a workspace");
    }
    ws->max_batch = max_batch;
    ws->threads = threads;
    mn_gemm_single_threaded();
    *out = ws;
    return MN_OK;
}

void mn_workspace_destroy(mn_workspace *ws)
{
    if (!ws)
        return;
    free(ws->packed);
    free(ws->memory);
    free(ws);
}

int mn_workspace_max_batch(const mn_workspace *ws)
{
    return ws->max_batch;
}

const float *mn_workspace_probs(const mn_workspace *ws)
{
    return ws->probs;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------ forward */

static void pack_convolutions(const mn_params *p, mn_packed_weights *out)
{
    mn_conv3x3_pack_forward(p->t[MN_CONV1_W], 1, C1, out->conv1);
    mn_winograd_pack(p->t[MN_CONV2_W], C1, C2, out->conv2);
}

void mn_net_pack(const mn_params *p, mn_packed_weights *out)
{
    pack_convolutions(p, out);
    mn_winograd4_pack(p->t[MN_CONV2_W], C1, C2, out->conv2_f4);
    /* transposed, and its rows in the NHWC order of pool2's output: inference feeds
     * conv2's pooled output to fc1 as it is, without PyTorch's C,H,W flatten */
    const float *w = p->t[MN_FC1_W];
    for (int j = 0; j < HID; j++)
        for (int c = 0; c < C2; c++)
            for (int pos = 0; pos < S3 * S3; pos++)
                out->fc1_t[((size_t)pos * C2 + c) * HID + j] = w[(size_t)j * POOL2 + c * S3 * S3 + pos];
    mn_gemm_pack_panels(out->fc1_t, POOL2, HID, out->fc1_panels);
}

/* fc1 for one image from the transposed weights, skipping zero inputs: y stays in
 * sixteen 8-float registers while the rows of the non-zero inputs stream by. */
MN_HOT_KERNEL
static void fc1_sparse(const float *x, const float *w_t, const float *bias, float *y)
{
    mn_v8 acc[HID / 8];
    for (int j = 0; j < HID / 8; j++)
        acc[j] = mn_v8_load(bias + 8 * j);
    for (int k = 0; k < POOL2; k++) {
        if (x[k] == 0.0f)
            continue;
        const mn_v8 xv = mn_v8_set1(x[k]);
        const float *row = w_t + (size_t)k * HID;
        for (int j = 0; j < HID / 8; j++)
            acc[j] += xv * mn_v8_load(row + 8 * j);
    }
    for (int j = 0; j < HID / 8; j++)
        mn_v8_store(y + 8 * j, acc[j]);
}

/* The convolutional part of the forward pass for image b, on thread t's scratch:
 * conv-relu-pool x2, dropout, flatten into x1. */
static void forward_image(const mn_params *p, const mn_packed_weights *packed, mn_workspace *ws,
                          const float *input, int b, int t, bool train, uint64_t dropout_seed)
{
    float *conv = ws->conv_out + (size_t)t * S1 * S1 * C1;
    float *in1 = ws->in1 + (size_t)b * PAD1;
    float *in2 = ws->in2 + (size_t)b * PAD2;
    float *pool2 = ws->pool2 + (size_t)b * POOL2;
    uint8_t *keep1 = ws->keep1 + (size_t)b * POOL2;

    mn_pad1(input + (size_t)b * MN_IMAGE_PIXELS, S1, S1, 1, in1);
    mn_conv3x3_forward(in1, S1, S1, 1, packed->conv1, p->t[MN_CONV1_B], C1, conv);
    memset(in2, 0, PAD2 * sizeof *in2);
    mn_relu_maxpool2_forward(conv, S1, S1, C1, in2 + (S2 + 2 + 1) * C1, (S2 + 2) * C1,
                             ws->arg1 + (size_t)b * POOL1);
    mn_winograd_forward(in2, S2, S2, C1, packed->conv2, p->t[MN_CONV2_B], C2, conv,
                        ws->winograd + (size_t)t * WINO);
    mn_relu_maxpool2_forward(conv, S2, S2, C2, pool2, S3 * C2, ws->arg2 + (size_t)b * POOL2);

    /* dropout masks from a per-image stream: independent of the thread count */
    const float scale1 = train ? 1.0f / (1.0f - DROP1) : 1.0f;
    if (train) {
        mn_rng rng;
        mn_rng_seed(&rng, dropout_seed ^ mn_mix64((uint64_t)b));
        mn_dropout_mask(&rng, DROP1, keep1, POOL2);
        mn_dropout_mask(&rng, DROP2, ws->keep2 + (size_t)b * HID, HID);
    }
    /* dropout, then flatten NHWC -> C,H,W */
    float *x1 = ws->x1 + (size_t)b * POOL2;
    for (int pos = 0; pos < S3 * S3; pos++)
        for (int c = 0; c < C2; c++) {
            int k = pos * C2 + c;
            x1[c * S3 * S3 + pos] = (!train || keep1[k]) ? pool2[k] * scale1 : 0.0f;
        }
}

static void forward(const mn_params *p, const mn_packed_weights *packed, mn_workspace *ws,
                    const float *input, int batch, bool train, uint64_t dropout_seed)
{
    ws->train = train;
    if (batch == 1) {
        /* no parallel region at all: even an inactive one costs a futex wake-up per
         * call, which a server answering one image at a time pays on every request */
        forward_image(p, packed, ws, input, 0, 0, train, dropout_seed);
    } else {
        #pragma omp parallel for schedule(static) num_threads(ws->threads)
        for (int b = 0; b < batch; b++)
            forward_image(p, packed, ws, input, b, thread_id(), train, dropout_seed);
    }

    mn_linear_forward(ws->x1, batch, POOL2, p->t[MN_FC1_W], p->t[MN_FC1_B], HID, ws->h1);
    mn_relu_forward(ws->h1, ws->h1, (size_t)batch * HID);
    if (train)
        mn_dropout_forward(ws->h1, ws->keep2, DROP2, ws->a1, (size_t)batch * HID);
    else
        memcpy(ws->a1, ws->h1, (size_t)batch * HID * sizeof(float));
    mn_linear_forward(ws->a1, batch, HID, p->t[MN_FC2_W], p->t[MN_FC2_B], MN_NUM_CLASSES,
                      ws->logits);
    mn_softmax_xent_forward(ws->logits, NULL, batch, MN_NUM_CLASSES, ws->probs);
}

void mn_net_forward(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    bool train, uint64_t dropout_seed)
{
    pack_convolutions(p, ws->packed);
    forward(p, ws->packed, ws, input, batch, train, dropout_seed);
}

float mn_net_loss(mn_workspace *ws, const uint8_t *labels, int batch, int *correct)
{
    if (correct) {
        int n = 0;
        for (int b = 0; b < batch; b++) {
            const float *pr = ws->probs + (size_t)b * MN_NUM_CLASSES;
            int best = 0;
            for (int j = 1; j < MN_NUM_CLASSES; j++)
                if (pr[j] > pr[best])
                    best = j;
            n += best == labels[b];
        }
        *correct = n;
    }
    return mn_softmax_xent_forward(ws->logits, labels, batch, MN_NUM_CLASSES, ws->probs);
}

/* ------------------------------------------------------------------ backward */

void mn_net_backward(const mn_params *p, mn_params *grads, mn_workspace *ws,
                     const uint8_t *labels, int batch)
{
    const bool train = ws->train;
    mn_softmax_xent_backward(ws->probs, labels, batch, MN_NUM_CLASSES, ws->dlogits);
    mn_linear_backward(ws->a1, ws->dlogits, batch, HID, p->t[MN_FC2_W], MN_NUM_CLASSES,
                       grads->t[MN_FC2_W], grads->t[MN_FC2_B], ws->da1);
    if (train)
        mn_dropout_backward(ws->da1, ws->keep2, DROP2, ws->da1, (size_t)batch * HID);
    mn_relu_backward(ws->h1, ws->da1, ws->da1, (size_t)batch * HID);
    mn_linear_backward(ws->x1, ws->da1, batch, POOL2, p->t[MN_FC1_W], HID,
                       grads->t[MN_FC1_W], grads->t[MN_FC1_B], ws->dx1);

    mn_conv3x3_pack_rows(p->t[MN_CONV2_W], C1, C2, ws->w2_rows);
    const int T = ws->threads;
    memset(ws->dw1, 0, (size_t)T * C1 * 9 * sizeof(float));
    memset(ws->db1, 0, (size_t)T * C1 * sizeof(float));
    memset(ws->dw2, 0, (size_t)T * C2 * K2 * sizeof(float));
    memset(ws->db2, 0, (size_t)T * C2 * sizeof(float));

    #pragma omp parallel for schedule(static) num_threads(T) if (batch > 1)
    for (int b = 0; b < batch; b++) {
        const int t = thread_id();
        const float scale1 = train ? 1.0f / (1.0f - DROP1) : 1.0f;
        const uint8_t *keep1 = ws->keep1 + (size_t)b * POOL2;
        const float *dx1 = ws->dx1 + (size_t)b * POOL2;
        const float *in2 = ws->in2 + (size_t)b * PAD2;
        float *dpool2 = ws->dpool2 + (size_t)t * POOL2;
        float *dpad2 = ws->dpad2 + (size_t)t * PAD2;
        float *pool1 = ws->pool1 + (size_t)t * POOL1;
        float *dpool1 = ws->dpool1 + (size_t)t * POOL1;

        /* un-flatten C,H,W -> NHWC through the dropout mask */
        for (int pos = 0; pos < S3 * S3; pos++)
            for (int c = 0; c < C2; c++) {
                int k = pos * C2 + c;
                dpool2[k] = (!train || keep1[k]) ? dx1[c * S3 * S3 + pos] * scale1 : 0.0f;
            }
        memset(dpad2, 0, PAD2 * sizeof *dpad2);
        mn_conv3x3_backward_pooled(in2, S2, S2, C1, ws->w2_rows, C2,
                                   ws->pool2 + (size_t)b * POOL2, ws->arg2 + (size_t)b * POOL2,
                                   dpool2, ws->dw2 + (size_t)t * C2 * K2,
                                   ws->db2 + (size_t)t * C2, dpad2);
        /* pool1's output and its gradient, from the interiors of the padded buffers */
        for (int y = 0; y < S2; y++) {
            size_t src = ((size_t)(y + 1) * (S2 + 2) + 1) * C1, dst = (size_t)y * S2 * C1;
            memcpy(pool1 + dst, in2 + src, S2 * C1 * sizeof(float));
            memcpy(dpool1 + dst, dpad2 + src, S2 * C1 * sizeof(float));
        }
        /* conv1 has one input channel: a dense gradient vectorises better there */
        for (int i = 0; i < POOL1; i++)
            if (pool1[i] <= 0.0f)
                dpool1[i] = 0.0f; /* ReLU closed */
        float *dconv1 = ws->conv_out + (size_t)t * S1 * S1 * C1;
        mn_maxpool2_backward(dpool1, ws->arg1 + (size_t)b * POOL1, S1, S1, C1, dconv1);
        mn_conv3x3_weight_grad(ws->in1 + (size_t)b * PAD1, S1, S1, 1, dconv1, C1,
                               ws->dw1 + (size_t)t * C1 * 9, ws->db1 + (size_t)t * C1);
    }

    /* sum the per-thread partial gradients in thread order: deterministic */
    for (int t = 1; t < T; t++) {
        for (int i = 0; i < C1 * 9; i++) ws->dw1[i] += ws->dw1[(size_t)t * C1 * 9 + i];
        for (int i = 0; i < C1; i++) ws->db1[i] += ws->db1[(size_t)t * C1 + i];
        for (int i = 0; i < C2 * K2; i++) ws->dw2[i] += ws->dw2[(size_t)t * C2 * K2 + i];
        for (int i = 0; i < C2; i++) ws->db2[i] += ws->db2[(size_t)t * C2 + i];
    }
    mn_conv3x3_unpack_forward(ws->dw1, 1, C1, grads->t[MN_CONV1_W]);
    memcpy(grads->t[MN_CONV1_B], ws->db1, C1 * sizeof(float));
    mn_conv3x3_unpack_rows(ws->dw2, C1, C2, grads->t[MN_CONV2_W]);
    memcpy(grads->t[MN_CONV2_B], ws->db2, C2 * sizeof(float));
}

void mn_net_predict(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    float *probs)
{
    mn_net_forward(p, ws, input, batch, false, 0);
    memcpy(probs, ws->probs, (size_t)batch * MN_NUM_CLASSES * sizeof(float));
}

/* Zeroes all but the interior of a padded [side][side][c] image whose n x n
 * interior starts at (1, 1): the layer before writes the interior whole. */
static void zero_border(float *padded, int n, int side, int c)
{
    const size_t row = (size_t)side * c, right = (size_t)(side - n - 1) * c;
    memset(padded, 0, row * sizeof *padded);
    memset(padded + (size_t)(n + 1) * row, 0, (size_t)(side - n - 1) * row * sizeof *padded);
    for (int y = 1; y <= n; y++) {
        memset(padded + y * row, 0, (size_t)c * sizeof *padded);
        memset(padded + y * row + row - right, 0, right * sizeof *padded);
    }
}

/* Inference's convolutional part for image b: the training path's layers without
 * what only backward needs (argmax, full-size outputs, flatten): each
 * convolution's ReLU-pool is fused into it, and conv2 takes F(4x4,3x3), whose
 * output transform pools. Leaves fc1's input in x1 in NHWC order, which
 * mn_net_pack's fc1_t expects. */
static void infer_image(const mn_params *p, const mn_packed_weights *packed, mn_workspace *ws,
                        const float *input, int b, int t)
{
    float *in1 = ws->in1 + (size_t)b * PAD1;
    float *in2 = ws->in2 + (size_t)b * PAD2I;

    mn_pad1(input + (size_t)b * MN_IMAGE_PIXELS, S1, S1, 1, in1);
    zero_border(in2, S2, SIDE2I, C1);
    mn_conv3x3_relu_pool_forward(in1, S1, S1, 1, packed->conv1, p->t[MN_CONV1_B], C1,
                                 in2 + (SIDE2I + 1) * C1, SIDE2I * C1);
    mn_winograd4_forward_relu_pool(in2, S2, S2, C1, packed->conv2_f4, p->t[MN_CONV2_B], C2,
                                   ws->x1 + (size_t)b * POOL2, ws->winograd + (size_t)t * WINO);
}

void mn_net_predict_packed(const mn_params *p, const mn_packed_weights *packed,
                           mn_workspace *ws, const float *input, int batch, float *probs)
{
    ws->train = false;
    if (batch == 1) {
        infer_image(p, packed, ws, input, 0, 0); /* no parallel region: see forward() */
    } else {
        #pragma omp parallel for schedule(static) num_threads(ws->threads)
        for (int b = 0; b < batch; b++)
            infer_image(p, packed, ws, input, b, thread_id());
    }
    if (batch <= 8) { /* a few images: skip zero inputs of fc1 */
        for (int b = 0; b < batch; b++)
            fc1_sparse(ws->x1 + (size_t)b * POOL2, packed->fc1_t, p->t[MN_FC1_B],
                       ws->h1 + (size_t)b * HID);
    } else { /* a batch: one GEMM reads fc1 once, the threads taking rows */
        for (int b = 0; b < batch; b++)
            memcpy(ws->h1 + (size_t)b * HID, p->t[MN_FC1_B], HID * sizeof(float));
        const int parts = batch >= 6 * ws->threads ? ws->threads : 1; /* 6 rows a tile */
        #pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
        for (int part = 0; part < parts; part++) {
            const int b0 = batch * part / parts, b1 = batch * (part + 1) / parts;
            mn_gemm_panels(ws->x1 + (size_t)b0 * POOL2, b1 - b0, POOL2, packed->fc1_panels, HID,
                           ws->h1 + (size_t)b0 * HID, HID);
        }
    }
    mn_relu_forward(ws->h1, ws->a1, (size_t)batch * HID);
    mn_linear_forward(ws->a1, batch, HID, p->t[MN_FC2_W], p->t[MN_FC2_B], MN_NUM_CLASSES,
                      ws->logits);
    mn_softmax_xent_forward(ws->logits, NULL, batch, MN_NUM_CLASSES, ws->probs);
    memcpy(probs, ws->probs, (size_t)batch * MN_NUM_CLASSES * sizeof(float));
}
