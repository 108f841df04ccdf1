#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "mn_activation.h"
#include "mn_conv.h"
#include "mn_gemm_tile.h"
#include "mn_linear.h"
#include "mn_loss.h"
#include "mn_net.h"
#include "mn_pool.h"
#include "mn_rng.h"
#include "mn_simd.h"
#include "mn_winograd.h"
#include "mn_winograd4.h"

/* Geometry of MNISTNet, from the layer sizes in mn_net.h. Activations are NHWC
 * inside the network; the training pass's flatten before fc1 reorders to PyTorch's
 * C,H,W so that fc1.weight keeps PyTorch's meaning. */
enum {
    C1 = MN_CONV1_CHANNELS, C2 = MN_CONV2_CHANNELS, HID = MN_HIDDEN,
    S1 = MN_IMAGE_SIDE, S2 = S1 / 2, S3 = MN_POOLED_SIDE, /* sides: input, pool1, pool2 */
    PAD1 = (S1 + 2) * (S1 + 2),           /* padded input, 1 channel */
    /* conv2's padded input, one layout for both passes: the side F(4x4,3x3) reads
     * (18, whole 4x4 tiles); F(2x2,3x3) and backward read its first 16 columns */
    SIDE2 = (S2 + 3) / 4 * 4 + 2,
    PAD2 = SIDE2 * SIDE2 * C1,
    POOL1 = S2 * S2 * C1,
    POOL2 = MN_FC1_INPUTS,                /* 3136 = fc1 inputs */
    K2 = 9 * C1,                          /* conv2 reduction length */
    WINO2 = 16 * MN_WINOGRAD_TILE_BLOCK * (C1 + C2), /* conv2's Winograd scratch: training */
    WINO4 = 36 * MN_WINOGRAD4_TILE_BLOCK * (C1 + C2), /* and inference */
    WINO = WINO2 > WINO4 ? WINO2 : WINO4
};
_Static_assert(S3 == S2 / 2, "two poolings take the image side to MN_POOLED_SIDE");

#define SPEC(name, ndim, d0, d1, d2, d3, id) \
    {name, ndim, {d0, d1, d2, d3}, id##_OFFSET, id##_COUNT}
const mn_tensor_spec mn_net_tensors[MN_NUM_TENSORS] = {
    SPEC("conv1.weight", 4, C1, 1, 3, 3, MN_CONV1_W),
    SPEC("conv1.bias", 1, C1, 0, 0, 0, MN_CONV1_B),
    SPEC("conv2.weight", 4, C2, C1, 3, 3, MN_CONV2_W),
    SPEC("conv2.bias", 1, C2, 0, 0, 0, MN_CONV2_B),
    SPEC("fc1.weight", 2, HID, POOL2, 0, 0, MN_FC1_W),
    SPEC("fc1.bias", 1, HID, 0, 0, 0, MN_FC1_B),
    SPEC("fc2.weight", 2, MN_NUM_CLASSES, HID, 0, 0, MN_FC2_W),
    SPEC("fc2.bias", 1, MN_NUM_CLASSES, 0, 0, 0, MN_FC2_B),
};
#undef SPEC
_Static_assert(MN_NUM_PARAMS == 421642, "MNISTNet has PyTorch's 421,642 parameters");

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
    int threads;           /* the caller's: mn_workspace_create */
    int kept_batch;        /* images whose state the last pass kept for backward; 0
                            * after an inference pass, which keeps none */
    bool dropout;          /* did the last forward pass apply dropout? */
    float fc_dropout;      /* the rate after fc1: mn_workspace_set_fc_dropout */
    void *memory;

    /* per image, kept from forward for backward */
    float *in1;            /* [B][PAD1]  padded input */
    float *in2;            /* [B][PAD2]  padded ReLU-pool1 output (conv2 input) */
    uint8_t *arg1;         /* [B][POOL1] */
    float *pool2;          /* [B][POOL2] ReLU-pool2 output, NHWC, before dropout */
    uint8_t *arg2;         /* [B][POOL2] */
    uint8_t *keep1;        /* [B][POOL2] dropout after pool2 (NHWC order) */
    uint8_t *keep2;        /* [B][HID]   dropout after fc1 */
    float *x1;             /* [B][POOL2] fc1 input: C,H,W in training, NHWC in inference */
    float *h1;             /* [B][HID]   ReLU(fc1) */
    float *a1;             /* [B][HID]   fc2 input after dropout (training only) */
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

    /* the training pass's packed weights (mn_net_forward), backward's conv2 rows */
    mn_packed_weights *packed;
    float *w2_rows;
};

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* Points ws's arrays into one 64-byte-aligned allocation, made once: no allocator
 * traffic per step (ARCHITECTURE.md, "Conventions"). */
static mn_status carve_workspace(mn_workspace *ws, size_t B, size_t T, mn_error *err)
{
    const size_t F = sizeof(float);
    struct { void **ptr; size_t bytes; } parts[] = {
        {(void **)&ws->in1, B * PAD1 * F}, {(void **)&ws->in2, B * PAD2 * F},
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
    ws->memory = aligned_alloc(64, total);
    if (!ws->memory)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for a workspace of %zu bytes", total);
    /* not cleared: every array is written before it is read, and a server's
     * workspace sized for big batches only occupies the pages a batch touches */
    char *cursor = ws->memory;
    for (size_t i = 0; i < nparts; i++) {
        *parts[i].ptr = cursor;
        cursor += align64(parts[i].bytes);
    }
    return MN_OK;
}

mn_status mn_workspace_create(mn_workspace **out, int max_batch, int threads, mn_error *err)
{
    *out = NULL;
    if (max_batch < 1 || max_batch > 65536)
        return mn_fail(err, MN_ERR_ARG, "batch size %d out of range 1..65536", max_batch);
    if (threads < 1 || threads > 1024)
        return mn_fail(err, MN_ERR_ARG, "thread count %d out of range 1..1024", threads);
    mn_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for the workspace");
    mn_status st = carve_workspace(ws, (size_t)max_batch, (size_t)threads, err);
    if (st != MN_OK) {
        free(ws);
        return st;
    }
    /* apart, and never cleared: training packs only its own layouts, so the pages
     * of inference's are never touched and cost no memory */
    ws->packed = malloc(sizeof *ws->packed);
    if (!ws->packed) {
        mn_workspace_destroy(ws);
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for a workspace");
    }
    ws->max_batch = max_batch;
    ws->threads = threads;
    ws->fc_dropout = MN_FC_DROPOUT;
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

void mn_workspace_set_fc_dropout(mn_workspace *ws, float rate)
{
    ws->fc_dropout = rate > 0.0f ? (rate < 0.9f ? rate : 0.9f) : 0.0f;
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

/* ------------------------------------------------------------------ packing */

/* The one place weights are packed (mn_net.h says why conv2 has two layouts):
 * the training pass's layouts, and with `all` inference's too. */
static void pack_weights(const mn_params *p, mn_packed_weights *out, bool all)
{
    mn_conv3x3_pack_forward(p->t[MN_CONV1_W], 1, C1, out->conv1);
    mn_winograd_pack(p->t[MN_CONV2_W], C1, C2, out->conv2_f2);
    if (!all)
        return;
    mn_winograd4_pack(p->t[MN_CONV2_W], C1, C2, out->conv2_f4);
    /* fc1.weight transposed, rows (fc1's inputs) in the NHWC order of pool2's
     * output: whole rows, and in panels */
    const float *w = p->t[MN_FC1_W];
    for (int j = 0; j < HID; j++)
        for (int c = 0; c < C2; c++)
            for (int pos = 0; pos < S3 * S3; pos++) {
                const float v = w[(size_t)j * POOL2 + c * S3 * S3 + pos];
                out->fc1_rows[(size_t)(pos * C2 + c) * HID + j] = v;
                out->fc1_panels[mn_gemm_panel_index(POOL2, pos * C2 + c, j)] = v;
            }
}

void mn_net_pack(const mn_params *p, mn_packed_weights *out)
{
    pack_weights(p, out, true);
}

/* ------------------------------------------------------------------ forward */

/* What one forward pass does besides the layers. */
typedef struct {
    bool keep;             /* keep what backward needs: pooling argmax, unfused outputs */
    bool dropout;          /* training: dropout with masks from dropout_seed */
    uint64_t dropout_seed;
} pass;

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

/* Dropout (training) and PyTorch's flatten NHWC -> C,H,W of image b's pool2 into x1. */
static void dropout_flatten(mn_workspace *ws, int b, const pass *ps)
{
    const float *pool2 = ws->pool2 + (size_t)b * POOL2;
    uint8_t *keep1 = ws->keep1 + (size_t)b * POOL2;
    float *x1 = ws->x1 + (size_t)b * POOL2;
    const float scale1 = ps->dropout ? 1.0f / (1.0f - MN_POOL_DROPOUT) : 1.0f;
    if (ps->dropout) {
        /* masks from a per-image stream: independent of the thread count */
        mn_rng rng;
        mn_rng_seed(&rng, ps->dropout_seed ^ mn_mix64((uint64_t)b));
        mn_dropout_mask(&rng, MN_POOL_DROPOUT, keep1, POOL2);
        mn_dropout_mask(&rng, ws->fc_dropout, ws->keep2 + (size_t)b * HID, HID);
    }
    for (int pos = 0; pos < S3 * S3; pos++)
        for (int c = 0; c < C2; c++) {
            int k = pos * C2 + c;
            x1[c * S3 * S3 + pos] = (!ps->dropout || keep1[k]) ? pool2[k] * scale1 : 0.0f;
        }
}

/* conv-ReLU-pool x2 for image b on thread t's scratch, into fc1's input x1. Kept
 * for backward: unfused layers with each window's argmax, conv2 by F(2x2,3x3).
 * Otherwise ReLU and pooling fuse into the convolutions (equal to the bit for
 * conv1), conv2 takes F(4x4,3x3), and x1 stays NHWC for fc1's panels. */
static void conv_layers(const mn_params *p, const mn_packed_weights *w, mn_workspace *ws,
                        const float *input, int b, int t, const pass *ps)
{
    float *in1 = ws->in1 + (size_t)b * PAD1;
    float *in2 = ws->in2 + (size_t)b * PAD2;
    float *in2_interior = in2 + (SIDE2 + 1) * C1;
    float *scratch = ws->winograd + (size_t)t * WINO;

    mn_pad1(input + (size_t)b * MN_IMAGE_PIXELS, S1, S1, 1, in1);
    zero_border(in2, S2, SIDE2, C1);
    if (!ps->keep) {
        mn_conv3x3_relu_pool_forward(in1, S1, S1, 1, w->conv1, p->t[MN_CONV1_B], C1,
                                     in2_interior, SIDE2 * C1);
        mn_winograd4_forward_relu_pool(in2, S2, S2, C1, w->conv2_f4, p->t[MN_CONV2_B], C2,
                                       ws->x1 + (size_t)b * POOL2, scratch);
        return;
    }
    float *conv = ws->conv_out + (size_t)t * S1 * S1 * C1;
    mn_conv3x3_forward(in1, S1, S1, 1, w->conv1, p->t[MN_CONV1_B], C1, conv);
    mn_relu_maxpool2_forward(conv, S1, S1, C1, in2_interior, SIDE2 * C1,
                             ws->arg1 + (size_t)b * POOL1);
    mn_winograd_forward(in2, S2, S2, SIDE2, C1, w->conv2_f2, p->t[MN_CONV2_B], C2, conv,
                        scratch);
    mn_relu_maxpool2_forward(conv, S2, S2, C2, ws->pool2 + (size_t)b * POOL2, S3 * C2,
                             ws->arg2 + (size_t)b * POOL2);
    dropout_flatten(ws, b, ps);
}

/* fc1 for one image from the transposed rows, skipping zero inputs (ReLU zeroes
 * most): y stays in sixteen 8-float registers while the rows of the non-zero
 * inputs stream by. */
MN_HOT_KERNEL
static void fc1_sparse(const float *x, const float *rows, const float *bias, float *y)
{
    mn_v8 acc[HID / 8];
    for (int j = 0; j < HID / 8; j++)
        acc[j] = mn_v8_load(bias + 8 * j);
    for (int k = 0; k < POOL2; k++) {
        if (x[k] == 0.0f)
            continue;
        const mn_v8 xv = mn_v8_set1(x[k]);
        const float *row = rows + (size_t)k * HID;
        for (int j = 0; j < HID / 8; j++)
            acc[j] += xv * mn_v8_load(row + 8 * j);
    }
    for (int j = 0; j < HID / 8; j++)
        mn_v8_store(y + 8 * j, acc[j]);
}

/* Inference's fc1 on NHWC x1: row by row for a few images, else one GEMM that
 * reads the weights once, the threads taking rows. */
static void fc1_packed(const mn_params *p, const mn_packed_weights *w, mn_workspace *ws,
                       int batch)
{
    if (batch <= 8) {
        for (int b = 0; b < batch; b++)
            fc1_sparse(ws->x1 + (size_t)b * POOL2, w->fc1_rows, p->t[MN_FC1_B],
                       ws->h1 + (size_t)b * HID);
        return;
    }
    for (int b = 0; b < batch; b++)
        memcpy(ws->h1 + (size_t)b * HID, p->t[MN_FC1_B], HID * sizeof(float));
    const int parts = batch >= 6 * ws->threads ? ws->threads : 1; /* 6 rows a tile */
    #pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
    for (int part = 0; part < parts; part++) {
        const int b0 = batch * part / parts, b1 = batch * (part + 1) / parts;
        mn_gemm_panels(ws->x1 + (size_t)b0 * POOL2, b1 - b0, POOL2, w->fc1_panels, HID,
                       ws->h1 + (size_t)b0 * HID, HID);
    }
}

/* The forward pass both entry points run: the convolutions image by image (no
 * parallel region for one image: even an inactive one costs a futex wake-up per
 * call, which a server answering one image at a time pays on every request), then
 * fc1, ReLU, dropout, fc2 and softmax over the batch. */
static void forward(const mn_params *p, const mn_packed_weights *w, mn_workspace *ws,
                    const float *input, int batch, const pass *ps)
{
    if (batch == 1) {
        conv_layers(p, w, ws, input, 0, 0, ps);
    } else {
        #pragma omp parallel for schedule(static) num_threads(ws->threads)
        for (int b = 0; b < batch; b++)
            conv_layers(p, w, ws, input, b, thread_id(), ps);
    }
    if (ps->keep) /* C,H,W input and fc1.weight as they are: backward's GEMMs read both */
        mn_linear_forward(ws->x1, batch, POOL2, p->t[MN_FC1_W], p->t[MN_FC1_B], HID, ws->h1,
                          ws->threads);
    else
        fc1_packed(p, w, ws, batch);
    mn_relu_forward(ws->h1, ws->h1, (size_t)batch * HID);
    const float *fc2_in = ws->h1;
    if (ps->dropout) {
        mn_dropout_forward(ws->h1, ws->keep2, ws->fc_dropout, ws->a1, (size_t)batch * HID);
        fc2_in = ws->a1;
    }
    mn_linear_forward(fc2_in, batch, HID, p->t[MN_FC2_W], p->t[MN_FC2_B], MN_NUM_CLASSES,
                      ws->logits, ws->threads);
    mn_softmax_xent_forward(ws->logits, NULL, batch, MN_NUM_CLASSES, ws->probs);
    ws->dropout = ps->dropout;
    ws->kept_batch = ps->keep ? batch : 0;
}

void mn_net_forward(const mn_params *p, mn_workspace *ws, const float *input, int batch,
                    bool train, uint64_t dropout_seed)
{
    const pass ps = {.keep = true, .dropout = train, .dropout_seed = dropout_seed};
    pack_weights(p, ws->packed, false); /* the weights changed since the last step */
    forward(p, ws->packed, ws, input, batch, &ps);
}

void mn_net_predict_packed(const mn_params *p, const mn_packed_weights *packed,
                           mn_workspace *ws, const float *input, int batch, float *probs)
{
    const pass ps = {.keep = false, .dropout = false, .dropout_seed = 0};
    forward(p, packed, ws, input, batch, &ps);
    memcpy(probs, ws->probs, (size_t)batch * MN_NUM_CLASSES * sizeof(float));
}

float mn_net_loss(mn_workspace *ws, const uint8_t *labels, int batch, int *correct)
{
    if (correct) {
        int n = 0;
        for (int b = 0; b < batch; b++)
            n += mn_argmax(ws->probs + (size_t)b * MN_NUM_CLASSES, MN_NUM_CLASSES) == labels[b];
        *correct = n;
    }
    return mn_softmax_xent_forward(ws->logits, labels, batch, MN_NUM_CLASSES, ws->probs);
}

/* ------------------------------------------------------------------ backward */

/* The convolutional part of backward for image b on thread t's scratch, adding
 * into thread t's partial gradients. */
static void backward_image(mn_workspace *ws, int b, int t)
{
    const float scale1 = ws->dropout ? 1.0f / (1.0f - MN_POOL_DROPOUT) : 1.0f;
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
            dpool2[k] = (!ws->dropout || keep1[k]) ? dx1[c * S3 * S3 + pos] * scale1 : 0.0f;
        }
    memset(dpad2, 0, PAD2 * sizeof *dpad2);
    mn_conv3x3_backward_pooled(in2, S2, S2, SIDE2, C1, ws->w2_rows, C2,
                               ws->pool2 + (size_t)b * POOL2, ws->arg2 + (size_t)b * POOL2,
                               dpool2, ws->dw2 + (size_t)t * C2 * K2, ws->db2 + (size_t)t * C2,
                               dpad2);
    /* pool1's output and its gradient, from the interiors of the padded buffers */
    for (int y = 0; y < S2; y++) {
        size_t src = ((size_t)(y + 1) * SIDE2 + 1) * C1, dst = (size_t)y * S2 * C1;
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

/* The convolutions' gradients: per-thread partial sums, added in thread order so
 * that a thread count gives the same result every time. */
static void backward_convolutions(const mn_params *p, mn_params *grads, mn_workspace *ws,
                                  int batch)
{
    const int T = ws->threads;
    mn_conv3x3_pack_rows(p->t[MN_CONV2_W], C1, C2, ws->w2_rows);
    memset(ws->dw1, 0, (size_t)T * C1 * 9 * sizeof(float));
    memset(ws->db1, 0, (size_t)T * C1 * sizeof(float));
    memset(ws->dw2, 0, (size_t)T * C2 * K2 * sizeof(float));
    memset(ws->db2, 0, (size_t)T * C2 * sizeof(float));

    #pragma omp parallel for schedule(static) num_threads(T) if (batch > 1)
    for (int b = 0; b < batch; b++)
        backward_image(ws, b, thread_id());

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

mn_status mn_net_backward(const mn_params *p, mn_params *grads, mn_workspace *ws,
                          const uint8_t *labels, int batch, mn_error *err)
{
    if (ws->kept_batch == 0)
        return mn_fail(err, MN_ERR_ARG, "backward needs a forward pass that kept its state "
                       "(mn_net_forward), not an inference pass");
    if (batch < 1 || batch > ws->kept_batch)
        return mn_fail(err, MN_ERR_ARG, "backward over %d images after a forward pass over %d",
                       batch, ws->kept_batch);
    const int T = ws->threads;
    const float *fc2_in = ws->dropout ? ws->a1 : ws->h1;
    mn_softmax_xent_backward(ws->probs, labels, batch, MN_NUM_CLASSES, ws->dlogits);
    mn_linear_backward(fc2_in, ws->dlogits, batch, HID, p->t[MN_FC2_W], MN_NUM_CLASSES,
                       grads->t[MN_FC2_W], grads->t[MN_FC2_B], ws->da1, T);
    if (ws->dropout)
        mn_dropout_backward(ws->da1, ws->keep2, ws->fc_dropout, ws->da1, (size_t)batch * HID);
    mn_relu_backward(ws->h1, ws->da1, ws->da1, (size_t)batch * HID);
    mn_linear_backward(ws->x1, ws->da1, batch, POOL2, p->t[MN_FC1_W], HID,
                       grads->t[MN_FC1_W], grads->t[MN_FC1_B], ws->dx1, T);
    backward_convolutions(p, grads, ws, batch);
    return MN_OK;
}
